//! The pack suite: libcnb-test's `pack build` against a Docker daemon, with a builder
//! shaped like Paketo's jammy builders (build user 1001, run user 1002, group 1000), then
//! the images run with `docker run`: what users run. `tests/pack/stack` makes all of it on
//! this machine (Debian's Docker with its own daemon, pack built from a pinned module, the
//! stack images made with debootstrap, the builder with the pinned lifecycle); `bin/test`
//! runs this suite inside it. Alone, as root:
//!
//! ```text
//! bin/package && tests/pack/stack run -- cargo test --test integration_test
//! ```
//!
//! Without the stack (`GROUP_WRITABLE_PACK_BUILDER` unset) the tests are ignored, with a
//! message, except in CI (`CI=true`), where that is a failure.
//!
//! Every positive check has a control build without the buildpack where it must fail.

// Test crates see every dependency of the package; this one uses few of them.
#![allow(unused_crate_dependencies)]

#[path = "support/audit_tool.rs"]
mod audit_tool;
#[path = "support/ids.rs"]
mod ids;
#[path = "support/pack_stack.rs"]
mod pack_stack;
#[path = "support/probe.rs"]
mod probe;
#[path = "support/writable_paths.rs"]
mod writable_paths;

use libcnb_test::{
    BuildConfig, BuildpackReference, ContainerConfig, TestContext, TestRunner, assert_contains,
};
use libtest_mimic::{Arguments, Trial};
use pack_stack::{
    BUILDER_VARIABLE, Builder, PackImage, Run, Stack, built_image, layer_digests, policy_label,
    readme_toml_block, with_buildpack_uri,
};
use probe::{Outcome, Probe, assert_outcomes};
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use writable_paths::{IN_WORKSPACE_ROOT, MATCHED, NOT_MATCHED, WORKSPACE_MODE};

const WRITABLE_PATHS_APP: &str = "tests/fixtures/apps/writable-paths";
const NODE_APP: &str = "tests/fixtures/apps/node-shaped";
use ids::{BUILD_GID, BUILD_UID, RUN_UID};
/// `OpenShift` runs images as a random uid (from the project's range) in group 0.
const OPENSHIFT_USER: &str = "1000650000:0";

fn main() -> ExitCode {
    let mut arguments = Arguments::from_args();
    let available = STACK.get_or_init(Stack::from_env).is_some();
    if !available {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            eprintln!(
                "The pack suite must run in CI, but {BUILDER_VARIABLE} is not set: run it through bin/test."
            );
            return ExitCode::FAILURE;
        }
        eprintln!(
            "The pack suite's tests are ignored: {BUILDER_VARIABLE} is not set. Run them with \
             bin/test, or alone (root): bin/package && tests/pack/stack run -- cargo test --test integration_test"
        );
    }
    let trials = [
        trial("packaged_directory", packaged_directory),
        trial("buildpackage_file", buildpackage_file),
        trial("readme_project_toml", readme_project_toml),
        trial("readme_builder_toml", readme_builder_toml),
        trial("openshift_gid_zero", openshift_gid_zero),
        trial(
            "surface_umask_002_and_read_only",
            surface_umask_002_and_read_only,
        ),
    ]
    .into_iter()
    .map(|trial| trial.with_ignored_flag(!available))
    .collect();
    // Two builds at a time: each waits on the daemon as much as on the cores.
    arguments.test_threads = Some(arguments.test_threads.unwrap_or(2));
    libtest_mimic::run(&arguments, trials).exit_code()
}

static STACK: OnceLock<Option<Stack>> = OnceLock::new();

fn stack() -> &'static Stack {
    STACK
        .get()
        .and_then(Option::as_ref)
        .expect("the pack stack (checked in main)")
}

/// A test of the suite: `test` fails by panicking, as `#[test]` functions do.
fn trial(name: &str, test: fn()) -> Trial {
    Trial::test(name, move || {
        test();
        Ok(())
    })
}

