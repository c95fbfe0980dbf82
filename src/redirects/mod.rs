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
