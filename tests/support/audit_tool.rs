//! `group-writable-audit` run on an exported image (an OCI layout, or a `docker save`
//! tarball), and its answer compared with what the probes observe in a container, for the
//! end-to-end and pack suites.

use crate::probe::{Outcome, Write};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The audit's JSON report of `image`, every writable path listed (`--every-path`);
/// panics unless the audit exits 0.
pub(crate) fn report(image: &Path, arguments: &[&str]) -> Value {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let binary = BINARY
        .get_or_init(binary)
        .as_ref()
        .unwrap_or_else(|message| panic!("{message}"));
    let output = Command::new(binary)
        .arg(image)
        .args(["--json", "--every-path"])
        .args(arguments)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("could not start {}: {error}", binary.display()));
    assert!(
        output.status.success(),
        "group-writable-audit {} failed ({}):\n{}",
        image.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("the audit printed no JSON report: {error}"))
}

/// The audit binary: `GROUP_WRITABLE_AUDIT`, or the workspace's own, built with cargo
/// (`cargo test` at the root has built it already: the build is then a no-op).
fn binary() -> Result<PathBuf, String> {
    if let Some(binary) = std::env::var_os("GROUP_WRITABLE_AUDIT") {
        return Ok(PathBuf::from(binary));
    }
    let output = Command::new(env!("CARGO"))
        .args(["build", "--locked", "--package", "group-writable-audit"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build --package group-writable-audit failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // CARGO_TARGET_TMPDIR is `<target directory>/tmp`.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("target"));
    Ok(target.join("debug/group-writable-audit"))
}

/// The `path` of each entry of the report's list `list`.
pub(crate) fn paths(report: &Value, list: &str) -> Vec<String> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("the report has no list `{list}`"))
        .iter()
        .map(|entry| entry["path"].as_str().expect("a path").to_owned())
        .collect()
}

/// The app and layer paths the report finds writable for the run user that the label
/// does not explain (neither a pattern nor a redirect names them).
pub(crate) fn unexplained(report: &Value) -> Vec<String> {
    report["writable"]
        .as_array()
        .expect("a writable list")
        .iter()
        .filter(|entry| entry["group"] == "app" || entry["group"] == "layers")
        .filter(|entry| entry["explained"].is_null())
        .map(|entry| entry["path"].as_str().expect("a path").to_owned())
        .collect()
}

/// What the audit predicts for a write: a new entry needs its directory writable, an
/// append needs the file writable.
fn predicted(write: Write, writable: &BTreeSet<String>) -> Outcome {
    let path = match write {
        Write::CreateFile(path) | Write::MakeDirectory(path) => {
            path.rsplit_once('/').map_or("/", |(parent, _)| parent)
        }
        Write::AppendTo(path) => path,
    };
    if writable.contains(path) {
        Outcome::Written
    } else {
        Outcome::PermissionDenied
    }
}

/// Checks that for every write, what the probe observed is what the audit's report
/// predicts; the message lists each disagreement.
pub(crate) fn assert_agreement(
    report: &Value,
    writes: &[Write],
    observed: impl Fn(Write) -> Outcome,
    context: &str,
) {
    let writable: BTreeSet<String> = paths(report, "writable").into_iter().collect();
    let disagreements: Vec<String> = writes
        .iter()
        .filter_map(|write| {
            let (audit_says, probe_says) = (predicted(*write, &writable), observed(*write));
            (audit_says != probe_says).then(|| {
                format!("  {write}: the audit says {audit_says:?}, the probe {probe_says:?}")
            })
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "{context}: the audit disagrees with the probes:\n{}\nthe audit's writable paths: {writable:#?}",
        disagreements.join("\n")
    );
}
