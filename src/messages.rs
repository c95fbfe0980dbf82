//! Every message of the build that a person reads: the failures (what happened, where,
//! and how to fix it), the warnings, and the reasons a redirect is skipped. One place, so
//! that they read alike, and a snapshot test of each one's exact text (`snapshots/`).
//! The build log's lines are in `policy::report` (snapshot-tested there); the exec.d
//! helper's, which run at launch, in the launch crate's `messages` (snapshot-tested
//! there); a refused pattern's, which the audit shows too, in the policy crate's
//! `patterns` (snapshot-tested here, through the build's failure).

use crate::error::GroupWritableError;
use crate::pass::PassError;
use crate::pass::patterns::{InertLine, MAX_PATTERN_FILE_BYTES, Pattern, PatternFileError, Root};
use crate::pass::walk::Problem;
use crate::redirects::catalog;
use crate::redirects::install::InstallError;
use crate::redirects::plan::UnknownIds;
use crate::redirects::{SEED_WARNING_BYTES, Skip};
use crate::settings::{self, SettingError};
use rustix::io::Errno;
use std::fmt::{self, Write as _};
use std::path::Path;

/// At most this many problems are listed one by one; the rest are counted.
const LISTED_PROBLEMS: usize = 20;

/// The message for a failure of the build, as a headline and an explanation.
#[must_use]
pub fn failure(error: &GroupWritableError) -> String {
    match error {
        GroupWritableError::Settings(error) => format!(
            "Invalid group-writable setting\n\n{error}\n\nChange or unset the variable (for example `pack build --env`) and build again."
        ),
        GroupWritableError::UnknownRedirects(error) => format!(
            "Unknown redirect in BP_GROUP_WRITABLE_REDIRECTS\n\n{error}\n\nSet it to `auto` (the default), `off`, or a comma-separated list of these ids, and build again."
        ),
        GroupWritableError::Redirect(error) => format!(
            "Cannot redirect a run-time path to the tmp base\n\n{error}.\n\nThe build user must be able to move what the build left at this path (its files must belong to the build user, which owns everything the build creates). Fix the ownership, or leave the entry out with BP_GROUP_WRITABLE_REDIRECTS (a list of the entries to apply, or `off`), and build again."
        ),
        GroupWritableError::HelperSbom { path, error } => format!(
            "The group-writable buildpack is incomplete\n\nCannot read the exec.d helper's SBOM {} ({error}).\n\nThe buildpack's files must be as `bin/package` writes them (each target's directory holds `{}`): package it again, or use a released buildpackage.",
            path.display(),
            crate::sbom::HELPER_SBOM
        ),
        GroupWritableError::Pass(PassError::PatternFile(error)) => format!(
            "Cannot use the group-writable pattern file\n\n{error}.\n\nThe pattern file is a UTF-8 text file of gitignore-style patterns in the app directory, at most 1 MiB. Fix or remove it and build again."
        ),
        GroupWritableError::Pass(error @ PassError::MissingPatternFile { .. }) => format!(
            "group-writable pattern file not found\n\n{error}\n\nCreate the file, or unset BP_GROUP_WRITABLE_FILE to use `.group-writable` in the app directory."
        ),
        GroupWritableError::Pass(PassError::Patterns(errors)) => {
            let mut text = String::from("Invalid group-writable patterns\n\n");
            for error in errors {
                let _ = writeln!(text, "{error}");
            }
            text.push_str("\nFix these lines and build again.");
            text
        }
        GroupWritableError::Pass(error @ PassError::PathsTooLarge { .. }) => format!(
            "Cannot use {}\n\n{error}\n\nPut the patterns in the pattern file (`.group-writable` in the app directory) instead, or shorten the variable, and build again.",
            settings::PATHS
        ),
        GroupWritableError::Pass(error @ PassError::RootUnreadable { .. }) => format!(
            "Cannot read a directory to make paths group-writable\n\n{error}\n\nThis is unexpected for the app or layers directory; check the platform's setup."
        ),
        GroupWritableError::Pass(error @ PassError::TooComplex { .. }) => format!(
            "Too many group-writable patterns\n\n{error}\n\nUse fewer, shorter patterns: one pattern with a wildcard usually replaces many (`/tmp/**` rather than a line per file), and a directory pattern (`log/`) covers everything in it."
        ),
        GroupWritableError::Pass(PassError::Problems { problems, user }) => {
            let mut text = String::from("Cannot make every matched path group-writable\n\n");
            for (root, problem) in problems.iter().take(LISTED_PROBLEMS) {
                let _ = writeln!(text, "{}", describe_problem(root, problem, user.uid));
            }
            if problems.len() > LISTED_PROBLEMS {
                let _ = writeln!(text, "... and {} more.", problems.len() - LISTED_PROBLEMS);
            }
            if problems
                .iter()
                .any(|(_, problem)| matches!(problem, Problem::NotOwner { .. }))
            {
                let _ = write!(
                    text,
                    "\nOnly a file's owner may change its mode, and every buildpack runs as the build user (uid {}). Make these files belong to the build user (files the build creates do), or exclude them with a `!` pattern if they need not be writable.",
                    user.uid
                );
            } else {
                text.push_str(
                    "\nMake the directories readable by their owner (`chmod u+rx`), or exclude them with a `!` pattern.",
                );
            }
            text
        }
    }
}

