//! One layer's archive, read as a stream (gzip or plain tar, told apart by their first
//! bytes) into [`Entry`] metadata, without extracting anything.
//!
//! PAX headers and GNU long names are valid input (the `tar` crate reads both, and the
//! PAX `uid`/`gid` records are applied here). Device files under `/dev` are counted and
//! left out: every container runtime mounts its own `/dev` over the image's (images made
//! from a debootstrap root with `docker import` carry `/dev/null` and the like). Refused,
//! with the entry named: device files anywhere else, names with a `..` component, names
//! that are not UTF-8, and entry types no image has. A leading `/` is accepted and means the root, as Docker and containerd
//! read it: the CNB lifecycle writes every member name that way.

use crate::tree::{CAPTURED, Entry, EntryKind};
use flate2::bufread::MultiGzDecoder;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use tar::EntryType;

/// Why a layer could not be read; `entry` is the member's name as the archive spells it
/// (`None` when the archive fails between members or before the first).
#[derive(Debug)]
pub struct LayerError {
    pub entry: Option<String>,
    pub problem: String,
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(entry) => write!(f, "entry `{entry}`: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

fn problem(entry: Option<&str>, problem: impl Into<String>) -> LayerError {
    LayerError {
        entry: entry.map(str::to_owned),
        problem: problem.into(),
    }
}

/// The largest [`CAPTURED`] file the audit reads.
const CAPTURE_LIMIT: u64 = 1 << 20;

/// What a layer holds for the audit.
#[derive(Debug, Default)]
pub struct LayerContents {
    pub entries: Vec<Entry>,
    /// Device files under `/dev`, left out (the runtime's `/dev` hides them).
    pub devices_under_dev: usize,
}

/// Reads every entry of one layer from `reader`, then the rest of the stream (so a gzip
/// trailer is checked and a caller's digest covers the whole blob).
pub fn read_layer(reader: impl Read) -> Result<LayerContents, LayerError> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let magic = buffered
        .fill_buf()
        .map_err(|error| problem(None, format!("cannot be read: {error}")))?;
    if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(problem(
            None,
            "is compressed with zstd, which this version does not read (only gzip and uncompressed layers)",
        ));
    }
    if magic.starts_with(&[0x1f, 0x8b]) {
        let entries = read_tar(MultiGzDecoder::new(buffered)).map_err(|mut error| {
            if error.entry.is_none() {
                error.problem = format!(
                    "{} (the gzip stream is damaged or cut short)",
                    error.problem
                );
            }
            error
        })?;
        Ok(entries)
    } else {
        read_tar(buffered)
    }
}

fn read_tar(reader: impl Read) -> Result<LayerContents, LayerError> {
    let mut archive = tar::Archive::new(reader);
    let mut contents = LayerContents::default();
    let mut last_name: Option<String> = None;
    let members = archive
        .entries()
        .map_err(|error| problem(None, format!("is not a tar archive: {error}")))?;
    for member in members {
        let mut member = member.map_err(|error| {
            problem(
                None,
                match &last_name {
                    Some(name) => {
                        format!("the archive is damaged or cut short after entry `{name}`: {error}")
                    }
                    None => format!(
                        "the archive is damaged or cut short before its first entry: {error}"
                    ),
                },
            )
        })?;
        let raw_name = String::from_utf8_lossy(&member.path_bytes()).into_owned();
        let entry = read_entry(&mut member, &raw_name)?;
        last_name = Some(raw_name);
        match entry {
            Some(entry) => contents.entries.push(entry),
            None => contents.devices_under_dev += 1,
        }
    }
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|error| {
        problem(
            None,
            format!("the stream is damaged after the archive's last entry: {error}"),
        )
    })?;
    Ok(contents)
}

