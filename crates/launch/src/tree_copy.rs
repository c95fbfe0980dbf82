//! Copying a seed tree with chosen modes: at launch, from the helper's layer into the
//! redirect target under the tmp base; at build, from the app into the helper layer when
//! a rename cannot cross file systems.
//!
//! Everything is relative to directory descriptors: a directory is entered with
//! `openat(O_DIRECTORY | O_NOFOLLOW)` on both sides, a copy is created with
//! `mkdirat` or `openat(O_CREAT | O_EXCL | O_NOFOLLOW)` and its mode set through its own
//! descriptor (`fchmod`). No path string is resolved again, so neither a symlink swapped
//! in on either side nor a path longer than `PATH_MAX` can send a write anywhere else.
//! Symlinks are copied as symlinks (never followed); sockets, fifos and devices are
//! skipped. A failing entry does not stop the copy: the rest is still copied, and every
//! failure is reported, with its path relative to the copied directory.

use crate::dir_entries::{self, Stop};
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;
use std::convert::Infallible;
use std::ffi::{CStr, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
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
    /// Each entry that could not be copied (or changed), with why; the path is relative
    /// to the copied directory.
    pub failures: Vec<(PathBuf, io::Error)>,
}

impl CopyReport {
    fn failed(&mut self, path: &[u8], error: impl Into<io::Error>) {
        self.failures
            .push((PathBuf::from(OsStr::from_bytes(path)), error.into()));
    }
}

/// Opens the directory `name` in `parent` without following a symlink.
pub fn open_directory_at(parent: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Opens the directory at `path`, not following a symlink in its last component.
pub fn open_directory(path: &Path) -> Result<OwnedFd, Errno> {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Copies what is inside the directory `from` into the existing directory `to`, both
/// open descriptors. Each copy gets the permission bits `mode(kind, source bits)`; `to`
/// itself is not changed.
pub fn copy_contents_at(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    mode: &dyn Fn(Kind, u32) -> u32,
) -> CopyReport {
    let mut report = CopyReport::default();
    let mut path = Vec::new();
    copy_directory(from, to, mode, &mut path, &mut report);
    report
}

/// [`copy_contents_at`] for two directories named by path (neither may be a symlink).
pub fn copy_contents(from: &Path, to: &Path, mode: &dyn Fn(Kind, u32) -> u32) -> CopyReport {
    match (open_directory(from), open_directory(to)) {
        (Ok(from), Ok(to)) => copy_contents_at(from.as_fd(), to.as_fd(), mode),
        (Err(error), _) | (_, Err(error)) => {
            let mut report = CopyReport::default();
            report.failed(b".", error);
            report
        }
    }
}

/// Room for a few dozen directory entries per `getdents64`.
const DIRENT_BUFFER_BYTES: usize = 4 * 1024;

fn copy_directory(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    mode: &dyn Fn(Kind, u32) -> u32,
    path: &mut Vec<u8>,
    report: &mut CopyReport,
) {
    let listed = dir_entries::for_each(from, DIRENT_BUFFER_BYTES, path, |name, stat, path| {
        let stat = match stat {
            Ok(stat) => stat,
            Err(error) => {
                report.failed(path, error);
                return Ok::<(), Infallible>(());
            }
        };
        let bits = stat.st_mode & 0o7777;
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => match copy_subdirectory(from, to, name, mode, path, report) {
                Ok(()) => report.directories += 1,
                Err(error) => report.failed(path, error),
            },
            FileType::RegularFile => match copy_file(from, to, name, mode(Kind::File, bits)) {
                Ok(bytes) => {
                    report.files += 1;
                    report.bytes += bytes;
                }
                Err(error) => report.failed(path, error),
            },
            FileType::Symlink => {
                match rustix::fs::readlinkat(from, name, Vec::new())
                    .and_then(|target| rustix::fs::symlinkat(target.as_c_str(), to, name))
                {
                    Ok(()) => report.symlinks += 1,
                    Err(error) => report.failed(path, error),
                }
            }
            _ => {}
        }
        Ok(())
    });
    if let Err(Stop::Listing(error)) = listed {
        report.failed(if path.is_empty() { b"." } else { path }, error);
    }
}

/// Creates `name` in `to` (owner-writable, so the copy can fill it), fills it from `name`
/// in `from`, and gives it its mode last.
fn copy_subdirectory(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    name: &CStr,
    mode: &dyn Fn(Kind, u32) -> u32,
    path: &mut Vec<u8>,
    report: &mut CopyReport,
) -> Result<(), Errno> {
    let source = open_directory_at(from, name)?;
    let bits = rustix::fs::fstat(&source)?.st_mode & 0o7777;
    rustix::fs::mkdirat(to, name, Mode::from_raw_mode(0o700))?;
    let copy = open_directory_at(to, name)?;
    copy_directory(source.as_fd(), copy.as_fd(), mode, path, report);
    rustix::fs::fchmod(&copy, Mode::from_raw_mode(mode(Kind::Directory, bits)))
}

/// Copies the regular file `name` of `from` to a new file `name` in `to` with `bits`.
fn copy_file(from: BorrowedFd<'_>, to: BorrowedFd<'_>, name: &CStr, bits: u32) -> io::Result<u64> {
    let source = open_regular_file_at(from, name)?;
    let copy = create_file_at(to, name)?;
    fill(source, copy, bits)
}

/// Opens the regular file `name` in `directory` for reading, without following a symlink
/// and without blocking (a FIFO put there cannot hold the caller), and checks on the
/// descriptor that it is still a regular file: the name may have been replaced since it
/// was listed.
pub fn open_regular_file_at(directory: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    let file = rustix::fs::openat(
        directory,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    if FileType::from_raw_mode(rustix::fs::fstat(&file)?.st_mode) != FileType::RegularFile {
        return Err(io::Error::other("no longer a regular file"));
    }
    Ok(file)
}

/// Creates the new file `name` in `directory` (mode 0600 until [`fill`] gives it its
/// bits), never through a symlink and never over an existing entry.
pub fn create_file_at(directory: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        directory,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?)
}

/// Copies all of `source` into `copy`, then gives `copy` the permission `bits` (through
/// its descriptor); returns the bytes copied.
pub fn fill(source: OwnedFd, copy: OwnedFd, bits: u32) -> io::Result<u64> {
    let mut copy = File::from(copy);
    let bytes = io::copy(&mut File::from(source), &mut copy)?;
    rustix::fs::fchmod(&copy, Mode::from_raw_mode(bits))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

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
        assert_eq!(report.failures[0].0, Path::new("sub"));
        assert_eq!(fs::read_to_string(to.join("file")).unwrap(), "12345");
    }
}
