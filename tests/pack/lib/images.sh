# shellcheck shell=bash
# The stack images, shaped like Paketo's jammy stacks but made locally from Debian (no
# registry is ever asked for an image): one `debootstrap --variant=minbase` root file
# system of the host's Debian release, imported once, then
#   build image: user cnb 1001, group cnb 1000, runs as 1001:1000, CNB_USER_ID=1001,
#                CNB_GROUP_ID=1000 (what the lifecycle runs the build as);
#   run image:   user cnb 1002, group cnb 1000, runs as 1002:1000;
# both with the stack id and the io.buildpacks.base.* labels. The two images are saved
# to the user's cache once (keyed by this file and the package list), so a fresh daemon
# loads them in seconds instead of running debootstrap again.
# Sourced by tests/pack/stack.

# STACK_GROUP_ID, BUILD_USER_ID and RUN_USER_ID, defined once for every suite.
# shellcheck source=SCRIPTDIR/../../support/ids.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../support/ids.sh"
STACK_ID=io.buildpacks.stacks.debian
IMAGE_REPOSITORY=group-writable.invalid/pack-stack

# debian_codename: the host's Debian release (bookworm), which the images are made of.
debian_codename() {
  local codename
  # shellcheck source=/dev/null # the machine's file, read in a subshell: nothing leaks
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "cannot tell the Debian release from /etc/os-release (VERSION_CODENAME)"
  echo "$codename"
}

