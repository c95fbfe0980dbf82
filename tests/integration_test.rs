//! Integration tests with libcnb-test: `pack build` with Paketo's jammy builder, whose
//! build user (1001) and run user (1002) share group 1000, then the image runs in Docker as
//! its run user. They need Docker and pack (>= 0.35.1), so they are ignored by default:
//! `cargo test --test integration_test -- --ignored`. The end-to-end suite (`tests/e2e`)
//! checks the same and more with the real lifecycle but without Docker.

// Test crates see every dependency of the package; this one uses few of them.
#![allow(unused_crate_dependencies)]

#[path = "support/probe.rs"]
mod probe;
#[path = "support/writable_paths.rs"]
mod writable_paths;

use libcnb_test::{
    BuildConfig, BuildpackReference, ContainerConfig, TestContext, TestRunner, assert_contains,
};
use probe::{Outcome, Probe, Report, assert_outcomes};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use writable_paths::{MATCHED, NOT_MATCHED};

const BUILDER: &str = "paketobuildpacks/builder-jammy-base";
const APP: &str = "tests/fixtures/apps/writable-paths";

#[test]
#[ignore = "integration test"]
fn matched_paths_are_writable_by_the_run_user_and_others_are_not() {
    TestRunner::default().build(build_config(true), |context| {
        assert_contains!(context.pack_stdout, "Group Writable");
        assert_contains!(context.pack_stdout, "/data/state.json");
        assert_run_user_is_not_the_owner(&context);

        let report = probe(&context, &Probe::writes(MATCHED).stat("/workspace/log"));
        assert_outcomes(
            &report,
            MATCHED,
            &Outcome::Written,
            "image built with group-writable, run as the run user",
        );
        // setgid, so what other users of the group create there keeps the group.
        let (_, mode) = report.group_and_mode("/workspace/log");
        assert_eq!(mode.chars().nth(6), Some('s'), "/workspace/log: {mode}");
        let report = probe(&context, &Probe::writes(NOT_MATCHED));
        assert_outcomes(
            &report,
            NOT_MATCHED,
            &Outcome::PermissionDenied,
            "image built with group-writable, run as the run user, paths no pattern matches",
        );

        // The app's own start: its `web` process writes a pid file and a log line.
        context.start_container(ContainerConfig::new(), |container| {
            let logs = container.logs_wait();
            assert_contains!(logs.stdout, "app started");
        });
    });
}

#[test]
#[ignore = "integration test"]
fn without_the_buildpack_the_same_writes_fail() {
    TestRunner::default().build(build_config(false), |context| {
        assert_run_user_is_not_the_owner(&context);
        let report = probe(&context, &Probe::writes(MATCHED));
        assert_outcomes(
            &report,
            MATCHED,
            &Outcome::PermissionDenied,
            "control image (without group-writable), run as the run user",
        );
    });
}

/// The fixture app with the fixture buildpacks (a launch layer, the `web` process) and,
/// when asked, this buildpack last, as it must be.
fn build_config(with_group_writable: bool) -> BuildConfig {
    let mut buildpacks = vec![
        BuildpackReference::Other(fixture_buildpack("layer-maker")),
        BuildpackReference::Other(fixture_buildpack("procfile")),
    ];
    if with_group_writable {
        buildpacks.push(BuildpackReference::CurrentCrate);
    }
    let mut config = BuildConfig::new(BUILDER, APP);
    config
        .buildpacks(buildpacks)
        .app_dir_preprocessor(without_group_and_other_write);
    config
}

fn fixture_buildpack(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/buildpacks")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The app copy gets the modes a checkout under umask 022 has, whatever the host's umask
/// (pack keeps the host's modes, and a group-writable file would pass the checks without
/// the buildpack), and its root 0755 (libcnb-test's copy is in a 0700 temporary directory).
fn without_group_and_other_write(app_dir: PathBuf) {
    set_mode(&app_dir, 0o755);
    let mut directories = vec![app_dir];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).expect("read the app copy") {
            let path = entry.expect("read the app copy").path();
            let metadata = std::fs::symlink_metadata(&path).expect("stat the app copy");
            if metadata.file_type().is_symlink() {
                continue;
            }
            set_mode(&path, metadata.permissions().mode() & !0o022);
            if metadata.is_dir() {
                directories.push(path);
            }
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|error| panic!("chmod {}: {error}", path.display()));
}

/// The checks mean something only if the run user is not the owner of the app's files
/// but is in their group, as on Paketo's jammy stacks.
fn assert_run_user_is_not_the_owner(context: &TestContext) {
    let output =
        context.run_shell_command(r#"echo "$(id -u) $(id -g) $(stat -c '%u %g' /workspace)""#);
    let ids: Vec<u32> = output
        .stdout
        .split_whitespace()
        .map(|id| id.parse().expect("a numeric id"))
        .collect();
    let [user, group, owner, owning_group] = ids[..] else {
        panic!("unexpected output of id and stat: {output}");
    };
    assert_ne!(
        user, owner,
        "the image runs as the owner of /workspace, so these checks would prove nothing"
    );
    assert_eq!(
        group, owning_group,
        "the run user is not in the group of /workspace"
    );
}

/// Runs a probe in the image through the launcher, as its configured user.
fn probe(context: &TestContext, probe: &Probe) -> Report {
    Report::parse(&context.run_shell_command(probe.script()).stdout)
}
