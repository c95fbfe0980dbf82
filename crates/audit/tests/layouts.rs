//! The audit on hand-made images: whiteouts and opaque directories, compression, long
//! names, users, labels, `--ref`, `docker save` tarballs, `--deny`, and every kind of bad
//! input, each refused with exit 2 and a message naming the layer and the entry.

// Test code: a failure is a panic, helpers included.
#![allow(unused_crate_dependencies, clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Layout, Member, config, digest, expect_bad_input, gzip, report, tar_bytes, tops};
use tempfile::TempDir;

const BUILD: u64 = 1001;
const SHARED: u64 = 1000;

/// A small base: the user database, a sticky /tmp, the app and layers roots.
fn base() -> Vec<Member> {
    vec![
        Member::dir("etc", 0o755, 0, 0),
        Member::file("etc/passwd", 0o644, 0, 0)
            .with_data(b"root:x:0:0::/root:/bin/sh\ncnb:x:1002:1000::/home/cnb:/bin/sh\n"),
        Member::file("etc/group", 0o644, 0, 0)
            .with_data(b"root:x:0:\ncnb:x:1000:\nextra:x:77:cnb\n"),
        Member::dir("tmp", 0o1777, 0, 0),
        Member::dir("workspace", 0o755, BUILD, SHARED),
        Member::dir("layers", 0o755, 0, 0),
    ]
}

fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("audit-test")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

