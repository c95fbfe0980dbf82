"""The `audit` section of `bin/bench`: `group-writable-audit` on a 200 MB image with 50k
entries, against `tar -tzvf` listing the same layers, measured alternately in the same run;
and its peak memory on that image and on one with the same entries and no content, which
shows that memory follows the number of entries, not the size of the image.

The image is an OCI layout made here with Python's tarfile and gzip (kept in the scratch
directory between runs, keyed by its shape): 4 gzip layers, node_modules- and app-shaped
trees of directories and files, the files' content half text-like (compresses about 4×)
and half random, so that the layers are what images carry, neither all zeros nor all noise.
"""

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import tarfile

import runner as run

ENTRIES = 50_000
LAYERS = 4
TARGET_BLOB_BYTES = 200 * 1000 * 1000
# Half of it random, half text that gzip shrinks about 6 times: about 200 MB of blobs.
CONTENT_BYTES = TARGET_BLOB_BYTES * 11 // 6
TARGETS = {"seconds": 1.0, "vs_tar": 1.5}
SHAPE_VERSION = 1


def _content(rng, size, text):
    """`size` bytes: text-like (a slice of a vocabulary stream) or random."""
    if rng.random() < 0.5:
        start = rng.randrange(0, len(text) - size) if size < len(text) else 0
        return (text * (size // len(text) + 1))[start:start + size]
    return rng.randbytes(size)


def _members(rng, layer, entries, content_bytes):
    """The (tarinfo, data) of one layer: directories of up to 40 entries, files of a size
    drawn so that the layer holds about `content_bytes`."""
    mean = content_bytes / (entries * 0.9) if content_bytes else 0
    root = ["workspace", f"layers/bp{layer}/modules", "usr/lib", "workspace/node_modules"][layer % 4]
    made = set()
    members = []

    def add_dir(path):
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix not in made:
                made.add(prefix)
                info = tarfile.TarInfo(prefix)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                info.uid, info.gid = 1001, 1000
                members.append((info, None))

    directory = root
    while len(members) < entries:
        if rng.random() < 0.1 or directory == root:
            directory = f"{root}/pkg{len(members)}/{rng.choice(['lib', 'dist', 'src'])}"
            add_dir(directory)
            continue
        info = tarfile.TarInfo(f"{directory}/f{len(members)}.{rng.choice(['js', 'json', 'md', 'so'])}")
        # Sizes: mostly small, a few large (log-normal around the mean).
        size = int(min(mean * rng.lognormvariate(0, 1.2) / 2.05, 8 * 1024 * 1024)) if mean else 0
        info.size = size
        info.mode = rng.choice([0o644, 0o664, 0o755])
        info.uid, info.gid = 1001, 1000
        members.append((info, size))
    return members


def make_image(directory, content_bytes, seed=1):
    """Writes the OCI layout (if it is not there yet); returns its directory and the layer
    blob paths."""
    stamp = os.path.join(directory, "shape.json")
    shape = {"version": SHAPE_VERSION, "entries": ENTRIES, "layers": LAYERS, "content_bytes": content_bytes, "seed": seed}
    blobs = os.path.join(directory, "blobs", "sha256")
    if os.path.exists(stamp):
        with open(stamp) as existing:
            recorded = json.load(existing)
        if recorded.get("shape") == shape:
            return directory, recorded["layer_paths"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(blobs)
    rng = random.Random(seed)
    words = b" ".join(rng.choice([b"function", b"return", b"const", b"module", b"exports", b"require",
                                  b"{", b"}", b"=>", b"import", b"from", b"this", b"value", b"0", b"1"])
                      for _ in range(200_000))

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as out:
            out.write(data)
        return digest

    layer_descriptors, diff_ids, layer_paths = [], [], []
    for layer in range(LAYERS):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, size in _members(rng, layer, ENTRIES // LAYERS, content_bytes // LAYERS):
                archive.addfile(info, io.BytesIO(_content(rng, size, words)) if size else None)
        plain = raw.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(plain).hexdigest())
        compressed = gzip.compress(plain, compresslevel=6, mtime=0)
        digest = blob(compressed)
        layer_paths.append(os.path.join(blobs, digest))
        layer_descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": f"sha256:{digest}", "size": len(compressed)})
    config = {"architecture": "amd64", "os": "linux", "config": {"User": "1002:1000"},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    config_bytes = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": "sha256:" + blob(config_bytes), "size": len(config_bytes)},
                "layers": layer_descriptors}
    manifest_bytes = json.dumps(manifest).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": "sha256:" + blob(manifest_bytes),
                                                "size": len(manifest_bytes)}]}
    with open(os.path.join(directory, "index.json"), "w") as out:
        json.dump(index, out)
    with open(os.path.join(directory, "oci-layout"), "w") as out:
        out.write('{"imageLayoutVersion":"1.0.0"}')
    with open(stamp, "w") as out:
        json.dump({"shape": shape, "layer_paths": layer_paths}, out)
    return directory, layer_paths