/// `--buildpack <packaged directory>`, after the test buildpacks (a launch layer, the
/// `web` process), last as it must be; and the control without it. The image is read as
/// users and platforms read it: `docker run` as the run user, `docker inspect` for the
/// policy label; a rebuild with the cache gives the same layers.
fn packaged_directory() {
    let stack = stack();
    let with = writable_paths_build(Some(&stack.buildpack_dir));
    TestRunner::default().build(&with, |context| {
        assert_contains!(context.pack_stdout, "Group Writable");
        assert_contains!(context.pack_stdout, "/data/state.json");
        assert_run_user_is_not_the_owner(&context);
        let image = built_image(&context.pack_stdout);
        assert_writable_paths(&image, Run::default(), "--buildpack <packaged directory>");
        // setgid, so what other users of the group create there keeps the group.
        let report = Run::default().probe(&image, &Probe::default().stat("/workspace/log"));
        let (_, mode) = report.group_and_mode("/workspace/log");
        assert_eq!(mode.chars().nth(6), Some('s'), "/workspace/log: {mode}");
        assert_workspace_root_is_0777(&image, "--buildpack <packaged directory>");
        assert_audit_agrees(&image, "--buildpack <packaged directory>");

        let label = policy_label(&image).expect("the image has no policy label");
        let policy: serde_json::Value = serde_json::from_str(&label).expect("the label is JSON");
        assert_eq!(policy["build_user"]["uid"], BUILD_UID, "{label}");
        assert_eq!(policy["build_user"]["gid"], BUILD_GID, "{label}");
        // The surface report names pack's 0777 /workspace (the control, where it is not
        // there, is the read-only build of surface_umask_002_and_read_only).
        assert_contains!(context.pack_stdout, "World-writable: /workspace");
        assert_eq!(
            policy["surface"]["app"]["world_writable_paths"],
            serde_json::json!(["/workspace"]),
            "{label}"
        );
        assert!(
            policy["patterns"]
                .as_array()
                .is_some_and(|patterns| patterns.iter().any(|p| p["pattern"] == "log/")),
            "{label}"
        );

        // The app's own start: its `web` process writes a pid file and a log line.
        context.start_container(ContainerConfig::new(), |container| {
            assert_contains!(container.logs_wait().stdout, "app started");
        });

        let digests = layer_digests(&image);
        context.rebuild(&with, |rebuilt| {
            assert_contains!(
                rebuilt.pack_stdout,
                "Restoring metadata for \"test/layer-maker:store\""
            );
            let rebuilt_image = built_image(&rebuilt.pack_stdout);
            assert_eq!(
                layer_digests(&rebuilt_image),
                digests,
                "a rebuild with the cache changed the image's layers"
            );
        });
    });

    TestRunner::default().build(writable_paths_build(None), |context| {
        assert!(
            !context.pack_stdout.contains("Group Writable"),
            "the control build ran the buildpack"
        );
        assert_run_user_is_not_the_owner(&context);
        let image = built_image(&context.pack_stdout);
        assert_control(&image, Run::default(), "control (without group-writable)");
        assert_workspace_root_is_0777(&image, "control (without group-writable)");
        assert_audit_agrees(&image, "control (without group-writable)");
        assert_eq!(
            policy_label(&image),
            None,
            "the control image has a policy label"
        );
        let started = Run::default().start(&image);
        assert!(
            !started.status.success()
                && String::from_utf8_lossy(&started.stderr).contains("Permission denied"),
            "without group-writable the app started as the run user"
        );
    });
}

