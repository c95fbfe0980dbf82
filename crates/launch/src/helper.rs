//! The exec.d helper's work at every launch: read the build's decisions, create the
//! redirect targets under the tmp base, copy seeds that are not there yet, and write the
//! env redirects as TOML for the launcher.
//!
//! It never stops the app: the launcher aborts with code 82 when an exec.d program exits
//! non-zero, so every failure becomes one line on stderr and the helper still exits 0,
//! with whatever could be done done. It is on the path of every container start, so it
//! makes only the system calls it needs. With nothing to seed (every start but a
//! container's first): its configuration opened, checked and read once (`open`, `fstat`,
//! `read`, `close`); the tmp base opened and its mode read (`open`, `fstat`); the
//! effective uid read once (`geteuid`); its own directory opened without following and
//! checked on the descriptor (`openat`, `fstat`); one `fstatat` per target relative to that
//! descriptor (an existing target means "seeded already"; a missing one is made with
//! `mkdirat`); an `access` on `$HOME` only when an `XDG_*` variable is unset; fd 3 checked
//! and written (`fcntl`, `write`); and the two directories closed.

use crate::contract::{self, Config, DEBUG, EnvRedirect, OWN_DIRECTORY, PathRedirect, SWITCH};
use crate::exec_d_toml::{self, Output};
use crate::messages::{self, ConfigReadError, Consequence, NotOurs, Note, Problem};
use crate::tree_copy::{self, Kind};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Write};
use std::os::fd::{AsFd as _, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Path, PathBuf};

/// Why the output could not be written to fd 3.
#[derive(Debug)]
pub enum OutputError {
    NotOpen,
    Failed(io::Error),
}

/// What the process gives the helper: its `argv[0]`, its environment, fd 3 and stderr.
pub struct Process<'a> {
    pub argv0: Option<&'a OsStr>,
    /// A variable's value as the process got it (borrowed: no copy on the hot path).
    pub env: &'a dyn Fn(&str) -> Option<&'a OsStr>,
    pub write_output: &'a mut dyn FnMut(&[u8]) -> Result<(), OutputError>,
    pub stderr: &'a mut dyn Write,
}

/// Runs the helper. Returns nothing: whatever happens, the process exits 0.
pub fn run(process: Process<'_>) {
    let Process {
        argv0,
        env,
        write_output,
        stderr,
    } = process;
    let mut launch = Launch {
        debug: env(DEBUG).is_some_and(is_true),
        ..Launch::default()
    };
    let output = launch.run(argv0, env);
    let toml = output.as_str();
    if !toml.is_empty() {
        match write_output(toml.as_bytes()) {
            Ok(()) => launch.note(&Note::WroteOutput { toml }),
            Err(OutputError::NotOpen) => launch.problem(&Problem::OutputNotOpen { toml }),
            Err(OutputError::Failed(error)) => {
                launch.problem(&Problem::OutputFailed { error: &error });
            }
        }
    }
    let text = launch.stderr_text();
    // Nothing to say is the usual case: not even an empty write (its code would cost a
    // page fault at every start).
    if !text.is_empty() {
        let _ = stderr.write_all(text.as_bytes());
    }
}

/// Writes all of `bytes` to `fd`, after checking that it is open.
pub fn write_all_to(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> Result<(), OutputError> {
    rustix::io::fcntl_getfd(fd).map_err(|_| OutputError::NotOpen)?;
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return Err(OutputError::Failed(io::ErrorKind::WriteZero.into())),
            Ok(written) => bytes = &bytes[written..],
            Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(OutputError::Failed(error.into())),
        }
    }
    Ok(())
}

/// What one launch did, for stderr.
#[derive(Default)]
struct Launch {
    debug: bool,
    /// What was done, kept only in debug mode.
    notes: Vec<String>,
    problems: Vec<String>,
}

