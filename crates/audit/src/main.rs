//! `group-writable-audit`: the command line. The work is in the library.

// The library uses these; the binary sees every dependency of the package.
use flate2 as _;
use group_writable_gitignore as _;
use group_writable_policy as _;
use serde as _;
use sha2 as _;
use tar as _;
#[cfg(test)]
use {proptest as _, tempfile as _};

use clap::Parser;
use group_writable_audit::report::Finding;
use group_writable_audit::users::UserArgument;
use group_writable_audit::{Options, audit, table};
use std::path::PathBuf;
use std::process::ExitCode;

/// Which paths can the run user write in this image? Reads an OCI image layout directory
/// or a `docker save` tarball (never running or extracting it) and answers against the
/// group-writable policy label.
///
/// Exit status: 0, the answer; 1, `--deny` found something; 2, bad input.
#[derive(Parser)]
#[command(version)]
struct Arguments {
    /// An OCI image layout directory, or a `docker save` tarball.
    image: PathBuf,
    /// Which image of the layout or tarball: a name (`org.opencontainers.image.ref.name`),
    /// a tag, or a manifest digest.
    #[arg(long = "ref", value_name = "NAME")]
    reference: Option<String>,
    #[arg(
        long,
        value_name = "UID:GID",
        help = "Answer for this user instead of the image's `User`: UID:GID, or `random:GID` for a uid that owns nothing in the image (OpenShift's arbitrary uid, with `random:0`)"
    )]
    user: Option<UserArgument>,
    /// Supplementary groups of the user.
    #[arg(long, value_name = "GID,...", value_delimiter = ',')]
    groups: Vec<u32>,
    /// List every writable path, not only the top of each writable subtree.
    #[arg(long)]
    every_path: bool,
    /// Print the report as JSON (schema: crates/audit/README.md).
    #[arg(long)]
    json: bool,
    /// Exit 1 when the report has any of these.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FINDING,...")]
    deny: Vec<Finding>,
}

fn main() -> ExitCode {
    let arguments = match Arguments::try_parse() {
        Ok(arguments) => arguments,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let options = Options {
        input: arguments.image,
        reference: arguments.reference,
        user: arguments.user,
        groups: arguments.groups,
        every_path: arguments.every_path,
    };
    let report = match audit(&options) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("group-writable-audit: {error}");
            return ExitCode::from(2);
        }
    };
    if arguments.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("group-writable-audit: cannot write the report: {error}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", table::render(&report));
    }
    let denied: Vec<String> = arguments
        .deny
        .iter()
        .filter(|finding| report.count(**finding) > 0)
        .map(|finding| format!("{} {}", report.count(*finding), finding.name()))
        .collect();
    if denied.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("group-writable-audit: denied: {}", denied.join(", "));
        ExitCode::from(1)
    }
}
