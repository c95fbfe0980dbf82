# shellcheck shell=bash
# The pack suite's own Docker daemon: Debian's containerd and dockerd, started and stopped
# by these functions, with their own state, sockets and pid files under one directory
# (STACK_STATE, in the repository's target/). They never talk to another daemon: dockerd
# gets our containerd explicitly (left alone, it would use a system containerd it finds
# at the default socket), its own exec root, data root and configuration file, and the
# client is always Debian's /usr/bin/docker with DOCKER_HOST set to our socket.
# Sourced by tests/pack/stack.

DOCKER_CLIENT=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
CONTAINERD=/usr/bin/containerd
TINI=/usr/bin/tini

# daemon_paths: the paths of the daemon's files, from STACK_STATE.
daemon_paths() {
  DAEMON_RUN="$STACK_STATE/run"
  DOCKER_SOCKET="$DAEMON_RUN/docker.sock"
  CONTAINERD_SOCKET="$DAEMON_RUN/containerd.sock"
  DOCKERD_PID="$DAEMON_RUN/dockerd.pid"
  CONTAINERD_PID="$DAEMON_RUN/containerd.pid"
  DOCKERD_LOG="$STACK_STATE/dockerd.log"
  CONTAINERD_LOG="$STACK_STATE/containerd.log"
  export DOCKER_HOST="unix://$DOCKER_SOCKET"
}

# stack_docker ARGS...: Debian's docker client, talking to our daemon only.
stack_docker() {
  DOCKER_HOST="unix://$DOCKER_SOCKET" DOCKER_CONFIG="$STACK_STATE/docker-config" \
    "$DOCKER_CLIENT" "$@"
}

# pid_alive PIDFILE: the process recorded in PIDFILE is running and is ours: its command
# line names our state directory (a stale pid file may name a pid reused by anything).
pid_alive() {
  local pid
  [ -f "$1" ] && pid=$(cat "$1") && [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STACK_STATE/"
}

# daemon_fail WHAT LOG: the one line bin/test prints when the daemon cannot start, then exit.
daemon_fail() {
  local last=''
  if [ -f "$2" ]; then last=$(grep -v '^[[:space:]]*$' "$2" | tail -n 1 | cut -c1-300 || true); fi
  daemon_down >/dev/null 2>&1 || true
  die "the pack suite's Docker daemon did not start: $1${last:+ (last line of $2: $last)}; without root or overlayfs, skip the pack suite with GROUP_WRITABLE_SKIP_PACK=1 (never in CI)"
}

# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds or time is up.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# daemon_up: starts containerd and dockerd unless ours already answer.
daemon_up() {
  daemon_paths
  [ "$(id -u)" = 0 ] || daemon_fail "it must run as root (dockerd needs root)" /dev/null
  # 108 bytes is the limit of a unix socket's path; dockerd nests sockets in its exec root.
  [ ${#DAEMON_RUN} -le 60 ] \
    || daemon_fail "the state directory $DAEMON_RUN is too long for unix sockets (clone the repository at a shorter path)" /dev/null
  if pid_alive "$DOCKERD_PID" && stack_docker info >/dev/null 2>&1; then return 0; fi
  daemon_down >/dev/null 2>&1 || true
  mkdir -p "$DAEMON_RUN" "$STACK_STATE/containerd" "$STACK_STATE/docker" "$STACK_STATE/docker-config"
  cat >"$STACK_STATE/containerd.toml" <<EOF
version = 2
root = "$STACK_STATE/containerd/root"
state = "$DAEMON_RUN/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CONTAINERD_SOCKET"
[ttrpc]
  address = "$CONTAINERD_SOCKET.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
  echo '{}' >"$STACK_STATE/daemon.json"
  # tini (a dependency of docker.io) as a subreaper: containerd's shims leave their
  # parent when they start, and the init of a container-based machine may never reap them.
  setsid "$TINI" -s -- "$CONTAINERD" --config "$STACK_STATE/containerd.toml" >"$CONTAINERD_LOG" 2>&1 </dev/null &
  echo $! >"$CONTAINERD_PID"
  wait_for 20 test -S "$CONTAINERD_SOCKET" || daemon_fail "containerd did not open $CONTAINERD_SOCKET" "$CONTAINERD_LOG"
  setsid "$DOCKERD" \
    --config-file "$STACK_STATE/daemon.json" \
    --containerd "$CONTAINERD_SOCKET" \
    --data-root "$STACK_STATE/docker" \
    --exec-root "$DAEMON_RUN/exec" \
    --pidfile "$DOCKERD_PID" \
    --host "unix://$DOCKER_SOCKET" \
    --storage-driver overlay2 \
    --iptables=false --ip-masq=false --bridge=none \
    >"$DOCKERD_LOG" 2>&1 </dev/null &
  local dockerd_pid=$!
  if ! wait_for 60 stack_docker info; then
    kill -0 "$dockerd_pid" 2>/dev/null || daemon_fail "dockerd exited" "$DOCKERD_LOG"
    daemon_fail "dockerd did not answer on $DOCKER_SOCKET within 60 s" "$DOCKERD_LOG"
  fi
}

# stop_pid PIDFILE NAME: TERM, then KILL after 20 s, the process recorded in PIDFILE.
stop_pid() {
  local pid
  pid_alive "$1" || { rm -f "$1"; return 0; }
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  wait_for 20 bash -c "! kill -0 $pid" || { say "$2 ($pid) did not stop; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$1"
}

# Test images are named with one of these prefixes (libcnb-test's, and the suite's own
# for the builds it runs with pack directly): what a killed test leaves is removed.
TEST_IMAGE_PREFIXES='libcnbtest_|gwtest_'

# daemon_clean: removes every container and volume of our daemon, the test images and the
# images no tag names (what a failed test leaves behind). Our daemon holds nothing else.
daemon_clean() {
  local containers images
  containers=$(stack_docker ps -aq 2>/dev/null) || return 0
  # shellcheck disable=SC2086 # one word per id
  [ -z "$containers" ] || stack_docker rm -f $containers >/dev/null 2>&1 || true
  images=$(stack_docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^($TEST_IMAGE_PREFIXES)" || true)
  # shellcheck disable=SC2086
  [ -z "$images" ] || stack_docker rmi -f $images >/dev/null 2>&1 || true
  stack_docker volume prune -f >/dev/null 2>&1 || true
  stack_docker image prune -f >/dev/null 2>&1 || true
}

# daemon_down: cleans up and stops dockerd, then containerd. The data root stays (it
# holds the stack images and the builder, so the next start is fast).
daemon_down() {
  daemon_paths
  if pid_alive "$DOCKERD_PID"; then daemon_clean; fi
  stop_pid "$DOCKERD_PID" dockerd
  stop_pid "$CONTAINERD_PID" containerd
}
