# Installs what the repository's scripts need, only when missing. Sourced by bin/*.
# Every function is idempotent and says what it installs; a prerequisite that cannot be
# installed stops the script with the reason.

# Versions, pinned in one place.
LIBCNB_VERSION=0.30.4
MUSL_TARGET=x86_64-unknown-linux-musl

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

apt_updated=
# need_packages PACKAGE...: installs the Debian packages that are not installed yet.
need_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]}, and no apt-get to install them"
  say "installing ${missing[*]}"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq || die "apt-get update failed"; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "could not install ${missing[*]}"
}

# need_rust_musl: the musl target and musl-gcc, for static binaries.
need_rust_musl() {
  command -v cargo >/dev/null || die "cargo is not installed (install Rust with rustup)"
  if ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TARGET"; then
    say "adding the Rust target $MUSL_TARGET"
    rustup target add "$MUSL_TARGET" >&2 || die "rustup could not add $MUSL_TARGET"
  fi
  need_packages musl-tools file
}

# need_libcnb_cargo: `cargo libcnb`, at the version of the libcnb the buildpack uses.
need_libcnb_cargo() {
  if ! cargo libcnb --version 2>/dev/null | grep -q "$LIBCNB_VERSION"; then
    say "installing libcnb-cargo $LIBCNB_VERSION"
    cargo install --locked --quiet "libcnb-cargo@$LIBCNB_VERSION" || die "could not install libcnb-cargo $LIBCNB_VERSION"
  fi
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
