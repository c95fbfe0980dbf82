//! Finding an image's config and layers in an OCI image layout directory (what the CNB
//! lifecycle's layout export and `skopeo copy oci:` write) or a `docker save` tarball,
//! and reading its blobs with their sha256 verified. Nothing is extracted: the tarball's
//! members are read in place.

use crate::Error;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The parts of an image config the audit reads.
#[derive(Debug, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub config: RuntimeConfig,
    #[serde(default)]
    pub rootfs: RootFs,
}

#[derive(Debug, Default, Deserialize)]
pub struct RuntimeConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Debug, Deserialize)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
}

/// An image index or a manifest: which one is told by its fields, since `mediaType` is
/// optional in both.
#[derive(Debug, Deserialize)]
struct IndexOrManifest {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// Where a blob is and what its content must hash to.
#[derive(Clone, Debug)]
pub struct Blob {
    /// `sha256:<hex>`, what the content must hash to.
    pub digest: String,
    pub size: Option<u64>,
    location: Location,
}

#[derive(Clone, Debug)]
enum Location {
    File(PathBuf),
    /// A member of the tarball: its data's offset and length.
    Member {
        offset: u64,
        length: u64,
        name: String,
    },
}

/// An image found in the input: its config and its layers, bottom first.
pub struct Image {
    /// What was read, for the report (`oci-layout:<dir>` or `docker-archive:<file>`).
    pub source: String,
    pub config_digest: String,
    pub config: ImageConfig,
    pub layers: Vec<Blob>,
    archive: Option<PathBuf>,
}

const REF_ANNOTATIONS: &[&str] = &[
    "org.opencontainers.image.ref.name",
    "io.containerd.image.name",
];

/// Finds the image in `input` (a layout directory or a `docker save` tarball).
pub fn open(input: &Path, reference: Option<&str>) -> Result<Image, Error> {
    if input.is_dir() {
        open_layout(input, reference)
    } else if input.is_file() {
        open_archive(input, reference)
    } else {
        Err(Error::input(format!(
            "{} is neither an OCI image layout directory nor a `docker save` tarball (it does not exist, or is neither a directory nor a file)",
            input.display()
        )))
    }
}

fn open_layout(dir: &Path, reference: Option<&str>) -> Result<Image, Error> {
    let index_path = dir.join("index.json");
    if !index_path.is_file() {
        return Err(Error::input(format!(
            "{} is not an OCI image layout: it has no index.json (a layout written by the lifecycle's export or `skopeo copy oci:` has one)",
            dir.display()
        )));
    }
    let index_bytes = std::fs::read(&index_path)
        .map_err(|error| Error::input(format!("cannot read {}: {error}", index_path.display())))?;
    let blob = |descriptor: &Descriptor, what: &str| -> Result<Blob, Error> {
        Ok(Blob {
            digest: descriptor.digest.clone(),
            size: descriptor.size,
            location: Location::File(layout_blob_path(dir, &descriptor.digest, what)?),
        })
    };
    let mut document: IndexOrManifest =
        parse_json(&index_bytes, &index_path.display().to_string())?;
    let mut top = true;
    let manifest = loop {
        let Some(manifests) = document.manifests.take() else {
            if top {
                return Err(Error::input(format!(
                    "{} has no `manifests`",
                    index_path.display()
                )));
            }
            break document;
        };
        let chosen = choose(&manifests, if top { reference } else { None }, &index_path)?;
        top = false;
        let blob = blob(chosen, "the manifest")?;
        let bytes = read_verified(&blob, None, &format!("manifest {}", chosen.digest))?;
        document = parse_json(&bytes, &format!("manifest {}", chosen.digest))?;
        if !chosen.media_type.is_empty()
            && !chosen.media_type.contains("manifest")
            && !chosen.media_type.contains("index")
        {
            return Err(Error::input(format!(
                "{} points at {} of media type {}, which is not an image manifest nor an index",
                index_path.display(),
                chosen.digest,
                chosen.media_type
            )));
        }
    };
    let (Some(config), Some(layers)) = (manifest.config, manifest.layers) else {
        return Err(Error::input(format!(
            "the image manifest in {} has no `config` or no `layers`",
            dir.display()
        )));
    };
    let config_blob = blob(&config, "the config")?;
    let config_bytes = read_verified(&config_blob, None, &format!("config {}", config.digest))?;
    let layers = layers
        .iter()
        .enumerate()
        .map(|(index, layer)| blob(layer, &format!("layer {} of {}", index + 1, layers.len())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Image {
        source: format!("oci-layout:{}", dir.display()),
        config: parse_json(&config_bytes, &format!("config {}", config.digest))?,
        config_digest: config.digest,
        layers,
        archive: None,
    })
}

/// The manifest to read from an index: the one `reference` names, else the only one, else
/// the one for this machine's platform.
fn choose<'d>(
    manifests: &'d [Descriptor],
    reference: Option<&str>,
    index: &Path,
) -> Result<&'d Descriptor, Error> {
    let names = |descriptor: &Descriptor| -> Vec<String> {
        REF_ANNOTATIONS
            .iter()
            .filter_map(|key| descriptor.annotations.get(*key).cloned())
            .collect()
    };
    let listing = || {
        manifests
            .iter()
            .map(|descriptor| {
                let names = names(descriptor);
                format!(
                    "  {} {}",
                    descriptor.digest,
                    if names.is_empty() {
                        "(no name)".to_owned()
                    } else {
                        names.join(", ")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    if let Some(reference) = reference {
        return manifests
            .iter()
            .find(|descriptor| {
                descriptor.digest == reference
                    || names(descriptor).iter().any(|name| {
                        name == reference
                            || name
                                .rsplit_once(':')
                                .is_some_and(|(_, tag)| tag == reference)
                    })
            })
            .ok_or_else(|| {
                Error::input(format!(
                    "{} has no image named `{reference}`; it has:\n{}",
                    index.display(),
                    listing()
                ))
            });
    }
    match manifests {
        [] => Err(Error::input(format!("{} lists no image", index.display()))),
        [only] => Ok(only),
        several => {
            let arch = match std::env::consts::ARCH {
                "x86_64" => "amd64",
                "aarch64" => "arm64",
                other => other,
            };
            let for_platform: Vec<&Descriptor> = several
                .iter()
                .filter(|descriptor| {
                    descriptor.platform.as_ref().is_some_and(|platform| {
                        platform.os == "linux" && platform.architecture == arch
                    })
                })
                .collect();
            match for_platform.as_slice() {
                [only]
                    if reference.is_none()
                        && several
                            .iter()
                            .all(|descriptor| names(descriptor).is_empty()) =>
                {
                    Ok(only)
                }
                _ => Err(Error::input(format!(
                    "{} holds {} images; choose one with --ref NAME (a name or a digest):\n{}",
                    index.display(),
                    several.len(),
                    listing()
                ))),
            }
        }
    }
}

/// `<dir>/blobs/sha256/<hex>`, for a well-formed sha256 digest only (the digest must not
/// be able to name another file).
fn layout_blob_path(dir: &Path, digest: &str, what: &str) -> Result<PathBuf, Error> {
    let hex = sha256_hex(digest).ok_or_else(|| {
        Error::input(format!(
            "{what} has the digest `{digest}`; only sha256 digests (sha256: and 64 hex digits) are supported"
        ))
    })?;
    let path = dir.join("blobs/sha256").join(hex);
    if !path.is_file() {
        return Err(Error::input(format!(
            "{what} ({digest}) is missing: {} does not exist (an incomplete copy of the layout?)",
            path.display()
        )));
    }
    Ok(path)
}

fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f')))
    .then_some(hex)
}

fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|error| {
        Error::input(format!(
            "{what} is not valid JSON of the expected shape: {error}"
        ))
    })
}

/// A reader that hashes what passes through it.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..count]);
        self.bytes += count as u64;
        Ok(count)
    }
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Reads what is left, then checks the digest (and the size, when known).
    pub fn finish(mut self, digest: &str, size: Option<u64>, what: &str) -> Result<(), Error> {
        io::copy(&mut self, &mut io::sink())
            .map_err(|error| Error::input(format!("{what}: cannot be read to its end: {error}")))?;
        let actual = format!("sha256:{:x}", self.hasher.finalize());
        if actual != digest {
            return Err(Error::input(format!(
                "{what}: its content does not match its digest (it hashes to {actual}, {} bytes): the blob is damaged or was replaced",
                self.bytes
            )));
        }
        if let Some(size) = size.filter(|size| *size != self.bytes) {
            return Err(Error::input(format!(
                "{what}: it is {} bytes, its descriptor says {size}",
                self.bytes
            )));
        }
        Ok(())
    }
}

