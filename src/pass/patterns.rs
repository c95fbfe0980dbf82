//! Where patterns come from (the pattern file and `BP_GROUP_WRITABLE_PATHS`), which root
//! each one addresses (the app, or the layers), and every check that turns bad input into
//! an error naming the file, the line and the pattern.
//!
//! Reading the file itself (size, type, encoding) is `read_pattern_file`; splitting text
//! into lines and lines into patterns is pure and unit-tested.

use group_writable_gitignore::git_pattern::{GitPattern, Line, NeverMatches};
use group_writable_gitignore::matcher::{Matcher, TooComplex};
use std::fmt;
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Component, Path, PathBuf};

/// The largest pattern file read. Real ones are a few lines; anything near this size is a
/// mistake (a log or a binary named by accident), and refusing it bounds memory and time.
pub const MAX_PATTERN_FILE_BYTES: u64 = 1024 * 1024;

/// Top-level directories of a Linux image. A pattern like `/etc/foo` or `/home/cnb/.cache`
/// whose first component is one of these, and which names nothing in the app, is taken as
/// an absolute path outside the app and the layers rather than as an app-anchored pattern.
const SYSTEM_ROOTS: &[&str] = &[
    "bin", "boot", "cnb", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media", "mnt",
    "opt", "platform", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var",
];

/// The literal prefix that addresses the layers root in every image.
const LAYERS_PREFIX: &str = "layers";

/// The directory a pattern is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    /// The app directory (`/workspace`).
    App,
    /// The layers root (`/layers`), the parent of every buildpack's layers directory.
    Layers,
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Root::App => "app",
            Root::Layers => "layers",
        })
    }
}

/// Where a pattern was written: a file or variable, and a 1-based line (or list item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub source: String,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.line)
    }
}

/// A pattern, validated and assigned to its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub location: Location,
    /// The line as written, for messages and the build log.
    pub text: String,
    pub root: Root,
    /// The pattern relative to its root (`/layers/x/` becomes `/x/` in the layers root).
    pub git: GitPattern,
}

/// A line that git accepts but that can never match, kept to warn about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InertLine {
    pub location: Location,
    pub text: String,
    pub reason: NeverMatches,
}

/// Every pattern from every source, in order (later patterns win, as in git).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatternList {
    pub patterns: Vec<Pattern>,
    pub inert: Vec<InertLine>,
}

/// What the checks need to know about the two roots.
pub struct RootContext<'a> {
    /// The absolute app directory (`/workspace`): a pattern may start with it.
    pub app_dir: &'a Path,
    /// The absolute layers root (`/layers`): a pattern may start with it.
    pub layers_root: &'a Path,
    /// Whether the app has a top-level entry with this name.
    pub app_has_entry: &'a dyn Fn(&str) -> bool,
}

/// A pattern that is refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pub location: Location,
    pub text: String,
    pub kind: PatternErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternErrorKind {
    /// A `..` component: patterns cannot leave their root.
    ParentComponent,
    /// An absolute path that is neither in the app nor in the layers.
    OutsideRoots { first_component: String },
    /// `/layers/` or `/workspace/` alone: the whole root.
    WholeRoot(Root),
}

/// Parses pattern text (the whole pattern file, or one variable) into patterns.
///
/// `source` names it in messages. Lines are split at `\n` (a `\r` before it is dropped, as
/// git does); a UTF-8 byte order mark at the start is skipped, as git does.
pub fn parse_pattern_text(
    source: &str,
    text: &str,
    context: &RootContext<'_>,
) -> Result<PatternList, Vec<PatternError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = text
        .split('\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line));
    parse_lines(source, lines, context)
}

/// Parses `BP_GROUP_WRITABLE_PATHS`: patterns separated by newlines or commas, each with
/// surrounding whitespace removed (write `[,]` to match a comma).
pub fn parse_pattern_list(
    source: &str,
    value: &str,
    context: &RootContext<'_>,
) -> Result<PatternList, Vec<PatternError>> {
    let items = value
        .split(['\n', ','])
        .map(str::trim)
        .enumerate()
        .map(|(index, item)| (index + 1, item));
    parse_lines(source, items, context)
}