/// `--buildpack <buildpackage file>`: the `.cnb` that `bin/package` writes with
/// `pack buildpack package --format file`.
fn buildpackage_file() {
    let stack = stack();
    TestRunner::default().build(writable_paths_build(Some(&stack.buildpackage)), |context| {
        assert_contains!(context.pack_stdout, "Group Writable");
        let image = built_image(&context.pack_stdout);
        assert_writable_paths(&image, Run::default(), "--buildpack <buildpackage file>");
        assert!(policy_label(&image).is_some(), "no policy label");
    });
    // The control: the same build without it (the buildpack cannot be disabled here:
    // every `--buildpack` is a required member of the group).
    TestRunner::default().build(writable_paths_build(None), |context| {
        let image = built_image(&context.pack_stdout);
        assert_control(&image, Run::default(), "control of the buildpackage build");
    });
}

/// The README's `project.toml`, as written, with only the uri pointing at the
/// buildpackage: pack appends it to the group the builder detects (the test buildpacks).
/// The control is the same app without that `project.toml`.
fn readme_project_toml() {
    let stack = stack();
    let project_toml = with_buildpack_uri(
        &readme_toml_block("[[io.buildpacks.post.group]]"),
        &stack.buildpackage,
    );
    let build = |project_toml: Option<String>| {
        let mut config = BuildConfig::new(&stack.builder, WRITABLE_PATHS_APP);
        config
            .buildpacks(Vec::new())
            .app_dir_preprocessor(move |app_dir| {
                without_group_and_other_write(&app_dir);
                if let Some(text) = &project_toml {
                    std::fs::write(app_dir.join("project.toml"), text).expect("write project.toml");
                }
            });
        config
    };
    TestRunner::default().build(build(Some(project_toml)), |context| {
        assert_contains!(context.pack_stdout, "Group Writable");
        let image = built_image(&context.pack_stdout);
        assert_writable_paths(&image, Run::default(), "README project.toml");
    });
    TestRunner::default().build(build(None), |context| {
        let image = built_image(&context.pack_stdout);
        assert_control(&image, Run::default(), "without project.toml");
    });
}

/// The README's `builder.toml` tables, as written, with only the uri pointing at the
/// buildpackage: group-writable as the last, optional entry of a group. A stand-in for
/// `paketo-buildpacks/nodejs` (the test Procfile buildpack under that id) gives the
/// node-shaped app its process. The image runs as the README says:
/// `docker run --read-only --tmpfs /tmp --user 1002:1000`. The control is the same
/// builder with the buildpack disabled, which also proves `optional = true`: the group
/// still builds.
fn readme_builder_toml() {
    let stack = stack();
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let stand_in = scratch.path().join("nodejs-stand-in");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/buildpacks/procfile"),
        &stand_in,
    );
    let descriptor = stand_in.join("buildpack.toml");
    let original = std::fs::read_to_string(&descriptor).expect("read buildpack.toml");
    let renamed = original.replace(
        "id = \"test/procfile\"",
        "id = \"paketo-buildpacks/nodejs\"",
    );
    assert_ne!(
        renamed, original,
        "the procfile buildpack's id line changed"
    );
    std::fs::write(&descriptor, renamed).expect("write buildpack.toml");

    let mut builder_toml = with_buildpack_uri(&readme_toml_block("[[order]]"), &stack.buildpackage);
    writeln!(
        builder_toml,
        "\n[[buildpacks]]\nuri = {:?}",
        stand_in.display().to_string()
    )
    .expect("writing to a String cannot fail");
    let buildpacks_toml = scratch.path().join("builder-buildpacks.toml");
    std::fs::write(&buildpacks_toml, builder_toml).expect("write the builder's buildpacks");
    let builder = Builder::create(stack, &buildpacks_toml);

    // The run user of the stack's run image, as `docker run --user` takes it.
    let run_user = format!("{RUN_UID}:{BUILD_GID}");
    let read_only_run_user = Run {
        user: Some(&run_user),
        read_only: true,
    };
    let build = |enabled: bool| {
        let mut config = BuildConfig::new(&builder.name, NODE_APP);
        config
            .buildpacks(Vec::new())
            .app_dir_preprocessor(|app_dir| without_group_and_other_write(&app_dir))
            .env("BP_GROUP_WRITABLE_ENABLED", enabled.to_string());
        config
    };
    TestRunner::default().build(build(true), |context| {
        assert_contains!(context.pack_stdout, "Group Writable");
        let started = read_only_run_user.start(&built_image(&context.pack_stdout));
        let stdout = String::from_utf8_lossy(&started.stdout);
        assert!(
            started.status.success() && stdout.contains("node-shaped app started"),
            "the app did not start on a read-only root as {run_user}:\n{stdout}\n{}",
            String::from_utf8_lossy(&started.stderr)
        );
    });
    TestRunner::default().build(build(false), |context| {
        assert!(
            !context.pack_stdout.contains("Group Writable"),
            "the disabled buildpack ran"
        );
        let started = read_only_run_user.start(&built_image(&context.pack_stdout));
        assert!(
            !started.status.success()
                && String::from_utf8_lossy(&started.stderr).contains("Read-only file system"),
            "without group-writable the app started on a read-only root"
        );
    });
}

