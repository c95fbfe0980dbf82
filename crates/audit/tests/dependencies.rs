//! The audit reads the policy label through the crate that owns it
//! (`group-writable-policy`), never through the buildpack: a tool that inspects images
//! must not link libcnb and the whole build half for a few types. This test fails if the
//! audit ever depends on the buildpack package or on libcnb again, directly or not.

// Integration tests link every dependency of the package but use none of them.
#![allow(unused_crate_dependencies)]

#[path = "../../../tests/support/cargo_tree.rs"]
mod cargo_tree;

#[test]
fn depends_on_the_policy_crate_not_on_the_buildpack() {
    let (linked, tree) = cargo_tree::linked("group-writable-audit");
    let names: Vec<&str> = linked.iter().map(|(_, name)| name.as_str()).collect();
    assert!(
        names.contains(&"group-writable-policy"),
        "the audit reads the label through group-writable-policy; cargo tree says:\n{tree}"
    );
    let forbidden: Vec<&str> = names
        .into_iter()
        .filter(|name| *name == "group-writable" || name.starts_with("libcnb"))
        .collect();
    assert!(
        forbidden.is_empty(),
        "group-writable-audit must not depend on {forbidden:?} (see crates/audit/Cargo.toml); cargo tree says:\n{tree}"
    );
}
