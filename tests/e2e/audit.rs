//! `group-writable-audit` on the images the lifecycle exported: for every path the suite
//! probes (`writable_paths::MATCHED`, `NOT_MATCHED` and `IN_WORKSPACE_ROOT`), what the
//! audit says the run user can write is what the run user, writing in a container, can
//! write. With and without the buildpack, as the image's user (1002:1000) and as a random
//! uid in group 0.

use crate::audit_tool::{assert_agreement, paths, report};
use crate::group_writable_paths::{
    OPENSHIFT_UID, control_image, group_writable_image, group_zero_image,
};
use crate::platform::{Image, RUN_UID, Run, SHARED_GID};
use crate::probe::{Probe, Write};
use crate::writable_paths::{IN_WORKSPACE_ROOT, MATCHED, NOT_MATCHED};
use libtest_mimic::Trial;
use serde_json::Value;

pub(crate) fn trials() -> Vec<Trial> {
    trials![
        audit_agrees_with_the_probes_as_the_run_user,
        audit_agrees_with_the_probes_as_a_random_uid_in_group_zero,
        audit_explains_the_buildpack_s_paths_by_the_label,
    ]
}

/// Audits `image`, probes every write in it as `run`, and checks they agree.
fn audit_and_probe(image: &Image, run: &Run, audit_arguments: &[&str], context: &str) -> Value {
    let report = report(&image.layout, audit_arguments);
    let writes: Vec<Write> = MATCHED
        .iter()
        .chain(NOT_MATCHED)
        .chain(IN_WORKSPACE_ROOT)
        .copied()
        .collect();
    let observed = image.probe(&Probe::writes(&writes), run);
    assert_agreement(&report, &writes, |write| observed.outcome(write), context);
    report
}

fn audit_agrees_with_the_probes_as_the_run_user() {
    let images = [
        (group_writable_image(), "with group-writable"),
        (control_image(), "without group-writable"),
    ];
    let mut writable = Vec::new();
    for (image, context) in images {
        let report = audit_and_probe(image, &Run::default(), &[], context);
        // The audit took the user from the image's config and /etc/passwd, as runc did.
        assert_eq!(
            (
                report["user"]["uid"].as_u64(),
                report["user"]["gid"].as_u64()
            ),
            (Some(u64::from(RUN_UID)), Some(u64::from(SHARED_GID))),
            "{context}"
        );
        assert_eq!(report["user"]["source"], "config");
        writable.push(paths(&report, "writable"));
    }
    // The probes write something in the image with the buildpack and not without, and the
    // audit said so: the two do not agree on nothing.
    let log = "/workspace/log".to_owned();
    assert!(
        writable[0].contains(&log) && !writable[1].contains(&log),
        "{writable:#?}"
    );
}

fn audit_agrees_with_the_probes_as_a_random_uid_in_group_zero() {
    let run = Run::as_user(OPENSHIFT_UID, 0);
    let images = [
        (group_zero_image(), "built as 1001:0 with group-writable"),
        (control_image(), "without group-writable"),
    ];
    for (image, context) in images {
        let report = audit_and_probe(image, &run, &["--user", "random:0"], context);
        assert_eq!(
            report["user"]["uid"].as_u64(),
            Some(u64::from(OPENSHIFT_UID)),
            "random takes the first uid of OpenShift's range that owns nothing"
        );
        assert_eq!(report["user"]["gid"].as_u64(), Some(0));
    }
    let report = report(&group_zero_image().layout, &["--user", "random:0"]);
    assert!(paths(&report, "writable").contains(&"/workspace/log".to_owned()));
}

fn audit_explains_the_buildpack_s_paths_by_the_label() {
    let report = report(&group_writable_image().layout, &[]);
    assert_eq!(report["policy"]["label"], true);
    assert_eq!(
        report["policy"]["read_only_root"], true,
        "the buildpack's env redirects make it an image for a read-only root"
    );
    assert_eq!(report["policy"]["warnings"], serde_json::json!([]));
    // In the app and the layers, the label explains everything but /workspace itself,
    // which the platform made 0777 as pack does (the buildpack never removes a bit): the
    // audit reports it as unexplained, world-writable and writable code (a `.profile`
    // created there is sourced at every start).
    let unexplained: Vec<&str> = report["writable"]
        .as_array()
        .expect("a writable list")
        .iter()
        .filter(|entry| entry["explained"].is_null())
        .filter_map(|entry| entry["path"].as_str())
        .filter(|path| path.starts_with("/workspace") || path.starts_with("/layers"))
        .collect();
    assert_eq!(unexplained, ["/workspace"], "{report:#}");
    assert!(paths(&report, "world_writable").contains(&"/workspace".to_owned()));
    assert_eq!(
        paths(&report, "writable_code"),
        ["/workspace"],
        "{report:#}"
    );
    // Without the buildpack there is no label, so nothing is explained.
    let control = crate::audit_tool::report(&control_image().layout, &[]);
    assert_eq!(control["policy"]["label"], false);
    assert_eq!(
        control["summary"]["unexplained"],
        control["summary"]["writable"]
    );
}