impl Image {
    /// The blob's content as a stream; pass it to [`Hashing::finish`] when read.
    pub fn open_blob(&self, blob: &Blob) -> Result<Hashing<Box<dyn Read>>, Error> {
        Ok(Hashing::new(open_location(
            &blob.location,
            self.archive.as_deref(),
        )?))
    }
}

/// A blob's content: its file, or its member of the tarball `archive`.
fn open_location(location: &Location, archive: Option<&Path>) -> Result<Box<dyn Read>, Error> {
    let open = |path: &Path| {
        File::open(path)
            .map_err(|error| Error::input(format!("cannot open {}: {error}", path.display())))
    };
    Ok(match location {
        Location::File(path) => Box::new(open(path)?),
        Location::Member {
            offset,
            length,
            name,
        } => {
            let archive = archive.unwrap_or(Path::new(""));
            let mut file = open(archive)?;
            file.seek(SeekFrom::Start(*offset)).map_err(|error| {
                Error::input(format!(
                    "cannot read member {name} of {}: {error}",
                    archive.display()
                ))
            })?;
            Box::new(file.take(*length))
        }
    })
}

/// Reads a whole (small) blob and checks its digest.
fn read_verified(blob: &Blob, archive: Option<&Path>, what: &str) -> Result<Vec<u8>, Error> {
    let mut reader = Hashing::new(open_location(&blob.location, archive)?);
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|error| Error::input(format!("{what}: cannot be read: {error}")))?;
    reader.finish(&blob.digest, blob.size, what)?;
    Ok(bytes)
}