fn parse_lines<'t>(
    source: &str,
    lines: impl Iterator<Item = (usize, &'t str)>,
    context: &RootContext<'_>,
) -> Result<PatternList, Vec<PatternError>> {
    let mut list = PatternList::default();
    let mut errors = Vec::new();
    for (line, raw) in lines {
        let location = Location {
            source: source.to_owned(),
            line,
        };
        let text = raw.strip_suffix('\r').unwrap_or(raw).to_owned();
        match Line::parse(raw) {
            Line::Nothing => {}
            Line::NeverMatches(reason) => list.inert.push(InertLine {
                location,
                text,
                reason,
            }),
            Line::Pattern(git) => match place(&git, context) {
                Ok((root, git)) => list.patterns.push(Pattern {
                    location,
                    text,
                    root,
                    git,
                }),
                Err(kind) => errors.push(PatternError {
                    location,
                    text,
                    kind,
                }),
            },
        }
    }
    if errors.is_empty() {
        Ok(list)
    } else {
        Err(errors)
    }
}

/// Decides the root of a pattern and rewrites it relative to that root.
fn place(
    git: &GitPattern,
    context: &RootContext<'_>,
) -> Result<(Root, GitPattern), PatternErrorKind> {
    let components: Vec<Option<String>> = git.components().collect();
    if components.iter().any(|c| c.as_deref() == Some("..")) {
        return Err(PatternErrorKind::ParentComponent);
    }
    if !git.starts_with_slash() {
        return Ok((Root::App, git.clone()));
    }
    // components[0] is the empty text before the leading `/`.
    let path = &components[1..];
    let literal_prefix_is = |root: &Path| -> Option<usize> {
        let root_components: Vec<&str> = root
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => name.to_str(),
                _ => None,
            })
            .collect();
        (!root_components.is_empty()
            && root_components.len() <= path.len()
            && root_components
                .iter()
                .zip(path)
                .all(|(root, pattern)| pattern.as_deref() == Some(*root)))
        .then_some(root_components.len())
    };
    // A pattern naming a root itself is refused, except that a single component the app
    // has at its top level keeps gitignore's meaning (`/layers/` is then the app's own
    // `layers` directory).
    let rebase = |root: Root, count: usize| {
        let rest = &path[count..];
        if !rest
            .iter()
            .all(|component| component.as_deref() == Some(""))
        {
            Ok(Some((root, git.without_leading_components(count))))
        } else if count == 1 && path[0].as_deref().is_some_and(context.app_has_entry) {
            Ok(None)
        } else {
            Err(PatternErrorKind::WholeRoot(root))
        }
    };
    let prefixed = if let Some(count) = literal_prefix_is(context.app_dir) {
        rebase(Root::App, count)?
    } else if path[0].as_deref() == Some(LAYERS_PREFIX) {
        rebase(Root::Layers, 1)?
    } else if let Some(count) = literal_prefix_is(context.layers_root) {
        rebase(Root::Layers, count)?
    } else {
        None
    };
    if let Some(placed) = prefixed {
        return Ok(placed);
    }
    if let Some(Some(first)) = path.first()
        && SYSTEM_ROOTS.contains(&first.as_str())
        && !(context.app_has_entry)(first)
    {
        return Err(PatternErrorKind::OutsideRoots {
            first_component: first.clone(),
        });
    }
    Ok((Root::App, git.clone()))
}

impl Pattern {
    /// For a layers pattern whose first component is literal text, the buildpack layers
    /// directory it names (`/layers/paketo-buildpacks_npm-install/...` gives
    /// `paketo-buildpacks_npm-install`).
    #[must_use]
    pub fn layers_buildpack_dir(&self) -> Option<String> {
        if self.root != Root::Layers {
            return None;
        }
        let mut components = self.git.components().skip(1);
        components.next().flatten().filter(|name| !name.is_empty())
    }

    /// Whether the pattern body has a `./` component, which git never matches (paths have
    /// no `.` components), so a warning can say how to write it instead.
    #[must_use]
    pub fn has_dot_component(&self) -> bool {
        self.git
            .components()
            .any(|component| component.as_deref() == Some("."))
    }

