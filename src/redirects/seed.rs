//! Making a seed readable for the run user at build, through descriptors.
//!
//! The seed is what the build left at a redirected app path, moved into the helper
//! layer; the run user shares the build user's group, so its directories become
//! group-readable and searchable and its files group-readable. The app is not trusted,
//! so this works like the walk (`src/pass/walk.rs`): directories are entered with
//! `openat(O_DIRECTORY | O_NOFOLLOW)` and changed with `fchmod`, files are changed
//! through a descriptor of exactly the file examined (`exact_chmod`), symlinks are never
//! followed, and no path longer than one name is handed to the kernel.
//!
//! A file with more than one hard link shares its inode, and so its mode, with a name
//! elsewhere (possibly outside the app): its mode is never changed. The seed gets a copy
//! of it instead (same content, a new inode, group-readable) in place of the link; the
//! build log names each one.

use crate::pass::exact_chmod;
use group_writable_launch::dir_entries::{self, Stop};
use group_writable_launch::tree_copy::{self, Kind};
use rustix::fs::{AtFlags, FileType, Mode};
use rustix::io::Errno;
use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsFd as _, BorrowedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

/// What a seed holds, once readable.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Below the seed's root (which is not counted).
    pub directories: u64,
    pub files: u64,
    pub symlinks: u64,
    pub bytes: u64,
    /// Files that had other hard links, relative to the seed: replaced by a copy.
    pub copied_hard_links: Vec<PathBuf>,
}

/// Something that failed, with the path relative to the seed.
pub type SeedError = (PathBuf, io::Error);

/// Gives the seed at `root` and everything below it the bits `mode(kind, bits)`.
pub fn make_readable(
    root: &Path,
    mode: &dyn Fn(Kind, u32) -> u32,
) -> Result<SeedReport, SeedError> {
    let at_root = |error: Errno| (PathBuf::from("."), io::Error::from(error));
    let directory = tree_copy::open_directory(root).map_err(at_root)?;
    let stat = rustix::fs::fstat(&directory).map_err(at_root)?;
    change_directory(&directory, stat.st_mode, mode).map_err(at_root)?;
    let mut report = SeedReport::default();
    let mut path = Vec::new();
    visit(directory.as_fd(), mode, &mut path, &mut report)?;
    Ok(report)
}

fn change_directory(
    directory: &std::os::fd::OwnedFd,
    st_mode: u32,
    mode: &dyn Fn(Kind, u32) -> u32,
) -> Result<(), Errno> {
    let bits = st_mode & 0o7777;
    let wanted = mode(Kind::Directory, bits);
    if wanted == bits {
        return Ok(());
    }
    rustix::fs::fchmod(directory, Mode::from_raw_mode(wanted))
}

/// Room for a few hundred directory entries per `getdents64`.
const DIRENT_BUFFER_BYTES: usize = 8 * 1024;

fn visit(
    directory: BorrowedFd<'_>,
    mode: &dyn Fn(Kind, u32) -> u32,
    path: &mut Vec<u8>,
    report: &mut SeedReport,
) -> Result<(), SeedError> {
    let listed = dir_entries::for_each(directory, DIRENT_BUFFER_BYTES, path, |name, stat, path| {
        let stat = match stat {
            Ok(stat) => stat,
            Err(Errno::NOENT) => return Ok(()), // vanished meanwhile
            Err(error) => return Err(failure(path, error.into())),
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => {
                let sub = match tree_copy::open_directory_at(directory, name) {
                    Ok(sub) => sub,
                    // Vanished, or replaced by a symlink or a file meanwhile.
                    Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => return Ok(()),
                    Err(error) => return Err(failure(path, error.into())),
                };
                let stat = rustix::fs::fstat(&sub).map_err(|error| failure(path, error.into()))?;
                change_directory(&sub, stat.st_mode, mode)
                    .map_err(|error| failure(path, error.into()))?;
                report.directories += 1;
                visit(sub.as_fd(), mode, path, report)?;
            }
            FileType::RegularFile => {
                let file = match exact_chmod::pin_file(directory, name, Some(&stat)) {
                    Ok(Some(file)) => file,
                    Ok(None) | Err(Errno::NOENT) => return Ok(()), // replaced meanwhile
                    Err(error) => return Err(failure(path, error.into())),
                };
                let bits = file.stat.st_mode & 0o7777;
                let wanted = mode(Kind::File, bits);
                if file.stat.st_nlink > 1 {
                    copy_in_place(directory, name, wanted).map_err(|error| failure(path, error))?;
                    report
                        .copied_hard_links
                        .push(PathBuf::from(OsStr::from_bytes(path)));
                } else if wanted != bits {
                    file.chmod(directory, name, wanted)
                        .map_err(|error| failure(path, error.into()))?;
                }
                report.files += 1;
                report.bytes += u64::try_from(file.stat.st_size).unwrap_or(0);
            }
            FileType::Symlink => report.symlinks += 1,
            // Sockets, fifos and devices are not copied at launch.
            _ => {}
        }
        Ok(())
    });
    match listed {
        Ok(()) => Ok(()),
        Err(Stop::Listing(error)) => Err(failure(path, error.into())),
        Err(Stop::Visit(error)) => Err(error),
    }
}