/// `OpenShift`'s shape: `pack build --gid 0` (libcnb-test cannot pass it, so pack runs
/// directly), then the image runs as a random uid in group 0.
fn openshift_gid_zero() {
    let stack = stack();
    let app = tempfile::tempdir().expect("a temporary directory");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(WRITABLE_PATHS_APP),
        app.path(),
    );
    without_group_and_other_write(app.path());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/buildpacks");
    let layer_maker = fixtures.join("layer-maker");
    let procfile = fixtures.join("procfile");
    let random_uid = Run {
        user: Some(OPENSHIFT_USER),
        read_only: false,
    };

    let with = PackImage::build(
        &stack.builder,
        app.path(),
        &[&layer_maker, &procfile, &stack.buildpack_dir],
        &["--gid", "0"],
    );
    assert_contains!(with.pack_stdout, "Group Writable");
    let report = random_uid.probe(
        &with.name,
        &Probe::writes(MATCHED).stat("/workspace/log/new.log"),
    );
    assert_outcomes(
        &report,
        MATCHED,
        &Outcome::Written,
        "built with --gid 0, run as a random uid in group 0",
    );
    assert_eq!(report.group_and_mode("/workspace/log/new.log").0, 0);
    let report = random_uid.probe(&with.name, &Probe::writes(NOT_MATCHED));
    assert_outcomes(
        &report,
        NOT_MATCHED,
        &Outcome::PermissionDenied,
        "--gid 0, paths no pattern matches",
    );
    assert!(
        random_uid.start(&with.name).status.success(),
        "the app did not start as {OPENSHIFT_USER}"
    );

    let control = PackImage::build(
        &stack.builder,
        app.path(),
        &[&layer_maker, &procfile],
        &["--gid", "0"],
    );
    let report = random_uid.probe(&control.name, &Probe::writes(MATCHED));
    assert_outcomes(
        &report,
        MATCHED,
        &Outcome::PermissionDenied,
        "control built with --gid 0, random uid",
    );
}