/// Room for a path on the stack; a longer one goes to the heap. Every page the helper
/// touches costs a page fault at every start, so the buffers stay small.
const STACK_PATH: usize = 512;
/// Room for the configuration on the stack (a typical one is under 1 KiB); a larger
/// file is read onto the heap.
const CONFIG_BUFFER: usize = 2 * 1024;

impl Launch {
    /// Records what was done; the text is only made in debug mode.
    fn note(&mut self, note: &Note<'_>) {
        if self.debug {
            self.notes.push(note.to_string());
        }
    }

    fn problem(&mut self, problem: &Problem<'_>) {
        self.problems.push(problem.to_string());
    }

    /// Debug mode: every note and problem, one per line. Otherwise one line at most.
    fn stderr_text(&self) -> String {
        if self.debug {
            self.notes
                .iter()
                .chain(&self.problems)
                .map(|text| messages::debug_line(text))
                .collect()
        } else {
            self.problems
                .first()
                .map(|first| messages::line(first, self.problems.len() - 1))
                .unwrap_or_default()
        }
    }

    /// Does the work and returns the TOML for fd 3 (empty when there is nothing to set).
    fn run<'e>(
        &mut self,
        argv0: Option<&OsStr>,
        env: &dyn Fn(&str) -> Option<&'e OsStr>,
    ) -> Output {
        if let Some(value) = env(SWITCH) {
            let value = value.to_string_lossy();
            if is_one_of(&value, &["off", "false", "0", "no"]) {
                self.note(&Note::SwitchedOff { value: &value });
                return Output::new();
            } else if !is_one_of(&value, &["", "on", "true", "1", "yes", "auto"]) {
                self.problem(&Problem::UnknownSwitch { value: &value });
            }
        }
        let from_proc;
        let program = if let Some(program) = argv0
            .map(OsStr::as_bytes)
            .filter(|path| path.starts_with(b"/"))
        {
            Some(program)
        } else {
            from_proc = fs::read_link("/proc/self/exe").ok();
            from_proc.as_deref().map(|path| path.as_os_str().as_bytes())
        };
        let Some(layer) = program.and_then(layer_of_program) else {
            self.problem(&Problem::NoOwnPath);
            return Output::new();
        };
        let path = JoinedPath::join(&[layer, b"/", contract::FILE_NAME.as_bytes()]);
        let path = path.as_path();
        let mut buffer = [0_u8; CONFIG_BUFFER];
        let mut heap = Vec::new();
        let bytes = match read_config(path, &mut buffer, &mut heap) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.problem(&Problem::ConfigUnreadable { path, error });
                return Output::new();
            }
        };
        let config = match std::str::from_utf8(bytes)
            .map_err(|_| contract::ConfigError {
                line: 0,
                problem: "not UTF-8 text",
            })
            .and_then(Config::parse)
        {
            Ok(config) => config,
            Err(error) => {
                self.problem(&Problem::ConfigDamaged { path, error });
                return Output::new();
            }
        };
        self.note(&Note::ReadConfig { path });

        let own = self.open_own_directory(config.tmp_base);
        if let Some(own) = &own {
            for redirect in config.paths() {
                self.prepare_target(own, Path::new(OsStr::from_bytes(layer)), &redirect);
            }
        }
        exec_d_output(
            &config,
            |name| env(name).is_some_and(|value| !value.is_empty()),
            || home_is_writable(env("HOME")),
            |choice| match choice {
                EnvChoice::Set(redirect) => own
                    .as_ref()
                    .is_some_and(|own| self.make_env_directory(own, config.tmp_base, redirect)),
                EnvChoice::AlreadySet(redirect) => {
                    self.note(&Note::AlreadySet {
                        variable: redirect.variable,
                    });
                    false
                }
                EnvChoice::HomeWritable(redirect) => {
                    self.note(&Note::HomeWritable {
                        variable: redirect.variable,
                    });
                    false
                }
            },
        )
    }

    /// Opens the tmp base, and says so when another user sharing it could replace the own
    /// directory `own` in it (writable by every user and not sticky).
    fn open_tmp_base(&mut self, tmp_base: &str, own: &Path) -> Option<OwnedFd> {
        // The tmp base is the image's choice (it may well be a symlink): followed.
        let base = match rustix::fs::open(
            tmp_base,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(base) => base,
            Err(Errno::NOENT) => {
                self.problem(&Problem::TmpBaseMissing { tmp_base });
                return None;
            }
            Err(error) => {
                self.problem(&Problem::TmpBaseUnopenable { tmp_base, error });
                return None;
            }
        };
        if let Ok(stat) = rustix::fs::fstat(&base)
            && stat.st_mode & 0o002 != 0
            && stat.st_mode & 0o1000 == 0
        {
            self.problem(&Problem::TmpBaseShared {
                tmp_base,
                own,
                mode: stat.st_mode,
            });
        }
        Some(base)
    }

    /// Opens `<base>/group-writable`, creating it (0700) when missing, and checks on the
    /// descriptor that it is a directory of the run user's that nobody else may write:
    /// under a shared tmp base another user may plant a directory or a symlink there, or
    /// swap it between two steps. Everything after is relative to this descriptor, so no
    /// path string is resolved again.
    fn open_own_directory(&mut self, tmp_base: &str) -> Option<OwnDirectory> {
        let own = JoinedPath::join(&[tmp_base.as_bytes(), b"/", OWN_DIRECTORY.as_bytes()]);
        let own = own.as_path();
        let base = self.open_tmp_base(tmp_base, own)?;
        // Read once: every owner check of this start compares with it.
        let uid = rustix::process::geteuid().as_raw();
        let not_ours = |this: &mut Self, why: NotOurs| {
            this.problem(&Problem::OwnDirectoryNotOurs {
                own,
                tmp_base,
                uid,
                why,
            });
        };
        // Opened first: at every start but the container's first it is there, and the
        // open alone answers. When it is missing it is created (0700) and opened again.
        let open = || {
            rustix::fs::openat(
                &base,
                OWN_DIRECTORY,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
        };
        let mut created = false;
        let opened = match open() {
            Err(Errno::NOENT) => {
                match rustix::fs::mkdirat(&base, OWN_DIRECTORY, Mode::from_raw_mode(0o700)) {
                    Ok(()) => created = true,
                    // Made meanwhile by someone else: opened and checked like any other.
                    Err(Errno::EXIST) => {}
                    Err(error) => {
                        self.problem(&Problem::OwnDirectoryUncreatable {
                            own,
                            tmp_base,
                            uid,
                            error,
                        });
                        return None;
                    }
                }
                open()
            }
            opened => opened,
        };
        let directory = match opened {
            Ok(directory) => directory,
            Err(error @ (Errno::LOOP | Errno::NOTDIR)) => {
                not_ours(self, NotOurs::NotADirectory(error));
                return None;
            }
            Err(error) => {
                self.problem(&Problem::OwnDirectoryUnopenable {
                    own,
                    tmp_base,
                    error,
                });
                return None;
            }
        };
        // Checked also when just created: between the mkdir and the open another user
        // may have put their own there.
        match rustix::fs::fstat(&directory) {
            Ok(stat) if stat.st_uid != uid => {
                not_ours(self, NotOurs::Owner(stat.st_uid));
                return None;
            }
            Ok(stat) if stat.st_mode & 0o022 != 0 => {
                not_ours(self, NotOurs::WritableByOthers(stat.st_mode));
                return None;
            }
            Ok(_) => {}
            Err(error) => {
                self.problem(&Problem::OwnDirectoryUncheckable {
                    own,
                    tmp_base,
                    error,
                });
                return None;
            }
        }
        if created {
            self.note(&Note::CreatedOwnDirectory { own });
        }
        Some(OwnDirectory { directory, uid })
    }

    /// Creates a path redirect's target, and seeds it when it did not exist yet.
    fn prepare_target(&mut self, own: &OwnDirectory, layer: &Path, redirect: &PathRedirect<'_>) {
        let (target, app_path) = (redirect.target, redirect.app_path);
        let target_fd = match make_own_target(own, redirect.id) {
            Ok(Target::Created(target)) => target,
            Ok(Target::Existing) => return self.note(&Note::TargetExists { target, app_path }),
            Err(error) => {
                return self.problem(&error.problem(target, Consequence::WritesFail { app_path }));
            }
        };
        let Some(seed) = redirect.seed else {
            return self.note(&Note::TargetCreated { target, app_path });
        };
        let seed = layer.join(seed);
        let report = match tree_copy::open_directory(&seed) {
            Ok(source) => {
                let report =
                    tree_copy::copy_contents_at(source.as_fd(), target_fd.as_fd(), &owner_writable);
                if let Ok(stat) = rustix::fs::fstat(&source) {
                    let bits = owner_writable(Kind::Directory, stat.st_mode & 0o7777);
                    let _ = rustix::fs::fchmod(&target_fd, Mode::from_raw_mode(bits));
                }
                report
            }
            Err(error) => tree_copy::CopyReport {
                failures: vec![(PathBuf::from("."), error.into())],
                ..tree_copy::CopyReport::default()
            },
        };
        self.note(&Note::TargetSeeded {
            target,
            app_path,
            report: &report,
            seed: &seed,
        });
        if let Some((path, error)) = report.failures.first() {
            self.problem(&Problem::SeedIncomplete {
                app_path,
                target,
                failures: report.failures.len(),
                first: &seed.join(path),
                error,
            });
        }
    }

    /// Creates an env redirect's directory (the tmp base itself needs nothing).
    fn make_env_directory(
        &mut self,
        own: &OwnDirectory,
        tmp_base: &str,
        redirect: &EnvRedirect<'_>,
    ) -> bool {
        if redirect.value == tmp_base {
            return true;
        }
        match make_own_target(own, redirect.id) {
            Ok(_) => true,
            Err(error) => {
                let consequence = Consequence::NotSet {
                    variable: redirect.variable,
                };
                self.problem(&error.problem(redirect.value, consequence));
                false
            }
        }
    }
}

