//! What a workspace member links: `cargo tree` over its normal dependencies (dev- and
//! build-dependencies left out), for the tests that keep a crate's dependencies in bounds
//! (`crates/launch/tests/dependencies.rs`, `crates/audit/tests/dependencies.rs`).

use std::process::Command;

/// The packages `package` links, each with its depth in the tree (0: itself), sorted and
/// without repeats; and the tree as `cargo tree` printed it, for a failure's message.
pub(crate) fn linked(package: &str) -> (Vec<(usize, String)>, String) {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--edges", "normal", "--prefix", "depth"])
        .args(["--format", "{p}", "--manifest-path", manifest])
        .args(["--package", package])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    let mut linked: Vec<(usize, String)> = tree
        .lines()
        .map(|line| {
            let depth_end = line
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(line.len());
            let depth = line[..depth_end].parse().expect("a depth prefix");
            let name = line[depth_end..].split(' ').next().unwrap_or_default();
            (depth, name.to_owned())
        })
        .collect();
    linked.sort_unstable();
    linked.dedup();
    (linked, tree)
}
