//! Hand-made images for the tests: layers built with the `tar` crate (any entry, even
//! ones the crate's safe API refuses), written as OCI image layouts or `docker save`
//! tarballs, and the audit binary run on them.

// Test helpers: a failure is a panic, as in the tests themselves.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::missing_panics_doc
)]

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One member of a hand-made layer.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: Vec<u8>,
    pub kind: tar::EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub link: Option<Vec<u8>>,
    pub data: Vec<u8>,
    /// PAX records written before the member.
    pub pax: Vec<(String, Vec<u8>)>,
}

impl Member {
    pub fn dir(name: &str, mode: u32, uid: u64, gid: u64) -> Member {
        Member {
            name: name.into(),
            kind: tar::EntryType::Directory,
            mode,
            uid,
            gid,
            link: None,
            data: Vec::new(),
            pax: Vec::new(),
        }
    }

    pub fn file(name: &str, mode: u32, uid: u64, gid: u64) -> Member {
        Member {
            kind: tar::EntryType::Regular,
            data: b"content\n".to_vec(),
            ..Member::dir(name, mode, uid, gid)
        }
    }

    pub fn with_data(mut self, data: &[u8]) -> Member {
        self.data = data.to_vec();
        self
    }

    pub fn symlink(name: &str, target: &str) -> Member {
        Member {
            kind: tar::EntryType::Symlink,
            link: Some(target.into()),
            ..Member::dir(name, 0o777, 0, 0)
        }
    }

    pub fn hard_link(name: &str, target: &str) -> Member {
        Member {
            kind: tar::EntryType::Link,
            link: Some(target.into()),
            ..Member::dir(name, 0o644, 0, 0)
        }
    }

    pub fn whiteout(name: &str) -> Member {
        Member::file(name, 0o644, 0, 0).with_data(b"")
    }

    pub fn raw(name: &[u8], kind: tar::EntryType) -> Member {
        Member {
            name: name.to_vec(),
            kind,
            ..Member::file("x", 0o644, 0, 0)
        }
    }
}

/// A layer's tar bytes. Names up to 100 bytes go in the header as given (even `..` or
/// absolute ones); longer ones get a GNU long-name member first, unless a PAX `path`
/// record is given.
pub fn tar_bytes(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        if !member.pax.is_empty() {
            builder
                .append_pax_extensions(
                    member
                        .pax
                        .iter()
                        .map(|(key, value)| (key.as_str(), value.as_slice())),
                )
                .unwrap();
        }
        let has_pax_path = member.pax.iter().any(|(key, _)| key == "path");
        if member.name.len() > 100 && !has_pax_path {
            let mut long = tar::Header::new_gnu();
            long.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
            long.set_mode(0o644);
            long.set_entry_type(tar::EntryType::GNULongName);
            let mut name = member.name.clone();
            name.push(0);
            long.set_size(name.len() as u64);
            long.set_cksum();
            builder.append(&long, name.as_slice()).unwrap();
        }
        let mut header = tar::Header::new_gnu();
        let short = &member.name[..member.name.len().min(100)];
        header.as_gnu_mut().unwrap().name[..short.len()].copy_from_slice(short);
        header.set_entry_type(member.kind);
        header.set_mode(member.mode);
        header.set_uid(member.uid);
        header.set_gid(member.gid);
        if let Some(link) = &member.link {
            header.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link);
        }
        header.set_size(member.data.len() as u64);
        header.set_cksum();
        builder.append(&header, member.data.as_slice()).unwrap();
    }
    builder.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// An OCI image layout being written.
pub struct Layout {
    pub dir: PathBuf,
    manifests: Vec<Value>,
}

/// An image's config: `User` and labels.
pub fn config(user: &str, labels: &[(&str, &str)]) -> Value {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(key, value)| ((*key).to_owned(), json!(value)))
        .collect();
    json!({"architecture": "amd64", "os": "linux",
           "config": {"User": user, "Labels": labels, "WorkingDir": "/workspace"},
           "rootfs": {"type": "layers", "diff_ids": []}})
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout {
            dir: dir.to_owned(),
            manifests: Vec::new(),
        }
    }

    /// Writes a blob; returns its descriptor.
    pub fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = digest(bytes);
        std::fs::write(self.dir.join("blobs/sha256").join(&digest[7..]), bytes).unwrap();
        json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    /// Writes an image of these layer blobs (already compressed or not); returns the
    /// manifest's descriptor (not yet in the index).
    pub fn image(&self, config: &Value, layers: &[Vec<u8>]) -> Value {
        let mut config = config.clone();
        // diff_ids: the digests of the uncompressed layers.
        let diff_ids: Vec<String> = layers
            .iter()
            .map(|layer| {
                if layer.starts_with(&[0x1f, 0x8b]) {
                    let mut plain = Vec::new();
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(layer.as_slice()),
                        &mut plain,
                    )
                    .ok();
                    digest(&plain)
                } else {
                    digest(layer)
                }
            })
            .collect();
        config["rootfs"]["diff_ids"] = json!(diff_ids);
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            &serde_json::to_vec(&config).unwrap(),
        );
        let layers: Vec<Value> = layers
            .iter()
            .map(|layer| {
                let media = if layer.starts_with(&[0x1f, 0x8b]) {
                    "application/vnd.oci.image.layer.v1.tar+gzip"
                } else {
                    "application/vnd.oci.image.layer.v1.tar"
                };
                self.blob(media, layer)
            })
            .collect();
        let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": layers});
        self.blob(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
        )
    }

    /// Adds a manifest (or index) descriptor to index.json, named `name` if given.
    pub fn add(&mut self, mut descriptor: Value, name: Option<&str>) -> &mut Self {
        if let Some(name) = name {
            descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": name});
        }
        self.manifests.push(descriptor);
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.manifests});
        std::fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
        self
    }

    /// A one-image layout of these layers.
    pub fn single(dir: &Path, config: &Value, layers: &[Vec<u8>]) -> Layout {
        let mut layout = Layout::new(dir);
        let manifest = layout.image(config, layers);
        layout.add(manifest, Some("latest"));
        layout
    }
}

/// Runs the audit binary.
pub fn audit(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_group-writable-audit"))
        .args(arguments)
        .output()
        .unwrap()
}

/// Runs the audit with `--json` and returns the report; panics unless it exits 0.
pub fn report(image: &Path, arguments: &[&str]) -> Value {
    let mut all = vec![image.to_str().unwrap(), "--json"];
    all.extend_from_slice(arguments);
    let output = audit(&all);
    assert!(
        output.status.success(),
        "the audit failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The paths of the report's subtrees.
pub fn tops(report: &Value) -> Vec<String> {
    report["writable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|top| top["path"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs the audit and expects bad input: exit 2 and a message with every `needle`.
pub fn expect_bad_input(image: &Path, needles: &[&str]) {
    let output = audit(&[image.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if std::env::var_os("AUDIT_SHOW_ERRORS").is_some() {
        eprintln!("{stderr}");
    }
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected exit 2 for bad input, got {}:\n{stderr}",
        output.status
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "the message does not say `{needle}`:\n{stderr}"
        );
    }
}