/// The layer of the helper at `program` (`<layer>/exec.d/<helper>`, absolute), by slicing
/// bytes: `std::path` would add code pages, and so page faults, to every start.
fn layer_of_program(program: &[u8]) -> Option<&[u8]> {
    fn parent(path: &[u8]) -> Option<&[u8]> {
        path.iter()
            .rposition(|&b| b == b'/')
            .map(|slash| &path[..slash])
    }
    parent(program)
        .and_then(parent)
        .filter(|layer| !layer.is_empty())
}

/// A redirect target, relative to the own directory.
enum Target {
    /// Made just now (mode 0700), and opened.
    Created(OwnedFd),
    /// There already, a directory of the run user's: redirected at an earlier start.
    Existing,
}

/// Why a target cannot be used.
enum TargetError {
    Failed(Errno),
    /// There already, but not a directory of the run user's (planted by someone else).
    NotOurs(NotOurs),
}

impl TargetError {
    fn problem<'a>(&self, target: &'a str, consequence: Consequence<'a>) -> Problem<'a> {
        match *self {
            TargetError::Failed(error) => Problem::TargetUncreatable {
                target,
                error,
                consequence,
            },
            TargetError::NotOurs(why) => Problem::TargetNotOurs {
                target,
                why,
                consequence,
            },
        }
    }
}

