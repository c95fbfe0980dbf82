#!/usr/bin/env bash
# bin/package --check-reproducible: packages a clean clone of HEAD in another directory
# (another path, another target directory, the same toolchain) and compares every artifact
# with this checkout's, byte for byte. This checkout must be clean (what it packaged is
# HEAD), so that both are packagings of one commit.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bin/lib/prerequisites.sh

[ -z "$(git status --porcelain)" ] \
  || die "--check-reproducible compares packagings of HEAD, but this checkout has changes (git status): commit or stash them first"
[ -d "packaged/$BUILDPACK_DIR_NAME" ] || die "nothing packaged yet: run bin/package first"

started=$SECONDS
# A path of another length than this checkout's, so that a path left in a binary shows.
clone="$PWD/target/reproducible/elsewhere-$(git rev-parse --short HEAD)-checkout"
rm -rf "$clone"
mkdir -p "$(dirname "$clone")"
git clone --quiet --no-local --no-hardlinks "$PWD" "$clone" || die "could not clone HEAD into $clone"
git -C "$clone" checkout --quiet --detach "$(git rev-parse HEAD)"
say "packaging a clean clone of HEAD in $clone"
# Its own target directory (inside the clone): nothing is shared but the toolchain and the
# registry's sources. GROUP_WRITABLE_TARGET only chooses what is printed.
(cd "$clone" && env -u CARGO_TARGET_DIR bin/package >/dev/null) || die "bin/package failed in $clone"

list() { (cd "$1/packaged" && find "$BUILDPACK_DIR_NAME" "$BUILDPACK_DIR_NAME"-*.cnb \( -type f -o -type l \) | LC_ALL=C sort); }
differ=()
if [ "$(list "$PWD")" != "$(list "$clone")" ]; then
  die "the two packagings hold different files:$(diff <(list "$PWD") <(list "$clone") | sed 's/^/  /')"
fi
while read -r artifact; do
  if [ -L "packaged/$artifact" ]; then
    [ "$(readlink "packaged/$artifact")" = "$(readlink "$clone/packaged/$artifact")" ] || differ+=("$artifact")
  else
    cmp -s "packaged/$artifact" "$clone/packaged/$artifact" || differ+=("$artifact")
  fi
done < <(list "$PWD")
[ ${#differ[@]} -eq 0 ] \
  || die "not reproducible: these artifacts differ between $PWD and $clone: ${differ[*]}"
# And, independently of the comparison: no checkout, cargo home or rustup home path is left
# in the files (the binaries and SBOMs; the .cnb layers are compressed copies of them).
for leak in "$clone" "$PWD/" "${CARGO_HOME:-$HOME/.cargo}" "${RUSTUP_HOME:-$HOME/.rustup}"; do
  found=$(grep -rlF -- "$leak" "$clone/packaged/$BUILDPACK_DIR_NAME" || true)
  [ -z "$found" ] || die "the path $leak is left in: $found"
done
say "reproducible: $(list "$PWD" | wc -l) artifacts byte-identical in $PWD and $clone ($((SECONDS - started))s)"
rm -rf "$clone"