fn failure(path: &[u8], error: io::Error) -> SeedError {
    (PathBuf::from(OsStr::from_bytes(path)), error)
}

/// Replaces the hard link `name` in `directory` by a copy of its content with `bits`,
/// leaving the shared inode (and its other names) untouched.
fn copy_in_place(directory: BorrowedFd<'_>, name: &CStr, bits: u32) -> io::Result<()> {
    let source = tree_copy::open_regular_file_at(directory, name)?;
    let mut temporary = b".group-writable-copy.".to_vec();
    temporary.extend_from_slice(name.to_bytes());
    let temporary = CString::new(temporary).map_err(io::Error::other)?;
    let copy = tree_copy::create_file_at(directory, temporary.as_c_str())?;
    let copied = tree_copy::fill(source, copy, bits).and_then(|_| {
        Ok(rustix::fs::renameat(
            directory,
            temporary.as_c_str(),
            directory,
            name,
        )?)
    });
    if copied.is_err() {
        let _ = rustix::fs::unlinkat(directory, temporary.as_c_str(), AtFlags::empty());
    }
    copied
}

/// The run user shares the build user's group: seeds become readable (and directories
/// searchable) for the group; executables stay executable for it. Seeds are only read
/// (the helper copies them into the tmp base, where the copy gets its own modes), so
/// group and other write come off: an app path that a umask-002 checkout left writable
/// would otherwise stay writable in the image, in our own layer, where the surface report
/// no longer sees it.
#[must_use]
pub fn group_readable(kind: Kind, bits: u32) -> u32 {
    let read_only = bits & !0o022;
    match kind {
        Kind::Directory => read_only | 0o050,
        Kind::File => read_only | 0o040 | if bits & 0o100 == 0 { 0 } else { 0o010 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    #[test]
    fn group_readable_modes() {
        assert_eq!(group_readable(Kind::Directory, 0o700), 0o750);
        assert_eq!(group_readable(Kind::File, 0o600), 0o640);
        assert_eq!(group_readable(Kind::File, 0o755), 0o755);
        assert_eq!(group_readable(Kind::File, 0o700), 0o750);
        // An umask-002 checkout's modes: write comes off for group and other.
        assert_eq!(group_readable(Kind::Directory, 0o777), 0o755);
        assert_eq!(group_readable(Kind::File, 0o666), 0o644);
        assert_eq!(group_readable(Kind::File, 0o775), 0o755);
    }

    fn bits(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn counts_and_changes_only_what_differs_and_copies_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed");
        fs::create_dir_all(seed.join("sub/deeper")).unwrap();
        fs::write(seed.join("file"), "12345").unwrap();
        fs::set_permissions(seed.join("file"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(seed.join("sub"), fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink("../file", seed.join("sub/link")).unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, "abc").unwrap();
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o600)).unwrap();
        fs::hard_link(&outside, seed.join("sub/deeper/linked")).unwrap();

        let report = make_readable(&seed, &group_readable).unwrap();
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
            report.copied_hard_links,
            [PathBuf::from("sub/deeper/linked")]
        );
        assert_eq!(bits(&seed.join("file")), 0o640);
        assert_eq!(bits(&seed.join("sub")), 0o750);
        assert_eq!(bits(&outside), 0o600, "the other name's inode was changed");
        let copy = seed.join("sub/deeper/linked");
        assert_eq!(bits(&copy), 0o640);
        assert_eq!(fs::read_to_string(&copy).unwrap(), "abc");
        assert_eq!(fs::metadata(&copy).unwrap().nlink(), 1);
        assert_eq!(fs::metadata(&outside).unwrap().nlink(), 1);
    }
}