#[test]
fn whiteouts_and_opaque_directories_are_applied_across_layers() {
    let dir = scratch();
    let layout = Layout::single(
        dir.path(),
        &config("cnb", &[]),
        &[
            gzip(&tar_bytes(&base())),
            tar_bytes(&[
                Member::dir("/workspace/gone", 0o777, BUILD, SHARED),
                Member::file("/workspace/gone/f", 0o666, BUILD, SHARED),
                Member::dir("/workspace/opaque", 0o775, BUILD, SHARED),
                Member::file("/workspace/opaque/lower", 0o666, BUILD, SHARED),
                Member::file("/workspace/kept", 0o664, BUILD, SHARED),
            ]),
            gzip(&tar_bytes(&[
                Member::whiteout("workspace/.wh.gone"),
                Member::dir("workspace/opaque", 0o775, BUILD, SHARED),
                Member::whiteout("workspace/opaque/.wh..wh..opq"),
                Member::file("workspace/opaque/upper", 0o644, BUILD, SHARED),
            ])),
        ],
    );
    let report = report(&layout.dir, &[]);
    assert_eq!(
        tops(&report),
        ["/tmp", "/workspace/kept", "/workspace/opaque"]
    );
    let opaque = &report["writable"][2];
    assert_eq!(
        (opaque["directories"].as_u64(), opaque["files"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        report["user"],
        json!({"uid": 1002, "gid": 1000, "groups": [77, 1000], "name": "cnb", "source": "config", "configured": "cnb", "root": false})
    );
    assert_eq!(report["image"]["layers"], 3);
}

#[test]
fn long_names_through_gnu_and_pax_headers_and_pax_ids() {
    let long = format!("workspace/{}/file", "d".repeat(150));
    let pax_long = format!("workspace/{}/pax", "p".repeat(200));
    let mut pax_member = Member::file("placeholder", 0o664, 0, 0);
    pax_member.pax = vec![
        ("path".into(), pax_long.clone().into_bytes()),
        ("uid".into(), b"1000650000".to_vec()),
        ("gid".into(), b"0".to_vec()),
    ];
    let dir = scratch();
    let layout = Layout::single(
        dir.path(),
        &config("1002:1000", &[]),
        &[
            tar_bytes(&base()),
            tar_bytes(&[
                Member::dir(long.rsplit_once('/').unwrap().0, 0o755, BUILD, SHARED),
                Member::file(&long, 0o664, BUILD, SHARED),
                pax_member,
            ]),
        ],
    );
    let report = report(&layout.dir, &[]);
    assert_eq!(tops(&report), ["/tmp".to_owned(), format!("/{long}")]);
    // The PAX uid makes the random-looking uid the owner; as that uid, through the owner
    // class (664: writable).
    let as_owner = support::report(&layout.dir, &["--user", "1000650000:5"]);
    assert!(
        tops(&as_owner).contains(&format!("/{pax_long}")),
        "{as_owner:#}"
    );
}

#[test]
fn the_user_from_the_command_line_and_random_uid_in_group_zero() {
    let dir = scratch();
    let layout = Layout::single(
        dir.path(),
        &config("", &[]),
        &[
            tar_bytes(&base()),
            tar_bytes(&[
                Member::file("workspace/group-zero", 0o664, BUILD, 0),
                Member::file("workspace/shared", 0o664, BUILD, SHARED),
                Member::file("workspace/owned-by-random", 0o444, 1_000_650_000, 0),
            ]),
        ],
    );
    // The config's empty User is root: every path.
    let root = report(&layout.dir, &[]);
    assert_eq!(root["user"]["root"], true);
    // Collapsed per group: the root stands for every system path.
    assert_eq!(tops(&root), ["/", "/layers", "/workspace"]);
    let random = report(&layout.dir, &["--user", "random:0"]);
    assert_eq!(
        random["user"]["uid"], 1_000_650_001,
        "random owns nothing in the image"
    );
    assert_eq!(tops(&random), ["/tmp", "/workspace/group-zero"]);
    let shared = report(&layout.dir, &["--user", "1002:1002", "--groups", "1000"]);
    assert_eq!(tops(&shared), ["/tmp", "/workspace/shared"]);
    let owner = report(&layout.dir, &["--user", "1000650000:0"]);
    let owned_file = &owner["writable"]
        .as_array()
        .unwrap()
        .iter()
        .find(|top| top["path"] == "/workspace/owned-by-random")
        .unwrap()["through"];
    assert_eq!(owned_file, "ownership");
}

const LABEL: &str = r#"{"version":1,"build_user":{"uid":1001,"gid":1000},"tmp_base":"/tmp",
  "patterns":[{"pattern":"log/","source":".group-writable:1","root":"app","negated":false,"directories":1,"files":1,"changed":2}],
  "redirects":[{"kind":"env","id":"tmpdir","variable":"TMPDIR","value":"/tmp","when":"unset"}]}"#;

fn labelled_image(dir: &std::path::Path) -> Layout {
    Layout::single(
        dir,
        &config(
            "cnb",
            &[("io.github.cnb-utils.group-writable.policy", LABEL)],
        ),
        &[
            tar_bytes(&base()),
            tar_bytes(&[
                Member::dir("workspace/log", 0o2775, BUILD, SHARED),
                Member::file("workspace/log/a.log", 0o664, BUILD, SHARED),
                Member::file("workspace/stray", 0o666, BUILD, SHARED),
                Member::dir("layers/bp", 0o755, BUILD, SHARED),
                Member::dir("layers/bp/helper", 0o755, BUILD, SHARED),
                Member::dir("layers/bp/helper/exec.d", 0o775, BUILD, SHARED),
            ]),
        ],
    )
}

#[test]
fn the_label_explains_paths_and_deny_acts_on_findings() {
    let dir = scratch();
    let layout = labelled_image(dir.path());
    let report = report(&layout.dir, &[]);
    assert_eq!(report["policy"]["read_only_root"], true);
    let explained: Vec<(String, Value)> = report["writable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|top| {
            (
                top["path"].as_str().unwrap().to_owned(),
                top["explained"].clone(),
            )
        })
        .collect();
    assert_eq!(
        explained,
        [
            ("/layers/bp/helper/exec.d".to_owned(), Value::Null),
            ("/tmp".to_owned(), json!({"by": "redirect", "id": "tmpdir"})),
            (
                "/workspace/log".to_owned(),
                json!({"by": "pattern", "pattern": "log/", "source": ".group-writable:1"})
            ),
            ("/workspace/stray".to_owned(), Value::Null),
        ]
    );
    assert_eq!(report["summary"]["world_writable"], 1);
    assert_eq!(
        report["world_writable"],
        json!([{"path": "/tmp", "sticky": true}, {"path": "/workspace/stray", "sticky": false}])
    );
    assert_eq!(
        report["writable_code"][0]["path"],
        "/layers/bp/helper/exec.d"
    );
    let image = layout.dir.to_str().unwrap();
    for (deny, code) in [
        ("unexplained", 1),
        ("world-writable", 1),
        ("writable-code", 1),
        ("unexplained,writable-code", 1),
    ] {
        let output = support::audit(&[image, "--deny", deny]);
        assert_eq!(output.status.code(), Some(code), "--deny {deny}");
    }
    // The default text report exits 0 and names the findings.
    let output = support::audit(&[image]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for needle in [
        "meant for a read-only root",
        "UNEXPLAINED",
        "pattern log/ (.group-writable:1)",
        "WORLD-WRITABLE",
        "writable code:",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    // A user of another group writes only the world-writable paths: no code.
    let other = support::report(&layout.dir, &["--user", "1003:1003"]);
    assert_eq!(tops(&other), ["/tmp", "/workspace/stray"]);
    let output = support::audit(&[image, "--user", "1003:1003", "--deny", "writable-code"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn ref_chooses_among_several_images_and_nested_indexes_are_followed() {
    let dir = scratch();
    let mut layout = Layout::new(dir.path());
    let first = layout.image(&config("cnb", &[]), &[tar_bytes(&base())]);
    let second = layout.image(
        &config("cnb", &[]),
        &[
            tar_bytes(&base()),
            tar_bytes(&[Member::file("workspace/second", 0o666, BUILD, SHARED)]),
        ],
    );
    // The second image is behind an index of its own, as multi-platform layouts have it.
    let nested = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [second]});
    let nested = layout.blob(
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&nested).unwrap(),
    );
    layout.add(first, Some("first")).add(nested, Some("second"));
    expect_bad_input(&layout.dir, &["holds 2 images", "--ref", "first", "second"]);
    assert_eq!(tops(&report(&layout.dir, &["--ref", "first"])), ["/tmp"]);
    assert_eq!(
        tops(&report(&layout.dir, &["--ref", "second"])),
        ["/tmp", "/workspace/second"]
    );
    let output = support::audit(&[layout.dir.to_str().unwrap(), "--ref", "third"]);
    assert_eq!(output.status.code(), Some(2));
}

/// A `docker save` tarball of these layers, in the older (`<id>/layer.tar`) or newer
/// (`blobs/sha256/<hex>`) shape.
fn docker_save(path: &std::path::Path, layers: &[Vec<u8>], blobs_shape: bool) {
    let diff_ids: Vec<String> = layers.iter().map(|layer| digest(layer)).collect();
    let mut image_config = config("cnb", &[]);
    image_config["rootfs"]["diff_ids"] = json!(diff_ids);
    let config_bytes = serde_json::to_vec(&image_config).unwrap();
    let config_hex = digest(&config_bytes)[7..].to_owned();
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, bytes).unwrap();
    };
    let config_name = if blobs_shape {
        format!("blobs/sha256/{config_hex}")
    } else {
        format!("{config_hex}.json")
    };
    add(&config_name, &config_bytes);
    let mut names = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        let name = if blobs_shape {
            format!("blobs/sha256/{}", &diff_ids[index][7..])
        } else {
            format!("{index}abc/layer.tar")
        };
        add(&name, layer);
        names.push(name);
    }
    let manifest = json!([{"Config": config_name, "RepoTags": ["app:latest"], "Layers": names}]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    std::fs::write(path, builder.into_inner().unwrap()).unwrap();
}

