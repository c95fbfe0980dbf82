//! Pattern text read into patterns, each assigned to the root it addresses (the app
//! directory, or the layers root), with every check that turns bad input into an error
//! naming the source, the line and the pattern; and the matcher of one root's patterns.
//!
//! Pure: the buildpack reads the pattern file and `BP_GROUP_WRITABLE_PATHS` (its
//! `pass::patterns`), and the audit reads the patterns the label recorded, through these
//! same functions, so "named by a pattern" means the same to both.

use group_writable_gitignore::git_pattern::{GitPattern, Line, NeverMatches};
use group_writable_gitignore::matcher::{Matcher, TooComplex};
use std::fmt;
use std::path::{Component, Path};

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

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { location, text, .. } = self;
        match &self.kind {
            PatternErrorKind::ParentComponent => write!(
                f,
                "{location}: `{text}` has a `..` component. Patterns are relative to the app directory (or, starting with `/layers/`, to the layers directory) and cannot leave it. Remove the `..`."
            ),
            PatternErrorKind::OutsideRoots { first_component } => write!(
                f,
                "{location}: `{text}` is an absolute path outside the app and the layers; group-writable changes nothing else. Patterns are relative to the app directory (a leading `/` anchors them there, as in .gitignore, but the app has no `{first_component}` at its top level); paths in layers start with `/layers/`. A cache or temp directory outside the app is better moved with an environment variable such as TMPDIR or XDG_CACHE_HOME."
            ),
            PatternErrorKind::WholeRoot(Root::Layers) => write!(
                f,
                "{location}: `{text}` names the layers directory itself. Name a buildpack's layers, for example `/layers/<buildpack-id with / as _>/<layer>/`, or `/layers/**` to mean every file in every layer."
            ),
            PatternErrorKind::WholeRoot(Root::App) => write!(
                f,
                "{location}: `{text}` names the app directory itself. Name paths inside it, or write `/**` to make everything in the app group-writable."
            ),
        }
    }
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
}
