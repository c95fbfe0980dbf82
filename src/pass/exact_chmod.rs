//! Changing the mode of exactly the file that was checked, never of what a name points to
//! a moment later.
//!
//! `fchmodat(parent, name)` resolves `name` again and follows it: a file swapped for a
//! symlink between the check and the change would make the change land on the link's
//! target. So the walk changes a file's mode ([`chmod_file`]):
//!
//! - where the kernel has it (Linux 6.6+), by `fchmodat2(parent, name, mode,
//!   AT_SYMLINK_NOFOLLOW)`: one system call, as many as the plain `fchmodat`. The kernel
//!   does not follow the name; if it has become a symlink, the call fails with
//!   `EOPNOTSUPP` and the entry is skipped. (`rustix` 1.1 answers `EOPNOTSUPP` for that
//!   flag without asking the kernel, hence the one raw system call in [`raw`].) The
//!   first `ENOSYS` is remembered for the rest of the process;
//! - otherwise the file is opened with `O_PATH | O_NOFOLLOW` (no read permission needed,
//!   no side effects; a symlink is opened as itself), the descriptor is checked
//!   (`fstat`: a regular file, the same inode that was examined: [`pin_file`]), and the
//!   mode is changed through it: by `chmod("/proc/self/fd/N")`, which the kernel resolves
//!   to the descriptor's own inode (how the C library implements
//!   `fchmodat(AT_SYMLINK_NOFOLLOW)`), or when `/proc` is not mounted, by opening the
//!   same name again with `O_NOFOLLOW` for reading (or writing), checking that it is
//!   still the same inode, and `fchmod`.
//!
//! Both are exact about symlinks. `fchmodat2` does not check the inode: a name swapped
//! for another regular file (a hard link to a file elsewhere) between the check and the
//! change gets the mode, as it would have had it been there when the walk came by (the
//! walk changes hard-linked files; only the seed pass, which must not, pins them).

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::ffi::CStr;
use std::os::fd::{AsRawFd as _, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU8, Ordering};

/// Whether `fchmodat2` is used: not known yet, yes, or no (the kernel said `ENOSYS`).
static FCHMODAT2: AtomicU8 = AtomicU8::new(UNKNOWN);
const UNKNOWN: u8 = 0;
const AVAILABLE: u8 = 1;
const MISSING: u8 = 2;

/// Sets the permission bits of the regular file `name` in `parent`, which `expected`
/// describes, never following a symlink. `Ok(false)` when the name is no longer a
/// regular file (replaced meanwhile), and nothing was changed.
pub fn chmod_file(
    parent: BorrowedFd<'_>,
    name: &CStr,
    expected: &Stat,
    bits: u32,
) -> Result<bool, Errno> {
    if FCHMODAT2.load(Ordering::Relaxed) != MISSING {
        match raw::fchmodat2_nofollow(parent, name, bits) {
            Ok(()) => {
                FCHMODAT2.store(AVAILABLE, Ordering::Relaxed);
                return Ok(true);
            }
            // Only a symlink answers this (its mode cannot be changed): skipped.
            Err(Errno::OPNOTSUPP) => return Ok(false),
            Err(Errno::NOSYS) => FCHMODAT2.store(MISSING, Ordering::Relaxed),
            Err(error) => return Err(error),
        }
    }
    match pin_file(parent, name, Some(expected))? {
        Some(file) => file.chmod(parent, name, bits).map(|()| true),
        None => Ok(false),
    }
}

/// The one system call `rustix` does not make: `fchmodat2` with `AT_SYMLINK_NOFOLLOW`.
#[allow(unsafe_code)]
mod raw {
    use rustix::io::Errno;
    use std::ffi::CStr;
    use std::os::fd::{AsRawFd as _, BorrowedFd};

    /// `__NR_fchmodat2`: 452 in the generic table, and so on every architecture
    /// (`libc` names it for `x86_64` but not yet for `aarch64`).
    const SYS_FCHMODAT2: libc::c_long = 452;

