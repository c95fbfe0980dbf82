//! group-writable: a Cloud Native Buildpack that makes the app and layer paths named in
//! `.group-writable` (gitignore syntax) group-writable at build time, and installs an
//! exec.d helper that moves the well-known run-time writes of common frameworks to `/tmp`
//! at launch.
//!
//! This crate is the build half: it runs as the build user, under libcnb. The launch half
//! (the exec.d helper's logic and the contract between the two) is the crate
//! `group-writable-launch` (`crates/launch`); the gitignore dialect is the crate
//! `group-writable-gitignore` (`crates/gitignore`); the policy label, which this crate
//! writes and `group-writable-audit` reads, and what its patterns mean are the crate
//! `group-writable-policy` (`crates/policy`). The binaries are thin: `src/main.rs`
//! (`bin/detect`, `bin/build`) and `src/bin/group-writable-redirects.rs` (the helper).
//!
//! - [`pass`]: the group-writable pass, from the pattern file to changed modes:
//!   [`pass::patterns`] (the file and variable; which root each pattern addresses and the
//!   checks are `group_writable_policy::patterns`), [`pass::app_patterns`] (the app
//!   patterns compiled once: the walk's, then the redirect plan's question),
//!   [`pass::walk`] (the descriptor-based walk), [`pass::mode`] (the mode change);
//! - [`redirects`]: the well-known run-time writes, one model of a redirect
//!   ([`redirects::Redirection`], as planned and as installed): [`redirects::catalog`] (the data),
//!   [`redirects::plan`] (which apply, pure), [`redirects::probe`] (asking the app
//!   directory), [`redirects::install`] (seeds, symlinks, the helper configuration);
//! - [`policy`]: what the image leaves writable: [`policy::label`] (the image label) and
//!   [`policy::report`] (the build log), both reading the installed redirects;
//! - [`settings`]: every `BP_*` variable;
//! - [`sbom`]: the exec.d helper's SBOM, which bin/package puts into the buildpack;
//! - [`messages`]: every failure, warning and skip reason a person reads, with a
//!   snapshot test of each;
//! - [`buildpack`] and [`error`]: the libcnb entry points and the failures.
// Denied, not forbidden: `pass::exact_chmod::raw` makes the one system call `rustix` does
// not (`fchmodat2` with `AT_SYMLINK_NOFOLLOW`), allowed there alone.
#![deny(unsafe_code)]

// Dev-dependencies of the integration and end-to-end tests (tests/), which the unit-test
// build of this crate sees too.
#[cfg(test)]
use ignore as _;
#[cfg(test)]
use libcnb_test as _;
#[cfg(test)]
use libtest_mimic as _;
#[cfg(test)]
use proptest as _;
#[cfg(test)]
use toml as _;

pub mod buildpack;
pub mod error;
pub mod messages;
pub mod pass;
pub mod policy;
pub mod redirects;
pub mod sbom;
pub mod settings;
