# shellcheck shell=bash
# Start-up figures of the real-framework apps (`suite --bench`, run by `bin/bench
# --sections frameworks`): the time from container start to the first answered request,
# with group-writable on a read-only root (1002:1000, tmpfs /tmp) against the control
# build on a writable root as the build user (1001:1000), and the bytes in /tmp at that
# moment. Runs alternate between the two; medians of BENCH_RUNS (default 7). Sourced by
# suite, which defines build, image, shape_arguments and the rest.

BENCH_RUNS=${BENCH_RUNS:-7}

# first_answer IMAGE SHAPE: "MILLISECONDS BYTES": from the container's start (its
# StartedAt) to the first request answered, timed inside the container, and what /tmp
# holds then. Fails, with the container's last log lines, when no request is answered
# within about a minute or the container stops.
first_answer() {
  local container="gwtest_frameworks_bench_$$" answered started bytes
  # shellcheck disable=SC2046 # the shape's arguments are words
  docker run -d --name "$container" --network none $(shape_arguments "$2") "$1" >/dev/null
  if ! answered=$(docker exec "$container" sh -c "tries=0
    until curl -fso /dev/null --max-time 2 http://127.0.0.1:$PORT/; do
      tries=\$((tries + 1)); [ \$tries -lt 10000 ] || exit 1; sleep 0.005
    done; date +%s%N"); then
    docker logs --tail 20 "$container" >&2 || true
    docker rm -f "$container" >/dev/null
    return 1
  fi
  bytes=$(docker exec "$container" sh -c 'du -sb /tmp | cut -f1')
  started=$(docker inspect -f '{{.State.StartedAt}}' "$container")
  docker rm -f "$container" >/dev/null
  started=$(date -d "$started" +%s%N)
  echo "$(((answered - started) / 1000000)) $bytes"
}

# median: the median of the numbers on stdin.
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

bench_apps() {
  local app report="$STATE/bench.md"
  {
    echo "| app | control: build user, writable root (ms) | group-writable: 1002, read-only root (ms) | added | /tmp before the first request | within target |"
    echo "|---|---|---|---|---|---|"
  } >"$report"
  for app in "$@"; do
    # Images of this stack session (the suite's, when it ran first) are reused: `stack
    # down` removes them all.
    local variant
    for variant in without with; do
      docker image inspect "$(image "$app" "$variant")" >/dev/null 2>&1 || build "$app" "$variant"
    done
    local controls=() withs=() bytes=0 run control with answer
    for run in $(seq "$BENCH_RUNS"); do
      answer=$(first_answer "$(image "$app" without)" build-user) ||
        die "$app run $run: the control answered no request (its log is above); run again"
      read -r control _ <<<"$answer"
      answer=$(first_answer "$(image "$app" with)" read-only) ||
        die "$app run $run: the group-writable image answered no request (its log is above); run again"
      read -r with bytes <<<"$answer"
      controls+=("$control")
      withs+=("$with")
      say "$app run $run: control ${control} ms, with ${with} ms, /tmp ${bytes} bytes"
    done
    control=$(printf '%s\n' "${controls[@]}" | median)
    with=$(printf '%s\n' "${withs[@]}" | median)
    local added=$((with - control)) allowed=$((control / 20))
    [ "$allowed" -ge 20 ] || allowed=20
    local verdict=yes
    [ "$added" -le "$allowed" ] || verdict="no (allowed $allowed ms)"
    local percent
    percent=$(awk -v a="$added" -v c="$control" 'BEGIN { printf "%+.1f%%", 100 * a / c }')
    echo "| $(app_field "$app" 2) | $control ($(printf '%s\n' "${controls[@]}" | sort -n | sed -n '1p;$p' | paste -sd-)) | $with ($(printf '%s\n' "${withs[@]}" | sort -n | sed -n '1p;$p' | paste -sd-)) | $added ms ($percent) | $bytes bytes | $verdict |" >>"$report"
  done
  echo
  cat "$report"
}