/// The writable surface where users build: an app checked out under umask 002 (every
/// entry group-writable), reported by the build; with `BP_GROUP_WRITABLE_READ_ONLY=true`
/// only what the patterns name stays writable, `/workspace` itself included, and the audit
/// of the exported image finds nothing else writable (the control without the setting
/// does).
fn surface_umask_002_and_read_only() {
    let stack = stack();
    let build = |read_only: bool| {
        let mut config = writable_paths_build(Some(&stack.buildpack_dir));
        config.app_dir_preprocessor(|app_dir| {
            without_group_and_other_write(&app_dir);
            with_group_write_below(&app_dir);
        });
        if read_only {
            config.env("BP_GROUP_WRITABLE_READ_ONLY", "true");
        }
        config
    };
    let surface = |image: &str| -> serde_json::Value {
        let label = policy_label(image).expect("the image has no policy label");
        serde_json::from_str::<serde_json::Value>(&label).expect("the label is JSON")["surface"]
            .clone()
    };
    TestRunner::default().build(build(false), |context| {
        assert_contains!(
            context.pack_stdout,
            "Left writable in the app by the platform or an earlier buildpack"
        );
        assert_contains!(context.pack_stdout, "World-writable: /workspace");
        let image = built_image(&context.pack_stdout);
        let surface = surface(&image);
        assert!(surface["app"]["files"].as_u64() >= Some(5), "{surface}");
        // What the report is about: the checkout's paths are writable for the run user.
        let writes = &NOT_MATCHED[..3];
        let report = Run::default().probe(&image, &Probe::writes(writes));
        assert_outcomes(&report, writes, &Outcome::Written, "umask-002 checkout");
        // The control of the read-only image's audit below: without the setting, the
        // exported image leaves app paths writable that no pattern or redirect names.
        let unexplained = unexplained_writable(&image);
        assert!(
            unexplained.iter().any(|path| path == "/workspace")
                && unexplained
                    .iter()
                    .any(|path| path == "/workspace/config/app.toml"),
            "{unexplained:?}"
        );
    });
    TestRunner::default().build(build(true), |context| {
        assert_contains!(context.pack_stdout, "Made read-only for group and other");
        let image = built_image(&context.pack_stdout);
        let surface = surface(&image);
        assert_eq!(surface["app"]["world_writable"], 0, "{surface}");
        assert!(
            surface["app"]["made_read_only"].as_u64() >= Some(8),
            "{surface}"
        );
        assert_writable_paths(
            &image,
            Run::default(),
            "umask-002 checkout, read-only setting",
        );
        let report =
            Run::default().probe(&image, &Probe::writes(IN_WORKSPACE_ROOT).stat("/workspace"));
        assert_eq!(report.group_and_mode("/workspace").1, "drwxr-xr-x");
        assert_outcomes(
            &report,
            IN_WORKSPACE_ROOT,
            &Outcome::PermissionDenied,
            "read-only setting: directly in /workspace",
        );
        // The exported image, as `docker save` writes it: no entry in /workspace or
        // /layers is group- or other-writable for the run user unless a pattern or a
        // redirect names it.
        let unexplained = unexplained_writable(&image);
        assert!(
            unexplained.is_empty(),
            "with the read-only setting, the audit finds writable app or layer paths no pattern or redirect names: {unexplained:?}"
        );
        context.start_container(ContainerConfig::new(), |container| {
            assert_contains!(container.logs_wait().stdout, "app started");
        });
    });
}

/// `group-writable-audit` on `image` as `docker save` writes it: the app and layer paths
/// writable for the run user that neither a pattern nor a redirect names.
fn unexplained_writable(image: &str) -> Vec<String> {
    let saved = tempfile::tempdir().expect("a temporary directory");
    audit_tool::unexplained(&audit_tool::report(&saved_image(image, saved.path()), &[]))
}

/// `docker save`s `image` into `directory`; the tarball's path.
fn saved_image(image: &str, directory: &Path) -> PathBuf {
    let tarball = directory.join("image.tar");
    pack_stack::succeed(pack_stack::docker(["save", "-o"]).arg(&tarball).arg(image));
    tarball
}

/// Adds group write below the app directory, as a checkout under umask 002 has it.
fn with_group_write_below(app_dir: &Path) {
    let mut directories = vec![app_dir.to_owned()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).expect("read the app copy") {
            let path: PathBuf = entry.expect("read the app copy").path();
            let metadata = std::fs::symlink_metadata(&path).expect("stat the app copy");
            if metadata.file_type().is_symlink() {
                continue;
            }
            set_mode(&path, metadata.permissions().mode() | 0o020);
            if metadata.is_dir() {
                directories.push(path);
            }
        }
    }
}

