//! Probes: writes tried inside a running image, all in one container start, each
//! reported with what happened to it, so a test can say exactly which path behaved
//! unexpectedly. A probe is a POSIX shell script (busybox and bash both run it); how it
//! gets into a container is up to the test (the end-to-end platform, or libcnb-test).

use std::fmt::{self, Write as _};

/// A write the run user tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// Create a new file (which must not exist yet).
    CreateFile(&'static str),
    /// Append to an existing file (a missing one is an error, not a write).
    AppendTo(&'static str),
    /// Create a new directory.
    MakeDirectory(&'static str),
}

impl Write {
    fn path(self) -> &'static str {
        match self {
            Write::CreateFile(path) | Write::AppendTo(path) | Write::MakeDirectory(path) => path,
        }
    }

    /// The shell function of the probe script that does this write.
    fn function(self) -> &'static str {
        match self {
            Write::CreateFile(_) => "create_file",
            Write::AppendTo(_) => "append_to",
            Write::MakeDirectory(_) => "make_directory",
        }
    }
}

impl fmt::Display for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Write::CreateFile(path) => write!(f, "create file {path}"),
            Write::AppendTo(path) => write!(f, "append to {path}"),
            Write::MakeDirectory(path) => write!(f, "make directory {path}"),
        }
    }
}

/// What happened to a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Written,
    /// EACCES: the permission bits forbid it.
    PermissionDenied,
    /// EROFS: the root file system is read-only.
    ReadOnlyFileSystem,
    /// Anything else (a missing fixture path, a typo): never what a test expects.
    Failed(String),
}

/// The probe script's functions. Each prints one line: `<outcome>\t<label>\t<detail>`.
/// Busybox's messages name the errno ("Permission denied", "Read-only file system").
const PRELUDE: &str = r#"
create_file() { [ ! -e "$1" ] || { echo "$1 exists already"; return 1; }; echo probe >"$1"; }
append_to() { [ -f "$1" ] || { echo "$1 is not an existing file"; return 1; }; echo probe >>"$1"; }
make_directory() { mkdir "$1"; }
try() {
  label=$1; shift
  if detail=$( ("$@") 2>&1 ); then outcome=written
  else
    case "$detail" in
      *"Permission denied"*) outcome=permission-denied ;;
      *"Read-only file system"*) outcome=read-only ;;
      *) outcome=failed ;;
    esac
  fi
  printf '%s\t%s\t%s\n' "$outcome" "$label" "$(echo "$detail" | tr '\t\n' '  ')"
}
group_and_mode() { printf 'stat\t%s\t%s\n' "$1" "$(stat -c '%g %A' "$1" 2>&1)"; }
"#;

/// A set of writes (and of owner checks after them), run in one container.
#[derive(Default)]
pub(crate) struct Probe {
    writes: Vec<Write>,
    stats: Vec<&'static str>,
}

impl Probe {
    pub(crate) fn writes(writes: &[Write]) -> Probe {
        Probe {
            writes: writes.to_vec(),
            stats: Vec::new(),
        }
    }

    /// Also reports the group and mode of `path` after the writes.
    pub(crate) fn stat(mut self, path: &'static str) -> Probe {
        self.stats.push(path);
        self
    }

    /// The shell script that makes the writes and prints what happened. It exits 0
    /// whatever the writes do.
    pub(crate) fn script(&self) -> String {
        let mut script = PRELUDE.to_owned();
        for write in &self.writes {
            writeln!(
                script,
                "try {} {} {}",
                shell_quote(&write.to_string()),
                write.function(),
                shell_quote(write.path())
            )
            .expect("writing to a String cannot fail");
        }
        for path in &self.stats {
            writeln!(script, "group_and_mode {}", shell_quote(path))
                .expect("writing to a String cannot fail");
        }
        script
    }
}

/// What a probe printed.
pub(crate) struct Report {
    lines: Vec<String>,
}

impl Report {
    /// Reads the standard output of a probe's script.
    pub(crate) fn parse(stdout: &str) -> Report {
        Report {
            lines: stdout.lines().map(str::to_owned).collect(),
        }
    }

    fn fields(&self, kind: Option<&str>, label: &str) -> (String, String) {
        self.lines
            .iter()
            .filter_map(|line| {
                let mut fields = line.splitn(3, '\t');
                Some((fields.next()?, fields.next()?, fields.next().unwrap_or("")))
            })
            .find(|(outcome, line_label, _)| {
                *line_label == label && kind.is_none_or(|kind| kind == *outcome)
            })
            .map_or_else(
                || {
                    panic!(
                        "the probe reported nothing for {label}:\n{}",
                        self.lines.join("\n")
                    )
                },
                |(outcome, _, detail)| (outcome.to_owned(), detail.to_owned()),
            )
    }

    pub(crate) fn outcome(&self, write: Write) -> Outcome {
        let (outcome, detail) = self.fields(None, &write.to_string());
        match outcome.as_str() {
            "written" => Outcome::Written,
            "permission-denied" => Outcome::PermissionDenied,
            "read-only" => Outcome::ReadOnlyFileSystem,
            _ => Outcome::Failed(detail),
        }
    }

    /// The group id and `ls`-style mode (`drwxrwsr-x`) of a path given to [`Probe::stat`].
    pub(crate) fn group_and_mode(&self, path: &str) -> (u32, String) {
        let (_, detail) = self.fields(Some("stat"), path);
        let parsed = detail
            .split_once(' ')
            .and_then(|(gid, mode)| Some((gid.parse().ok()?, mode.to_owned())));
        parsed.unwrap_or_else(|| panic!("cannot stat {path}: {detail}"))
    }
}

/// Checks that every write had the expected outcome; the message lists every one that
/// did not, with what happened instead.
pub(crate) fn assert_outcomes(
    report: &Report,
    writes: &[Write],
    expected: &Outcome,
    context: &str,
) {
    let unexpected: Vec<String> = writes
        .iter()
        .filter_map(|write| {
            let outcome = report.outcome(*write);
            (outcome != *expected).then(|| format!("  {write}: {outcome:?}"))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{context}: expected {expected:?} for every write, but:\n{}",
        unexpected.join("\n")
    );
}

/// `text` as one word for sh.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
