//! Copying directory trees with chosen modes, for seeds: at build, from the app into the
//! helper layer when a rename cannot cross filesystems; at launch, from the layer to the
//! redirect target.
//!
//! Symlinks are copied as symlinks (never followed); sockets, fifos and devices are
//! skipped. A failing entry does not stop the copy: the rest is still copied, and every
//! failure is reported.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// What a mode is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Directory,
    File,
}

/// What a copy did.
#[derive(Debug, Default)]
pub struct CopyReport {
    pub directories: u64,
    pub files: u64,
    pub symlinks: u64,
    pub bytes: u64,
    /// Each entry that could not be copied (or changed), with why.
    pub failures: Vec<(PathBuf, io::Error)>,
}

impl CopyReport {
    fn failed(&mut self, path: &Path, error: io::Error) {
        self.failures.push((path.to_owned(), error));
    }
}

/// Copies what is inside the directory `from` into the existing directory `to`. Each
/// copy gets the permission bits `mode(kind, source bits)`; `to` itself is not changed.
pub fn copy_contents(from: &Path, to: &Path, mode: &dyn Fn(Kind, u32) -> u32) -> CopyReport {
    let mut report = CopyReport::default();
    copy_directory(from, to, mode, &mut report);
    report
}

fn copy_directory(
    from: &Path,
    to: &Path,
    mode: &dyn Fn(Kind, u32) -> u32,
    report: &mut CopyReport,
) {
    let entries = match fs::read_dir(from) {
        Ok(entries) => entries,
        Err(error) => return report.failed(from, error),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => return report.failed(from, error),
        };
        let source = entry.path();
        let destination = to.join(entry.file_name());
        let metadata = match fs::symlink_metadata(&source) {
            Ok(metadata) => metadata,
            Err(error) => {
                report.failed(&source, error);
                continue;
            }
        };
        let file_type = metadata.file_type();
        let bits = metadata.mode() & 0o7777;
        if file_type.is_dir() {
            // Created owner-writable so the copy can fill it; its own mode comes after.
            if let Err(error) = fs::create_dir(&destination) {
                report.failed(&destination, error);
                continue;
            }
            copy_directory(&source, &destination, mode, report);
            set_mode(&destination, mode(Kind::Directory, bits), report);
            report.directories += 1;
        } else if file_type.is_file() {
            match fs::copy(&source, &destination) {
                Ok(bytes) => {
                    set_mode(&destination, mode(Kind::File, bits), report);
                    report.files += 1;
                    report.bytes += bytes;
                }
                Err(error) => report.failed(&source, error),
            }
        } else if file_type.is_symlink() {
            match fs::read_link(&source)
                .and_then(|target| std::os::unix::fs::symlink(target, &destination))
            {
                Ok(()) => report.symlinks += 1,
                Err(error) => report.failed(&source, error),
            }
        }
    }
}

fn set_mode(path: &Path, bits: u32, report: &mut CopyReport) {
    if let Err(error) = fs::set_permissions(path, fs::Permissions::from_mode(bits)) {
        report.failed(path, error);
    }
}

/// Gives every directory and file below `root`, and `root` itself, the permission bits
/// `mode(kind, current bits)`, changing only those that differ. Symlinks are not followed.
pub fn set_modes(root: &Path, mode: &dyn Fn(Kind, u32) -> u32) -> CopyReport {
    let mut report = CopyReport::default();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let metadata = match fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) => {
                report.failed(&path, error);
                continue;
            }
        };
        let file_type = metadata.file_type();
        let kind = if file_type.is_dir() {
            Kind::Directory
        } else if file_type.is_file() {
            Kind::File
        } else {
            continue;
        };
        let bits = metadata.mode() & 0o7777;
        let wanted = mode(kind, bits);
        if wanted != bits {
            set_mode(&path, wanted, &mut report);
        }
        match kind {
            Kind::File => {
                report.files += 1;
                report.bytes += metadata.len();
            }
            Kind::Directory => {
                if path != root {
                    report.directories += 1;
                }
                match fs::read_dir(&path) {
                    Ok(entries) => {
                        for entry in entries {
                            match entry {
                                Ok(entry) => pending.push(entry.path()),
                                Err(error) => report.failed(&path, error),
                            }
                        }
                    }
                    Err(error) => report.failed(&path, error),
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("from");
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::write(root.join("file"), "12345").unwrap();
        fs::write(root.join("sub/deeper/inner"), "abc").unwrap();
        std::os::unix::fs::symlink("../file", root.join("sub/link")).unwrap();
        fs::set_permissions(root.join("file"), fs::Permissions::from_mode(0o444)).unwrap();
        fs::set_permissions(root.join("sub"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::create_dir(dir.path().join("to")).unwrap();
        dir
    }

    #[test]
    fn copies_contents_with_the_given_modes_and_symlinks_as_symlinks() {
        let dir = tree();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        let owner_writable = |kind, bits: u32| match kind {
            Kind::Directory => bits & 0o777 | 0o700,
            Kind::File => bits & 0o777 | 0o600,
        };
        let report = copy_contents(&from, &to, &owner_writable);
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(
            (
                report.directories,
                report.files,
                report.symlinks,
                report.bytes
            ),
            (2, 2, 1, 8)
        );
        assert_eq!(
            fs::read_to_string(to.join("sub/deeper/inner")).unwrap(),
            "abc"
        );
        assert_eq!(bits(&to.join("file")), 0o644);
        assert_eq!(bits(&to.join("sub")), 0o750);
        assert_eq!(
            fs::read_link(to.join("sub/link")).unwrap(),
            Path::new("../file")
        );
    }

    #[test]
    fn a_failing_entry_does_not_stop_the_copy() {
        let dir = tree();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        // An entry in the way: the directory `sub` cannot be created.
        fs::write(to.join("sub"), "in the way").unwrap();
        let report = copy_contents(&from, &to, &|_, bits| bits);
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        assert_eq!(report.failures[0].0, to.join("sub"));
        assert_eq!(fs::read_to_string(to.join("file")).unwrap(), "12345");
    }

    #[test]
    fn set_modes_changes_only_what_differs() {
        let dir = tree();
        let from = dir.path().join("from");
        let group_readable = |kind, bits: u32| match kind {
            Kind::Directory => bits | 0o050,
            Kind::File => bits | 0o040,
        };
        let report = set_modes(&from, &group_readable);
        assert!(report.failures.is_empty());
        assert_eq!((report.directories, report.files, report.bytes), (2, 2, 8));
        assert_eq!(bits(&from.join("file")), 0o444);
        assert_eq!(bits(&from.join("sub")), 0o750);
        assert_eq!(bits(&from.join("sub/deeper/inner")) & 0o040, 0o040);
    }
}