    pub(super) fn fchmodat2_nofollow(
        parent: BorrowedFd<'_>,
        name: &CStr,
        bits: u32,
    ) -> Result<(), Errno> {
        // SAFETY: the arguments are a descriptor borrowed for the call, a pointer to a
        // NUL-terminated string that outlives it, and two integers; the kernel reads the
        // string and writes no memory of ours. The result is -1 with errno set, or 0.
        let result = unsafe {
            libc::syscall(
                SYS_FCHMODAT2,
                libc::c_long::from(parent.as_raw_fd()),
                name.as_ptr(),
                libc::c_long::from(bits),
                libc::c_long::from(libc::AT_SYMLINK_NOFOLLOW),
            )
        };
        if result == 0 {
            Ok(())
        } else {
            Err(Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO))
        }
    }
}

/// Makes [`chmod_file`] use (`true`) or skip (`false`) `fchmodat2`, for the tests of
/// both ways; hold [`ONE_WAY_AT_A_TIME`] while the choice matters.
#[cfg(test)]
pub(crate) fn use_fchmodat2(enabled: bool) {
    FCHMODAT2.store(if enabled { UNKNOWN } else { MISSING }, Ordering::Relaxed);
}

/// Serializes the tests that choose a way with [`use_fchmodat2`].
#[cfg(test)]
pub(crate) static ONE_WAY_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether the last [`chmod_file`] went through `fchmodat2`.
#[cfg(test)]
pub(crate) fn fchmodat2_in_use() -> bool {
    FCHMODAT2.load(Ordering::Relaxed) == AVAILABLE
}

/// A regular file opened with `O_PATH | O_NOFOLLOW`, and what `fstat` said about it.
pub struct PinnedFile {
    fd: OwnedFd,
    pub stat: Stat,
}

