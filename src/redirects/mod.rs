//! The redirects: well-known run-time writes of frameworks, moved to the tmp base.
//!
//! - [`catalog`]: the data table of well-known run-time writes;
//! - [`plan`]: which catalog entries apply to an app (pure), asking [`probe`] about the
//!   app directory;
//! - [`install`]: seeds, symlinks and the helper configuration, at build.
//!
//! At launch, the exec.d helper (crate `group-writable-launch`) reads what [`install`]
//! wrote, through the contract module both sides import.

pub mod catalog;
pub mod install;
pub mod plan;
pub mod probe;
pub mod seed;

use catalog::Entry;
use std::path::PathBuf;

/// One catalog entry, decided for one app: the one record of a redirect. [`plan`] makes
/// it (`Redirection<Existing>`: what is at the path, so what to do), [`install`] carries
/// it out (`Redirection<BuildContent>`: what became of the build's content), and the
/// build log and the image label both read that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirection<C> {
    pub entry: &'static Entry,
    /// Named in `BP_GROUP_WRITABLE_REDIRECTS` (rather than applied by `auto`).
    pub requested: bool,
    pub outcome: Outcome<C>,
}

/// A redirect as planned.
pub type Planned = Redirection<Existing>;
/// A redirect as installed.
pub type Applied = Redirection<BuildContent>;

/// What a redirect does. The variable or path comes from the catalog entry: an env
/// outcome only exists for an env entry, a path outcome for a path entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<C> {
    /// Set `variable` at launch to the directory `value` (the tmp base, or the redirect's
    /// own directory under it), unless it is set (or, with `unless_home_writable`, unless
    /// `$HOME` is writable).
    Env {
        variable: &'static str,
        value: String,
        unless_home_writable: bool,
    },
    /// Replace the app-relative `path` by a symlink to `target`.
    Path {
        path: &'static str,
        target: String,
        content: C,
    },
    /// Set the PHP ini `directive` to `value` in the helper layer's ini file, whose
    /// directory goes first in `PHP_INI_SCAN_DIR` at launch.
    PhpIni {
        directive: &'static str,
        value: String,
    },
    /// Not applied, and why.
    Skipped(Skip),
}

impl<C> Outcome<C> {
    #[must_use]
    pub fn is_applied(&self) -> bool {
        !matches!(self, Outcome::Skipped(_))
    }

    /// The app-relative path a path redirect replaces with a symlink.
    #[must_use]
    pub fn replaced_path(&self) -> Option<&'static str> {
        match self {
            Outcome::Path { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The same outcome with a path redirect's content replaced by `content(path, target,
    /// old content)`.
    pub fn try_map_content<D, E>(
        self,
        content: impl FnOnce(&'static str, &str, C) -> Result<D, E>,
    ) -> Result<Outcome<D>, E> {
        Ok(match self {
            Outcome::Env {
                variable,
                value,
                unless_home_writable,
            } => Outcome::Env {
                variable,
                value,
                unless_home_writable,
            },
            Outcome::Path {
                path,
                target,
                content: old,
            } => Outcome::Path {
                content: content(path, &target, old)?,
                path,
                target,
            },
            Outcome::PhpIni { directive, value } => Outcome::PhpIni { directive, value },
            Outcome::Skipped(skip) => Outcome::Skipped(skip),
        })
    }
}

impl Planned {
    /// The redirect when nothing is installed (every redirect of the plan is skipped).
    #[must_use]
    pub fn not_installed(self) -> Applied {
        let outcome: Result<_, std::convert::Infallible> = self
            .outcome
            .try_map_content(|_, _, _| Ok(BuildContent::None));
        Redirection {
            entry: self.entry,
            requested: self.requested,
            outcome: match outcome {
                Ok(outcome) => outcome,
                Err(never) => match never {},
            },
        }
    }
}

/// What is at a path redirect's app path at build, so what [`install`] does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// A directory whose content becomes the seed.
    Seed,
    /// A directory whose content is dropped (a build cache).
    Drop,
    /// Nothing; missing parents are created for the symlink.
    Nothing,
    /// Already a symlink to the target (the build ran twice over the same app directory).
    Linked,
}

/// The seeds of one image above this many bytes get a warning in the build log: every
/// seed is copied into the tmp base (a tmpfs, whose pages count against the container's
/// memory limit) at every start.
pub const SEED_WARNING_BYTES: u64 = 64 * 1024 * 1024;

/// The seeded redirects (id, bytes), largest first, when together they exceed
/// [`SEED_WARNING_BYTES`].
#[must_use]
pub fn oversized_seeds(redirects: &[Applied]) -> Option<Vec<(&'static str, u64)>> {
    let mut seeds: Vec<(&'static str, u64)> = redirects
        .iter()
        .filter_map(|redirect| match redirect.outcome {
            Outcome::Path {
                content: BuildContent::Seeded { bytes, .. },
                ..
            } => Some((redirect.entry.id, bytes)),
            _ => None,
        })
        .collect();
    let total: u64 = seeds.iter().map(|(_, bytes)| bytes).sum();
    (total > SEED_WARNING_BYTES).then(|| {
        seeds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        seeds
    })
}

/// What became of the build's content at a path redirect's app path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildContent {
    /// Kept as the seed, copied into the target at launch.
    /// (`directories` below the app path, which is not counted.)
    Seeded {
        files: u64,
        directories: u64,
        bytes: u64,
        /// Files that had other hard links: copied into the seed, never changed.
        copied_hard_links: u64,
    },
    /// A build cache, dropped.
    Dropped,
    /// There was none (no directory, or an empty one).
    None,
    /// Already linked by an earlier build over the same app directory.
    Linked,
}

/// Why an entry does not apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// None of its marker files exists.
    EcosystemAbsent,
    Missing,
    ParentMissing,
    Blocked {
        ancestor: String,
        symlink: bool,
    },
    OtherSymlink {
        target: PathBuf,
    },
    NotADirectory,
    Protected {
        pattern: String,
    },
    /// An env redirect whose tool's `default` (app-relative) lies in the app `path` that
    /// the path redirect `by` redirects: writable at launch and seeded, so not needed.
    DefaultRedirected {
        default: &'static str,
        by: &'static str,
        path: &'static str,
    },
    /// The build's Python bytecode is hash-based, valid in the image as it is.
    HashBasedBytecode,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded(id: &str, bytes: u64) -> Applied {
        Redirection {
            entry: catalog::find(id).unwrap(),
            requested: false,
            outcome: Outcome::Path {
                path: "x",
                target: String::new(),
                content: BuildContent::Seeded {
                    files: 1,
                    directories: 0,
                    bytes,
                    copied_hard_links: 0,
                },
            },
        }
    }

    #[test]
    fn seeds_above_the_bound_are_named_largest_first() {
        let half = SEED_WARNING_BYTES / 2;
        assert_eq!(
            oversized_seeds(&[seeded("rails-tmp", half), seeded("rails-log", half)]),
            None
        );
        assert_eq!(
            oversized_seeds(&[seeded("rails-log", half), seeded("rails-tmp", half + 1)]),
            Some(vec![("rails-tmp", half + 1), ("rails-log", half)])
        );
        assert_eq!(oversized_seeds(&[]), None);
    }
}
