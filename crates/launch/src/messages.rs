//! Every line the exec.d helper writes to stderr, in one place so that they read alike,
//! each with a test of its exact text (`snapshots/`).
//!
//! A [`Problem`] says what went wrong, where, what it means for the app, and how to fix it;
//! the helper prints the first of a start's problems as its one line (and counts the
//! others, see [`line`]), and still exits 0. A [`Note`] says what was done, and is printed
//! only in debug mode (`BPL_GROUP_WRITABLE_DEBUG=true`), with every problem. Both borrow
//! what they describe, so nothing is formatted unless it is printed. The reasons a
//! configuration is refused line by line are the reader's own (`contract`); how they are
//! shown is here.

use crate::contract::{ConfigError, DEBUG, PROGRAM, SWITCH};
use crate::helper::MAX_CONFIG_BYTES;
use crate::tree_copy::CopyReport;
use rustix::fs::FileType;
use rustix::io::Errno;
use std::fmt::{self, Display, Formatter};
use std::io;
use std::path::Path;

/// Something the helper could not do. Every variant leaves the app to start.
#[derive(Debug)]
pub enum Problem<'a> {
    /// `BPL_GROUP_WRITABLE_REDIRECTS` is neither `on` nor `off`.
    UnknownSwitch { value: &'a str },
    /// Neither argv[0] nor `/proc/self/exe` gives the helper's own path.
    NoOwnPath,
    /// The configuration beside the helper cannot be read.
    ConfigUnreadable {
        path: &'a Path,
        error: ConfigReadError,
    },
    /// The configuration was read, but is not one the helper understands.
    ConfigDamaged { path: &'a Path, error: ConfigError },
    /// The tmp base does not exist (nothing is mounted there).
    TmpBaseMissing { tmp_base: &'a str },
    /// The tmp base cannot be opened for another reason.
    TmpBaseUnopenable { tmp_base: &'a str, error: Errno },
    /// The tmp base is writable by every user and not sticky: the helper goes on.
    TmpBaseShared {
        tmp_base: &'a str,
        own: &'a Path,
        mode: u32,
    },
    /// `<base>/group-writable` cannot be created (a read-only tmp base, mostly).
    OwnDirectoryUncreatable {
        own: &'a Path,
        tmp_base: &'a str,
        uid: u32,
        error: Errno,
    },
    /// `<base>/group-writable` is there, but not a directory only the run user may write.
    OwnDirectoryNotOurs {
        own: &'a Path,
        tmp_base: &'a str,
        uid: u32,
        why: NotOurs,
    },
    /// `<base>/group-writable` cannot be opened for another reason.
    OwnDirectoryUnopenable {
        own: &'a Path,
        tmp_base: &'a str,
        error: Errno,
    },
    /// `<base>/group-writable` was opened, but its owner and mode cannot be read.
    OwnDirectoryUncheckable {
        own: &'a Path,
        tmp_base: &'a str,
        error: Errno,
    },
    /// A redirect's target cannot be created.
    TargetUncreatable {
        target: &'a str,
        error: Errno,
        consequence: Consequence<'a>,
    },
    /// A redirect's target is there, but not a directory of the run user's.
    TargetNotOurs {
        target: &'a str,
        why: NotOurs,
        consequence: Consequence<'a>,
    },
    /// Some of a seed could not be copied into its target.
    SeedIncomplete {
        app_path: &'a str,
        target: &'a str,
        /// How many entries failed, and the first (its path in the layer, and why).
        failures: usize,
        first: &'a Path,
        error: &'a io::Error,
    },
    /// File descriptor 3 is not open: `toml` is what could not be written.
    OutputNotOpen { toml: &'a str },
    /// Writing to file descriptor 3 failed.
    OutputFailed { error: &'a io::Error },
    /// The helper panicked (the panic's own message is printed above).
    Panicked,
}

/// What a target that cannot be used means for the app.
#[derive(Clone, Copy, Debug)]
pub enum Consequence<'a> {
    /// A path redirect's: the app's writes to `app_path` fail.
    WritesFail { app_path: &'a str },
    /// An env redirect's: the variable is left unset.
    NotSet { variable: &'a str },
}

/// Why an existing entry is not a directory that only the run user may write.
#[derive(Clone, Copy, Debug)]
pub enum NotOurs {
    /// Opening it as a directory without following a symlink failed with this error.
    NotADirectory(Errno),
    /// A directory, of another uid.
    Owner(u32),
    /// A directory of the run user's, but group or others may write into it (its mode).
    WritableByOthers(u32),
    /// Not a directory at all: its `st_mode`.
    Kind(u32),
}

/// Why the configuration could not be read.
#[derive(Debug)]
pub enum ConfigReadError {
    Failed(Errno),
    /// Not a regular file: its `st_mode`.
    NotAFile(u32),
    /// Larger than [`MAX_CONFIG_BYTES`]: its size.
    TooLarge(u64),
}

/// What the helper did, for debug mode.
#[derive(Debug)]
pub enum Note<'a> {
    /// `BPL_GROUP_WRITABLE_REDIRECTS` turned the redirects off.
    SwitchedOff {
        value: &'a str,
    },
    ReadConfig {
        path: &'a Path,
    },
    CreatedOwnDirectory {
        own: &'a Path,
    },
    /// A path redirect's target was there: redirected at an earlier start.
    TargetExists {
        target: &'a str,
        app_path: &'a str,
    },
    /// A path redirect's target was created, with no seed to copy.
    TargetCreated {
        target: &'a str,
        app_path: &'a str,
    },
    /// A path redirect's target was created and its seed copied.
    TargetSeeded {
        target: &'a str,
        app_path: &'a str,
        report: &'a CopyReport,
        seed: &'a Path,
    },
    /// An env redirect's variable was set by the user: left alone.
    AlreadySet {
        variable: &'a str,
    },
    /// An `XDG_*` variable was left unset: `$HOME` is writable.
    HomeWritable {
        variable: &'a str,
    },
    /// What was written to file descriptor 3.
    WroteOutput {
        toml: &'a str,
    },
}

/// The helper's stderr for one start outside debug mode: its first problem, with the
/// number of the `others`, as one line.
#[must_use]
pub fn line(first: &str, others: usize) -> String {
    if others == 0 {
        format!("{PROGRAM}: {first}\n")
    } else {
        format!("{PROGRAM}: {first} (and {others} more; {DEBUG}=true lists them)\n")
    }
}

/// One line of debug mode, a note or a problem.
#[must_use]
pub fn debug_line(text: &str) -> String {
    format!("{PROGRAM}: {text}\n")
}

impl Display for Problem<'_> {
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per message, side by side so that they read alike"
    )]
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownSwitch { value } => write!(
                f,
                "{SWITCH} is `{value}`, which is neither `on` nor `off`; the redirects stay on. Set it to `on` or `off` (or unset it)."
            ),
            Problem::NoOwnPath => f.write_str(
                "cannot find its own path (argv[0] is not absolute and /proc/self/exe cannot be read), so no redirects are made. Run it from the image's exec.d directory, as the CNB launcher does.",
            ),
            Problem::ConfigUnreadable { path, error } => write!(
                f,
                "cannot read its configuration {} ({error}), so no redirects are made. The layer is incomplete: rebuild the image.",
                path.display()
            ),
            Problem::ConfigDamaged { path, error } => write!(
                f,
                "its configuration {} is damaged ({error}), so no redirects are made. Rebuild the image.",
                path.display()
            ),
            Problem::TmpBaseMissing { tmp_base } => write!(
                f,
                "the tmp base {tmp_base} does not exist, so run-time writes are not redirected. Mount a writable directory there (docker run --tmpfs {tmp_base}, a Kubernetes emptyDir), or rebuild with BP_GROUP_WRITABLE_TMP naming one."
            ),
            Problem::TmpBaseUnopenable { tmp_base, error } => write!(
                f,
                "cannot open the tmp base {tmp_base} ({error}), so run-time writes are not redirected. Mount a directory the run user may write there (docker run --tmpfs {tmp_base}, a Kubernetes emptyDir)."
            ),
            Problem::TmpBaseShared {
                tmp_base,
                own,
                mode,
            } => write!(
                f,
                "the tmp base {tmp_base} is writable by every user and not sticky (mode {:04o}), so another user sharing it could replace {} after this check, and the app's paths would then lead into their directory. Give the container a tmp base of its own (a per-container emptyDir, docker run --tmpfs {tmp_base}), or make it sticky (chmod +t).",
                mode & 0o7777,
                own.display()
            ),
            Problem::OwnDirectoryUncreatable {
                own,
                tmp_base,
                uid,
                error,
            } => write!(
                f,
                "cannot create {} ({error}): the tmp base {tmp_base} is not writable by uid {uid}, so run-time writes are not redirected. Mount a writable tmpfs or volume there (docker run --tmpfs {tmp_base}, a Kubernetes emptyDir).",
                own.display()
            ),
            Problem::OwnDirectoryNotOurs {
                own,
                tmp_base,
                uid,
                why,
            } => write!(
                f,
                "{} exists but is not a directory of the run user's that only it may write (uid {uid}; {why}), so no redirects are made. Remove it, or give the container its own {tmp_base}.",
                own.display()
            ),
            Problem::OwnDirectoryUnopenable {
                own,
                tmp_base,
                error,
            } => write!(
                f,
                "cannot open {} ({error}), so no redirects are made. Remove it, or give the container its own {tmp_base}.",
                own.display()
            ),
            Problem::OwnDirectoryUncheckable {
                own,
                tmp_base,
                error,
            } => write!(
                f,
                "cannot check the owner and mode of {} ({error}), so no redirects are made. Remove it, or give the container its own {tmp_base}.",
                own.display()
            ),
            Problem::TargetUncreatable {
                target,
                error,
                consequence,
            } => write!(
                f,
                "cannot create {target} ({error}), so {consequence}. Give the container a writable tmp base with room, such as a tmpfs."
            ),
            Problem::TargetNotOurs {
                target,
                why,
                consequence,
            } => write!(
                f,
                "{target} exists but is not a directory of the run user's ({why}), so {consequence}. Remove it, or give the container its own tmp base."
            ),
            Problem::SeedIncomplete {
                app_path,
                target,
                failures,
                first,
                error,
            } => write!(
                f,
                "could not copy all of the build's {app_path}/ into {target} ({failures} failed, first {}: {error}); the app starts with what was copied. Give the tmp base room for the seed, or rebuild the image if its layer was changed.",
                first.display()
            ),
            Problem::OutputNotOpen { toml } => {
                f.write_str("file descriptor 3 is not open, so the environment redirects (")?;
                for (index, variable) in toml
                    .lines()
                    .filter_map(|line| line.split(" = ").next())
                    .enumerate()
                {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(variable)?;
                }
                f.write_str(
                    ") are not set. Start the app through the CNB launcher (/cnb/process/<type> or /cnb/lifecycle/launcher), which opens it for exec.d programs.",
                )
            }
            Problem::OutputFailed { error } => write!(
                f,
                "could not write the environment redirects to file descriptor 3 ({error}), so they are not set. Start the app through the CNB launcher (/cnb/process/<type> or /cnb/lifecycle/launcher), which reads all that exec.d programs write there."
            ),
            Problem::Panicked => f.write_str(
                "stopped by an internal error (above), so some redirects may be missing; the app starts anyway. Please report it.",
            ),
        }
    }
}