/// The fixture app `writable-paths` with the test buildpacks and, when given, this
/// buildpack (a directory or a buildpackage file) last, as it must be.
fn writable_paths_build(group_writable: Option<&Path>) -> BuildConfig {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/buildpacks");
    let mut buildpacks = vec![
        BuildpackReference::Other(path_string(&fixtures.join("layer-maker"))),
        BuildpackReference::Other(path_string(&fixtures.join("procfile"))),
    ];
    if let Some(buildpack) = group_writable {
        buildpacks.push(BuildpackReference::Other(path_string(buildpack)));
    }
    let mut config = BuildConfig::new(&stack().builder, WRITABLE_PATHS_APP);
    config
        .buildpacks(buildpacks)
        .app_dir_preprocessor(|app_dir| without_group_and_other_write(&app_dir));
    config
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// What `.group-writable` names is writable as RUN, and what it does not name is not.
fn assert_writable_paths(image: &str, run: Run<'_>, what: &str) {
    let report = run.probe(image, &Probe::writes(MATCHED));
    assert_outcomes(&report, MATCHED, &Outcome::Written, what);
    let report = run.probe(image, &Probe::writes(NOT_MATCHED));
    assert_outcomes(
        &report,
        NOT_MATCHED,
        &Outcome::PermissionDenied,
        &format!("{what}, paths no pattern matches"),
    );
}

/// The control: the writes `.group-writable` names fail as RUN.
fn assert_control(image: &str, run: Run<'_>, what: &str) {
    let report = run.probe(image, &Probe::writes(MATCHED));
    assert_outcomes(&report, MATCHED, &Outcome::PermissionDenied, what);
}

/// pack makes `/workspace` itself 0777 (see `IN_WORKSPACE_ROOT`): with and without the
/// buildpack, anyone may create entries directly in it. When pack stops doing that, this
/// fails: then the daemonless platform (`tests/e2e/lib/build.sh`) and the docs must follow.
/// `group-writable-audit` on the image as `docker save` writes it: for every probed
/// write, its answer is what the run user can do in the container.
fn assert_audit_agrees(image: &str, what: &str) {
    let saved = tempfile::tempdir().expect("a temporary directory");
    let tarball = saved_image(image, saved.path());
    let report = audit_tool::report(&tarball, &[]);
    assert_eq!(report["user"]["uid"], RUN_UID, "{what}: the image's User");
    let writes: Vec<_> = MATCHED
        .iter()
        .chain(NOT_MATCHED)
        .chain(IN_WORKSPACE_ROOT)
        .copied()
        .collect();
    let observed = Run::default().probe(image, &Probe::writes(&writes));
    audit_tool::assert_agreement(&report, &writes, |write| observed.outcome(write), what);
}

fn assert_workspace_root_is_0777(image: &str, what: &str) {
    let report = Run::default().probe(image, &Probe::writes(IN_WORKSPACE_ROOT).stat("/workspace"));
    assert_eq!(
        report.group_and_mode("/workspace").1,
        WORKSPACE_MODE,
        "{what}: pack no longer makes /workspace 0777; update tests/e2e/lib/build.sh and the docs"
    );
    assert_outcomes(
        &report,
        IN_WORKSPACE_ROOT,
        &Outcome::Written,
        &format!("{what}: writes directly in the 0777 /workspace"),
    );
}

/// `cp -a SOURCE/. TARGET`.
fn copy_tree(source: &Path, target: &Path) {
    std::fs::create_dir_all(target).expect("create the copy's directory");
    pack_stack::succeed(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(source.join("."))
            .arg(target),
    );
}

/// The app copy gets the modes a checkout under umask 022 has, whatever the host's umask
/// (pack keeps the host's modes, and a group-writable file would pass the checks without
/// the buildpack), and its root 0755 (libcnb-test's copy is in a 0700 temporary directory).
fn without_group_and_other_write(app_dir: &Path) {
    set_mode(app_dir, 0o755);
    let mut directories = vec![app_dir.to_owned()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).expect("read the app copy") {
            let path: PathBuf = entry.expect("read the app copy").path();
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
