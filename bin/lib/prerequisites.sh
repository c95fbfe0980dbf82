# shellcheck shell=bash
# Installs what the repository's scripts need, only when missing. Sourced by bin/*.
# Every function is idempotent and says what it installs; a prerequisite that cannot be
# installed stops the script with the reason.

# The Rust targets the buildpack is built for, one per target of buildpack.toml.
RUST_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
# The packaged buildpack's directory under packaged/, and the stem of its .cnb files.
BUILDPACK_DIR_NAME=cnb-utils_group-writable

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

apt_updated=
# need_packages PACKAGE...: installs the Debian packages that are not installed yet. One
# dpkg-query for all of them: the end-to-end platform checks at every build and run.
need_packages() {
  local missing=() installed package
  # dpkg-query fails when it knows a package not at all: that package is missing too.
  installed=$'\n'$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "$@" 2>/dev/null \
    | awk '$1 == "installed" { print $2 }' || true)$'\n'
  for package in "$@"; do
    [[ "$installed" == *$'\n'"$package"$'\n'* ]] || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]}, and no apt-get to install them"
  say "installing ${missing[*]}"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq || die "apt-get update failed"; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "could not install ${missing[*]}"
}

# need_rust_targets: the Rust targets of RUST_TARGETS, and musl-gcc (x86_64's linker
# driver; aarch64 links with rust-lld, which comes with Rust), for static binaries.
need_rust_targets() {
  local installed triple
  command -v cargo >/dev/null || die "cargo is not installed (install Rust with rustup)"
  installed=$(rustup target list --installed 2>/dev/null || true)
  for triple in "${RUST_TARGETS[@]}"; do
    if ! grep -qx "$triple" <<<"$installed"; then
      say "adding the Rust target $triple"
      rustup target add "$triple" >&2 || die "rustup could not add $triple"
    fi
  done
  need_packages musl-tools file
}

# cnb_arch TRIPLE: the CNB (and OCI) architecture of a Rust target triple.
cnb_arch() {
  case "$1" in
    x86_64-*) echo amd64 ;;
    aarch64-*) echo arm64 ;;
    *) die "no CNB architecture for the Rust target $1 (known: ${RUST_TARGETS[*]})" ;;
  esac
}

# elf_machine TRIPLE: how `file` names the machine of a Rust target triple's binaries.
elf_machine() {
  case "$1" in
    x86_64-*) echo x86-64 ;;
    aarch64-*) echo "ARM aarch64" ;;
    *) die "no ELF machine for the Rust target $1" ;;
  esac
}

# host_target: the entry of RUST_TARGETS that runs natively here.
host_target() {
  case "$(uname -m)" in
    x86_64) echo x86_64-unknown-linux-musl ;;
    aarch64) echo aarch64-unknown-linux-musl ;;
    *) die "no packaged target runs on $(uname -m)" ;;
  esac
}

# packaged_dir TRIPLE: the platform root bin/package writes for a Rust target triple (a
# complete buildpack directory: buildpack.toml, bin/, the helper and its SBOM).
packaged_dir() {
  echo "packaged/$BUILDPACK_DIR_NAME/linux/$(cnb_arch "$1")"
}

# buildpack_version: the [buildpack] version of buildpack.toml.
buildpack_version() {
  awk -F'"' '/^\[buildpack\]/ { in_buildpack = 1; next } /^\[/ { in_buildpack = 0 } in_buildpack && $1 ~ /^version *= *$/ { print $2; exit }' \
    "$(dirname "${BASH_SOURCE[0]}")/../../buildpack.toml"
}

# need_qemu_aarch64: Debian's qemu-aarch64-static, to run the aarch64 binaries here.
need_qemu_aarch64() {
  need_packages qemu-user-static
}

# need_rust_components: rustfmt and clippy for the checks.
need_rust_components() {
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
      say "adding the Rust component $component"
      rustup component add "$component" >&2 || die "rustup could not add $component"
    fi
  done
}

# The end-to-end tests' platform (tests/e2e/cnb) runs the real CNB lifecycle on the host:
# bubblewrap sandboxes the build phases, umoci makes the run image, runc runs the exported
# image, busybox-static is the images' userland, jq reads OCI manifests and image configs.
E2E_PACKAGES=(runc bubblewrap umoci busybox-static jq tar util-linux)

# The lifecycle is built from source: tests/e2e/lifecycle/go.mod and go.sum pin it (and
# every module it depends on) by version and hash. See tests/e2e/lifecycle/README.md.
LIFECYCLE_MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/e2e/lifecycle"

# need_e2e_tools: the Debian packages the end-to-end platform calls.
need_e2e_tools() {
  need_packages "${E2E_PACKAGES[@]}"
}

# go_module_version MODULE_DIR MODULE: the version of MODULE that MODULE_DIR/go.mod
# requires, without the leading v. A pinning go.mod is the one place a version is written.
go_module_version() {
  local version
  version=$(awk -v module="$2" '$1 == module { print $2 } $1 == "require" && $2 == module { print $3 }' \
    "$1/go.mod")
  [ -n "$version" ] || die "no $2 requirement in $1/go.mod"
  echo "${version#v}"
}

