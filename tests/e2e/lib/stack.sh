# shellcheck shell=bash
# The test stack: the users of the build environment and the run image, and the run image
# itself. Sourced by tests/e2e/cnb.
#
# The ids (STACK_GROUP_ID, BUILD_USER_ID, RUN_USER_ID) are Paketo jammy's, defined once in
# tests/support/ids.sh for the Rust tests too. OpenShift's shape, a random uid in group 0,
# needs no entry of its own: group 0 (root) is in every /etc/group, and OpenShift's random
# uid has no /etc/passwd entry either.

# shellcheck disable=SC2034 # these constants are read by the files that source this one
# shellcheck source=SCRIPTDIR/../../support/ids.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../support/ids.sh"

# Image names; the lifecycle's layout mode maps NAME:TAG to <layout dir>/NAME/TAG.
RUN_IMAGE=e2e.invalid/group-writable/run:latest
DEFAULT_APP_IMAGE=e2e.invalid/group-writable/app:latest

# layout_path LAYOUT_REPO IMAGE: where the lifecycle's layout mode keeps IMAGE (host/path:tag).
layout_path() {
  local name=${2%:*} tag=${2##*:}
  [ "$name" != "$2" ] || die "image name $2 needs a tag (host/path:tag)"
  echo "$1/$name/$tag"
}

# write_user_database ETC_DIR CNB_UID: /etc/passwd and /etc/group with root and the user
# `cnb` (uid CNB_UID, group STACK_GROUP_ID), as Paketo's build and run images have them.
write_user_database() {
  local etc=$1 cnb_uid=$2
  mkdir -p "$etc"
  cat >"$etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
cnb:x:$cnb_uid:$STACK_GROUP_ID:CNB user:/home/cnb:/bin/sh
EOF
  cat >"$etc/group" <<EOF
root:x:0:
cnb:x:$STACK_GROUP_ID:
EOF
  chmod 0644 "$etc/passwd" "$etc/group"
}

# make_build_etc DIR: the build environment's user database. The phases run on the host's
# /usr in a sandbox (see build.sh); these files replace the host's /etc/passwd and
# /etc/group there, so the build user exists as it does in a builder image.
make_build_etc() {
  write_user_database "$1" "$BUILD_USER_ID"
}

# busybox_version: the version of the host's static busybox (1.35.0), for the distro label.
busybox_version() {
  busybox 2>&1 | sed -n '1s/^BusyBox v\([0-9.]*\).*/\1/p'
}

# make_run_rootfs DIR: the run image's files: a static busybox with every applet linked
# in /bin, the user database with the run user, /tmp 1777, the run user's home.
make_run_rootfs() {
  local rootfs=$1 applet
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/home/cnb" "$rootfs/root" "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  write_user_database "$rootfs/etc" "$RUN_USER_ID"
  cat >"$rootfs/etc/os-release" <<EOF
NAME=BusyBox
ID=busybox
VERSION_ID=$(busybox_version)
EOF
  chmod 1777 "$rootfs/tmp"
  chmod 0700 "$rootfs/root"
  chown "$RUN_USER_ID:$STACK_GROUP_ID" "$rootfs/home/cnb"
}

# make_run_image LAYOUT: the run image as an OCI layout with one manifest, made with umoci.
# Its config has what the lifecycle needs to export onto it: os and architecture, PATH,
# the run user, and the distro labels that become CNB_TARGET_DISTRO_* for buildpacks
# (libcnb refuses to run without them).
make_run_image() {
  local layout=$1 scratch
  mkdir -p "$(dirname "$layout")"
  scratch=$(mktemp -d "$(dirname "$layout")/.run-image.XXXXXX")
  umoci init --layout "$scratch/layout"
  umoci new --image "$scratch/layout:latest"
  umoci unpack --image "$scratch/layout:latest" "$scratch/bundle" >/dev/null
  make_run_rootfs "$scratch/bundle/rootfs"
  umoci repack --image "$scratch/layout:latest" "$scratch/bundle"
  umoci config --image "$scratch/layout:latest" \
    --os linux --architecture amd64 \
    --config.user "$RUN_USER_ID:$STACK_GROUP_ID" \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin \
    --config.workingdir / \
    --config.label io.buildpacks.base.distro.name=busybox \
    --config.label "io.buildpacks.base.distro.version=$(busybox_version)"
  umoci gc --layout "$scratch/layout"
  [ "$(jq '.manifests | length' "$scratch/layout/index.json")" = 1 ] \
    || die "the run image layout $scratch/layout has more than one manifest"
  mv "$scratch/layout" "$layout"
  rm -rf "$scratch"
}
