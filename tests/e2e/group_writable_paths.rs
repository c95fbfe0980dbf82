//! The group-writable paths: the fixture app `tests/fixtures/apps/writable-paths`, whose
//! `.group-writable` names app paths and paths in the launch layer of
//! `tests/fixtures/buildpacks/layer-maker` (which runs first), built as 1001:1000 and run
//! as the run user 1002:1000, and in the shape `OpenShift` runs it (a random uid in
//! group 0).

use crate::platform::{Build, Image, Platform, RUN_UID, Run, SHARED_GID, fixture};
use crate::probe::{Outcome, Probe, Write, assert_outcomes};
use crate::shared_build;
use crate::writable_paths::{IN_WORKSPACE_ROOT, MATCHED, NOT_MATCHED, WORKSPACE_MODE};
use libtest_mimic::Trial;
use std::path::PathBuf;
use std::sync::OnceLock;

/// `OpenShift` runs images as a random uid (from the project's range) in group 0.
pub(crate) const OPENSHIFT_UID: u32 = 1_000_650_000;

/// The tests of this module, in the order they run.
pub(crate) fn trials() -> Vec<Trial> {
    trials![
        matched_paths_are_writable_by_the_run_user,
        unmatched_paths_stay_read_only,
        workspace_root_is_0777_as_pack_makes_it,
        new_files_in_matched_directories_get_the_shared_group,
        without_the_buildpack_the_same_writes_fail,
        openshift_random_uid_in_group_zero,
        read_only_root_allows_only_tmp,
        rebuild_with_cache_is_reproducible,
    ]
}

/// The fixture app.
fn app() -> PathBuf {
    fixture("apps/writable-paths")
}

/// The buildpacks of every build: layer-maker (a launch layer), procfile (the `web`
/// process) and, with the buildpack, group-writable last, as it must be.
fn buildpacks(with_group_writable: bool) -> Vec<PathBuf> {
    let mut buildpacks = vec![
        fixture("buildpacks/layer-maker"),
        fixture("buildpacks/procfile"),
    ];
    if with_group_writable {
        buildpacks.push(Platform::get().buildpack().to_owned());
    }
    buildpacks
}

/// The fixture app built with the buildpack, as 1001:1000.
pub(crate) fn group_writable_image() -> &'static Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    shared_build(&IMAGE, "group-writable", || {
        Build::new(app(), buildpacks(true))
    })
}

/// The control: the same app and buildpacks without group-writable.
pub(crate) fn control_image() -> &'static Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    shared_build(&IMAGE, "control", || Build::new(app(), buildpacks(false)))
}

/// The fixture app built with the buildpack as 1001:0 (`pack build --gid 0`).
pub(crate) fn group_zero_image() -> &'static Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    shared_build(&IMAGE, "group-zero", || {
        Build::new(app(), buildpacks(true)).gid(0)
    })
}

fn matched_paths_are_writable_by_the_run_user() {
    let image = group_writable_image();
    let report = image.probe(&Probe::writes(MATCHED), &Run::default());
    assert_outcomes(
        &report,
        MATCHED,
        &Outcome::Written,
        "image built with group-writable, run as the run user",
    );

    // The app's own start (its `web` process writes a pid file and a log line).
    let output = image.run(&Run::default(), &[]);
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("app started"),
        "the app did not start as the run user ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn unmatched_paths_stay_read_only() {
    let report = group_writable_image().probe(&Probe::writes(NOT_MATCHED), &Run::default());
    assert_outcomes(
        &report,
        NOT_MATCHED,
        &Outcome::PermissionDenied,
        "image built with group-writable, run as the run user, paths no pattern matches",
    );
}

/// This platform reproduces what pack does to `/workspace` itself (mode 0777), so writes
/// directly in it succeed with and without the buildpack, here as with pack (the pack
/// suite checks that pack still does it).
fn workspace_root_is_0777_as_pack_makes_it() {
    for (name, image) in [
        ("with group-writable", group_writable_image()),
        ("control", control_image()),
    ] {
        let report = image.probe(
            &Probe::writes(IN_WORKSPACE_ROOT).stat("/workspace"),
            &Run::default(),
        );
        assert_eq!(
            report.group_and_mode("/workspace").1,
            WORKSPACE_MODE,
            "{name}"
        );
        assert_outcomes(
            &report,
            IN_WORKSPACE_ROOT,
            &Outcome::Written,
            &format!("{name}: writes directly in the 0777 /workspace"),
        );
    }
}