#[derive(Debug, Deserialize)]
struct ArchiveManifest {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// A `docker save` tarball: `manifest.json` names the config and the layers as members
/// (`<id>/layer.tar` and `<hex>.json` from older Docker, `blobs/sha256/<hex>` from newer).
/// A member named by its digest is checked against it; an older `layer.tar` against the
/// config's `rootfs.diff_ids` (the digest of the uncompressed layer, which it is).
fn open_archive(path: &Path, reference: Option<&str>) -> Result<Image, Error> {
    let describe = || path.display().to_string();
    let members = archive_members(path)?;
    let member = |name: &str, digest: String, what: &str| -> Result<Blob, Error> {
        let normalized = crate::layer::normalize(name.as_bytes()).map_err(|problem| {
            Error::input(format!(
                "{}: manifest.json names a member that {problem}",
                describe()
            ))
        })?;
        let (offset, length) = members.get(&normalized).copied().ok_or_else(|| {
            Error::input(format!("{what} ({name}) is missing from {}", describe()))
        })?;
        Ok(Blob {
            digest,
            size: Some(length),
            location: Location::Member {
                offset,
                length,
                name: normalized,
            },
        })
    };
    let manifest_blob = {
        let (offset, length) = members.get("manifest.json").copied().ok_or_else(|| {
            Error::input(format!(
                "{} is a tar archive but not a `docker save` tarball (no manifest.json)",
                describe()
            ))
        })?;
        let mut bytes = Vec::new();
        let location = Location::Member {
            offset,
            length,
            name: "manifest.json".to_owned(),
        };
        open_location(&location, Some(path))?
            .read_to_end(&mut bytes)
            .map_err(|error| {
                Error::input(format!(
                    "cannot read manifest.json of {}: {error}",
                    describe()
                ))
            })?;
        bytes
    };
    let manifests: Vec<ArchiveManifest> =
        parse_json(&manifest_blob, &format!("manifest.json of {}", describe()))?;
    let chosen = choose_tagged(&manifests, reference, path)?;
    let digest_of_name = |name: &str| -> Option<String> {
        let file = name.rsplit('/').next()?;
        let hex = file.strip_suffix(".json").unwrap_or(file);
        let digest = format!("sha256:{hex}");
        sha256_hex(&digest).is_some().then_some(digest)
    };
    let config_digest = digest_of_name(&chosen.config).ok_or_else(|| {
        Error::input(format!(
            "{}: the config member {} is not named by its digest",
            describe(),
            chosen.config
        ))
    })?;
    let config_blob = member(&chosen.config, config_digest.clone(), "the config")?;
    let config_bytes = read_verified(&config_blob, Some(path), &format!("config {config_digest}"))?;
    let config: ImageConfig = parse_json(&config_bytes, &format!("config {config_digest}"))?;
    let layers = chosen
        .layers
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let what = format!("layer {} of {}", index + 1, chosen.layers.len());
            let digest = if name.starts_with("blobs/") {
                digest_of_name(name)
            } else {
                config.rootfs.diff_ids.get(index).cloned()
            }
            .ok_or_else(|| Error::input(format!("{}: {what} ({name}) has no digest to check it against (no diff_id in the config)", describe())))?;
            member(name, digest, &what)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Image {
        source: format!("docker-archive:{}", describe()),
        config_digest,
        config,
        layers,
        archive: Some(path.to_owned()),
    })
}