#[test]
fn docker_save_tarballs_of_both_shapes() {
    let dir = scratch();
    for blobs_shape in [false, true] {
        let path = dir.path().join(format!("saved-{blobs_shape}.tar"));
        docker_save(
            &path,
            &[
                tar_bytes(&base()),
                tar_bytes(&[Member::file("workspace/w", 0o664, BUILD, SHARED)]),
            ],
            blobs_shape,
        );
        let report = report(&path, &[]);
        assert_eq!(tops(&report), ["/tmp", "/workspace/w"]);
        assert!(
            report["image"]["source"]
                .as_str()
                .unwrap()
                .starts_with("docker-archive:")
        );
        assert_eq!(
            tops(&support::report(&path, &["--ref", "app:latest"])),
            ["/tmp", "/workspace/w"]
        );
    }
    // A layer that is not what the config's diff_ids say.
    let path = dir.path().join("tampered.tar");
    docker_save(&path, &[tar_bytes(&base())], false);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(10)
        .position(|window| window == b"cnb:x:1002")
        .unwrap();
    bytes[at] = b'C';
    std::fs::write(&path, bytes).unwrap();
    expect_bad_input(&path, &["layer 1 of 1", "does not match its digest"]);
}

/// A layout whose second layer is `layer`, named in messages as layer 2 of 2.
fn with_layer(dir: &std::path::Path, layer: Vec<u8>) -> Layout {
    Layout::single(dir, &config("cnb", &[]), &[tar_bytes(&base()), layer])
}