# debian_mirror CODENAME: the first mirror of the machine's apt sources that serves
# CODENAME itself (not -security or -updates), from deb822 .sources files or one-line
# .list files. Read at every run: the repository names no mirror.
debian_mirror() {
  local codename=$1 mirror
  mirror=$(
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$file" ] || continue
      awk -v suite="$codename" '$1 == "deb" {
          i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
          if ($(i + 1) == suite) { print $i; exit }
        }' "$file"
    done
    for file in /etc/apt/sources.list.d/*.sources; do
      [ -f "$file" ] || continue
      awk -v suite="$codename" '
        function flush() { if (is_deb && has_suite && uri != "") { print uri; exit } is_deb = has_suite = 0; uri = "" }
        /^[[:space:]]*$/ { flush(); next }
        /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1 }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) has_suite = 1 }
        END { flush() }' "$file"
    done | head -n 1
  )
  [ -n "$mirror" ] || die "no apt source for $codename in /etc/apt/sources.list*: debootstrap needs a Debian mirror"
  echo "$mirror"
}

# stack_key INCLUDE: what the images depend on: this file and the ids, the release and the extra
# packages (comma-separated, for framework images; empty for the default stack).
stack_key() {
  { cat "${BASH_SOURCE[0]}" "$(dirname "${BASH_SOURCE[0]}")/../../support/ids.sh"; debian_codename; echo "$1"; } | sha256sum | cut -c1-12
}

# stack_tag INCLUDE: the tag of the images: the release and the key, so a change to how
# they are made never reuses old images left in the data root.
stack_tag() {
  echo "$(debian_codename)-$(stack_key "$1")"
}

build_image_name() { echo "$IMAGE_REPOSITORY/build:$(stack_tag "$1")"; }
run_image_name() { echo "$IMAGE_REPOSITORY/run:$(stack_tag "$1")"; }

# image_exists NAME: the daemon has the image.
image_exists() {
  stack_docker image inspect "$1" >/dev/null 2>&1
}

# debootstrap_rootfs DIR INCLUDE: a minimal Debian root file system of the host's release.
debootstrap_rootfs() {
  local dir=$1 include=$2 codename mirror
  codename=$(debian_codename)
  mirror=$(debian_mirror "$codename")
  say "debootstrap $codename from $mirror${include:+ with $include} (once; about a minute)"
  debootstrap --variant=minbase ${include:+--include="$include"} "$codename" "$dir" "$mirror" \
    >"$STACK_STATE/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $STACK_STATE/debootstrap.log: $(tail -n 1 "$STACK_STATE/debootstrap.log")"
  # What an image does not need: apt's package lists and caches, the man pages.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/usr/share/man/* "$dir"/usr/share/doc/*
}

# commit_stack_image BASE NAME UID ROLE: a container of BASE adds the user cnb (UID, group
# cnb 1000, home /home/cnb) and is committed as NAME, running as UID:1000, with the labels
# every Paketo stack image has.
commit_stack_image() {
  local base=$1 name=$2 uid=$3 role=$4 container codename
  codename=$(debian_codename)
  container="gwtest_stack_$role"
  stack_docker rm -f "$container" >/dev/null 2>&1 || true
  stack_docker run --name "$container" --user 0:0 "$base" sh -ec "
    groupadd --gid $STACK_GROUP_ID cnb
    useradd --uid $uid --gid $STACK_GROUP_ID --create-home --home-dir /home/cnb --shell /bin/bash cnb
    chmod 0755 /home/cnb" >&2 || die "could not add the user cnb to the $role image"
  local changes=(
    --change "USER $uid:$STACK_GROUP_ID"
    --change "ENV CNB_USER_ID=$uid"
    --change "ENV CNB_GROUP_ID=$STACK_GROUP_ID"
    --change "ENV CNB_STACK_ID=$STACK_ID"
    --change "LABEL io.buildpacks.stack.id=$STACK_ID"
    --change "LABEL io.buildpacks.base.distro.name=debian"
    --change "LABEL io.buildpacks.base.distro.version=$(cut -d. -f1 /etc/debian_version)"
    --change "LABEL io.buildpacks.base.description=\"group-writable test $role image: Debian $codename minbase, cnb $uid:$STACK_GROUP_ID\""
    --change 'LABEL io.buildpacks.base.maintainer="group-writable tests"'
    --change "LABEL io.buildpacks.base.homepage=https://github.com/cnb-utils/group-writable"
    --change 'LABEL io.buildpacks.stack.mixins=[]'
  )
  stack_docker commit "${changes[@]}" "$container" "$name" >/dev/null \
    || die "could not commit the $role image $name"
  stack_docker rm "$container" >/dev/null
}

# need_stack_images INCLUDE: the build and run images in the daemon: already there, or
# loaded from the cache, or made (debootstrap) and saved to the cache.
need_stack_images() {
  local include=$1 build run cache scratch
  build=$(build_image_name "$include")
  run=$(run_image_name "$include")
  if image_exists "$build" && image_exists "$run"; then return 0; fi
  cache="$STACK_CACHE/images-$(stack_key "$include").tar"
  if [ -f "$cache" ]; then
    stack_docker load --input "$cache" >/dev/null || die "could not load the stack images from $cache (delete it to rebuild them)"
    image_exists "$build" && image_exists "$run" && return 0
  fi
  need_packages debootstrap
  scratch=$(mktemp -d "$STACK_STATE/rootfs.XXXXXX")
  debootstrap_rootfs "$scratch/rootfs" "$include"
  local base
  base="$IMAGE_REPOSITORY/base:$(stack_tag "$include")"
  tar --numeric-owner -C "$scratch/rootfs" -c . \
    | stack_docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["/bin/bash"]' - "$base" >/dev/null \
    || die "docker import of the debootstrap root file system failed"
  rm -rf "$scratch"
  commit_stack_image "$base" "$build" "$BUILD_USER_ID" build
  commit_stack_image "$base" "$run" "$RUN_USER_ID" run
  stack_docker rmi "$base" >/dev/null
  # Other checkouts share the cache: write a file of our own, then rename it.
  mkdir -p "$STACK_CACHE"
  local partial
  partial=$(mktemp "$cache.XXXXXX")
  if ! stack_docker save --output "$partial" "$build" "$run" || ! mv "$partial" "$cache"; then
    rm -f "$partial"
    die "could not save the stack images to $cache"
  fi
}
