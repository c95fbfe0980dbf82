//! Decides, for a path relative to a root, which pattern (if any) makes it group-writable.
//!
//! Matching is the `ignore` crate's gitignore matcher, fed the lines `git_pattern` wrote
//! for it, and for the few patterns whose bracket expressions hold non-ASCII bytes, a
//! byte-exact regular expression each (`GitPattern::byte_regex`); the last pattern of
//! either kind that matches decides, as in git. Two git rules are not properly the matcher's and are kept by the walker that
//! calls it: a path is decided top-down, and once a directory is matched its whole subtree
//! is, with nothing below re-included (`!` cannot undo an excluded parent in git).

use crate::git_pattern::{GitPattern, Token};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex_automata::meta::Regex;
use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

/// A list of patterns, ready to match paths relative to one root directory.
#[derive(Debug)]
pub struct Matcher {
    gitignore: Gitignore,
    /// The index (in the caller's pattern list) of the pattern behind each emitted line.
    /// A line emitted twice maps to its last pattern, which is the one git reports.
    pattern_of_line: HashMap<String, usize>,
    /// How deep each selecting pattern reaches, used to skip directories no pattern can
    /// match in; `None` when some pattern can match anywhere.
    reaches: Option<Vec<Reach>>,
    /// The patterns `ignore` cannot express exactly, in file order.
    byte_patterns: Vec<BytePattern>,
}

/// A pattern matched through its byte-exact regular expression.
#[derive(Debug)]
struct BytePattern {
    index: usize,
    negated: bool,
    dir_only: bool,
    regex: Regex,
}

/// The patterns of a root are more than the matcher can compile: `globset` caps the size
/// of the automaton it builds (at 10 MiB), which some thousands of wildcard patterns, or
/// one pattern of hundreds of thousands of characters, exceed within the 1 MiB file limit.
#[derive(Debug, thiserror::Error)]
#[error("too many or too complex patterns to match ({patterns} in all; {detail})")]
pub struct TooComplex {
    pub patterns: usize,
    pub detail: String,
}

/// The outcome of matching one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Made group-writable by the pattern with this index.
    Matched(usize),
    /// Not matched, or re-included by a `!` pattern.
    Unmatched,
}

impl Matcher {
    /// Builds a matcher from `(index, pattern)` pairs in file order.
    ///
    /// # Panics
    ///
    /// Never in practice: `git_pattern` only writes lines `globset` accepts, which the
    /// unit, conformance and robustness tests check. A line it rejects is a bug worth a
    /// loud failure.
    #[expect(
        clippy::panic_in_result_fn,
        reason = "a line `ignore` rejects is a bug in git_pattern, not a user's mistake"
    )]
    pub fn new<'p>(
        patterns: impl IntoIterator<Item = (usize, &'p GitPattern)>,
    ) -> Result<Self, TooComplex> {
        let mut builder = GitignoreBuilder::new("");
        let mut pattern_of_line = HashMap::new();
        let mut reaches = Some(Vec::new());
        let mut byte_patterns = Vec::new();
        let mut count = 0;
        for (index, git) in patterns {
            count += 1;
            if git.needs_byte_regex() {
                byte_patterns.push(BytePattern {
                    index,
                    negated: git.negated,
                    dir_only: git.dir_only,
                    regex: byte_regex(&git.byte_regex(), count)?,
                });
            }
            for line in git
                .ignore_lines()
                .into_iter()
                .filter(|_| !git.needs_byte_regex())
            {
                if let Err(error) = builder.add_line(None, &line) {
                    panic!("internal error: pattern written as `{line}` was rejected: {error}");
                }
                pattern_of_line.insert(line, index);
            }
            // A `!` pattern selects nothing, so it never makes a directory worth entering.
            if !git.negated {
                match (Reach::of(git), &mut reaches) {
                    (Some(reach), Some(reaches)) => reaches.push(reach),
                    (None, reaches) => *reaches = None,
                    (Some(_), None) => {}
                }
            }
        }
        // Each line was accepted on its own, so what fails here is the size of the whole.
        let gitignore = builder.build().map_err(|error| TooComplex {
            patterns: count,
            detail: error.to_string(),
        })?;
        Ok(Matcher {
            gitignore,
            pattern_of_line,
            reaches,
            byte_patterns,
        })
    }

    /// Whether there is nothing to match at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.gitignore.is_empty() && self.byte_patterns.is_empty()
    }

    /// Matches one path, given relative to the root, by itself (the caller has already
    /// found that no parent directory matched).
    #[must_use]
    pub fn decide(&self, relative_path: &Path, is_dir: bool) -> Decision {
        // The last matching line of `ignore`, as (pattern index, whether it is a `!`).
        let by_lines = match self.gitignore.matched(relative_path, is_dir) {
            ignore::Match::Ignore(glob) => self
                .pattern_of_line
                .get(glob.original())
                .map(|&index| (index, false)),
            ignore::Match::Whitelist(glob) => self
                .pattern_of_line
                .get(glob.original())
                .map(|&index| (index, true)),
            ignore::Match::None => None,
        };
        let path = relative_path.as_os_str().as_bytes();
        let by_bytes = self
            .byte_patterns
            .iter()
            .rev()
            .find(|byte| (is_dir || !byte.dir_only) && byte.regex.is_match(path))
            .map(|byte| (byte.index, byte.negated));
        match by_lines.max(by_bytes) {
            Some((index, false)) => Decision::Matched(index),
            Some((_, true)) | None => Decision::Unmatched,
        }
    }

    /// Whether any pattern could match a path strictly below this unmatched directory,
    /// given relative to the root (`a/b`). Conservative: `true` when unsure.
    #[must_use]
    pub fn may_match_below(&self, directory: &[u8]) -> bool {
        self.reaches
            .as_ref()
            .is_none_or(|reaches| reaches.iter().any(|reach| reach.goes_below(directory)))
    }
}