#[test]
fn bad_input_damaged_gzip() {
    let dir = scratch();
    let mut layer = gzip(&tar_bytes(&[Member::file(
        "workspace/a",
        0o644,
        BUILD,
        SHARED,
    )
    .with_data(&[7; 5000])]));
    let middle = layer.len() / 2;
    layer[middle] ^= 0xff;
    layer[middle + 1] ^= 0xff;
    let layout = with_layer(dir.path(), layer.clone());
    // The digest in the manifest is that of the damaged bytes: the damage itself is found.
    expect_bad_input(&layout.dir, &["layer 2 of 2", &digest(&layer)]);
    // A gzip stream cut short.
    let dir = scratch();
    let layer = gzip(&tar_bytes(&[Member::file(
        "workspace/a",
        0o644,
        BUILD,
        SHARED,
    )
    .with_data(&[7; 5000])]));
    let layout = with_layer(dir.path(), layer[..layer.len() - 12].to_vec());
    expect_bad_input(&layout.dir, &["layer 2 of 2", "gzip"]);
}

#[test]
fn bad_input_truncated_tar() {
    let dir = scratch();
    let layer = tar_bytes(&[
        Member::file("workspace/first", 0o644, BUILD, SHARED),
        Member::file("workspace/big", 0o644, BUILD, SHARED).with_data(&[1; 4000]),
    ]);
    // Cut in the middle of the second member's data.
    let layout = with_layer(dir.path(), layer[..2048].to_vec());
    expect_bad_input(&layout.dir, &["layer 2 of 2", "workspace/big"]);
    // Cut in the middle of the second member's header.
    let dir = scratch();
    let layout = with_layer(dir.path(), layer[..1024 + 100].to_vec());
    expect_bad_input(
        &layout.dir,
        &["layer 2 of 2", "cut short after entry `workspace/first`"],
    );
}

#[test]
fn bad_input_parent_components_and_devices_and_unknown_types() {
    for (member, needles) in [
        (
            Member::raw(b"workspace/../../etc/shadow", tar::EntryType::Regular),
            vec!["entry `workspace/../../etc/shadow`", "`..`"],
        ),
        (
            Member::hard_link("workspace/l", "../etc/passwd"),
            vec!["entry `workspace/l`", "hard link whose target", "`..`"],
        ),
        (
            Member::raw(b"srv/sda", tar::EntryType::Block),
            vec!["entry `srv/sda`", "device file outside /dev"],
        ),
        (
            Member::raw(b"./srv/null", tar::EntryType::Char),
            vec!["entry `./srv/null`", "device file outside /dev"],
        ),
        (
            Member::raw(b"workspace/\xff", tar::EntryType::Regular),
            vec!["not UTF-8"],
        ),
        (
            Member::raw(b"workspace/odd", tar::EntryType::new(b'Q')),
            vec!["entry `workspace/odd`", "which no image layer uses"],
        ),
    ] {
        let dir = scratch();
        let layer = tar_bytes(&[member]);
        let layout = with_layer(dir.path(), layer.clone());
        let mut all = vec!["layer 2 of 2"];
        let digest = digest(&layer);
        all.push(&digest);
        all.extend(needles);
        expect_bad_input(&layout.dir, &all);
    }
}