impl Display for Consequence<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Consequence::WritesFail { app_path } => write!(f, "writes to {app_path}/ will fail"),
            Consequence::NotSet { variable } => write!(f, "{variable} is not set"),
        }
    }
}

impl Display for NotOurs {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            NotOurs::NotADirectory(error) => write!(f, "it is not a directory: {error}"),
            NotOurs::Owner(uid) => write!(f, "it belongs to uid {uid}"),
            NotOurs::WritableByOthers(mode) => write!(
                f,
                "its mode {:04o} lets others write into it",
                mode & 0o7777
            ),
            NotOurs::Kind(mode) => write!(f, "it is {}", type_name(*mode)),
        }
    }
}

impl Display for ConfigReadError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ConfigReadError::Failed(Errno::LOOP) => f.write_str("it is a symbolic link"),
            ConfigReadError::Failed(error) => write!(f, "{error}"),
            ConfigReadError::NotAFile(mode) => {
                write!(f, "it is {}, not a regular file", type_name(*mode))
            }
            ConfigReadError::TooLarge(size) => write!(
                f,
                "it is {size} bytes, more than the {MAX_CONFIG_BYTES} bytes a configuration may have"
            ),
        }
    }
}

impl Display for ConfigError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(self.problem)
        } else {
            write!(f, "line {}: {}", self.line, self.problem)
        }
    }
}