fn describe_problem(root: &std::path::Path, problem: &Problem, build_uid: u32) -> String {
    match problem {
        Problem::NotOwner { path, owner, mode } => format!(
            "- {} (mode {mode:04o}) belongs to uid {owner}, not to the build user (uid {build_uid}).",
            root.join(path).display()
        ),
        Problem::Unreadable { path, error, .. } => format!(
            "- {} is matched, but it cannot be read ({error}), so what is inside would stay read-only.",
            root.join(path).display()
        ),
        Problem::Failed {
            path,
            operation,
            error,
        } => format!(
            "- {}: {operation} failed: {error}.",
            root.join(path).display()
        ),
        // A warning, never part of a failure; described for completeness.
        Problem::NotMadeReadOnly { path, error } => not_made_read_only(&root.join(path), *error),
    }
}

/// The warning for an entry `BP_GROUP_WRITABLE_READ_ONLY` could not make read-only.
#[must_use]
pub fn not_made_read_only(path: &Path, error: Errno) -> String {
    format!(
        "Could not make {} read-only for group and other ({error}), so it stays writable: {} is on, but the build user may only change the modes of what it owns.",
        path.display(),
        settings::READ_ONLY
    )
}

/// The log line for a layer a pattern addresses that the lifecycle reuses from the
/// previous image: it is not on disk, and keeps the modes it got when it was built.
#[must_use]
pub fn reused_layer(layer: &Path, pattern: &Pattern, recorded: bool) -> String {
    let Pattern { text, location, .. } = pattern;
    let record = if recorded {
        "the label records the figures of the build that made it"
    } else {
        "no earlier build recorded its figures (the build cache was empty), so the label counts nothing in it"
    };
    format!(
        "{} (addressed by `{text}`, {location}) is reused from the previous image: its buildpack kept it without rebuilding it, so it is not on disk and keeps the modes it got when it was built; {record}.",
        layer.display()
    )
}

/// The log line for a layer the walk found just as the previous build left it (by its
/// fingerprint), when earlier builds changed modes in it.
#[must_use]
pub fn restored_layer(layer: &Path) -> String {
    format!(
        "{} is as the previous build left it: the same entries, with the modes that build gave them (as when the lifecycle restores a cached layer). The label keeps what earlier builds changed in it.",
        layer.display()
    )
}

/// The warning for a pattern that makes executable code writable by the run user.
#[must_use]
pub fn writable_code(path: &Path, why: &str, pattern: &Pattern) -> String {
    let Pattern { text, location, .. } = pattern;
    format!(
        "`{text}` ({location}) makes {} group-writable: {why}. The run user could change it, and the next start would run what it wrote. Narrow the pattern to the data the app writes.",
        path.display()
    )
}

/// The warning for a selecting pattern that matched nothing, with the likeliest reason.
#[must_use]
pub fn nothing_matched(pattern: &Pattern, app_dir: &Path, layers_root: &Path) -> String {
    let Pattern { text, location, .. } = pattern;
    if let Some(buildpack) = pattern.layers_buildpack_dir()
        && !layers_root.join(&buildpack).is_dir()
    {
        return format!(
            "`{text}` ({location}) matches nothing: there is no {}. group-writable can only change layers that exist when it runs, so it must come after the buildpack that creates them (last in the order); a launch layer restored unchanged from the previous image is not on disk either.",
            layers_root.join(&buildpack).display()
        );
    }
    let hint = if pattern.has_dot_component() {
        " In gitignore syntax `./` never matches; anchor a pattern to the app directory with a leading `/` instead."
    } else {
        ""
    };
    let root = match pattern.root {
        Root::App => app_dir,
        Root::Layers => layers_root,
    };
    format!(
        "`{text}` ({location}) matches nothing in {}.{hint} Only paths that exist when group-writable runs can be changed.",
        root.display()
    )
}

