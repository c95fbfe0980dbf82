//! The launch crate goes into the exec.d helper, a static binary that runs before every app
//! start: it depends on `rustix` alone, so that no serde, TOML or other crate slips in by
//! way of a convenient import. This test fails if a dependency is added (to this crate, or
//! to rustix's tree as this crate uses it).

// Integration tests link every dependency of the package but use none of them.
#![allow(unused_crate_dependencies)]

use std::process::Command;

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
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--edges", "normal", "--prefix", "depth"])
        .args(["--format", "{p}", "--manifest-path", manifest])
        .args(["--package", "group-writable-launch"])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    let mut linked: Vec<(usize, &str)> = tree
        .lines()
        .map(|line| {
            let depth_end = line
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(line.len());
            let depth = line[..depth_end].parse().expect("a depth prefix");
            let name = line[depth_end..].split(' ').next().unwrap_or_default();
            (depth, name)
        })
        .collect();
    linked.sort_unstable();
    linked.dedup();
    assert_eq!(
        linked, ALLOWED,
        "group-writable-launch must depend on rustix alone (see crates/launch/Cargo.toml); cargo tree says:\n{tree}"
    );
}
