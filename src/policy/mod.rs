//! What the image leaves writable, recorded for whoever runs it.
//!
//! - [`label`]: the image label recording the applied policy (JSON);
//! - [`report`]: the build log's account of the same.

#[cfg(test)]
mod examples;
pub mod label;
pub mod report;
