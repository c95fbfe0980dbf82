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
//! - [`catalog`]: the data table of well-known run-time writes;
//! - [`redirect_plan`]: which catalog entries apply to an app (pure), asking
//!   [`app_probe`] about the app directory;
//! - [`redirect_install`]: seeds, symlinks and the helper configuration at build, with
//!   [`tree_copy`] for copying trees;
//! - [`launch_config`]: the helper configuration's format, written and parsed;
//! - [`helper`] and [`exec_d_toml`]: the exec.d helper's work at launch and its output;
//! - [`label`]: the image label recording the applied policy;
//! - [`buildpack`] and [`error`]: the libcnb entry points and the build log.
#![forbid(unsafe_code)]

// Dev-dependencies of the integration and end-to-end tests (tests/), which the unit-test
// build of this crate sees too.
#[cfg(test)]
use libcnb_test as _;
#[cfg(test)]
use libtest_mimic as _;

pub mod app_probe;
pub mod buildpack;
pub mod catalog;
pub mod error;
pub mod exec_d_toml;
pub mod git_pattern;
pub mod helper;
pub mod label;
pub mod launch_config;
pub mod matcher;
pub mod mode;
pub mod patterns;
pub mod permissions;
pub mod redirect_install;
pub mod redirect_plan;
pub mod settings;
pub mod tree_copy;
pub mod walk;
