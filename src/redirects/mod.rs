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
    /// Not applied, and why.
    Skipped(Skip),
}

impl<C> Outcome<C> {
    #[must_use]
    pub fn is_applied(&self) -> bool {
        !matches!(self, Outcome::Skipped(_))
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
}
