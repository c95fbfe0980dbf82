//! The buildpack's failures and how they are explained to the person reading the build
//! log: what happened, where, and how to fix it.

use crate::pass::PassError;
use crate::pass::walk::Problem;
use crate::redirects::install::InstallError;
use crate::redirects::plan::UnknownIds;
use crate::settings::SettingError;
use bullet_stream::Print;
use std::fmt::Write as _;

/// Every way the build can fail.
#[derive(Debug)]
pub enum GroupWritableError {
    Settings(SettingError),
    Pass(PassError),
    UnknownRedirects(UnknownIds),
    Redirect(InstallError),
}

impl From<GroupWritableError> for libcnb::Error<GroupWritableError> {
    fn from(error: GroupWritableError) -> Self {
        Self::BuildpackError(error)
    }
}

/// At most this many problems are listed one by one; the rest are counted.
const LISTED_PROBLEMS: usize = 20;

/// The message for a failure, as a headline and an explanation.
#[must_use]
pub fn message(error: &GroupWritableError) -> String {
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
    }
}

/// Prints a failure to the build log.
pub fn print(error: &libcnb::Error<GroupWritableError>) {
    let text = match error {
        libcnb::Error::BuildpackError(error) => message(error),
        other => format!(
            "group-writable could not run\n\n{other}\n\nThis comes from the build environment rather than from the app: check that the platform runs the buildpack as the CNB lifecycle does. If it persists, report it with the build log."
        ),
    };
    let _ = Print::new(std::io::stdout()).without_header().error(text);
}