#[test]
fn device_files_under_dev_are_left_out_with_a_note() {
    // What `docker import` of a debootstrap root carries: /dev/null and friends, hidden at
    // run time by the runtime's own /dev.
    let dir = scratch();
    let mut null = Member::raw(b"./dev/null", tar::EntryType::Char);
    null.mode = 0o666;
    let layout = with_layer(
        dir.path(),
        tar_bytes(&[Member::dir("./dev", 0o755, 0, 0), null]),
    );
    let report = report(&layout.dir, &[]);
    assert_eq!(tops(&report), ["/tmp"]);
    assert_eq!(
        report["image"]["notes"][0],
        "layer 2 of 2 has 1 device files under /dev, left out: the runtime mounts its own /dev over them"
    );
}

#[test]
fn absolute_names_mean_the_root_as_the_lifecycle_writes_them() {
    let dir = scratch();
    let layout = with_layer(
        dir.path(),
        tar_bytes(&[
            Member::file("/workspace/abs", 0o666, BUILD, SHARED),
            Member::file("./workspace/dot", 0o666, BUILD, SHARED),
        ]),
    );
    assert_eq!(
        tops(&report(&layout.dir, &[])),
        ["/tmp", "/workspace/abs", "/workspace/dot"]
    );
}

#[test]
fn hard_links_within_and_across_layers() {
    let dir = scratch();
    let layout = Layout::single(
        dir.path(),
        &config("cnb", &[]),
        &[
            tar_bytes(&base()),
            tar_bytes(&[Member::file("workspace/original", 0o664, BUILD, SHARED)]),
            // The link's own header says 0644 root: the inode is the target's, 664 1001:1000.
            tar_bytes(&[Member::hard_link("workspace/linked", "/workspace/original")]),
        ],
    );
    assert_eq!(
        tops(&report(&layout.dir, &[])),
        ["/tmp", "/workspace/linked", "/workspace/original"]
    );
    let dir = scratch();
    let layout = with_layer(
        dir.path(),
        tar_bytes(&[Member::hard_link("workspace/dangling", "workspace/nowhere")]),
    );
    expect_bad_input(
        &layout.dir,
        &[
            "layer 2 of 2",
            "entry `workspace/dangling`",
            "hard link to /workspace/nowhere",
        ],
    );
}

#[test]
fn bad_input_zstd_layer() {
    let dir = scratch();
    let layer = [&[0x28, 0xb5, 0x2f, 0xfd][..], &[0; 60]].concat();
    let layout = with_layer(dir.path(), layer.clone());
    expect_bad_input(&layout.dir, &["layer 2 of 2", &digest(&layer), "zstd"]);
}

#[test]
fn bad_input_missing_blob_and_digest_mismatch() {
    let dir = scratch();
    let layer = tar_bytes(&[Member::file("workspace/a", 0o644, BUILD, SHARED)]);
    let layout = with_layer(dir.path(), layer.clone());
    let path = layout.dir.join("blobs/sha256").join(&digest(&layer)[7..]);
    std::fs::remove_file(&path).unwrap();
    expect_bad_input(
        &layout.dir,
        &["layer 2 of 2", &digest(&layer), "is missing"],
    );
    let mut changed = layer.clone();
    let at = changed
        .windows(7)
        .position(|window| window == b"content")
        .unwrap();
    changed[at] = b'C';
    std::fs::write(&path, changed).unwrap();
    expect_bad_input(
        &layout.dir,
        &["layer 2 of 2", &digest(&layer), "does not match its digest"],
    );
    // Not a layout at all, and a damaged index.
    let dir = scratch();
    expect_bad_input(dir.path(), &["no index.json"]);
    std::fs::write(dir.path().join("index.json"), "{").unwrap();
    expect_bad_input(dir.path(), &["index.json", "not valid JSON"]);
    expect_bad_input(
        &dir.path().join("nothing"),
        &["neither an OCI image layout"],
    );
}