    /// Whether the pattern re-includes (`!`) rather than selects.
    #[must_use]
    pub fn is_negated(&self) -> bool {
        self.git.negated
    }
}

/// Why a pattern file could not be used (the messages are in `crate::messages`).
#[derive(Debug)]
pub enum PatternFileError {
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    NotAFile {
        path: PathBuf,
        kind: &'static str,
    },
    OutsideApp {
        path: PathBuf,
        target: PathBuf,
    },
    TooLarge {
        path: PathBuf,
        size: u64,
    },
    NotUtf8 {
        path: PathBuf,
        line: usize,
        byte: usize,
    },
    NulByte {
        path: PathBuf,
        line: usize,
    },
}

impl std::error::Error for PatternFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PatternFileError::Unreadable { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads the pattern file at `path` (inside `app_dir`), or `Ok(None)` when it does not
/// exist. It must be a regular file inside the app, at most 1 MiB, UTF-8 without NULs.
pub fn read_pattern_file(app_dir: &Path, path: &Path) -> Result<Option<String>, PatternFileError> {
    let unreadable = |source| PatternFileError::Unreadable {
        path: path.to_owned(),
        source,
    };
    match fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error)),
        Ok(_) => {}
    }
    // A symlink may point elsewhere in the app, but never out of it.
    let target = fs::canonicalize(path).map_err(unreadable)?;
    let app = fs::canonicalize(app_dir).map_err(unreadable)?;
    if !target.starts_with(&app) {
        return Err(PatternFileError::OutsideApp {
            path: path.to_owned(),
            target,
        });
    }
    let metadata = fs::metadata(&target).map_err(unreadable)?;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        let kind = if file_type.is_dir() {
            "a directory"
        } else if file_type.is_fifo() {
            "a named pipe"
        } else if file_type.is_socket() {
            "a socket"
        } else {
            "a device"
        };
        return Err(PatternFileError::NotAFile {
            path: path.to_owned(),
            kind,
        });
    }
    if metadata.len() > MAX_PATTERN_FILE_BYTES {
        return Err(PatternFileError::TooLarge {
            path: path.to_owned(),
            size: metadata.len(),
        });
    }
    // O_NONBLOCK: should the file be swapped for a FIFO after the check, opening it must
    // not hang the build. The read is bounded in case it grew.
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(
            (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW)
                .bits()
                .cast_signed(),
        )
        .open(&target)
        .map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_PATTERN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_PATTERN_FILE_BYTES {
        return Err(PatternFileError::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
        });
    }
    decode_pattern_bytes(path, bytes).map(Some)
}

/// Checks pattern file content for NULs and UTF-8, naming the line of the first problem.
pub fn decode_pattern_bytes(path: &Path, bytes: Vec<u8>) -> Result<String, PatternFileError> {
    // Lines are numbered from 1: the count of newline-separated pieces up to the offset.
    let line_of = |bytes: &[u8], offset: usize| bytes[..offset].split(|&b| b == b'\n').count();
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(PatternFileError::NulByte {
            path: path.to_owned(),
            line: line_of(&bytes, offset),
        });
    }
    String::from_utf8(bytes).map_err(|error| {
        let byte = error.utf8_error().valid_up_to();
        PatternFileError::NotUtf8 {
            path: path.to_owned(),
            line: line_of(error.as_bytes(), byte),
            byte,
        }
    })
}