/// `<base>/group-writable`, opened and checked: a directory of the run user's (`uid`, the
/// effective uid, read once per start) that nobody else may write.
struct OwnDirectory {
    directory: OwnedFd,
    uid: u32,
}

/// Makes the target of the redirect `id` (`<own directory>/<id>`, which the configuration
/// guarantees) relative to the own directory's descriptor, or checks that the one there is
/// a real directory of the run user's. Looked at first: after a container's first start
/// every target is there, and one `fstatat` answers. Nobody else may write the own
/// directory, so what it says still holds when `mkdirat` follows.
fn make_own_target(own: &OwnDirectory, id: &str) -> Result<Target, TargetError> {
    let existing = |stat: Stat| match FileType::from_raw_mode(stat.st_mode) {
        FileType::Directory if stat.st_uid == own.uid => Ok(Target::Existing),
        FileType::Directory => Err(TargetError::NotOurs(NotOurs::Owner(stat.st_uid))),
        _ => Err(TargetError::NotOurs(NotOurs::Kind(stat.st_mode))),
    };
    let look = || rustix::fs::statat(&own.directory, id, AtFlags::SYMLINK_NOFOLLOW);
    match look() {
        Ok(stat) => existing(stat),
        Err(Errno::NOENT) => {
            match rustix::fs::mkdirat(&own.directory, id, Mode::from_raw_mode(0o700)) {
                Ok(()) => rustix::fs::openat(
                    &own.directory,
                    id,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map(Target::Created)
                .map_err(TargetError::Failed),
                // Only the run user may write the own directory; checked all the same.
                Err(Errno::EXIST) => existing(look().map_err(TargetError::Failed)?),
                Err(error) => Err(TargetError::Failed(error)),
            }
        }
        Err(error) => Err(TargetError::Failed(error)),
    }
}

/// The largest configuration the helper reads: the build writes a few hundred bytes, and
/// an unbounded read of a damaged layer (a link to `/dev/zero`) would never end.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// Reads the configuration at `path` into `buffer`, or into `heap` when it does not fit:
/// a regular file only (opened without following a symlink and without blocking, so a
/// FIFO cannot hold the app's start), of at most [`MAX_CONFIG_BYTES`].
fn read_config<'b>(
    path: &Path,
    buffer: &'b mut [u8],
    heap: &'b mut Vec<u8>,
) -> Result<&'b [u8], ConfigReadError> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(ConfigReadError::Failed)?;
    let stat = rustix::fs::fstat(&fd).map_err(ConfigReadError::Failed)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(ConfigReadError::NotAFile(stat.st_mode));
    }
    let size = u64::try_from(stat.st_size).unwrap_or(0);
    if size > MAX_CONFIG_BYTES {
        return Err(ConfigReadError::TooLarge(size));
    }
    // One byte more than the size: a file that grew meanwhile is seen to be larger.
    let wanted = usize::try_from(size).unwrap_or(0) + 1;
    let buffer = if wanted <= buffer.len() {
        &mut buffer[..wanted]
    } else {
        heap.resize(wanted, 0);
        &mut heap[..]
    };
    let mut length = 0;
    while length < buffer.len() {
        match rustix::io::read(&fd, &mut buffer[length..]) {
            Ok(0) => break,
            Ok(read) => length += read,
            Err(Errno::INTR) => {}
            Err(error) => return Err(ConfigReadError::Failed(error)),
        }
        // A regular file reads short only at its end: no second read to learn that.
        if length as u64 == size {
            break;
        }
    }
    if length as u64 > size {
        return Err(ConfigReadError::TooLarge(length as u64));
    }
    Ok(&buffer[..length])
}

