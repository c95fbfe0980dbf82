# shellcheck shell=bash
# Builders on the stack images, with the pinned lifecycle (the one tests/e2e uses, built
# from source by need_lifecycle), created by `pack builder create --pull-policy never`:
# nothing is pulled. Sourced by tests/pack/stack.

# The buildpacks and order of the default builder: the test buildpacks the suite's apps
# use (a launch layer, the processes of a Procfile). group-writable itself is not in it:
# the tests add it, as users do (`--buildpack`, project.toml, their own builder.toml).
# shellcheck disable=SC2034 # read by tests/pack/stack
DEFAULT_BUILDER_BUILDPACKS="$STACK_DIR/builder-buildpacks.toml"

# lifecycle_source: the pinned lifecycle's source directory in the Go module cache,
# downloaded (and checked against go.sum) if the cache no longer has it.
lifecycle_source() {
  local dir
  dir=$(cd "$LIFECYCLE_MODULE_DIR" && go mod download -json github.com/buildpacks/lifecycle \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  { [ -n "$dir" ] && [ -f "$dir/api/apis.go" ]; } ||
    die "cannot find the source of the lifecycle $(lifecycle_version) (go mod download in $LIFECYCLE_MODULE_DIR)"
  echo "$dir"
}

# lifecycle_apis SOURCE KIND: the supported API list ("0.7", "0.8", ...) of the lifecycle
# at SOURCE for KIND (Platform or Buildpack), read from api/apis.go, so lifecycle.toml
# always says what the built binaries support.
lifecycle_apis() {
  local list
  list=$(sed -n "s/^[[:space:]]*$2 = newApisMustParse(\[\]string{\([^}]*\)}.*/\1/p" "$1/api/apis.go")
  [ -n "$list" ] || die "cannot read the $2 APIs from $1/api/apis.go"
  echo "$list" | tr -d ' '
}

# need_lifecycle_archive: the lifecycle as pack wants it for `[lifecycle] uri`, laid out
# as the lifecycle's release archives are: lifecycle.toml, and lifecycle/ with
# `lifecycle`, `launcher` and the phases as links to `lifecycle`. Prints its path.
need_lifecycle_archive() {
  local bin version archive scratch phase
  local source buildpack_apis platform_apis
  bin=$(need_lifecycle)
  version=$(lifecycle_version)
  archive="$STACK_STATE/lifecycle-$version.tgz"
  if [ -f "$archive" ]; then echo "$archive"; return 0; fi
  source=$(lifecycle_source)
  buildpack_apis=$(lifecycle_apis "$source" Buildpack)
  platform_apis=$(lifecycle_apis "$source" Platform)
  scratch=$(mktemp -d "$STACK_STATE/lifecycle.XXXXXX")
  mkdir "$scratch/lifecycle"
  cp "$bin/lifecycle" "$bin/launcher" "$scratch/lifecycle/"
  for phase in analyzer detector restorer builder exporter rebaser creator extender; do
    ln -s lifecycle "$scratch/lifecycle/$phase"
  done
  cat >"$scratch/lifecycle.toml" <<EOF
[apis]
[apis.buildpack]
  deprecated = []
  supported = [$buildpack_apis]
[apis.platform]
  deprecated = []
  supported = [$platform_apis]

[api]
  platform = "0.7"
  buildpack = "0.7"

[lifecycle]
  version = "$version"
EOF
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$scratch" -czf "$archive.partial" lifecycle.toml lifecycle \
    && mv "$archive.partial" "$archive"
  rm -rf "$scratch"
  echo "$archive"
}

# builder_key BUILDPACKS_TOML INCLUDE: what a builder depends on.
builder_key() {
  { cat "${BASH_SOURCE[0]}" "$1"; stack_key "$2"; lifecycle_version; } | sha256sum | cut -c1-12
}

# need_builder NAME BUILDPACKS_TOML INCLUDE: the builder NAME, from the [[buildpacks]] and
# [[order]] tables of BUILDPACKS_TOML (relative uris are relative to its directory, as
# in any builder.toml) with the stack's images and the pinned lifecycle added. Made again
# when any of those changed since it was made.
need_builder() {
  local name=$1 buildpacks=$2 include=$3 key config
  [ -f "$buildpacks" ] || die "builder configuration $buildpacks does not exist"
  key=$(builder_key "$buildpacks" "$include")
  if [ "$(stack_docker image inspect --format '{{ index .Config.Labels "io.github.cnb-utils.group-writable.builder-key" }}' "$name" 2>/dev/null)" = "$key" ]; then
    return 0
  fi
  need_stack_images "$include"
  config="$(dirname "$buildpacks")/.builder-$key.toml"
  {
    cat "$buildpacks"
    cat <<EOF

[lifecycle]
uri = "$(need_lifecycle_archive)"

[build]
image = "$(build_image_name "$include")"

[[run.images]]
image = "$(run_image_name "$include")"

[stack]
id = "$STACK_ID"
build-image = "$(build_image_name "$include")"
run-image = "$(run_image_name "$include")"
EOF
  } >"$config"
  say "creating the builder $name"
  stack_pack builder create "$name" --config "$config" --pull-policy never \
    --label "io.github.cnb-utils.group-writable.builder-key=$key" \
    >"$STACK_STATE/builder.log" 2>&1 \
    || { rm -f "$config"; die "pack builder create $name failed; see $STACK_STATE/builder.log: $(tail -n 1 "$STACK_STATE/builder.log")"; }
  rm -f "$config"
}