/// The matcher of the patterns that address `root`, each reported under its index in the
/// whole list (so one list of counts serves both roots).
pub fn matcher_for(patterns: &[Pattern], root: Root) -> Result<Matcher, TooComplex> {
    Matcher::new(
        patterns
            .iter()
            .enumerate()
            .filter(|(_, pattern)| pattern.root == root)
            .map(|(index, pattern)| (index, &pattern.git)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_with(app_has_entry: &dyn Fn(&str) -> bool) -> RootContext<'_> {
        RootContext {
            app_dir: Path::new("/workspace"),
            layers_root: Path::new("/layers"),
            app_has_entry,
        }
    }

    fn parse(text: &str) -> Result<PatternList, Vec<PatternError>> {
        let has_tmp = |name: &str| name == "tmp";
        parse_pattern_text(".group-writable", text, &context_with(&has_tmp))
    }

    fn error_kinds(text: &str) -> Vec<PatternErrorKind> {
        parse(text)
            .expect_err("should be refused")
            .into_iter()
            .map(|error| error.kind)
            .collect()
    }

    fn ignore_lines(pattern: &Pattern) -> Vec<String> {
        pattern.git.ignore_lines()
    }

    #[test]
    fn comments_blank_lines_and_locations() {
        let list = parse("# comment\n\nlog/\n   \r\n*.pid\r\n").unwrap();
        let found: Vec<(usize, &str, Root)> = list
            .patterns
            .iter()
            .map(|p| (p.location.line, p.text.as_str(), p.root))
            .collect();
        assert_eq!(found, [(3, "log/", Root::App), (5, "*.pid", Root::App)]);
        assert_eq!(list.patterns[0].location.to_string(), ".group-writable:3");
        assert!(list.inert.is_empty());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let list = parse("\u{feff}log/\n").unwrap();
        assert_eq!(list.patterns[0].text, "log/");
        assert_eq!(ignore_lines(&list.patterns[0]), ["log/"]);
    }

    #[test]
    fn layers_patterns_address_the_layers_root() {
        let list =
            parse("/layers/paketo-buildpacks_npm-install/**/.cache/\n!/layers/x/keep\n").unwrap();
        assert_eq!(list.patterns[0].root, Root::Layers);
        assert_eq!(
            ignore_lines(&list.patterns[0]),
            ["/paketo-buildpacks_npm-install/**/.cache/"]
        );
        assert_eq!(
            list.patterns[0].layers_buildpack_dir().as_deref(),
            Some("paketo-buildpacks_npm-install")
        );
        assert_eq!(list.patterns[1].root, Root::Layers);
        assert_eq!(ignore_lines(&list.patterns[1]), ["!/x/keep"]);
    }

    #[test]
    fn the_app_directory_prefix_means_the_app_root() {
        let list = parse("/workspace/tmp/pids/\n").unwrap();
        assert_eq!(list.patterns[0].root, Root::App);
        assert_eq!(ignore_lines(&list.patterns[0]), ["/tmp/pids/"]);
    }

    #[test]
    fn leading_slash_anchors_in_the_app_as_in_gitignore() {
        // `tmp` exists in the app (see `parse`), so `/tmp/` is the app's tmp directory.
        let list = parse("/tmp/\n/log/\n").unwrap();
        assert!(list.patterns.iter().all(|p| p.root == Root::App));
        assert_eq!(ignore_lines(&list.patterns[1]), ["/log/"]);
    }

    #[test]
    fn parent_components_are_refused() {
        for text in ["../x", "a/../b", "/layers/x/../../etc", "!..", "a/\\.\\./b"] {
            assert_eq!(
                error_kinds(text),
                [PatternErrorKind::ParentComponent],
                "{text}"
            );
        }
        // Not a component: a name that merely starts with dots.
        assert!(parse("..hidden\na/...b\n").is_ok());
    }

    #[test]
    fn absolute_paths_outside_both_roots_are_refused() {
        let none = |_: &str| false;
        let refused = parse_pattern_text("f", "/home/cnb/.cache\n/etc/x\n", &context_with(&none))
            .unwrap_err();
        assert_eq!(refused.len(), 2);
        assert_eq!(
            refused[0].kind,
            PatternErrorKind::OutsideRoots {
                first_component: "home".into()
            }
        );
        let message = refused[0].to_string();
        assert!(message.starts_with("f:1: `/home/cnb/.cache` is an absolute path outside"));
        assert!(message.contains("/layers/"));
        // A system name that the app does have stays an app pattern.
        assert!(parse("/tmp/cache/").is_ok());
    }

    #[test]
    fn whole_roots_are_refused() {
        assert_eq!(
            error_kinds("/layers/"),
            [PatternErrorKind::WholeRoot(Root::Layers)]
        );
        assert_eq!(
            error_kinds("/workspace/"),
            [PatternErrorKind::WholeRoot(Root::App)]
        );
        assert_eq!(
            error_kinds("/workspace"),
            [PatternErrorKind::WholeRoot(Root::App)]
        );
        assert!(parse("/layers/**\n").is_ok());
        let has_layers = |name: &str| name == "layers";
        let list = parse_pattern_text("f", "/layers/\n", &context_with(&has_layers)).unwrap();
        assert_eq!(list.patterns[0].root, Root::App);
    }

    #[test]
    fn non_ascii_bracket_expressions_are_patterns() {
        // git reads `[é]` as a set of two bytes; see crates/gitignore's git_pattern.
        let list = parse("ok\nfile[é]*\n[!é]\n").unwrap();
        assert_eq!(list.patterns.len(), 3);
        assert!(list.patterns[1].git.needs_byte_regex());
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let errors = parse("../a\nfine\n/etc/x\n").unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.location.line).collect();
        assert_eq!(lines, [1, 3]);
    }

    #[test]
    fn patterns_git_never_matches_are_kept_as_inert() {
        let list = parse("[ab\nfoo\\\n!\n/\n").unwrap();
        assert!(list.patterns.is_empty());
        let reasons: Vec<NeverMatches> = list.inert.iter().map(|line| line.reason).collect();
        assert_eq!(
            reasons,
            [
                NeverMatches::UnclosedBracket,
                NeverMatches::TrailingBackslash,
                NeverMatches::Empty,
                NeverMatches::Empty
            ]
        );
    }

    #[test]
    fn the_variable_splits_at_commas_and_newlines() {
        let none = |_: &str| false;
        let list = parse_pattern_list(
            "BP_GROUP_WRITABLE_PATHS",
            "log/, tmp/pids/\n*.sqlite3,,",
            &context_with(&none),
        )
        .unwrap();
        let texts: Vec<&str> = list.patterns.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["log/", "tmp/pids/", "*.sqlite3"]);
        assert_eq!(
            list.patterns[1].location.to_string(),
            "BP_GROUP_WRITABLE_PATHS:2"
        );
    }

    #[test]
    fn dot_components_are_flagged_for_a_hint() {
        let list = parse("./log/\n").unwrap();
        assert!(list.patterns[0].has_dot_component());
    }

    #[test]
    fn file_checks() {
        let app = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let path = app.path().join(".group-writable");

        assert!(read_pattern_file(app.path(), &path).unwrap().is_none());

        fs::write(&path, "log/\n").unwrap();
        assert_eq!(
            read_pattern_file(app.path(), &path).unwrap().unwrap(),
            "log/\n"
        );

        fs::write(&path, b"log/\n\xff\n").unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NotUtf8 {
                line: 2,
                byte: 5,
                ..
            })
        ));

        fs::write(&path, b"log/\nx\0y\n").unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NulByte { line: 2, .. })
        ));

        fs::write(&path, vec![b'#'; 1024 * 1024 + 1]).unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::TooLarge {
                size: 1_048_577,
                ..
            })
        ));
        fs::write(&path, vec![b'#'; 1024 * 1024]).unwrap();
        assert!(read_pattern_file(app.path(), &path).is_ok());

        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NotAFile {
                kind: "a directory",
                ..
            })
        ));
        fs::remove_dir(&path).unwrap();

        let target = outside.path().join("patterns");
        fs::write(&target, "log/\n").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::OutsideApp { .. })
        ));
        fs::remove_file(&path).unwrap();

        fs::write(app.path().join("real"), "tmp/\n").unwrap();
        std::os::unix::fs::symlink("real", &path).unwrap();
        assert_eq!(
            read_pattern_file(app.path(), &path).unwrap().unwrap(),
            "tmp/\n"
        );
        fs::remove_file(&path).unwrap();

        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        assert!(matches!(
            read_pattern_file(app.path(), &path),
            Err(PatternFileError::NotAFile {
                kind: "a named pipe",
                ..
            })
        ));
    }
}
