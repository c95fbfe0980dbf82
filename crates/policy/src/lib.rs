//! The policy label, the contract between the buildpack (which writes it into the image)
//! and `group-writable-audit` (which reads it back): one owner that both import.
//!
//! - [`label`]: the label's JSON document and its key (the patterns, the redirects and the
//!   writable surface);
//! - [`code`]: which paths are code the launcher runs, for the warnings at build and the
//!   audit's marks;
//! - [`patterns`]: what a pattern means, read the same by both: pattern text parsed into
//!   patterns with the root each addresses (the app or the layers), the checks, and the
//!   matcher of one root's patterns. The dialect itself is `group-writable-gitignore`;
//!   reading the pattern file from disk is the buildpack's.
#![forbid(unsafe_code)]

pub mod code;
pub mod label;
pub mod patterns;
