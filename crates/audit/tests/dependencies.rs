//! The audit reads the policy label through the crate that owns it
//! (`group-writable-policy`), never through the buildpack: a tool that inspects images
//! must not link libcnb and the whole build half for a few types. This test fails if the
//! audit ever depends on the buildpack package or on libcnb again, directly or not.

// Integration tests link every dependency of the package but use none of them.
#![allow(unused_crate_dependencies)]

use std::process::Command;

/// Packages the audit must never link.
const FORBIDDEN: &[&str] = &["group-writable", "libcnb", "libcnb-data", "libcnb-common"];

#[test]
fn depends_on_the_policy_crate_not_on_the_buildpack() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--edges", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "--manifest-path", manifest])
        .args(["--package", "group-writable-audit"])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    let linked: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split(' ').next())
        .collect();
    assert!(
        linked.contains(&"group-writable-policy"),
        "the audit reads the label through group-writable-policy; cargo tree says:\n{tree}"
    );
    let forbidden: Vec<&str> = linked
        .iter()
        .copied()
        .filter(|name| FORBIDDEN.contains(name) || name.starts_with("libcnb"))
        .collect();
    assert!(
        forbidden.is_empty(),
        "group-writable-audit must not depend on {forbidden:?} (see crates/audit/Cargo.toml); cargo tree says:\n{tree}"
    );
}