/// The warning for a line git accepts but that can never match.
#[must_use]
pub fn never_matches(inert: &InertLine) -> String {
    format!(
        "`{}` ({}) never matches anything: {}.",
        inert.text,
        inert.location,
        inert.reason.explanation()
    )
}

/// The warning for hard links in a redirected path's build content, copied into the seed.
#[must_use]
pub fn copied_hard_links(app_path: &str, count: u64) -> String {
    format!(
        "{app_path}/ held {count} hard {} to files that also have other names (possibly outside the app). Their modes are never changed: the seed holds a copy of each instead, so the other names keep their own modes and stay apart from the run-time copy.",
        if count == 1 { "link" } else { "links" }
    )
}

/// The warning for a directory the walk could not read, where nothing was matched.
#[must_use]
pub fn unreadable_directory(path: &Path, error: Errno) -> String {
    format!(
        "Could not read the directory {} ({error}), so no pattern can match inside it.",
        path.display()
    )
}

/// The warning when the seeds of one image exceed [`SEED_WARNING_BYTES`], naming them
/// (id, bytes), largest first.
#[must_use]
pub fn oversized_seeds(seeds: &[(&str, u64)]) -> String {
    let total: u64 = seeds.iter().map(|(_, bytes)| bytes).sum();
    let named: Vec<String> = seeds
        .iter()
        .map(|(id, bytes)| format!("`{id}` {}", mebibytes(*bytes)))
        .collect();
    format!(
        "The seeds come to {} ({}), more than {}: every start copies them into the tmp base, usually a tmpfs whose pages count against the container's memory limit. Leave build caches out of those directories (or delete them at the end of the build), or name the redirects to keep in BP_GROUP_WRITABLE_REDIRECTS.",
        mebibytes(total),
        named.join(", "),
        mebibytes(SEED_WARNING_BYTES)
    )
}

fn mebibytes(bytes: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size for people, to 0.1 MiB")]
    let mib = bytes as f64 / (1024.0 * 1024.0);
    format!("{mib:.1} MiB")
}

/// The hint when the app holds database files (app-relative paths): on a read-only root
/// they cannot be written, and on a writable one every write is lost with the container.
#[must_use]
pub fn data_files(files: &[String]) -> String {
    let quoted: Vec<String> = files.iter().map(|file| format!("`{file}`")).collect();
    format!(
        "The app holds {} {}: a database is data that must outlive the container, not a cache, so no redirect moves it. On a read-only root it cannot be written; give it a volume (and point the app at it, e.g. Django's DATABASES NAME or Rails' config/database.yml) or use a database server.",
        if files.len() == 1 {
            "the database file"
        } else {
            "the database files"
        },
        quoted.join(", ")
    )
}

/// A failure of libcnb itself (reading the platform, writing a layer, ...).
#[must_use]
pub fn libcnb_failure(error: &libcnb::Error<GroupWritableError>) -> String {
    format!(
        "group-writable could not run\n\n{error}\n\nThis comes from the build environment rather than from the app: check that the platform runs the buildpack as the CNB lifecycle does. If it persists, report it with the build log."
    )
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is set to `{}`, but it must be {}.",
            self.variable, self.value, self.expected
        )
    }
}