/// Where each regular file member of a tarball has its data: offset and length.
fn archive_members(path: &Path) -> Result<HashMap<String, (u64, u64)>, Error> {
    let describe = || path.display().to_string();
    let file = File::open(path)
        .map_err(|error| Error::input(format!("cannot open {}: {error}", describe())))?;
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    let entries = archive.entries_with_seek().map_err(|error| {
        Error::input(format!(
            "{} is not a tar archive (nor a directory): {error}",
            describe()
        ))
    })?;
    for entry in entries {
        let entry = entry.map_err(|error| {
            Error::input(format!(
                "{} is not a tar archive, or is damaged or cut short: {error}",
                describe()
            ))
        })?;
        let name = crate::layer::normalize(&entry.path_bytes())
            .map_err(|problem| Error::input(format!("{}: a member name {problem}", describe())))?;
        if entry.header().entry_type().is_file() {
            members.insert(name, (entry.raw_file_position(), entry.size()));
        }
    }
    Ok(members)
}

/// The image of a tarball's manifest.json that `reference` (a tag) names, or the only one.
fn choose_tagged<'m>(
    manifests: &'m [ArchiveManifest],
    reference: Option<&str>,
    path: &Path,
) -> Result<&'m ArchiveManifest, Error> {
    let describe = || path.display().to_string();
    let chosen = match (reference, manifests) {
        (None, [only]) => only,
        (Some(reference), _) => manifests
            .iter()
            .find(|manifest| {
                manifest
                    .repo_tags
                    .iter()
                    .flatten()
                    .any(|tag| tag == reference)
            })
            .ok_or_else(|| {
                Error::input(format!(
                    "{} has no image tagged `{reference}`; it has: {}",
                    describe(),
                    tags(manifests)
                ))
            })?,
        (None, []) => return Err(Error::input(format!("{} holds no image", describe()))),
        (None, _) => {
            return Err(Error::input(format!(
                "{} holds {} images; choose one with --ref TAG: {}",
                describe(),
                manifests.len(),
                tags(manifests)
            )));
        }
    };
    Ok(chosen)
}

fn tags(manifests: &[ArchiveManifest]) -> String {
    manifests
        .iter()
        .map(|manifest| {
            manifest
                .repo_tags
                .as_ref()
                .map_or_else(|| "(untagged)".to_owned(), |tags| tags.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}
