//! The app patterns of one pass, compiled once: the walk matches the app directory with
//! them, and the redirect plan asks them afterwards which pattern (if any) made an app
//! path group-writable, so that it leaves that path alone.

use crate::pass::patterns::{self, Pattern, Root};
use group_writable_gitignore::matcher::{Decision, Matcher, TooComplex};
use std::path::Path;

/// The patterns addressing the app directory, compiled.
#[derive(Debug)]
pub struct AppPatterns {
    /// Every pattern of the pass: the matcher names the deciding one by its index here.
    patterns: Vec<Pattern>,
    matcher: Matcher,
}

impl AppPatterns {
    /// Compiles the app patterns of `patterns` (the whole list, in order).
    pub fn compile(patterns: &[Pattern]) -> Result<AppPatterns, TooComplex> {
        Ok(AppPatterns {
            patterns: patterns.to_vec(),
            matcher: patterns::matcher_for(patterns, Root::App)?,
        })
    }

    /// The matcher, which reports each pattern under its index in the whole list (the
    /// walk counts per pattern).
    #[must_use]
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Whether no pattern addresses the app.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.matcher.is_empty()
    }

    /// The pattern that decides the app-relative `path` on its own (not through a
    /// directory above it), if it selects it.
    #[must_use]
    pub fn selecting(&self, path: &Path, is_dir: bool) -> Option<&Pattern> {
        match self.matcher.decide(path, is_dir) {
            Decision::Matched(index) => self.patterns.get(index),
            Decision::Unmatched => None,
        }
    }

    /// Whether some pattern could select a path below the directory `path`.
    #[must_use]
    pub fn may_match_below(&self, path: &Path) -> bool {
        !self.is_empty()
            && self
                .matcher
                .may_match_below(path.as_os_str().as_encoded_bytes())
    }
}
