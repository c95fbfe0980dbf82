//! The launch crate goes into the exec.d helper, a static binary that runs before every app
//! start: it depends on `rustix` alone, so that no serde, TOML or other crate slips in by
//! way of a convenient import. This test fails if a dependency is added (to this crate, or
//! to rustix's tree as this crate uses it).

// Integration tests link every dependency of the package but use none of them.
#![allow(unused_crate_dependencies)]

#[path = "../../../tests/support/cargo_tree.rs"]
mod cargo_tree;

/// The crates the launch crate may link, with their depth in its dependency tree: itself,
/// rustix, and rustix's own dependencies on Linux.
const ALLOWED: &[(usize, &str)] = &[
    (0, "group-writable-launch"),
    (1, "rustix"),
    (2, "bitflags"),
    (2, "linux-raw-sys"),
];

#[test]
fn depends_on_rustix_alone() {
    let (linked, tree) = cargo_tree::linked("group-writable-launch");
    let linked: Vec<(usize, &str)> = linked
        .iter()
        .map(|(depth, name)| (*depth, name.as_str()))
        .collect();
    assert_eq!(
        linked, ALLOWED,
        "group-writable-launch must depend on rustix alone (see crates/launch/Cargo.toml); cargo tree says:\n{tree}"
    );
}