/// One entry; `None` for a device file under `/dev`, which the audit leaves out.
fn read_entry<R: Read>(
    member: &mut tar::Entry<'_, R>,
    raw_name: &str,
) -> Result<Option<Entry>, LayerError> {
    let fail = |message: String| problem(Some(raw_name), message);
    let path = normalize(&member.path_bytes()).map_err(fail)?;
    let header = member.header();
    let entry_type = header.entry_type();
    let kind = match entry_type {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => EntryKind::File,
        EntryType::Directory => EntryKind::Directory,
        EntryType::Symlink => EntryKind::Symlink {
            target: member
                .link_name_bytes()
                .map(|target| String::from_utf8_lossy(&target).into_owned())
                .ok_or_else(|| fail("is a symlink without a target".to_owned()))?,
        },
        EntryType::Link => {
            let target = member
                .link_name_bytes()
                .ok_or_else(|| fail("is a hard link without a target".to_owned()))?;
            EntryKind::HardLink {
                target: normalize(&target)
                    .map_err(|message| fail(format!("is a hard link whose target {message}")))?,
            }
        }
        EntryType::Fifo => EntryKind::Fifo,
        EntryType::Char | EntryType::Block if path == "dev" || path.starts_with("dev/") => {
            return Ok(None);
        }
        EntryType::Char | EntryType::Block => {
            return Err(fail(
                "is a device file outside /dev; an image layer has no business creating devices (the runtime provides /dev), so this image is refused".to_owned(),
            ));
        }
        other => {
            return Err(fail(format!(
                "has the entry type {:?} (byte {}), which no image layer uses",
                other,
                other.as_byte()
            )));
        }
    };
    let mode = header
        .mode()
        .map_err(|error| fail(format!("has an unreadable mode: {error}")))?;
    let (uid, gid) = owner(member, &fail)?;
    let content = if kind == EntryKind::File && CAPTURED.contains(&path.as_str()) {
        let size = member.size();
        if size > CAPTURE_LIMIT {
            return Err(fail(format!(
                "is {size} bytes; the audit reads /{path} only up to {CAPTURE_LIMIT} bytes"
            )));
        }
        let mut content = Vec::new();
        member.read_to_end(&mut content).map_err(|error| {
            fail(format!(
                "cannot be read (the archive is cut short?): {error}"
            ))
        })?;
        Some(content)
    } else {
        None
    };
    Ok(Some(Entry {
        path,
        kind,
        mode: mode & 0o7777,
        uid,
        gid,
        content,
    }))
}

/// The entry's uid and gid: the header's, or its PAX records' (for ids too large for the
/// header).
fn owner<R: Read>(
    member: &mut tar::Entry<'_, R>,
    fail: &dyn Fn(String) -> LayerError,
) -> Result<(u32, u32), LayerError> {
    let header = member.header();
    let mut uid = header
        .uid()
        .map_err(|error| fail(format!("has an unreadable uid: {error}")))?;
    let mut gid = header
        .gid()
        .map_err(|error| fail(format!("has an unreadable gid: {error}")))?;
    if let Some(extensions) = member
        .pax_extensions()
        .map_err(|error| fail(format!("has a damaged PAX header: {error}")))?
    {
        for extension in extensions {
            let extension =
                extension.map_err(|error| fail(format!("has a damaged PAX record: {error}")))?;
            let number = || {
                extension
                    .value()
                    .ok()
                    .and_then(|value| value.parse::<u64>().ok())
                    .ok_or_else(|| {
                        fail(format!(
                            "has a PAX `{}` record that is not a number",
                            extension.key().unwrap_or("?")
                        ))
                    })
            };
            match extension.key() {
                Ok("uid") => uid = number()?,
                Ok("gid") => gid = number()?,
                _ => {}
            }
        }
    }
    let id = |value: u64, what: &str| {
        u32::try_from(value).map_err(|_| fail(format!("has a {what} ({value}) above 2^32")))
    };
    Ok((id(uid, "uid")?, id(gid, "gid")?))
}

/// A member name as a path relative to the root: `/`, `./` and `.` components and empty
/// ones (`a//b`) dropped, a `..` component refused (it would leave the root). The error is
/// the end of a sentence about the name.
pub fn normalize(name: &[u8]) -> Result<String, String> {
    let name = std::str::from_utf8(name)
        .map_err(|_| "is not UTF-8, which this version does not read".to_owned())?;
    let mut components = Vec::new();
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                return Err(
                    "has a `..` component, which would put it outside the image's root".to_owned(),
                );
            }
            _ => components.push(component),
        }
    }
    Ok(components.join("/"))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn names_are_relative_to_the_root() {
        assert_eq!(normalize(b"/workspace/a").unwrap(), "workspace/a");
        assert_eq!(normalize(b"./etc//passwd").unwrap(), "etc/passwd");
        assert_eq!(normalize(b"layers/").unwrap(), "layers");
        assert_eq!(normalize(b"./").unwrap(), "");
        assert!(normalize(b"a/../../etc").unwrap_err().contains("`..`"));
        assert!(normalize(b"a/\xff").unwrap_err().contains("UTF-8"));
    }
}
