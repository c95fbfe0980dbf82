# shellcheck shell=bash
# Building an app with the real lifecycle phases, as a CNB platform does, without Docker.
# Sourced by tests/e2e/cnb.
#
# The work directory takes the place of the builder container's volumes:
#   cnb/         -> /cnb          lifecycle, buildpacks/<id>/<version>/, order.toml (read-only)
#   workspace/   -> /workspace    a copy of the app
#   layers/      -> /layers
#   platform/    -> /platform     env/<NAME> files (read-only)
#   cache/       -> /cache        the build cache, kept between builds
#   layout-repo/ -> /layout-repo  OCI layouts: the run image, the exported app image
#   build-etc/                    the build environment's /etc/passwd and /etc/group

PLATFORM_API=0.15

# buildpack_field BUILDPACK_DIR KEY: `id` or `version` from the [buildpack] table of
# buildpack.toml. A line-based read, enough for the flat tables buildpacks write there.
buildpack_field() {
  local value
  value=$(awk -v key="$2" '
    /^\[/ { in_table = ($0 ~ /^\[buildpack\][[:space:]]*$/) ; next }
    in_table && $1 == key && $2 == "=" { gsub(/^"|"$/, "", $3); print $3; exit }
  ' "$1/buildpack.toml")
  [ -n "$value" ] || die "no $2 in the [buildpack] table of $1/buildpack.toml"
  echo "$value"
}

# install_buildpacks WORK BUILDPACK_DIR...: copies each buildpack to
# cnb/buildpacks/<id with / as _>/<version>/ and writes cnb/order.toml with one group
# that has them all, in the order given, none optional.
install_buildpacks() {
  local work=$1 buildpack id version target
  shift
  echo "[[order]]" >"$work/cnb/order.toml"
  for buildpack in "$@"; do
    [ -f "$buildpack/buildpack.toml" ] || die "$buildpack is not a buildpack directory (no buildpack.toml)"
    id=$(buildpack_field "$buildpack" id)
    version=$(buildpack_field "$buildpack" version)
    target="$work/cnb/buildpacks/${id//\//_}/$version"
    mkdir -p "$target"
    cp -a "$buildpack/." "$target/"
    printf '[[order.group]]\nid = "%s"\nversion = "%s"\n' "$id" "$version" >>"$work/cnb/order.toml"
  done
}

# copy_app APP WORKSPACE: the app as the build sees it. pack keeps the host's file modes,
# so a group-writable host umask would make files group-writable before any buildpack
# runs; the copy drops group and other write bits, as a checkout under umask 022 has them,
# or, with `checkout_umask=002` (cnb build --checkout-umask 002), gives group write to
# everything, as a checkout under umask 002 has it.
copy_app() {
  local app=$1 workspace=$2
  [ -d "$app" ] || die "app directory $app does not exist"
  cp -a "$app/." "$workspace/"
  chmod -R go-w "$workspace"
  if [ "${checkout_umask:-022}" = 002 ]; then
    find "$workspace" -mindepth 1 -exec chmod g+w {} +
  fi
}

# write_platform_env WORK NAME=VALUE...: /platform/env/NAME files, what `pack build --env` writes.
write_platform_env() {
  local work=$1 pair
  shift
  for pair in "$@"; do
    [[ "$pair" == *=* ]] || die "--env $pair: expected NAME=VALUE"
    printf '%s' "${pair#*=}" >"$work/platform/env/${pair%%=*}"
  done
}

# prepare_work LIFECYCLE_BIN WORK UID GID APP BUILDPACKS_ARRAY ENV_ARRAY: a fresh build
# directory, keeping only the cache and the layout repository (which holds the previous
# image) from an earlier build, as a platform keeps them between builds.
prepare_work() {
  local lifecycle_bin=$1 work=$2 uid=$3 gid=$4 app=$5
  local -n prepare_buildpacks=$6 prepare_env=$7
  rm -rf "$work/cnb" "$work/workspace" "$work/layers" "$work/platform" "$work/build-etc"
  mkdir -p "$work/cnb/lifecycle" "$work/workspace" "$work/layers" "$work/platform/env" \
    "$work/cache" "$work/layout-repo"
  cp "$lifecycle_bin/lifecycle" "$lifecycle_bin/launcher" "$work/cnb/lifecycle/"
  install_buildpacks "$work" "${prepare_buildpacks[@]}"
  copy_app "$app" "$work/workspace"
  write_platform_env "$work" "${prepare_env[@]}"
  make_build_etc "$work/build-etc"
  local run_image_layout
  run_image_layout=$(layout_path "$work/layout-repo" "$RUN_IMAGE")
  [ -d "$run_image_layout" ] || make_run_image "$run_image_layout"
  # /workspace itself is 0777, as pack makes it (the root entry of its app archive); the
  # pack suite checks that pack still does. /layers is 0755, as the lifecycle makes it.
  chmod 0777 "$work/workspace"
  chmod 0755 "$work/layers"
  chown -R "$uid:$gid" "$work/workspace" "$work/layers" "$work/cache" "$work/layout-repo"
}

# host_system_mounts: bwrap arguments that show the host's /usr and its top-level links
# (/bin -> usr/bin on merged-/usr systems) read-only, and the host's /etc with the build
# environment's user database over it. The phases and the buildpacks' shell scripts use
# the host's programs; the lifecycle and this project's buildpack are static anyway.
host_system_mounts() {
  local work=$1 entry
  for entry in /bin /sbin /lib /lib32 /lib64 /libx32; do
    if [ -L "$entry" ]; then
      printf '%s\n' --symlink "$(readlink "$entry")" "$entry"
    elif [ -d "$entry" ]; then
      printf '%s\n' --ro-bind "$entry" "$entry"
    fi
  done
  printf '%s\n' --ro-bind /usr /usr --ro-bind /etc /etc \
    --ro-bind "$work/build-etc/passwd" /etc/passwd --ro-bind "$work/build-etc/group" /etc/group
}

# run_phase WORK UID GID PHASE ARGS...: one lifecycle phase, in a bubblewrap sandbox where
# the work directory sits at the paths the lifecycle bakes into images (/workspace,
# /layers, /cnb), as the build user. setpriv drops root inside the sandbox: the
# lifecycle's own drop would keep root's supplementary groups, and detect and build refuse
# to run as root. No network: with layouts nothing needs it, and a mistake in the layout
# setup then fails at once instead of trying a registry.
run_phase() {
  local work=$1 uid=$2 gid=$3 phase=$4 mounts
  shift 4
  mapfile -t mounts < <(host_system_mounts "$work")
  bwrap --die-with-parent --unshare-pid --unshare-ipc --unshare-uts --unshare-net \
    "${mounts[@]}" \
    --proc /proc --dev /dev --perms 1777 --tmpfs /tmp \
    --ro-bind "$work/cnb" /cnb \
    --bind "$work/workspace" /workspace \
    --bind "$work/layers" /layers \
    --ro-bind "$work/platform" /platform \
    --bind "$work/cache" /cache \
    --bind "$work/layout-repo" /layout-repo \
    --chdir /workspace \
    --clearenv \
    --setenv PATH /usr/local/bin:/usr/bin:/bin \
    --setenv CNB_PLATFORM_API "$PLATFORM_API" \
    --setenv CNB_USER_ID "$uid" \
    --setenv CNB_GROUP_ID "$gid" \
    --setenv CNB_EXPERIMENTAL_MODE warn \
    --setenv CNB_USE_LAYOUT true \
    --setenv CNB_LAYOUT_DIR /layout-repo \
    --setenv CNB_NO_COLOR true \
    --setenv CNB_LOG_LEVEL "${CNB_LOG_LEVEL:-info}" \
    -- setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    /cnb/lifecycle/lifecycle "$phase" "$@"
}

# build_app LIFECYCLE_BIN WORK APP IMAGE UID GID BUILDPACKS_ARRAY ENV_ARRAY: the five
# phases of a build (analyze, detect, restore, build, export), the lifecycle's log on
# stderr; prints the exported image's layout directory.
build_app() {
  local lifecycle_bin=$1 work=$2 app=$3 image=$4 uid=$5 gid=$6 phase
  mkdir -p "$work"
  work=$(realpath "$work")
  app=$(realpath "$app")
  prepare_work "$lifecycle_bin" "$work" "$uid" "$gid" "$app" "$7" "$8"
  for phase in analyze detect restore build export; do
    printf '===> %s\n' "${phase^^}" >&2
    case "$phase" in
      analyze) run_phase "$work" "$uid" "$gid" analyze -run-image "$RUN_IMAGE" "$image" ;;
      restore) run_phase "$work" "$uid" "$gid" restore -cache-dir /cache ;;
      export) run_phase "$work" "$uid" "$gid" export -cache-dir /cache "$image" ;;
      *) run_phase "$work" "$uid" "$gid" "$phase" ;;
    esac >&2 || die "the $phase phase failed (exit $?)"
  done
  layout_path "$work/layout-repo" "$image"
}
