//! The floor of a Rust process start for the helper benchmark: a static program, built
//! with the toolchain and flags of the helper, that does nothing.
fn main() {}