/// A path joined on the stack when it is short, as the hot path's paths are, so that
/// making it allocates nothing.
// The stack variant is large on purpose: boxing it would be the allocation it avoids.
#[allow(clippy::large_enum_variant)]
enum JoinedPath {
    Stack {
        bytes: [u8; STACK_PATH],
        length: usize,
    },
    Heap(PathBuf),
}

impl JoinedPath {
    fn join(parts: &[&[u8]]) -> JoinedPath {
        let length: usize = parts.iter().map(|part| part.len()).sum();
        if length > STACK_PATH {
            let mut path = Vec::with_capacity(length);
            for part in parts {
                path.extend_from_slice(part);
            }
            return JoinedPath::Heap(PathBuf::from(OsString::from_vec(path)));
        }
        let mut bytes = [0; STACK_PATH];
        let mut end = 0;
        for part in parts {
            bytes[end..end + part.len()].copy_from_slice(part);
            end += part.len();
        }
        JoinedPath::Stack { bytes, length }
    }

    fn as_path(&self) -> &Path {
        match self {
            JoinedPath::Stack { bytes, length } => Path::new(OsStr::from_bytes(&bytes[..*length])),
            JoinedPath::Heap(path) => path,
        }
    }
}

/// What happens to one env redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvChoice<'c> {
    /// Set it, once its directory is ready.
    Set(&'c EnvRedirect<'c>),
    /// The user set the variable: their value wins.
    AlreadySet(&'c EnvRedirect<'c>),
    /// An `XDG_*` variable while `$HOME` is writable: the default below `$HOME` works.
    HomeWritable(&'c EnvRedirect<'c>),
}

