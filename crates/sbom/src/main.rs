//! `group-writable-sbom --target TRIPLE`: prints the CycloneDX SBOM of the exec.d helper
//! built for TRIPLE (see the library). Run by bin/package, in the workspace.

use group_writable_sbom::{self as sbom, Error, HELPER_PACKAGE, LAUNCH_CRATE, closure, cyclonedx};
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    match run() {
        Ok(document) => {
            println!("{document}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("group-writable-sbom: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [flag, target] = arguments.as_slice() else {
        return Err("usage: group-writable-sbom --target TRIPLE".into());
    };
    if flag != "--target" {
        return Err("usage: group-writable-sbom --target TRIPLE".into());
    }
    let metadata: serde_json::Value =
        serde_json::from_str(&cargo(&["metadata", "--locked", "--format-version", "1"])?)?;
    let workspace = metadata["workspace_root"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| Error::Malformed("cargo metadata has no workspace_root".to_owned()))?;
    let lock: toml::Table = std::fs::read_to_string(workspace.join("Cargo.lock"))?.parse()?;
    let tree = cargo(&[
        "tree",
        "--locked",
        "--edges",
        "normal",
        "--target",
        target,
        "--package",
        HELPER_PACKAGE,
        "--no-dedupe",
        "--prefix",
        "depth",
        "--format",
        "{p}",
    ])?;
    let graph = closure(&sbom::parse_tree(&tree)?, LAUNCH_CRATE)?;
    let licences = sbom::licences(&metadata)?;
    let facts = sbom::facts(&graph, &licences, &sbom::checksums(&lock))?;
    let launch = graph
        .keys()
        .find(|id| id.name == LAUNCH_CRATE)
        .cloned()
        .ok_or_else(|| Error::NotInTree(LAUNCH_CRATE.to_owned()))?;
    let (subject, subject_licence) = licences
        .iter()
        .find(|(id, _)| id.name == HELPER_PACKAGE)
        .map(|(id, licence)| (id.clone(), licence.clone()))
        .ok_or_else(|| Error::NotInTree(HELPER_PACKAGE.to_owned()))?;
    let subject_licence = subject_licence.ok_or_else(|| Error::NoLicence(subject.clone()))?;
    let document = cyclonedx(&subject, &subject_licence, &launch, &graph, &facts);
    Ok(serde_json::to_string_pretty(&document)?)
}

/// Runs cargo (the one that runs this program) and returns its standard output.
fn cargo(arguments: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(program).args(arguments).output()?;
    if !output.status.success() {
        return Err(format!(
            "cargo {} failed: {}",
            arguments.join(" "),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}