/// Compiles a byte-exact pattern under the size limit `globset` applies to its own.
fn byte_regex(pattern: &str, patterns: usize) -> Result<Regex, TooComplex> {
    const LIMIT: usize = 10 << 20;
    Regex::builder()
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .configure(
            Regex::config()
                .nfa_size_limit(Some(LIMIT))
                .hybrid_cache_capacity(LIMIT),
        )
        .build(pattern)
        .map_err(|error| TooComplex {
            patterns,
            detail: error.to_string(),
        })
}

/// How far down from its root a selecting path pattern can match.
#[derive(Debug)]
struct Reach {
    /// The leading components that are plain literal text.
    literal: Vec<String>,
    /// How many components the pattern has, or `None` when a `**` lets it match at any
    /// depth.
    depth: Option<usize>,
}

impl Reach {
    /// `None` for a pattern that can match anywhere (a basename pattern).
    fn of(git: &GitPattern) -> Option<Reach> {
        if !git.is_path_pattern() {
            return None;
        }
        let components: Vec<Option<String>> = git
            .components()
            .skip(usize::from(git.starts_with_slash()))
            .collect();
        let literal = components.iter().map_while(Clone::clone).collect();
        let crosses_slashes = git.tokens.iter().any(|token| {
            matches!(
                token,
                Token::DoubleStar
                    | Token::Star {
                        widens_after_prefix: true
                    }
            )
        });
        Some(Reach {
            literal,
            depth: (!crosses_slashes).then_some(components.len()),
        })
    }

    /// Whether a match can lie strictly below `directory` (relative, `a/b`).
    fn goes_below(&self, directory: &[u8]) -> bool {
        let names = directory.split(|&byte| byte == b'/');
        self.depth.is_none_or(|depth| depth > names.clone().count())
            && self
                .literal
                .iter()
                .zip(names)
                .all(|(literal, name)| literal.as_bytes() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git_pattern::Line;

    fn pattern(raw: &str) -> GitPattern {
        match Line::parse(raw) {
            Line::Pattern(git) => git,
            other => panic!("{raw:?} is {other:?}"),
        }
    }

    #[test]
    fn an_enormous_pattern_is_an_error_not_a_panic() {
        // 240 KB, within the 1 MiB file limit but beyond globset's automaton size limit.
        let git = pattern(&"a*".repeat(120_000));
        let error = Matcher::new([(0, &git)]).expect_err("too complex");
        assert_eq!(error.patterns, 1);
        assert!(
            error
                .to_string()
                .starts_with("too many or too complex patterns to match (1 in all; ")
        );
    }

    #[test]
    fn the_last_matching_pattern_decides() {
        let patterns = [pattern("*.log"), pattern("!keep.log"), pattern("b**/a")];
        let matcher = Matcher::new(patterns.iter().enumerate()).expect("small patterns");
        let decide = |path: &str| matcher.decide(Path::new(path), false);
        assert_eq!(decide("x.log"), Decision::Matched(0));
        assert_eq!(decide("keep.log"), Decision::Unmatched);
        assert_eq!(decide("ba"), Decision::Matched(2));
        assert_eq!(decide("bx/y/a"), Decision::Matched(2));
        assert_eq!(decide("other"), Decision::Unmatched);
    }

    #[test]
    fn directories_no_pattern_can_reach_below_are_skipped() {
        let patterns = [pattern("/a/b*/c"), pattern("!x")];
        let matcher = Matcher::new(patterns.iter().enumerate()).expect("small patterns");
        assert!(matcher.may_match_below(b"a"));
        assert!(matcher.may_match_below(b"a/bx"));
        assert!(!matcher.may_match_below(b"a/bx/c"));
        assert!(!matcher.may_match_below(b"b"));
        // A slash inside a class anchors without a separator: only the top level.
        let anchored = [pattern("[/a]")];
        let matcher = Matcher::new(anchored.iter().enumerate()).expect("small patterns");
        assert!(!matcher.may_match_below(b"a"));
        // `**`, widened or before `\/`, reaches any depth.
        for raw in ["a/**\\/b", "a**/b", "**/b"] {
            let git = [pattern(raw)];
            let matcher = Matcher::new(git.iter().enumerate()).expect("small pattern");
            assert!(matcher.may_match_below(b"a/x/y/z"), "{raw}");
        }
        // A basename pattern reaches everywhere.
        let basename = [pattern("c")];
        let matcher = Matcher::new(basename.iter().enumerate()).expect("small pattern");
        assert!(matcher.may_match_below(b"q/r"));
    }
}
