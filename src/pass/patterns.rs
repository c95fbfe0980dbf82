//! Where patterns come from: the pattern file (`read_pattern_file`: its size, type and
//! encoding) and `BP_GROUP_WRITABLE_PATHS`. What the text means (which root each pattern
//! addresses, the checks, the matcher) is the crate `group-writable-policy`'s `patterns`,
//! shared with `group-writable-audit`, and re-exported here.

pub use group_writable_policy::patterns::{
    InertLine, Location, Pattern, PatternError, PatternErrorKind, PatternList, Root, RootContext,
    matcher_for, parse_pattern_list, parse_pattern_text,
};
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The largest pattern file read. Real ones are a few lines; anything near this size is a
/// mistake (a log or a binary named by accident), and refusing it bounds memory and time.
pub const MAX_PATTERN_FILE_BYTES: u64 = 1024 * 1024;

/// Why a pattern file could not be used (the messages are in `crate::messages`).
#[derive(Debug)]
pub enum PatternFileError {
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    NotAFile {
        path: PathBuf,
        kind: &'static str,
    },
    OutsideApp {
        path: PathBuf,
        target: PathBuf,
    },
    TooLarge {
        path: PathBuf,
        size: u64,
    },
    NotUtf8 {
        path: PathBuf,
        line: usize,
        byte: usize,
    },
    NulByte {
        path: PathBuf,
        line: usize,
    },
}

impl std::error::Error for PatternFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PatternFileError::Unreadable { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads the pattern file at `path` (inside `app_dir`), or `Ok(None)` when it does not
/// exist. It must be a regular file inside the app, at most 1 MiB, UTF-8 without NULs.
pub fn read_pattern_file(app_dir: &Path, path: &Path) -> Result<Option<String>, PatternFileError> {
    let unreadable = |source| PatternFileError::Unreadable {
        path: path.to_owned(),
        source,
    };
    match fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error)),
        Ok(_) => {}
    }
    // A symlink may point elsewhere in the app, but never out of it.
    let target = fs::canonicalize(path).map_err(unreadable)?;
    let app = fs::canonicalize(app_dir).map_err(unreadable)?;
    if !target.starts_with(&app) {
        return Err(PatternFileError::OutsideApp {
            path: path.to_owned(),
            target,
        });
    }
    let metadata = fs::metadata(&target).map_err(unreadable)?;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        let kind = if file_type.is_dir() {
            "a directory"
        } else if file_type.is_fifo() {
            "a named pipe"
        } else if file_type.is_socket() {
            "a socket"
        } else {
            "a device"
        };
        return Err(PatternFileError::NotAFile {
            path: path.to_owned(),
            kind,
        });
    }
    if metadata.len() > MAX_PATTERN_FILE_BYTES {
        return Err(PatternFileError::TooLarge {
            path: path.to_owned(),
            size: metadata.len(),
        });
    }
    // O_NONBLOCK: should the file be swapped for a FIFO after the check, opening it must
    // not hang the build. The read is bounded in case it grew.
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(
            (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW)
                .bits()
                .cast_signed(),
        )
        .open(&target)
        .map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_PATTERN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_PATTERN_FILE_BYTES {
        return Err(PatternFileError::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
        });
    }
    decode_pattern_bytes(path, bytes).map(Some)
}

/// Checks pattern file content for NULs and UTF-8, naming the line of the first problem.
pub fn decode_pattern_bytes(path: &Path, bytes: Vec<u8>) -> Result<String, PatternFileError> {
    // Lines are numbered from 1: the count of newline-separated pieces up to the offset.
    let line_of = |bytes: &[u8], offset: usize| bytes[..offset].split(|&b| b == b'\n').count();
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(PatternFileError::NulByte {
            path: path.to_owned(),
            line: line_of(&bytes, offset),
        });
    }
    String::from_utf8(bytes).map_err(|error| {
        let byte = error.utf8_error().valid_up_to();
        PatternFileError::NotUtf8 {
            path: path.to_owned(),
            line: line_of(error.as_bytes(), byte),
            byte,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_checks() {
        let app = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let path = app.path().join(".group-writable");

        assert!(read_pattern_file(app.path(), &path).unwrap().is_none());

        fs::write(&path, "log/\n").unwrap();
        assert_eq!(
            read_pattern_file(app.path(), &path).unwrap().unwrap(),
            "log/\n"
        );

        fs::write(&path, b"log/\n\xff\n").unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NotUtf8 {
                line: 2,
                byte: 5,
                ..
            })
        ));

        fs::write(&path, b"log/\nx\0y\n").unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NulByte { line: 2, .. })
        ));

        fs::write(&path, vec![b'#'; 1024 * 1024 + 1]).unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::TooLarge {
                size: 1_048_577,
                ..
            })
        ));
        fs::write(&path, vec![b'#'; 1024 * 1024]).unwrap();
        assert!(read_pattern_file(app.path(), &path).is_ok());

        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NotAFile {
                kind: "a directory",
                ..
            })
        ));
        fs::remove_dir(&path).unwrap();

        let target = outside.path().join("patterns");
        fs::write(&target, "log/\n").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::OutsideApp { .. })
        ));
        fs::remove_file(&path).unwrap();

        fs::write(app.path().join("real"), "tmp/\n").unwrap();
        std::os::unix::fs::symlink("real", &path).unwrap();
        assert_eq!(
            read_pattern_file(app.path(), &path).unwrap().unwrap(),
            "tmp/\n"
        );
        fs::remove_file(&path).unwrap();

        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NotAFile {
                kind: "a named pipe",
                ..
            })
        ));
    }
}
