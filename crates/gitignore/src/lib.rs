//! The gitignore dialect, exactly as git reads it: usable and tested on its own.
//!
//! - [`git_pattern`]: one line of a gitignore file, parsed as git parses it, and written
//!   back out in the dialect of the `ignore` crate's matcher (where the two read a line
//!   differently, git wins);
//! - [`matcher`]: which pattern of a list (if any) selects a path, and its index.
#![forbid(unsafe_code)]

// A dev-dependency of tests/messages.rs, which the unit-test build sees too.
#[cfg(test)]
use insta as _;

pub mod git_pattern;
pub mod matcher;