/// Opens `name` in `parent` without following it. `Ok(None)` when it is not a regular
/// file (any more), or not the inode `expected` (when given) describes.
pub fn pin_file(
    parent: BorrowedFd<'_>,
    name: &CStr,
    expected: Option<&Stat>,
) -> Result<Option<PinnedFile>, Errno> {
    let fd = rustix::fs::openat(
        parent,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let stat = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile
        || expected.is_some_and(|expected| !same_inode(expected, &stat))
    {
        return Ok(None);
    }
    Ok(Some(PinnedFile { fd, stat }))
}

fn same_inode(a: &Stat, b: &Stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

impl PinnedFile {
    /// Sets the pinned file's permission bits; `parent` and `name` (where it was opened)
    /// are only used when `/proc` is not mounted.
    pub fn chmod(&self, parent: BorrowedFd<'_>, name: &CStr, bits: u32) -> Result<(), Errno> {
        let mode = Mode::from_raw_mode(bits);
        let proc_path = format!("/proc/self/fd/{}", self.fd.as_raw_fd());
        match rustix::fs::chmod(proc_path.as_str(), mode) {
            Err(Errno::NOENT | Errno::NOTDIR) if !proc_is_mounted() => {}
            other => return other,
        }
        let mut last = Errno::ACCESS;
        for access in [OFlags::RDONLY, OFlags::WRONLY] {
            match rustix::fs::openat(
                parent,
                name,
                access | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => {
                    let stat = rustix::fs::fstat(&fd)?;
                    if !same_inode(&stat, &self.stat) {
                        // Replaced meanwhile: not the file that was checked.
                        return Err(Errno::NOENT);
                    }
                    return rustix::fs::fchmod(&fd, mode);
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }
}

fn proc_is_mounted() -> bool {
    rustix::fs::statat(rustix::fs::CWD, "/proc/self/fd", AtFlags::empty()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::{PermissionsExt as _, symlink};

    fn mode(path: &std::path::Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// A temporary directory with two 0600 files, `file` and `outside` (what a symlink
    /// swapped in for `file` points to), and the directory opened.
    fn file_and_outside() -> (
        tempfile::TempDir,
        std::path::PathBuf,
        std::path::PathBuf,
        OwnedFd,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let [outside, file] = ["outside", "file"].map(|name| dir.path().join(name));
        for path in [&outside, &file] {
            fs::write(path, "").unwrap();
            fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let parent = rustix::fs::open(dir.path(), OFlags::DIRECTORY, Mode::empty()).unwrap();
        (dir, outside, file, parent)
    }

    #[test]
    fn changes_the_pinned_file_even_when_its_name_is_swapped_for_a_symlink() {
        let (dir, outside, file, parent) = file_and_outside();

        let pinned = pin_file(parent.as_fd(), c"file", None).unwrap().unwrap();
        fs::rename(&file, dir.path().join("moved")).unwrap();
        symlink(&outside, &file).unwrap();
        pinned.chmod(parent.as_fd(), c"file", 0o660).unwrap();
        assert_eq!(mode(&dir.path().join("moved")), 0o660);
        assert_eq!(mode(&outside), 0o600, "the link's target was changed");

        // A symlink is never pinned.
        assert!(pin_file(parent.as_fd(), c"file", None).unwrap().is_none());
    }

    #[test]
    fn chmod_file_skips_a_symlink_both_ways() {
        let _one_way = ONE_WAY_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for fchmodat2 in [true, false] {
            use_fchmodat2(fchmodat2);
            let (dir, outside, file, parent) = file_and_outside();
            let stat = rustix::fs::statat(&parent, c"file", AtFlags::SYMLINK_NOFOLLOW).unwrap();
            assert_eq!(chmod_file(parent.as_fd(), c"file", &stat, 0o660), Ok(true));
            assert_eq!(mode(&file), 0o660);
            fs::rename(&file, dir.path().join("moved")).unwrap();
            symlink(&outside, &file).unwrap();
            assert_eq!(chmod_file(parent.as_fd(), c"file", &stat, 0o664), Ok(false));
            assert_eq!(mode(&outside), 0o600, "the link's target was changed");
            // This kernel (6.6+) has fchmodat2; the fallback never uses it.
            assert_eq!(fchmodat2_in_use(), fchmodat2, "fchmodat2: {fchmodat2}");
        }
        use_fchmodat2(true);
    }
}

/// A bounded race for the tests of the walk: another process swapping
/// each file of a directory for a symlink to an outside file and back, as fast as it can.
#[cfg(test)]
pub(crate) mod race {
    use std::fs;
    use std::os::unix::fs::{PermissionsExt as _, symlink};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// How many rounds a race runs (`GROUP_WRITABLE_RACE_ROUNDS`, `bin/fuzz --races`).
    pub(crate) fn rounds(default: u32) -> u32 {
        std::env::var("GROUP_WRITABLE_RACE_ROUNDS")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    }

    /// Creates `count` files (0600) in `dir`, and runs `work` `rounds` times while a
    /// thread swaps each file for a symlink to `outside` and back (resetting its mode to
    /// 0600). Returns whether `outside` still has mode 0600 after every round.
    pub(crate) fn outside_untouched(
        dir: &Path,
        outside: &Path,
        count: usize,
        rounds: u32,
        work: &dyn Fn(),
    ) -> Result<(), String> {
        let names: Vec<PathBuf> = (0..count).map(|i| dir.join(format!("f{i}"))).collect();
        for name in &names {
            fs::write(name, "").unwrap();
            fs::set_permissions(name, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let link = dir.join(".swap-link");
                let keep = dir.join(".swap-keep");
                while !stop.load(Ordering::Relaxed) {
                    for name in &names {
                        let _ = fs::remove_file(&link);
                        let _ = fs::remove_file(&keep);
                        if fs::hard_link(name, &keep).is_err() {
                            continue;
                        }
                        let _ = fs::set_permissions(&keep, fs::Permissions::from_mode(0o600));
                        let _ = symlink(outside, &link);
                        let _ = fs::rename(&link, name);
                        let _ = fs::rename(&keep, name);
                    }
                }
            });
            let started = std::time::Instant::now();
            let mut result = Ok(());
            for round in 0..rounds {
                work();
                let bits = fs::metadata(outside).unwrap().permissions().mode() & 0o7777;
                if bits != 0o600 {
                    result = Err(format!("round {round}: the outside file became {bits:04o}"));
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
            // The figures `bin/fuzz --races` reports (SECURITY.md).
            eprintln!(
                "race in {}: {} rounds in {:.2} s, {}",
                dir.display(),
                rounds,
                started.elapsed().as_secs_f64(),
                result
                    .as_ref()
                    .err()
                    .map_or("0 outside changes", String::as_str)
            );
            result
        })
    }
}
