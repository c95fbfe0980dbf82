//! `group-writable-audit` on the images the lifecycle exported: for every path the suite
//! probes (`writable_paths::MATCHED`, `NOT_MATCHED` and `IN_WORKSPACE_ROOT`), what the audit says the run user
//! can write is what the run user, writing in a container, can write. With and without the
//! buildpack, as the image's user (1002:1000) and as a random uid in group 0.

use crate::group_writable_paths::{
    OPENSHIFT_UID, control_image, group_writable_image, group_zero_image,
};
use crate::platform::{Image, Run};
use crate::probe::{Outcome, Probe, Write};
use crate::writable_paths::{IN_WORKSPACE_ROOT, MATCHED, NOT_MATCHED};
use libtest_mimic::Trial;
use serde_json::Value;
use std::collections::BTreeSet;

pub(crate) fn trials() -> Vec<Trial> {
    trials![
        audit_agrees_with_the_probes_as_the_run_user,
        audit_agrees_with_the_probes_as_a_random_uid_in_group_zero,
        audit_explains_the_buildpack_s_paths_by_the_label,
    ]
}

/// The audit's JSON report of `image`, every writable path listed.
fn audit(image: &Image, arguments: &[&str]) -> Value {
    let output = image.audit(&[&["--json", "--every-path"], arguments].concat());
    serde_json::from_slice(&output)
        .unwrap_or_else(|error| panic!("the audit printed no JSON report: {error}"))
}

fn writable_paths(report: &Value) -> BTreeSet<String> {
    report["writable"]
        .as_array()
        .expect("a writable list")
        .iter()
        .map(|entry| entry["path"].as_str().expect("a path").to_owned())
        .collect()
}

/// What the audit predicts for a write: a new entry needs the directory writable, an
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

/// Probes every write in `image` as `run` and compares each outcome with the audit's.
fn assert_agreement(image: &Image, run: &Run, audit_arguments: &[&str], context: &str) -> Value {
    let report = audit(image, audit_arguments);
    let writable = writable_paths(&report);
    let writes: Vec<Write> = MATCHED
        .iter()
        .chain(NOT_MATCHED)
        .chain(IN_WORKSPACE_ROOT)
        .copied()
        .collect();
    let observed = image.probe(&Probe::writes(&writes), run);
    let disagreements: Vec<String> = writes
        .iter()
        .filter_map(|write| {
            let (audit_says, probe_says) = (predicted(*write, &writable), observed.outcome(*write));
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
    report
}

fn audit_agrees_with_the_probes_as_the_run_user() {
    for (image, context) in [
        (group_writable_image(), "with group-writable"),
        (control_image(), "without group-writable"),
    ] {
        let report = assert_agreement(image, &Run::default(), &[], context);
        // The audit took the user from the image's config and /etc/passwd, as runc did.
        assert_eq!(
            (
                report["user"]["uid"].as_u64(),
                report["user"]["gid"].as_u64()
            ),
            (Some(1002), Some(1000)),
            "{context}"
        );
        assert_eq!(report["user"]["source"], "config");
    }
    // The control: the probes write something in the image with the buildpack, nothing
    // of it without, and the audit said so (not trivially agreeing on "nothing").
    let with = writable_paths(&audit(group_writable_image(), &[]));
    let without = writable_paths(&audit(control_image(), &[]));
    assert!(
        with.contains("/workspace/log") && !without.contains("/workspace/log"),
        "with: {with:#?}\nwithout: {without:#?}"
    );
}

fn audit_agrees_with_the_probes_as_a_random_uid_in_group_zero() {
    let run = Run::as_user(OPENSHIFT_UID, 0);
    for (image, context) in [
        (group_zero_image(), "built as 1001:0 with group-writable"),
        (control_image(), "without group-writable"),
    ] {
        let report = assert_agreement(image, &run, &["--user", "random:0"], context);
        assert_eq!(
            report["user"]["uid"].as_u64(),
            Some(u64::from(OPENSHIFT_UID)),
            "random takes the first uid of OpenShift's range that owns nothing"
        );
        assert_eq!(report["user"]["gid"].as_u64(), Some(0));
    }
    assert!(
        writable_paths(&audit(group_zero_image(), &["--user", "random:0"]))
            .contains("/workspace/log")
    );
}

fn audit_explains_the_buildpack_s_paths_by_the_label() {
    let report = audit(group_writable_image(), &[]);
    assert_eq!(report["policy"]["label"], true);
    assert_eq!(
        report["policy"]["read_only_root"], true,
        "the buildpack's env redirects make it an image for a read-only root"
    );
    assert_eq!(report["policy"]["warnings"], serde_json::json!([]));
    let named = |list: &str, with: &dyn Fn(&Value) -> bool| -> Vec<String> {
        report[list]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|entry| with(entry))
            .map(|entry| entry["path"].as_str().expect("a path").to_owned())
            .collect()
    };
    // In the app and the layers, the label explains everything but /workspace itself,
    // which the platform made 0777 as pack does (the buildpack never removes a bit): the
    // audit reports it as unexplained, world-writable and writable code (a `.profile`
    // created there is sourced at every start).
    let unexplained = named("writable", &|entry| {
        let path = entry["path"].as_str().unwrap_or_default();
        (path.starts_with("/workspace") || path.starts_with("/layers"))
            && entry["explained"].is_null()
    });
    assert_eq!(unexplained, ["/workspace"], "{report:#}");
    assert!(
        named("world_writable", &|_| true).contains(&"/workspace".to_owned()),
        "{report:#}"
    );
    assert_eq!(
        named("writable_code", &|_| true),
        ["/workspace"],
        "{report:#}"
    );
    // Without the buildpack there is no label, so nothing is explained.
    let control = audit(control_image(), &[]);
    assert_eq!(control["policy"]["label"], false);
    assert_eq!(
        control["summary"]["unexplained"],
        control["summary"]["writable"]
    );
}
