//! Decides, for a path relative to a root, which pattern (if any) makes it group-writable.
//!
//! Matching is the `ignore` crate's gitignore matcher, fed the lines `git_pattern` wrote
//! for it. Two git rules are not properly the matcher's and are kept by the walker that
//! calls it: a path is decided top-down, and once a directory is matched its whole subtree
//! is, with nothing below re-included (`!` cannot undo an excluded parent in git).

use crate::git_pattern::{GitPattern, Token};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::HashMap;
use std::path::Path;

/// The patterns of one root, ready to match.
pub struct RootMatcher {
    gitignore: Gitignore,
    /// The index (in the caller's pattern list) of the pattern behind each emitted line.
    /// A line emitted twice maps to its last pattern, which is the one git reports.
    pattern_of_line: HashMap<String, usize>,
    /// How deep each selecting pattern reaches, used to skip directories no pattern can
    /// match in; `None` when some pattern can match anywhere.
    reaches: Option<Vec<Reach>>,
}

/// The outcome of matching one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Made group-writable by the pattern with this index.
    Matched(usize),
    /// Not matched, or re-included by a `!` pattern.
    Unmatched,
}

impl RootMatcher {
    /// Builds a matcher from `(index, pattern)` pairs in file order.
    ///
    /// # Panics
    ///
    /// Never in practice: `git_pattern` only writes lines `globset` accepts, which the
    /// unit and conformance tests check. A line it rejects is a bug worth a loud failure.
    #[must_use]
    pub fn new<'p>(patterns: impl IntoIterator<Item = (usize, &'p GitPattern)>) -> Self {
        let mut builder = GitignoreBuilder::new("");
        let mut pattern_of_line = HashMap::new();
        let mut reaches = Some(Vec::new());
        for (index, git) in patterns {
            for line in git.ignore_lines() {
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
        let gitignore = builder
            .build()
            .unwrap_or_else(|error| panic!("internal error: pattern set rejected: {error}"));
        RootMatcher {
            gitignore,
            pattern_of_line,
            reaches,
        }
    }

    /// Whether there is nothing to match at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.gitignore.is_empty()
    }

    /// Matches one path, given relative to the root, by itself (the caller has already
    /// found that no parent directory matched).
    #[must_use]
    pub fn decide(&self, relative_path: &Path, is_dir: bool) -> Decision {
        match self.gitignore.matched(relative_path, is_dir) {
            ignore::Match::Ignore(glob) => self
                .pattern_of_line
                .get(glob.original())
                .map_or(Decision::Unmatched, |&index| Decision::Matched(index)),
            ignore::Match::Whitelist(_) | ignore::Match::None => Decision::Unmatched,
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
