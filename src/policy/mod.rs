//! What the image leaves writable, recorded for whoever runs it.
//!
//! - [`label`]: the image label recording the applied policy (JSON).

pub mod label;