/// The TOML for fd 3, from the configuration's env redirects in order. `is_set` says
/// whether a variable has a non-empty value (every tool treats an empty one as unset);
/// `home_writable` is asked at most once, and only when an `XDG_*` variable is unset;
/// `ready` sees every choice and says, for a `Set` one, whether its directory is ready
/// (the helper creates it there). Only `Set` choices that are ready are written.
pub fn exec_d_output(
    config: &Config<'_>,
    is_set: impl Fn(&str) -> bool,
    home_writable: impl FnOnce() -> bool,
    mut ready: impl FnMut(EnvChoice<'_>) -> bool,
) -> Output {
    let mut home_writable = Some(home_writable);
    let mut home_answer = None;
    let mut toml = Output::new();
    for redirect in config.envs() {
        let choice = if is_set(redirect.variable) {
            EnvChoice::AlreadySet(&redirect)
        } else if redirect.unless_home_writable
            && *home_answer.get_or_insert_with(|| home_writable.take().is_some_and(|ask| ask()))
        {
            EnvChoice::HomeWritable(&redirect)
        } else {
            EnvChoice::Set(&redirect)
        };
        if ready(choice) && matches!(choice, EnvChoice::Set(_)) {
            exec_d_toml::push_pair(&mut toml, redirect.variable, redirect.value);
        }
    }
    toml
}

fn home_is_writable(home: Option<&OsStr>) -> bool {
    home.filter(|home| !home.is_empty())
        .is_some_and(|home| rustix::fs::access(home, rustix::fs::Access::WRITE_OK).is_ok())
}

/// The run user owns the copies; they stay readable and become writable for it.
fn owner_writable(kind: Kind, bits: u32) -> u32 {
    match kind {
        Kind::Directory => bits & 0o777 | 0o700,
        Kind::File => bits & 0o777 | 0o600,
    }
}

fn is_true(value: &OsStr) -> bool {
    is_one_of(&value.to_string_lossy(), &["true", "1", "yes", "on"])
}

/// Whether `value`, trimmed, is one of `words` in any case (without allocating).
fn is_one_of(value: &str, words: &[&str]) -> bool {
    let value = value.trim();
    words.iter().any(|word| value.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::PROGRAM;
    use std::cell::Cell;

    const CONFIG: &str = "group-writable-redirects 1
base /tmp
env tmpdir TMPDIR /tmp always
env xdg-cache XDG_CACHE_HOME /tmp/group-writable/xdg-cache unless-home-writable
env xdg-state XDG_STATE_HOME /tmp/group-writable/xdg-state unless-home-writable
env bootsnap BOOTSNAP_CACHE_DIR /tmp/group-writable/bootsnap always
path rails-tmp tmp /tmp/group-writable/rails-tmp seeds/rails-tmp
end
";

    fn output(set: &[&str], home_writable: bool, ready: &[&str]) -> String {
        let config = Config::parse(CONFIG).unwrap();
        exec_d_output(
            &config,
            |name| set.contains(&name),
            || home_writable,
            |choice| matches!(choice, EnvChoice::Set(redirect) if ready.contains(&redirect.variable)),
        )
        .as_str()
        .to_owned()
    }

    const ALL: &[&str] = &[
        "TMPDIR",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
        "BOOTSNAP_CACHE_DIR",
    ];

    #[test]
    fn sets_everything_when_nothing_is_set_and_home_is_read_only() {
        assert_eq!(
            output(&[], false, ALL),
            "TMPDIR = \"/tmp\"\n\
             XDG_CACHE_HOME = \"/tmp/group-writable/xdg-cache\"\n\
             XDG_STATE_HOME = \"/tmp/group-writable/xdg-state\"\n\
             BOOTSNAP_CACHE_DIR = \"/tmp/group-writable/bootsnap\"\n"
        );
    }

    #[test]
    fn leaves_xdg_alone_when_home_is_writable() {
        assert_eq!(
            output(&[], true, ALL),
            "TMPDIR = \"/tmp\"\nBOOTSNAP_CACHE_DIR = \"/tmp/group-writable/bootsnap\"\n"
        );
    }

    #[test]
    fn leaves_user_set_variables_alone() {
        assert_eq!(
            output(&["TMPDIR", "XDG_CACHE_HOME"], false, ALL),
            "XDG_STATE_HOME = \"/tmp/group-writable/xdg-state\"\n\
             BOOTSNAP_CACHE_DIR = \"/tmp/group-writable/bootsnap\"\n"
        );
    }

    #[test]
    fn leaves_out_variables_whose_directory_is_not_ready() {
        assert_eq!(output(&[], false, &["TMPDIR"]), "TMPDIR = \"/tmp\"\n");
        assert_eq!(output(&[], false, &[]), "");
    }

    #[test]
    fn asks_about_home_once_and_only_when_it_matters() {
        let config = Config::parse(CONFIG).unwrap();
        let asked = Cell::new(0);
        let ask = || {
            asked.set(asked.get() + 1);
            false
        };
        let mut seen = Vec::new();
        exec_d_output(
            &config,
            |_| false,
            ask,
            |choice| {
                seen.push(matches!(choice, EnvChoice::Set(_)));
                true
            },
        );
        assert_eq!(asked.get(), 1);
        assert_eq!(seen, [true, true, true, true]);

        asked.set(0);
        let mut already_set = Vec::new();
        let xdg_set = |name: &str| name.starts_with("XDG_");
        exec_d_output(&config, xdg_set, ask, |choice| {
            already_set.push(matches!(choice, EnvChoice::AlreadySet(_)));
            true
        });
        assert_eq!(asked.get(), 0);
        assert_eq!(already_set, [false, true, true, false]);
    }

    #[test]
    fn one_line_on_stderr_unless_debugging() {
        let own = Path::new("/tmp/group-writable");
        let created = Note::CreatedOwnDirectory { own };
        let first = Problem::TmpBaseMissing { tmp_base: "/tmp" };
        let second = Problem::NoOwnPath;
        let mut launch = Launch::default();
        assert_eq!(launch.stderr_text(), "");
        launch.note(&created);
        launch.problem(&first);
        launch.problem(&second);
        assert_eq!(
            launch.stderr_text(),
            format!("{PROGRAM}: {first} (and 1 more; {DEBUG}=true lists them)\n")
        );
        let mut debug = Launch {
            debug: true,
            ..Launch::default()
        };
        debug.note(&created);
        debug.problem(&first);
        assert_eq!(
            debug.stderr_text(),
            format!("{PROGRAM}: {created}\n{PROGRAM}: {first}\n")
        );
    }

    /// The whole run on a layer and a tmp base in a temporary directory.
    #[test]
    fn runs_from_its_layer_found_by_argv0() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("tmp");
        let layer = dir.path().join("layer");
        fs::create_dir_all(layer.join("seeds/rails-tmp/pids")).unwrap();
        fs::create_dir(&base).unwrap();
        let base = base.to_str().unwrap();
        let config = CONFIG.replace("/tmp", base);
        fs::write(layer.join(contract::FILE_NAME), config).unwrap();
        let argv0 = layer.join("exec.d/helper");
        let env = |name: &str| (name == "HOME").then(|| OsStr::new("/nonexistent"));

        let mut launch = Launch::default();
        let toml = launch.run(Some(argv0.as_os_str()), &env);
        assert!(launch.problems.is_empty(), "{:?}", launch.problems);
        assert_eq!(
            toml.as_str(),
            output(&[], false, ALL).replace("/tmp", base),
            "the same as the pure function"
        );
        assert!(
            Path::new(base)
                .join("group-writable/rails-tmp/pids")
                .is_dir()
        );
        assert!(Path::new(base).join("group-writable/xdg-state").is_dir());

        // From a relative argv0 it looks beside /proc/self/exe: the test binary, whose
        // grandparent has no configuration.
        let mut elsewhere = Launch::default();
        assert_eq!(elsewhere.run(Some(OsStr::new("helper")), &env).as_str(), "");
        let exe = fs::read_link("/proc/self/exe").unwrap();
        let expected = exe
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .join(contract::FILE_NAME);
        assert_eq!(elsewhere.problems.len(), 1);
        assert!(
            elsewhere.problems[0].contains(&format!(
                "cannot read its configuration {}",
                expected.display()
            )),
            "{:?}",
            elsewhere.problems
        );
    }

    /// A target is looked at first and made only when missing; one that is there must be a
    /// real directory of the run user's.
    #[test]
    fn own_targets_are_made_once_and_checked_when_there() {
        let dir = tempfile::tempdir().unwrap();
        let own = OwnDirectory {
            directory: tree_copy::open_directory(dir.path()).unwrap(),
            uid: rustix::process::geteuid().as_raw(),
        };
        assert!(matches!(
            make_own_target(&own, "made"),
            Ok(Target::Created(_))
        ));
        assert!(dir.path().join("made").is_dir());
        assert!(matches!(
            make_own_target(&own, "made"),
            Ok(Target::Existing)
        ));
        std::os::unix::fs::symlink("made", dir.path().join("link")).unwrap();
        fs::write(dir.path().join("file"), "").unwrap();
        for planted in ["link", "file"] {
            assert!(
                matches!(
                    make_own_target(&own, planted),
                    Err(TargetError::NotOurs(NotOurs::Kind(_)))
                ),
                "{planted}"
            );
        }
        let other = OwnDirectory {
            uid: own.uid + 1,
            ..own
        };
        assert!(matches!(
            make_own_target(&other, "made"),
            Err(TargetError::NotOurs(NotOurs::Owner(_)))
        ));
    }

    #[test]
    fn joined_paths() {
        let short = JoinedPath::join(&[b"/tmp", b"/", b"x"]);
        assert!(matches!(short, JoinedPath::Stack { .. }));
        assert_eq!(short.as_path(), Path::new("/tmp/x"));
        let exact = JoinedPath::join(&[b"/", &[b'a'; STACK_PATH - 1]]);
        assert!(matches!(exact, JoinedPath::Stack { .. }));
        let long = JoinedPath::join(&[b"/", &[b'a'; STACK_PATH]]);
        assert!(matches!(long, JoinedPath::Heap(_)));
        assert_eq!(long.as_path().as_os_str().len(), STACK_PATH + 1);
    }

    #[test]
    fn the_layer_is_two_levels_above_the_helper() {
        let layer = |program: &str| layer_of_program(program.as_bytes()).map(<[u8]>::to_vec);
        assert_eq!(
            layer("/layers/cnb-utils_group-writable/redirects/exec.d/group-writable-redirects"),
            Some(b"/layers/cnb-utils_group-writable/redirects".to_vec())
        );
        assert_eq!(layer("/exec.d/helper"), None);
        assert_eq!(layer("/helper"), None);
        assert_eq!(layer("helper"), None);
    }
}