# lifecycle_version: the lifecycle version pinned in tests/e2e/lifecycle/go.mod (0.21.14).
lifecycle_version() { go_module_version "$LIFECYCLE_MODULE_DIR" github.com/buildpacks/lifecycle; }

# need_lifecycle: builds the pinned lifecycle and launcher, static (CGO_ENABLED=0: the
# launcher runs inside images without a libc), once per version, into the user's cache.
# Prints the directory that holds `lifecycle` and `launcher`.
need_lifecycle() {
  local version cache_dir staging
  version=$(lifecycle_version)
  cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/group-writable/lifecycle-$version"
  if [ "$("$cache_dir/bin/lifecycle" -version 2>/dev/null)" = "$version" ] && [ -x "$cache_dir/bin/launcher" ]; then
    echo "$cache_dir/bin"
    return 0
  fi
  command -v go >/dev/null \
    || die "Go is needed to build the CNB lifecycle $version (see $LIFECYCLE_MODULE_DIR/go.mod for the version); install it from https://go.dev/dl/"
  say "building the CNB lifecycle $version into $cache_dir (once; about a minute)"
  mkdir -p "$cache_dir"
  staging=$(mktemp -d "$cache_dir/bin.XXXXXX")
  # -mod=readonly: use exactly the versions and hashes of go.mod and go.sum, never update them.
  (cd "$LIFECYCLE_MODULE_DIR" && CGO_ENABLED=0 go build -mod=readonly -trimpath \
    -ldflags "-X github.com/buildpacks/lifecycle/cmd.Version=$version" \
    -o "$staging/" github.com/buildpacks/lifecycle/cmd/lifecycle github.com/buildpacks/lifecycle/cmd/launcher) >&2 \
    || { rm -rf "$staging"; die "could not build the CNB lifecycle $version (go build failed, output above)"; }
  rm -rf "${cache_dir:?}/bin"
  mv "$staging" "$cache_dir/bin"
  echo "$cache_dir/bin"
}

# pack is built from source too: tests/pack/pack/go.mod and go.sum pin it (and every
# module it depends on) by version and hash. See tests/pack/README.md.
PACK_MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/pack/pack"

# pack_version: the pack version pinned in tests/pack/pack/go.mod.
pack_version() { go_module_version "$PACK_MODULE_DIR" github.com/buildpacks/pack; }

# need_pack: builds the pinned pack CLI, static, once per version, into the user's cache.
# Prints the path of the `pack` binary.
need_pack() {
  local version cache_dir staging
  version=$(pack_version)
  cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/group-writable/pack-$version"
  if [ "$("$cache_dir/bin/pack" --version 2>/dev/null)" = "$version" ]; then
    echo "$cache_dir/bin/pack"
    return 0
  fi
  command -v go >/dev/null \
    || die "Go is needed to build pack $version (see $PACK_MODULE_DIR/go.mod for the version); install it from https://go.dev/dl/"
  say "building pack $version into $cache_dir (once; a few minutes)"
  mkdir -p "$cache_dir"
  staging=$(mktemp -d "$cache_dir/bin.XXXXXX")
  # pack's main package is its module root. -mod=readonly: exactly go.mod and go.sum.
  (cd "$PACK_MODULE_DIR" && CGO_ENABLED=0 go build -mod=readonly -trimpath \
    -ldflags "-s -w -X github.com/buildpacks/pack/pkg/client.Version=$version" \
    -o "$staging/pack" github.com/buildpacks/pack) >&2 \
    || { rm -rf "$staging"; die "could not build pack $version (go build failed, output above)"; }
  rm -rf "${cache_dir:?}/bin"
  mv "$staging" "$cache_dir/bin"
  echo "$cache_dir/bin/pack"
}

# The CycloneDX validator the SBOM tests use: cyclonedx-python-lib's strict JSON
# validator (with the official schemas it ships), pinned here.
CYCLONEDX_PYTHON_LIB_VERSION=11.12.0

# need_cyclonedx_validator: installs cyclonedx-python-lib with its JSON validation extra,
# once per version, into the user's cache (pip --target: no virtualenv needed). Prints the
# directory to put on PYTHONPATH.
need_cyclonedx_validator() {
  local dir staging
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/group-writable/cyclonedx-python-lib-$CYCLONEDX_PYTHON_LIB_VERSION"
  if [ -f "$dir/.complete" ]; then
    echo "$dir"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is needed to validate the SBOM (install Python 3)"
  python3 -m pip --version >/dev/null 2>&1 || need_packages python3-pip
  say "installing cyclonedx-python-lib $CYCLONEDX_PYTHON_LIB_VERSION into $dir (once)"
  mkdir -p "$(dirname "$dir")"
  staging=$(mktemp -d "$dir.XXXXXX")
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --target "$staging" \
    "cyclonedx-python-lib[json-validation]==$CYCLONEDX_PYTHON_LIB_VERSION" >&2 \
    || { rm -rf "$staging"; die "could not install cyclonedx-python-lib $CYCLONEDX_PYTHON_LIB_VERSION with pip"; }
  touch "$staging/.complete"
  rm -rf "$dir"
  mv "$staging" "$dir"
  echo "$dir"
}