def expect_entries(minimum):
    def check(output):
        try:
            entries = json.loads(output)["image"]["entries"]
        except (ValueError, KeyError) as error:
            return f"no JSON report ({error})"
        return None if entries >= minimum else f"the audit read {entries} entries, expected at least {minimum}"
    return check


def expect_listing(minimum):
    def check(output):
        lines = output.count("\n")
        return None if lines >= minimum else f"tar listed {lines} entries, expected at least {minimum}"
    return check


def measure(context, audit, say):
    work = os.path.join(context.scratch, "audit")
    say("audit: making the images (the first time: about a minute)")
    image, layers = make_image(os.path.join(work, "image-200mb"), CONTENT_BYTES)
    empty, _ = make_image(os.path.join(work, "image-empty"), 0)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    commands = [
        run.Command("audit", "group-writable-audit --json", [audit, image, "--json"], work, env,
                    check=expect_entries(ENTRIES)),
        run.Command("tar", "tar -tzvf, each layer", ["sh", "-c", 'for layer; do tar -tzvf "$layer"; done', "sh"] + layers,
                    work, env, check=expect_listing(ENTRIES)),
    ]
    say(f"audit: {context.args.runs} runs of each, alternating")
    series = context.runner.alternate(commands, context.args.runs)
    series["audit"].peak_rss_kib = context.runner.peak_memory(commands[0])
    empty_command = run.Command("audit_empty", "group-writable-audit --json, no content", [audit, empty, "--json"],
                                work, env, check=expect_entries(ENTRIES))
    empty_rss = context.runner.peak_memory(empty_command)
    ratios = [a / t for a, t in zip(series["audit"].samples, series["tar"].samples)]
    blob_bytes = sum(os.path.getsize(layer) for layer in layers)
    plain_bytes = 0
    for layer in layers:
        with gzip.open(layer) as stream:
            while chunk := stream.read(1 << 20):
                plain_bytes += len(chunk)
    return {
        "blob_bytes": blob_bytes,
        "uncompressed_bytes": plain_bytes,
        "entries": ENTRIES,
        "layers": LAYERS,
        "commands": {key: value.summary() for key, value in series.items()},
        "paired_ratio_median": statistics.median(ratios),
        "paired_ratio_range": (min(ratios), max(ratios)),
        "peak_rss_kib": series["audit"].peak_rss_kib,
        "peak_rss_kib_empty": empty_rss,
    }


def render(result):
    commands = result["commands"]
    audit, tar = commands["audit"], commands["tar"]
    low, high = result["paired_ratio_range"]
    ratio = result["paired_ratio_median"]
    return [
        "### group-writable-audit",
        "",
        f"An OCI layout of {result['layers']} gzip layers, {result['blob_bytes'] / 1e6:.0f} MB of blobs "
        f"({result['uncompressed_bytes'] / 1e6:.0f} MB uncompressed), {result['entries']} entries; "
        f"{len(audit['samples_s'])} runs of each, alternating. The audit reads the manifest and config, "
        "verifies every blob's sha256, applies the layers and answers (`--json`); `tar -tzvf` only lists "
        "the layers (gzip in its own process).",
        "",
        "| command | median | min–max | CPU (median) | peak memory |",
        "|---|---|---|---|---|",
        f"| **group-writable-audit** | {audit['median_s'] * 1000:.0f} ms | {audit['min_s'] * 1000:.0f}–{audit['max_s'] * 1000:.0f} ms "
        f"| {audit['cpu_median_s'] * 1000:.0f} ms | {result['peak_rss_kib'] / 1024:.1f} MiB |",
        f"| `tar -tzvf` of each layer | {tar['median_s'] * 1000:.0f} ms | {tar['min_s'] * 1000:.0f}–{tar['max_s'] * 1000:.0f} ms "
        f"| {tar['cpu_median_s'] * 1000:.0f} ms | |",
        f"| group-writable-audit, the same entries without content | | | | {result['peak_rss_kib_empty'] / 1024:.1f} MiB |",
        "",
        "| target | figure | holds |",
        "|---|---|---|",
        f"| under {TARGETS['seconds']:.0f} s (median) | {audit['median_s']:.2f} s (max {audit['max_s']:.2f} s) | "
        f"{'yes' if audit['median_s'] < TARGETS['seconds'] else '**no**'} |",
        f"| at most {TARGETS['vs_tar']}× `tar -tzvf` (paired ratio, median) | {ratio:.2f} ({low:.2f}–{high:.2f}) | "
        f"{'yes' if ratio <= TARGETS['vs_tar'] else '**no**'} |",
        f"| memory follows the entries, not the size | {result['peak_rss_kib'] / 1024:.1f} MiB with content, "
        f"{result['peak_rss_kib_empty'] / 1024:.1f} MiB without | "
        f"{'yes' if result['peak_rss_kib'] <= 1.5 * result['peak_rss_kib_empty'] + 4096 else '**no**'} |",
    ]
