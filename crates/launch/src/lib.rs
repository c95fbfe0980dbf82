//! group-writable at launch: the exec.d helper's logic, and the contract between the
//! build and the launch.
//!
//! The CNB launcher runs the helper (`exec.d/group-writable-redirects`) before every app
//! process, as the run user, in a container whose root filesystem may be read-only. So
//! this crate depends on `rustix` alone (`tests/dependencies.rs` fails if that changes):
//! the helper is a small static binary that starts in well under a millisecond.
//!
//! - [`contract`]: what the buildpack and the helper agree on: the names (program, switch,
//!   own directory), and the configuration file, written at build and read here;
//! - [`helper`]: the work at every launch: create the targets, copy the seeds, answer the
//!   launcher;
//! - [`messages`]: every line the helper writes to stderr, each with its exact text tested;
//! - [`exec_d_toml`]: the TOML the helper writes to fd 3, by hand;
//! - [`tree_copy`]: copying a seed tree (also used by the buildpack to make the seeds);
//! - [`dir_entries`]: reading one directory by its descriptor, the loop of both walks over
//!   a seed tree (the copy here, and the buildpack's pass that makes a seed readable).
#![forbid(unsafe_code)]

pub mod contract;
pub mod dir_entries;
pub mod exec_d_toml;
pub mod helper;
pub mod messages;
pub mod tree_copy;