fn new_files_in_matched_directories_get_the_shared_group() {
    const NEW_FILE: &str = "/workspace/log/by-another-group.log";
    const NEW_DIRECTORY: &str = "/layers/test_layer-maker/store/uploads/by-another-group";
    const OUTSIDE: &str = "/tmp/by-another-group";
    // A run user whose primary group is its own and who is in the shared group only as a
    // supplementary one: what it creates gets group 1000 only through the setgid bit.
    let run = Run {
        groups: vec![SHARED_GID],
        ..Run::as_user(RUN_UID, RUN_UID)
    };
    let writes = [
        Write::CreateFile(NEW_FILE),
        Write::MakeDirectory(NEW_DIRECTORY),
        Write::CreateFile(OUTSIDE),
    ];
    let probe = Probe::writes(&writes)
        .stat(NEW_FILE)
        .stat(NEW_DIRECTORY)
        .stat(OUTSIDE);
    let report = group_writable_image().probe(&probe, &run);
    assert_outcomes(
        &report,
        &writes,
        &Outcome::Written,
        "run as 1002:1002 with supplementary group 1000",
    );

    // The primary group is what a directory without setgid gives (the sanity check
    // that makes the next two assertions mean something).
    assert_eq!(report.group_and_mode(OUTSIDE).0, RUN_UID);
    assert_eq!(report.group_and_mode(NEW_FILE).0, SHARED_GID);
    let (group, mode) = report.group_and_mode(NEW_DIRECTORY);
    assert_eq!(group, SHARED_GID);
    assert_eq!(
        mode.chars().nth(6),
        Some('s'),
        "{NEW_DIRECTORY} did not inherit setgid: {mode}"
    );
}

fn without_the_buildpack_the_same_writes_fail() {
    let image = control_image();
    assert!(
        !image.log.contains("Group Writable"),
        "the control build ran the buildpack:\n{}",
        image.log
    );
    let report = image.probe(&Probe::writes(MATCHED), &Run::default());
    assert_outcomes(
        &report,
        MATCHED,
        &Outcome::PermissionDenied,
        "control image (without group-writable), run as the run user",
    );
    let output = image.run(&Run::default(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("Permission denied"),
        "without group-writable the app started as the run user ({}):\n{stderr}",
        output.status
    );
}

fn openshift_random_uid_in_group_zero() {
    let image = group_zero_image();
    let run = Run::as_user(OPENSHIFT_UID, 0);
    let report = image.probe(&Probe::writes(MATCHED).stat("/workspace/log/new.log"), &run);
    assert_outcomes(
        &report,
        MATCHED,
        &Outcome::Written,
        "image built as 1001:0, run as a random uid in group 0",
    );
    assert_eq!(report.group_and_mode("/workspace/log/new.log").0, 0);
    let report = image.probe(&Probe::writes(NOT_MATCHED), &run);
    assert_outcomes(
        &report,
        NOT_MATCHED,
        &Outcome::PermissionDenied,
        "image built as 1001:0, run as a random uid in group 0, paths no pattern matches",
    );
    let output = image.run(&run, &[]);
    assert!(
        output.status.success(),
        "the app did not start as {OPENSHIFT_UID}:0 ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read_only_root_allows_only_tmp() {
    // Group-writable paths are no help on a read-only root: only /tmp (a tmpfs) takes
    // writes. This is the run mode in which the launch-time redirects must prove
    // themselves (see `redirects`); here it proves the mode itself.
    let run = Run::read_only();
    let tmp = [
        Write::CreateFile("/tmp/new"),
        Write::MakeDirectory("/tmp/dir"),
    ];
    let report = group_writable_image().probe(&Probe::writes(&tmp), &run);
    assert_outcomes(&report, &tmp, &Outcome::Written, "read-only root, /tmp");
    let report = group_writable_image().probe(&Probe::writes(MATCHED), &run);
    assert_outcomes(
        &report,
        MATCHED,
        &Outcome::ReadOnlyFileSystem,
        "read-only root, group-writable paths",
    );
}

fn rebuild_with_cache_is_reproducible() {
    let platform = Platform::get();
    let build = || Build::new(app(), buildpacks(true));
    let first = platform
        .build("rebuild", &build())
        .unwrap_or_else(|message| panic!("the first build failed: {message}"));
    let first_digests = first.digests();
    let second = platform
        .build("rebuild", &build())
        .unwrap_or_else(|message| panic!("the rebuild failed: {message}"));
    assert!(
        second
            .log
            .contains("Restoring metadata for \"test/layer-maker:store\""),
        "the rebuild did not use the previous image:\n{}",
        second.log
    );
    let second_digests = second.digests();
    assert!(
        first_digests.lines().any(|line| line.starts_with("app ")),
        "no app layer recorded:\n{first_digests}"
    );
    assert_eq!(
        first_digests, second_digests,
        "a rebuild without changes produced different layers"
    );
}
