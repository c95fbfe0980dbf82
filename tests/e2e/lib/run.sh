# shellcheck shell=bash
# Running an exported image as its run user (or another one) with runc.
# Sourced by tests/e2e/cnb.

# numeric_user USER: checks that USER is UID:GID in numbers. The run image's users are
# numeric, and names would need the image's /etc/passwd to resolve.
numeric_user() {
  [[ "$1" =~ ^[0-9]+:[0-9]+$ ]] || die "user '$1' is not UID:GID in numbers"
}

# runc_config BUNDLE IMAGE_CONFIG USER GROUPS READ_ONLY ENV_ARRAY ARGS...: edits the
# config.json that `runc spec` wrote in BUNDLE:
# - the process: ARGS, the image's Env and WorkingDir, USER (uid:gid) with the
#   supplementary GROUPS (comma-separated gids), no terminal;
# - the NAME=VALUE pairs of ENV_ARRAY (an array's name) over the image's Env, as
#   `docker run -e NAME=VALUE` sets them: the run environment a user controls;
# - no capabilities for a user other than root, as `docker run --user` gives it, so only
#   the plain owner/group/other permission bits decide what it may write;
# - READ_ONLY=true: a read-only root file system with a tmpfs on /tmp, the shape of
#   `docker run --read-only --tmpfs /tmp` and Kubernetes' readOnlyRootFilesystem.
runc_config() {
  local bundle=$1 image_config=$2 user=$3 groups=$4 read_only=$5 args='[]' env='[]' arg pair
  local -n config_env=$6
  shift 6
  # One element at a time: jq's --args would drop a `--` argument.
  for arg in "$@"; do
    args=$(jq -c --arg arg "$arg" '. + [$arg]' <<<"$args")
  done
  for pair in "${config_env[@]}"; do
    env=$(jq -c --arg pair "$pair" '. + [$pair]' <<<"$env")
  done
  jq --argjson uid "${user%%:*}" --argjson gid "${user##*:}" \
    --arg groups "$groups" --argjson read_only "$read_only" --argjson args "$args" \
    --argjson env "$env" --slurpfile image "$image_config" \
    '.process.terminal = false
    | .process.user = {uid: $uid, gid: $gid,
        additionalGids: ($groups | split(",") | map(select(. != "") | tonumber))}
    | .process.args = $args
    | .process.env = (($image[0].config.Env // []) as $image_env
        | ($env | map(split("=")[0])) as $names
        | [$image_env[] | select((split("=")[0]) as $name | $names | index($name) | not)]
          + $env)
    | .process.cwd = ($image[0].config.WorkingDir // "" | if . == "" then "/" else . end)
    | if $uid != 0 then .process.capabilities = {} else . end
    | .root = {path: "rootfs", readonly: $read_only}
    | .hostname = "cnb-run"
    | if $read_only then .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs",
        options: ["nosuid", "nodev", "mode=1777"]}] else . end' \
    <"$bundle/config.json" >"$bundle/config.json.new"
  mv "$bundle/config.json.new" "$bundle/config.json"
}

# run_image LAYOUT USER GROUPS READ_ONLY ENV_ARRAY [COMMAND...]: runs the image on a fresh
# copy of its file system, so no run sees what an earlier one wrote; returns the process's
# exit status. USER empty: the image's configured user. ENV_ARRAY: the name of an array of
# NAME=VALUE pairs set over the image's Env. No COMMAND: the image's entrypoint
# and cmd; a COMMAND runs through the launcher (`launcher -- COMMAND`: no shell, but the
# launch environment, exec.d programs and working directory of a process).
run_image() {
  local layout=$1 user=$2 groups=$3 read_only=$4 env_array=$5 bundle image_config status=0
  shift 5
  image_config=$(image_config "$layout")
  [ -n "$user" ] || user=$(jq -r '.config.User // ""' "$image_config")
  numeric_user "$user"
  local args=()
  if [ $# -gt 0 ]; then
    args=(/cnb/lifecycle/launcher -- "$@")
  else
    mapfile -t args < <(jq -r '(.config.Entrypoint // []) + (.config.Cmd // []) | .[]' "$image_config")
    [ ${#args[@]} -gt 0 ] || die "image $layout has no entrypoint or cmd; give a command"
  fi
  bundle=$(mktemp -d "${TMPDIR:-/tmp}/cnb-run.XXXXXX")
  unpack_image "$layout" "$bundle/rootfs"
  runc spec --bundle "$bundle"
  runc_config "$bundle" "$image_config" "$user" "$groups" "$read_only" "$env_array" "${args[@]}"
  runc run --bundle "$bundle" "cnb-run-${bundle##*.}" </dev/null || status=$?
  rm -rf "$bundle"
  return "$status"
}