impl fmt::Display for PassError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassError::PatternFile(error) => write!(f, "{error}"),
            PassError::MissingPatternFile { path } => write!(
                f,
                "{} names {}, which does not exist.",
                settings::FILE,
                path.display()
            ),
            PassError::Patterns(errors) => {
                for error in errors {
                    writeln!(f, "{error}")?;
                }
                Ok(())
            }
            PassError::PathsTooLarge { size } => write!(
                f,
                "{} is {size} bytes; like the pattern file, it is limited to {MAX_PATTERN_FILE_BYTES} bytes (1 MiB).",
                settings::PATHS
            ),
            PassError::RootUnreadable { path, error } => {
                write!(f, "Could not open {}: {error}.", path.display())
            }
            PassError::TooComplex { root, error } => {
                write!(
                    f,
                    "The patterns for the {root} directory cannot be used: {error}."
                )
            }
            PassError::Problems { problems, .. } => write!(
                f,
                "{} matched paths could not be made group-writable.",
                problems.len()
            ),
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::EcosystemAbsent => f.write_str("none of its marker files is in the app"),
            Skip::Missing => f.write_str("the app has no such directory"),
            Skip::ParentMissing => f.write_str("its parent directory does not exist"),
            Skip::Blocked {
                ancestor,
                symlink: true,
            } => write!(
                f,
                "`{ancestor}` is a symlink that leads out of the app directory and the layers root, so the path is not the app's to replace"
            ),
            Skip::Blocked {
                ancestor,
                symlink: false,
            } => write!(f, "`{ancestor}` is not a directory"),
            Skip::OtherSymlink { target } => write!(
                f,
                "it is already a symlink (to {}), so something else redirected it",
                target.display()
            ),
            Skip::NotADirectory => f.write_str("it is not a directory"),
            Skip::Protected { pattern } => {
                write!(f, "left alone: {pattern} makes it group-writable")
            }
            Skip::DefaultRedirected { default, by, path } => write!(
                f,
                "not needed: the default, `{default}`, lies in `{path}/`, which `{by}` makes writable at launch, seeded with what the build left there"
            ),
            Skip::HashBasedBytecode => f.write_str(
                "not needed: the build's Python bytecode is hash-based (PEP 552), valid whatever the mtimes; a prefix would make Python ignore it, and the run image's own, and compile every module again into the tmp base (name `python-pycache` in BP_GROUP_WRITABLE_REDIRECTS to set it anyway)",
            ),
        }
    }
}

impl fmt::Display for UnknownIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted: Vec<String> = self.0.iter().map(|id| format!("`{id}`")).collect();
        write!(
            f,
            "BP_GROUP_WRITABLE_REDIRECTS names {} {}, which the redirect catalog does not have. The catalog's ids are: {}.",
            if self.0.len() == 1 {
                "the id"
            } else {
                "the ids"
            },
            quoted.join(", "),
            catalog::ids()
        )
    }
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redirect `{}`: could not {} {}: {}",
            self.id,
            self.action,
            self.path.display(),
            self.error
        )
    }
}

