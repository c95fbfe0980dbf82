//! group-writable: a Cloud Native Buildpack that makes the app and layer paths named in
//! `.group-writable` (gitignore syntax) group-writable at build time, and an exec.d helper
//! that moves the well-known run-time writes of common frameworks to `/tmp` at launch.
//!
//! The buildpack (`src/main.rs`) and the exec.d helper (`src/bin/`) are thin; the logic
//! lives here, one module per concern:
//!
//! - [`git_pattern`]: one gitignore line, read exactly as git reads it;
//! - [`patterns`]: the pattern file and variable, which root each pattern addresses, and
//!   the checks that refuse bad input;
//! - [`matcher`]: which pattern matches a path;
//! - [`mode`]: the mode change itself;
//! - [`walk`]: the descriptor-based walk that applies it;
//! - [`permissions`]: the whole group-writable pass, from settings to report;
//! - [`settings`]: every `BP_*` variable;
//! - [`buildpack`] and [`error`]: the libcnb entry points and the build log.
#![forbid(unsafe_code)]

// Dev-dependencies of the integration and end-to-end tests (tests/), which the unit-test
// build of this crate sees too.
#[cfg(test)]
use libcnb_test as _;
#[cfg(test)]
use libtest_mimic as _;

pub mod buildpack;
pub mod error;
pub mod git_pattern;
pub mod matcher;
pub mod mode;
pub mod patterns;
pub mod permissions;
pub mod settings;
pub mod walk;