impl Display for Note<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Note::SwitchedOff { value } => write!(f, "turned off by {SWITCH}={value}"),
            Note::ReadConfig { path } => write!(f, "read {}", path.display()),
            Note::CreatedOwnDirectory { own } => write!(f, "created {}", own.display()),
            Note::TargetExists { target, app_path } => write!(
                f,
                "{target} exists: {app_path}/ already redirected, nothing copied"
            ),
            Note::TargetCreated { target, app_path } => {
                write!(f, "created {target} for {app_path}/")
            }
            Note::TargetSeeded {
                target,
                app_path,
                report,
                seed,
            } => write!(
                f,
                "created {target} for {app_path}/ and copied {}, {} ({} bytes), {} from {}",
                counted(report.directories, "directory", "directories"),
                counted(report.files, "file", "files"),
                report.bytes,
                counted(report.symlinks, "symlink", "symlinks"),
                seed.display()
            ),
            Note::AlreadySet { variable } => write!(f, "{variable} is already set: left alone"),
            Note::HomeWritable { variable } => {
                write!(f, "{variable} not set: $HOME is writable")
            }
            Note::WroteOutput { toml } => write!(f, "wrote to fd 3:\n{}", toml.trim_end()),
        }
    }
}

/// `count` with the noun that agrees with it: "1 file", "4 files".
fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// What kind of entry a mode says, for a message.
fn type_name(mode: u32) -> &'static str {
    match FileType::from_raw_mode(mode) {
        FileType::RegularFile => "a file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Unknown => "of an unknown type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const OWN: &str = "/tmp/group-writable";
    const RAILS_TMP: Consequence<'static> = Consequence::WritesFail { app_path: "tmp" };

    /// Every problem, with a name for its snapshot. The errors are fixed numbers, so the
    /// text is the same on every machine with this C library (the host's: glibc).
    #[expect(
        clippy::too_many_lines,
        reason = "one entry per message: a list, not logic"
    )]
    fn problems() -> Vec<(&'static str, String)> {
        let config = Path::new("/layers/cnb-utils_group-writable/redirects/redirects.conf");
        let own = Path::new(OWN);
        let denied = io::Error::from(Errno::ACCESS);
        let broken_pipe = io::Error::from(Errno::PIPE);
        let not_ours = |why| Problem::OwnDirectoryNotOurs {
            own,
            tmp_base: "/tmp",
            uid: 1002,
            why,
        };
        let problems = [
            ("unknown_switch", Problem::UnknownSwitch { value: "maybe" }),
            ("no_own_path", Problem::NoOwnPath),
            (
                "config_missing",
                Problem::ConfigUnreadable {
                    path: config,
                    error: ConfigReadError::Failed(Errno::NOENT),
                },
            ),
            (
                "config_symlink",
                Problem::ConfigUnreadable {
                    path: config,
                    error: ConfigReadError::Failed(Errno::LOOP),
                },
            ),
            (
                "config_fifo",
                Problem::ConfigUnreadable {
                    path: config,
                    error: ConfigReadError::NotAFile(0o010_644),
                },
            ),
            (
                "config_too_large",
                Problem::ConfigUnreadable {
                    path: config,
                    error: ConfigReadError::TooLarge(70_000),
                },
            ),
            (
                "config_incomplete",
                Problem::ConfigDamaged {
                    path: config,
                    error: ConfigError {
                        line: 0,
                        problem: "the file is incomplete (no `end` line)",
                    },
                },
            ),
            (
                "config_bad_line",
                Problem::ConfigDamaged {
                    path: config,
                    error: ConfigError {
                        line: 3,
                        problem: "unknown or malformed line",
                    },
                },
            ),
            (
                "tmp_base_missing",
                Problem::TmpBaseMissing {
                    tmp_base: "/tmp/not-mounted",
                },
            ),
            (
                "tmp_base_unopenable",
                Problem::TmpBaseUnopenable {
                    tmp_base: "/tmp",
                    error: Errno::NOTDIR,
                },
            ),
            (
                "tmp_base_shared",
                Problem::TmpBaseShared {
                    tmp_base: "/tmp",
                    own,
                    mode: 0o040_777,
                },
            ),
            (
                "own_directory_uncreatable",
                Problem::OwnDirectoryUncreatable {
                    own,
                    tmp_base: "/tmp",
                    uid: 1002,
                    error: Errno::ROFS,
                },
            ),
            (
                "own_directory_symlink",
                not_ours(NotOurs::NotADirectory(Errno::LOOP)),
            ),
            ("own_directory_other_owner", not_ours(NotOurs::Owner(1001))),
            (
                "own_directory_writable_by_others",
                not_ours(NotOurs::WritableByOthers(0o040_777)),
            ),
            (
                "own_directory_unopenable",
                Problem::OwnDirectoryUnopenable {
                    own,
                    tmp_base: "/tmp",
                    error: Errno::ACCESS,
                },
            ),
            (
                "own_directory_uncheckable",
                Problem::OwnDirectoryUncheckable {
                    own,
                    tmp_base: "/tmp",
                    error: Errno::IO,
                },
            ),
            (
                "target_uncreatable",
                Problem::TargetUncreatable {
                    target: "/tmp/group-writable/rails-tmp",
                    error: Errno::NOSPC,
                    consequence: RAILS_TMP,
                },
            ),
            (
                "target_uncreatable_env",
                Problem::TargetUncreatable {
                    target: "/tmp/group-writable/bootsnap",
                    error: Errno::NOSPC,
                    consequence: Consequence::NotSet {
                        variable: "BOOTSNAP_CACHE_DIR",
                    },
                },
            ),
            (
                "target_other_owner",
                Problem::TargetNotOurs {
                    target: "/tmp/group-writable/rails-tmp",
                    why: NotOurs::Owner(1001),
                    consequence: RAILS_TMP,
                },
            ),
            (
                "target_symlink",
                Problem::TargetNotOurs {
                    target: "/tmp/group-writable/bootsnap",
                    why: NotOurs::Kind(0o120_777),
                    consequence: Consequence::NotSet {
                        variable: "BOOTSNAP_CACHE_DIR",
                    },
                },
            ),
            (
                "seed_incomplete",
                Problem::SeedIncomplete {
                    app_path: "tmp",
                    target: "/tmp/group-writable/rails-tmp",
                    failures: 2,
                    first: Path::new(
                        "/layers/cnb-utils_group-writable/redirects/seeds/rails-tmp/cache/secret",
                    ),
                    error: &denied,
                },
            ),
            (
                "output_not_open",
                Problem::OutputNotOpen {
                    toml: "TMPDIR = \"/tmp\"\nBOOTSNAP_CACHE_DIR = \"/tmp/group-writable/bootsnap\"\n",
                },
            ),
            (
                "output_failed",
                Problem::OutputFailed {
                    error: &broken_pipe,
                },
            ),
            ("panicked", Problem::Panicked),
        ];
        problems
            .into_iter()
            .map(|(name, problem)| (name, problem.to_string()))
            .collect()
    }

    fn notes() -> Vec<(&'static str, String)> {
        let report = CopyReport {
            directories: 4,
            files: 1,
            symlinks: 1,
            bytes: 12,
            failures: Vec::new(),
        };
        let seed = PathBuf::from("/layers/cnb-utils_group-writable/redirects/seeds/rails-tmp");
        let target = "/tmp/group-writable/rails-tmp";
        let notes = [
            ("note_switched_off", Note::SwitchedOff { value: "off" }),
            (
                "note_read_config",
                Note::ReadConfig {
                    path: Path::new("/layers/cnb-utils_group-writable/redirects/redirects.conf"),
                },
            ),
            (
                "note_created_own_directory",
                Note::CreatedOwnDirectory {
                    own: Path::new(OWN),
                },
            ),
            (
                "note_target_exists",
                Note::TargetExists {
                    target,
                    app_path: "tmp",
                },
            ),
            (
                "note_target_created",
                Note::TargetCreated {
                    target: "/tmp/group-writable/rails-log",
                    app_path: "log",
                },
            ),
            (
                "note_target_seeded",
                Note::TargetSeeded {
                    target,
                    app_path: "tmp",
                    report: &report,
                    seed: &seed,
                },
            ),
            ("note_already_set", Note::AlreadySet { variable: "TMPDIR" }),
            (
                "note_home_writable",
                Note::HomeWritable {
                    variable: "XDG_CACHE_HOME",
                },
            ),
            (
                "note_wrote_output",
                Note::WroteOutput {
                    toml: "TMPDIR = \"/tmp\"\nBOOTSNAP_CACHE_DIR = \"/tmp/group-writable/bootsnap\"\n",
                },
            ),
        ];
        notes
            .into_iter()
            .map(|(name, note)| (name, note.to_string()))
            .collect()
    }

    #[test]
    fn every_problem_reads_exactly_as_its_snapshot() {
        for (name, text) in problems() {
            insta::assert_snapshot!(name, text);
        }
    }

    #[test]
    fn every_note_reads_exactly_as_its_snapshot() {
        for (name, text) in notes() {
            insta::assert_snapshot!(name, text);
        }
    }

    /// A problem is one line: the helper's stderr outside debug mode is one line at most.
    #[test]
    fn every_problem_is_one_line() {
        for (name, text) in problems() {
            assert!(!text.contains('\n'), "{name}: {text}");
        }
    }

    #[test]
    fn the_line_names_the_program_and_counts_the_others() {
        assert_eq!(
            line("first", 0),
            "group-writable-redirects: first\n",
            "one problem"
        );
        assert_eq!(
            line("first", 2),
            "group-writable-redirects: first (and 2 more; BPL_GROUP_WRITABLE_DEBUG=true lists them)\n"
        );
        assert_eq!(
            debug_line("created /tmp/group-writable"),
            "group-writable-redirects: created /tmp/group-writable\n"
        );
    }
}