impl fmt::Display for PatternFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternFileError::Unreadable { path, source } => {
                write!(f, "{} could not be read: {source}", path.display())
            }
            PatternFileError::NotAFile { path, kind } => {
                write!(f, "{} is not a regular file (it is {kind})", path.display())
            }
            PatternFileError::OutsideApp { path, target } => write!(
                f,
                "{} resolves to {}, which is outside the app directory",
                path.display(),
                target.display()
            ),
            PatternFileError::TooLarge { path, size } => write!(
                f,
                "{} is {size} bytes; pattern files are limited to {MAX_PATTERN_FILE_BYTES} bytes (1 MiB)",
                path.display()
            ),
            PatternFileError::NotUtf8 { path, line, byte } => write!(
                f,
                "{} line {line} is not valid UTF-8 (at byte {byte} of the file)",
                path.display()
            ),
            PatternFileError::NulByte { path, line } => write!(
                f,
                "{} line {line} contains a NUL byte; is it a binary file?",
                path.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::patterns::{RootContext, parse_pattern_text};
    use crate::pass::walk::BuildUser;
    use crate::settings::Settings;
    use group_writable_gitignore::matcher::TooComplex;
    use std::path::PathBuf;

    fn context() -> RootContext<'static> {
        RootContext {
            app_dir: Path::new("/workspace"),
            layers_root: Path::new("/layers"),
            app_has_entry: &|name| name == "tmp",
        }
    }

    fn pass(error: PassError) -> String {
        failure(&GroupWritableError::Pass(error))
    }

    fn file_error(error: PatternFileError) -> String {
        pass(PassError::PatternFile(error))
    }

    fn pattern(text: &str) -> Pattern {
        parse_pattern_text(".group-writable", text, &context())
            .unwrap()
            .patterns
            .remove(0)
    }

    fn user() -> BuildUser {
        BuildUser {
            uid: 1001,
            gid: 1000,
            groups: vec![1000],
        }
    }

    /// Every message, named; each is one snapshot in `snapshots/`.
    #[expect(
        clippy::too_many_lines,
        reason = "one entry per message: a list, not logic"
    )]
    fn messages() -> Vec<(&'static str, String)> {
        let path = PathBuf::from("/workspace/.group-writable");
        let lookup = |name: &str| (name == "BP_GROUP_WRITABLE_TMP").then(|| "/tmp/x y".to_owned());
        let setting = Settings::read(lookup, Path::new("/workspace")).unwrap_err();
        let pattern_errors = parse_pattern_text(
            ".group-writable",
            "../up\n/etc/passwd\n/layers/\n/workspace/\n",
            &context(),
        )
        .unwrap_err();
        let inert = parse_pattern_text(".group-writable", "a\\\n[abc\n", &context())
            .unwrap()
            .inert;
        let not_owner = Problem::NotOwner {
            path: PathBuf::from("log/app.log"),
            owner: 0,
            mode: 0o644,
        };
        let unreadable = Problem::Unreadable {
            path: PathBuf::from("tmp/cache"),
            error: Errno::ACCESS,
            matched: true,
        };
        let failed = Problem::Failed {
            path: PathBuf::from("tmp/x"),
            operation: "chmod",
            error: Errno::ROFS,
        };
        let many: Vec<(PathBuf, Problem)> = (0..22)
            .map(|index| {
                (
                    PathBuf::from("/workspace"),
                    Problem::NotOwner {
                        path: PathBuf::from(format!("log/{index}.log")),
                        owner: 0,
                        mode: 0o644,
                    },
                )
            })
            .collect();
        vec![
            ("setting", failure(&GroupWritableError::Settings(setting))),
            (
                "unknown_redirects",
                failure(&GroupWritableError::UnknownRedirects(UnknownIds(vec![
                    "rails".to_owned(),
                ]))),
            ),
            (
                "redirect",
                failure(&GroupWritableError::Redirect(InstallError {
                    id: "rails-tmp",
                    path: PathBuf::from("/workspace/tmp"),
                    action: "move the build's content out of",
                    error: std::io::Error::from_raw_os_error(13),
                })),
            ),
            (
                "pattern_file_unreadable",
                file_error(PatternFileError::Unreadable {
                    path: path.clone(),
                    source: std::io::Error::from_raw_os_error(13),
                }),
            ),
            (
                "pattern_file_not_a_file",
                file_error(PatternFileError::NotAFile {
                    path: path.clone(),
                    kind: "a FIFO",
                }),
            ),
            (
                "pattern_file_outside_app",
                file_error(PatternFileError::OutsideApp {
                    path: path.clone(),
                    target: PathBuf::from("/etc/passwd"),
                }),
            ),
            (
                "paths_too_large",
                pass(PassError::PathsTooLarge {
                    size: MAX_PATTERN_FILE_BYTES + 1,
                }),
            ),
            (
                "pattern_file_too_large",
                file_error(PatternFileError::TooLarge {
                    path: path.clone(),
                    size: MAX_PATTERN_FILE_BYTES + 1,
                }),
            ),
            (
                "pattern_file_not_utf8",
                file_error(PatternFileError::NotUtf8 {
                    path: path.clone(),
                    line: 3,
                    byte: 17,
                }),
            ),
            (
                "pattern_file_nul_byte",
                file_error(PatternFileError::NulByte {
                    path: path.clone(),
                    line: 2,
                }),
            ),
            (
                "missing_pattern_file",
                pass(PassError::MissingPatternFile {
                    path: PathBuf::from("/workspace/config/writable"),
                }),
            ),
            ("patterns", pass(PassError::Patterns(pattern_errors))),
            (
                "root_unreadable",
                pass(PassError::RootUnreadable {
                    path: PathBuf::from("/layers"),
                    error: Errno::ACCESS,
                }),
            ),
            (
                "too_complex",
                pass(PassError::TooComplex {
                    root: Root::App,
                    error: TooComplex {
                        patterns: 5000,
                        detail: "compiled regex exceeds size limit".to_owned(),
                    },
                }),
            ),
            (
                "problems",
                pass(PassError::Problems {
                    problems: vec![
                        (PathBuf::from("/workspace"), not_owner),
                        (PathBuf::from("/workspace"), unreadable),
                        (PathBuf::from("/workspace"), failed),
                    ],
                    user: user(),
                }),
            ),
            (
                "problems_unreadable_only",
                pass(PassError::Problems {
                    problems: vec![(
                        PathBuf::from("/workspace"),
                        Problem::Unreadable {
                            path: PathBuf::from("tmp/cache"),
                            error: Errno::ACCESS,
                            matched: true,
                        },
                    )],
                    user: user(),
                }),
            ),
            (
                "problems_many",
                pass(PassError::Problems {
                    problems: many,
                    user: user(),
                }),
            ),
            (
                "helper_sbom",
                failure(&GroupWritableError::HelperSbom {
                    path: PathBuf::from("/cnb/buildpacks/cnb-utils_group-writable/0.1.0")
                        .join(crate::sbom::HELPER_SBOM),
                    error: std::io::Error::from(std::io::ErrorKind::NotFound),
                }),
            ),
            (
                "libcnb_failure",
                libcnb_failure(&libcnb::Error::CannotDetermineTargetOs(
                    std::env::VarError::NotPresent,
                )),
            ),
            ("copied_hard_links", copied_hard_links("log", 2)),
            (
                "never_matches",
                inert
                    .iter()
                    .map(never_matches)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            (
                "unreadable_directory",
                unreadable_directory(Path::new("/workspace/private"), Errno::ACCESS),
            ),
            (
                "nothing_matched",
                nothing_matched(
                    &pattern("/log/\n"),
                    Path::new("/workspace"),
                    Path::new("/layers"),
                ),
            ),
            (
                "nothing_matched_dot",
                nothing_matched(
                    &pattern("./log/\n"),
                    Path::new("/workspace"),
                    Path::new("/layers"),
                ),
            ),
            (
                "nothing_matched_missing_layer",
                nothing_matched(
                    &pattern("/layers/paketo-buildpacks_node-engine/node/\n"),
                    Path::new("/nonexistent-workspace"),
                    Path::new("/nonexistent-layers"),
                ),
            ),
            (
                "not_made_read_only",
                not_made_read_only(Path::new("/workspace/shared"), Errno::PERM),
            ),
            (
                "reused_layer",
                reused_layer(
                    Path::new("/layers/paketo-buildpacks_ca-certificates/ca-certificates"),
                    &pattern("/layers/paketo-buildpacks_ca-certificates/**\n"),
                    true,
                ),
            ),
            (
                "reused_layer_unrecorded",
                reused_layer(
                    Path::new("/layers/paketo-buildpacks_ca-certificates/ca-certificates"),
                    &pattern("/layers/paketo-buildpacks_ca-certificates/**\n"),
                    false,
                ),
            ),
            (
                "restored_layer",
                restored_layer(Path::new("/layers/paketo-buildpacks_node-engine/node")),
            ),
            (
                "writable_code",
                writable_code(
                    Path::new(
                        "/layers/paketo-buildpacks_ca-certificates/helper/exec.d/ca-certificates-helper",
                    ),
                    "an exec.d program: the launcher runs it at every start",
                    &pattern("/layers/paketo-buildpacks_ca-certificates/**\n"),
                ),
            ),
            ("skip_ecosystem_absent", Skip::EcosystemAbsent.to_string()),
            ("skip_missing", Skip::Missing.to_string()),
            ("skip_parent_missing", Skip::ParentMissing.to_string()),
            (
                "skip_blocked_symlink",
                Skip::Blocked {
                    ancestor: "node_modules".to_owned(),
                    symlink: true,
                }
                .to_string(),
            ),
            (
                "skip_blocked",
                Skip::Blocked {
                    ancestor: "storage".to_owned(),
                    symlink: false,
                }
                .to_string(),
            ),
            (
                "skip_other_symlink",
                Skip::OtherSymlink {
                    target: PathBuf::from("/elsewhere"),
                }
                .to_string(),
            ),
            ("skip_not_a_directory", Skip::NotADirectory.to_string()),
            (
                "oversized_seeds",
                oversized_seeds(&[("rails-tmp", 70 * 1024 * 1024), ("rails-log", 1_048_576)]),
            ),
            ("data_files", data_files(&["db.sqlite3".to_owned()])),
            (
                "data_files_many",
                data_files(&["db.sqlite3".to_owned(), "db/production.sqlite3".to_owned()]),
            ),
            (
                "skip_default_redirected",
                Skip::DefaultRedirected {
                    default: "tmp/cache",
                    by: "rails-tmp",
                    path: "tmp",
                }
                .to_string(),
            ),
            (
                "skip_hash_based_bytecode",
                Skip::HashBasedBytecode.to_string(),
            ),
            (
                "skip_protected",
                Skip::Protected {
                    pattern: "`tmp/` (.group-writable:1)".to_owned(),
                }
                .to_string(),
            ),
        ]
    }

    #[test]
    fn every_message_reads_exactly_as_its_snapshot() {
        for (name, text) in messages() {
            insta::assert_snapshot!(name, text);
        }
    }

    #[test]
    fn the_catalog_ids_in_the_unknown_redirects_message_are_the_catalog_s() {
        let text = UnknownIds(vec!["x".to_owned()]).to_string();
        assert!(text.ends_with(&format!("{}.", catalog::ids())), "{text}");
    }
}
