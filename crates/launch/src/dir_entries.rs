//! Reading one directory through its descriptor: the loop that both walks over a seed tree
//! share, the copy at launch ([`crate::tree_copy`]) and the build's seed pass
//! (`src/redirects/seed.rs`, which makes a seed readable for the run user).
//!
//! The directory is listed with `getdents64` on its descriptor, and each entry is examined
//! with `fstatat(AT_SYMLINK_NOFOLLOW)` relative to that descriptor: by its name alone, so
//! a symlink is seen as a symlink and no path longer than one name reaches the kernel.
//! What the caller does with an entry (enter a directory with `openat(O_DIRECTORY |
//! O_NOFOLLOW)`, check a file again on its own descriptor) stays the caller's, since the
//! entry may be replaced between the listing and the use.

use rustix::fs::{AtFlags, RawDir, Stat};
use rustix::io::Errno;
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;

/// Why [`for_each`] stopped before the end of the directory.
#[derive(Debug)]
pub enum Stop<E> {
    /// Listing the directory failed (`path` is the directory's again).
    Listing(Errno),
    /// The visitor returned this error.
    Visit(E),
}

/// Calls `visit(name, stat, path)` for each entry of `directory` but `.` and `..`, in the
/// kernel's order, with `stat` the entry's `fstatat(AT_SYMLINK_NOFOLLOW)` (or why it
/// failed: an entry may vanish between the listing and the stat). `path` is the
/// directory's path relative to where the walk began (empty at its start); while `visit`
/// runs it is the entry's (`<path>/<name>`), so a visitor that enters a subdirectory
/// passes it on, and it is the directory's again when this returns. Reads up to
/// `buffer_bytes` of entries per `getdents64`. Stops at the first error.
pub fn for_each<E>(
    directory: BorrowedFd<'_>,
    buffer_bytes: usize,
    path: &mut Vec<u8>,
    mut visit: impl FnMut(&CStr, Result<Stat, Errno>, &mut Vec<u8>) -> Result<(), E>,
) -> Result<(), Stop<E>> {
    let mut buffer = vec![MaybeUninit::uninit(); buffer_bytes];
    let mut entries = RawDir::new(directory, &mut buffer);
    let path_len = path.len();
    let mut result = Ok(());
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                result = Err(Stop::Listing(error));
                break;
            }
        };
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        path.truncate(path_len);
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(name.to_bytes());
        let stat = rustix::fs::statat(directory, name, AtFlags::SYMLINK_NOFOLLOW);
        if let Err(error) = visit(name, stat, path) {
            result = Err(Stop::Visit(error));
            break;
        }
    }
    path.truncate(path_len);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::FileType;
    use std::convert::Infallible;
    use std::fs;
    use std::os::fd::AsFd as _;
    use std::path::Path;

    fn open(path: &Path) -> std::os::fd::OwnedFd {
        crate::tree_copy::open_directory(path).unwrap()
    }

    #[test]
    fn lists_every_entry_with_its_path_and_lstat_and_restores_the_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("file"), "x").unwrap();
        std::os::unix::fs::symlink("nowhere", dir.path().join("link")).unwrap();
        let directory = open(dir.path());
        let mut path = b"start".to_vec();
        let mut seen = Vec::new();
        let result = for_each(directory.as_fd(), 64, &mut path, |name, stat, path| {
            let kind = FileType::from_raw_mode(stat.unwrap().st_mode);
            seen.push((
                name.to_str().unwrap().to_owned(),
                String::from_utf8(path.clone()).unwrap(),
                kind,
            ));
            Ok::<(), Infallible>(())
        });
        assert!(result.is_ok());
        assert_eq!(path, b"start", "the directory's path again");
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            seen,
            [
                ("file".into(), "start/file".into(), FileType::RegularFile),
                ("link".into(), "start/link".into(), FileType::Symlink),
                ("sub".into(), "start/sub".into(), FileType::Directory),
            ]
        );
    }

    #[test]
    fn stops_at_the_visitor_s_first_error() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "b", "c"] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        let directory = open(dir.path());
        let mut path = Vec::new();
        let mut visits = 0;
        let result = for_each(directory.as_fd(), 4096, &mut path, |_, _, path| {
            visits += 1;
            Err(path.clone())
        });
        assert_eq!(visits, 1);
        assert!(matches!(result, Err(Stop::Visit(ref name)) if name.len() == 1));
        assert!(path.is_empty());
    }

    #[test]
    fn a_directory_that_cannot_be_listed_is_a_listing_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("file"), "").unwrap();
        // A descriptor of a file, not a directory: getdents64 fails.
        let file = fs::File::open(dir.path().join("file")).unwrap();
        let mut path = b"dir".to_vec();
        let result = for_each(file.as_fd(), 4096, &mut path, |_, _, _| {
            Ok::<(), Infallible>(())
        });
        assert!(
            matches!(result, Err(Stop::Listing(Errno::NOTDIR))),
            "{result:?}"
        );
        assert_eq!(path, b"dir");
    }
}
