# shellcheck shell=bash
# Reading the OCI image layouts that the lifecycle exports: manifest, config, layers.
# Sourced by tests/e2e/cnb.

# layout_blob LAYOUT DIGEST: the file that holds blob DIGEST (sha256:...) in LAYOUT.
layout_blob() {
  echo "$1/blobs/${2%%:*}/${2#*:}"
}

# image_manifest LAYOUT: the manifest blob of the layout's only image. The exporter
# writes one image per layout directory; a layout with more is not one of ours.
image_manifest() {
  local layout=$1 count
  [ -f "$layout/index.json" ] || die "$layout is not an OCI image layout (no index.json)"
  count=$(jq '.manifests | length' "$layout/index.json")
  [ "$count" = 1 ] || die "$layout holds $count images, expected exactly 1"
  layout_blob "$layout" "$(jq -r '.manifests[0].digest' "$layout/index.json")"
}

# image_config LAYOUT: the config blob of the layout's image.
image_config() {
  local layout=$1
  layout_blob "$layout" "$(jq -r '.config.digest' "$(image_manifest "$layout")")"
}

# unpack_image LAYOUT ROOTFS: extracts the layers in manifest order, keeping numeric
# owners and every mode bit (setgid included). umoci is not used here: it rejects some of
# the layer media types the exporter writes. Whiteouts would need handling that plain tar
# does not do; the images built here never have them (no layer deletes a file of an
# earlier one), so one is an error rather than a silently wrong file system.
unpack_image() {
  local layout=$1 rootfs=$2 digest whiteout
  mkdir -p "$rootfs"
  for digest in $(jq -r '.layers[].digest' "$(image_manifest "$layout")"); do
    # The exporter writes absolute member names; tar strips the leading / (as it must,
    # to stay inside ROOTFS) and says so once per layer: that line is noise here.
    tar --numeric-owner --same-owner -xpf "$(layout_blob "$layout" "$digest")" -C "$rootfs" 2>&1 \
      | { grep -v "^tar: Removing leading \`/' from member names\$" || true; } >&2
    whiteout=$(find "$rootfs" -name '.wh.*' -print -quit)
    [ -z "$whiteout" ] || die "layer $digest of $layout has a whiteout (${whiteout#"$rootfs"}), which unpack_image does not apply"
  done
}

# image_digests LAYOUT: one line per layer of the manifest (`layer <digest>`), then the
# lifecycle's own record of which layer is what (label io.buildpacks.lifecycle.metadata):
# `app <diff id>` for the app layers, `buildpack-layer <buildpack id>/<layer> <diff id>`
# (diff ids are the digests of the uncompressed layers).
image_digests() {
  local layout=$1
  jq -r '.layers[].digest | "layer \(.)"' "$(image_manifest "$layout")"
  jq -r '.config.Labels["io.buildpacks.lifecycle.metadata"] | fromjson
    | ((.app // [])[] | "app \(.sha)"),
      ((.buildpacks // [])[] | .key as $id | (.layers // {}) | to_entries[]
        | "buildpack-layer \($id)/\(.key) \(.value.sha)")' \
    "$(image_config "$layout")"
}
