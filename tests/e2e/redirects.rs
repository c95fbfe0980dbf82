//! The redirects, on a read-only root with a tmpfs /tmp (`docker run --read-only --tmpfs
//! /tmp`, Kubernetes' `readOnlyRootFilesystem`): Rails-, Node- and Python-shaped fixture
//! apps (`tests/fixtures/apps/*-shaped`, busybox shell scripts that make at start the
//! writes their framework makes) are built with `test/procfile` and group-writable last,
//! as 1001:1000, and started as 1002:1000 through the CNB launcher, which runs the exec.d
//! helper first. None of them has a `.group-writable`: the catalog alone must make them
//! work. Every check also runs on a control build without the buildpack, where it must
//! fail.

use crate::platform::{Build, Image, Platform, Run, fixture};
use crate::shared_build;
use libtest_mimic::Trial;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;

/// The tests of this module, in the order they run.
pub(crate) fn trials() -> Vec<Trial> {
    trials![
        rails_app_writes_pid_file_and_log_on_a_read_only_root,
        rails_app_finds_what_the_build_left_in_tmp,
        rails_app_fails_without_the_buildpack,
        rails_app_fails_when_redirects_are_off_at_launch,
        node_app_writes_node_modules_cache_on_a_read_only_root,
        node_app_fails_without_the_buildpack,
        python_app_writes_bytecode_below_its_pycache_prefix,
        python_app_fails_without_the_buildpack,
        launch_env_is_set_except_what_the_user_set,
        launch_env_is_not_set_without_the_buildpack,
        helper_sbom_is_where_the_lifecycle_puts_launch_sboms,
        no_helper_sbom_without_the_buildpack,
    ]
}

/// The helper's own directory under the default tmp base.
const OWN: &str = "/tmp/group-writable";

/// How the exec.d helper's messages on stderr start.
const HELPER_MESSAGE: &str = "group-writable-redirects:";

/// How busybox reports a write to the read-only root (EROFS), e.g. `sh: bin/rails-server:
/// line 9: can't create tmp/pids/server.pid: Read-only file system`.
const READ_ONLY: &str = "Read-only file system";

/// The fixture apps, each shaped like an app of one ecosystem (its marker files).
#[derive(Clone, Copy)]
enum App {
    Rails,
    Node,
    Python,
}

impl App {
    /// Its directory under `tests/fixtures/apps/`.
    fn name(self) -> &'static str {
        match self {
            App::Rails => "rails-shaped",
            App::Node => "node-shaped",
            App::Python => "python-shaped",
        }
    }

    /// What its start prints for each write it made, and last when it is done.
    fn started(self) -> &'static [&'static str] {
        match self {
            App::Rails => &[
                "wrote tmp/pids/server.pid",
                "appended to log/production.log",
                "rails-shaped app booted",
            ],
            App::Node => &[
                "wrote node_modules/.cache/node-shaped/compiled.json",
                "node-shaped app started",
            ],
            App::Python => &[
                "wrote /tmp/group-writable/python-pycache/workspace/app.cpython-312.pyc",
                "python-shaped app started",
            ],
        }
    }
}

/// The app built as 1001:1000 with `test/procfile` (its `web` process from the Procfile)
/// and, unless this is the control build, group-writable last. Built once per suite run.
fn image(app: App, with_group_writable: bool) -> &'static Image {
    static IMAGES: [OnceLock<Result<Image, String>>; 6] = [const { OnceLock::new() }; 6];
    let cell = &IMAGES[app as usize * 2 + usize::from(with_group_writable)];
    let name = if with_group_writable {
        app.name().to_owned()
    } else {
        format!("{}-control", app.name())
    };
    shared_build(cell, &name, || {
        let mut buildpacks: Vec<PathBuf> = vec![fixture("buildpacks/procfile")];
        if with_group_writable {
            buildpacks.push(Platform::get().buildpack().to_owned());
        }
        Build::new(fixture(&format!("apps/{}", app.name())), buildpacks)
    })
}

/// The start of the Rails-shaped app built with the buildpack, on a read-only root,
/// shared by the tests that look at different parts of it.
fn rails_start() -> &'static Output {
    static OUTPUT: OnceLock<Output> = OnceLock::new();
    OUTPUT.get_or_init(|| image(App::Rails, true).run(&Run::read_only(), &[]))
}

/// The app's default process (`web`), started through the launcher on a read-only root.
fn start(app: App, with_group_writable: bool) -> Output {
    image(app, with_group_writable).run(&Run::read_only(), &[])
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Checks that the app started, printed `lines`, and the helper had nothing to complain
/// about (each of its messages is a line starting with its name).
#[track_caller]
fn assert_started(output: &Output, lines: &[&str], context: &str) {
    let (stdout, stderr) = (stdout(output), stderr(output));
    let missing: Vec<&&str> = lines
        .iter()
        .filter(|line| !stdout.lines().any(|printed| printed == **line))
        .collect();
    assert!(
        output.status.success() && missing.is_empty() && !stderr.contains(HELPER_MESSAGE),
        "{context}: expected a clean start ({}) that printed {missing:?}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status
    );
}

/// Checks that the app did not start, and why: `error` on stderr. None of the lines a
/// working start prints may be there: each of its writes failed (the first one stops it).
#[track_caller]
fn assert_failed(output: &Output, app: App, error: &str, context: &str) {
    let (stdout, stderr) = (stdout(output), stderr(output));
    let printed: Vec<&&str> = app
        .started()
        .iter()
        .filter(|line| stdout.lines().any(|printed| printed == **line))
        .collect();
    assert!(
        !output.status.success() && printed.is_empty() && stderr.contains(error),
        "{context}: expected the start to fail with {error:?} before any write ({}), but it printed {printed:?}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status
    );
}

/// Checks that the build of `app` with the buildpack installed `redirect` (a line of the
/// build log), so a start that works is the redirect's doing.
#[track_caller]
fn assert_redirected(app: App, redirect: &str) {
    let log = &image(app, true).log;
    assert!(
        log.contains(redirect),
        "the {} build did not log `{redirect}`:\n{log}",
        app.name()
    );
}

/// The control build of `app`, after checking that it did not run the buildpack.
#[track_caller]
fn assert_control(app: App) -> &'static Image {
    let image = image(app, false);
    assert!(
        !image.log.contains("Group Writable"),
        "the control build of {} ran the buildpack:\n{}",
        app.name(),
        image.log
    );
    image
}

fn rails_app_writes_pid_file_and_log_on_a_read_only_root() {
    assert_redirected(App::Rails, "tmp/ -> /tmp/group-writable/rails-tmp");
    assert_redirected(App::Rails, "log/ -> /tmp/group-writable/rails-log");
    assert_started(
        rails_start(),
        App::Rails.started(),
        "rails-shaped app with group-writable, read-only root",
    );
}

fn rails_app_finds_what_the_build_left_in_tmp() {
    // /tmp is an empty tmpfs at every start: the file can only be there because the
    // helper copied the build's tmp/ (kept in its layer) to the target.
    assert_started(
        rails_start(),
        &["read tmp/cache/warmed-at-build: cache entry written at build time"],
        "rails-shaped app with group-writable, read-only root, the seeded tmp/",
    );
}

fn rails_app_fails_without_the_buildpack() {
    assert_control(App::Rails);
    assert_failed(
        &start(App::Rails, false),
        App::Rails,
        READ_ONLY,
        "rails-shaped app without group-writable, read-only root",
    );
}

fn rails_app_fails_when_redirects_are_off_at_launch() {
    // The symlinks stay in the read-only app directory, but nothing creates their
    // targets: the writes fail on the dangling symlink, as the README says they do.
    let output = image(App::Rails, true).run(
        &Run::read_only().env("BPL_GROUP_WRITABLE_REDIRECTS", "off"),
        &[],
    );
    assert_failed(
        &output,
        App::Rails,
        "No such file or directory",
        "rails-shaped app with group-writable, read-only root, BPL_GROUP_WRITABLE_REDIRECTS=off",
    );
}

fn node_app_writes_node_modules_cache_on_a_read_only_root() {
    assert_redirected(
        App::Node,
        "node_modules/.cache/ -> /tmp/group-writable/node-modules-cache",
    );
    assert_started(
        &start(App::Node, true),
        App::Node.started(),
        "node-shaped app with group-writable, read-only root",
    );
}

fn node_app_fails_without_the_buildpack() {
    assert_control(App::Node);
    assert_failed(
        &start(App::Node, false),
        App::Node,
        READ_ONLY,
        "node-shaped app without group-writable, read-only root",
    );
}

fn python_app_writes_bytecode_below_its_pycache_prefix() {
    assert_redirected(
        App::Python,
        "PYTHONPYCACHEPREFIX=/tmp/group-writable/python-pycache at launch",
    );
    assert_started(
        &start(App::Python, true),
        App::Python.started(),
        "python-shaped app with group-writable, read-only root",
    );
}

fn python_app_fails_without_the_buildpack() {
    // Without PYTHONPYCACHEPREFIX the bytecode goes next to the source, into the
    // read-only app directory.
    assert_control(App::Python);
    assert_failed(
        &start(App::Python, false),
        App::Python,
        READ_ONLY,
        "python-shaped app without group-writable, read-only root",
    );
}

/// The environment a process started through the launcher sees.
fn launch_env(image: &Image, run: &Run) -> BTreeMap<String, String> {
    let output = image.run(run, &["env"]);
    assert!(
        output.status.success(),
        "env did not run ({}):\n{}",
        output.status,
        stderr(&output)
    );
    stdout(&output)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// A variable the user sets at run time, which the Python-shaped app's catalog entries
/// would otherwise set (`matplotlib`).
const USER_SET: (&str, &str) = ("MPLCONFIGDIR", "/tmp/my-matplotlib");

fn launch_env_is_set_except_what_the_user_set() {
    let run = Run::read_only().env(USER_SET.0, USER_SET.1);
    let env = launch_env(image(App::Python, true), &run);
    let pycache = format!("{OWN}/python-pycache");
    let xdg_cache = format!("{OWN}/xdg-cache");
    let expected = [
        ("TMPDIR", "/tmp"),
        ("PYTHONPYCACHEPREFIX", pycache.as_str()),
        // $HOME is on the read-only root, so the XDG ones are set too.
        ("XDG_CACHE_HOME", xdg_cache.as_str()),
        USER_SET,
    ];
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(name, value)| env.get(*name).map(String::as_str) != Some(*value))
        .map(|(name, value)| format!("  {name}: expected {value}, got {:?}", env.get(*name)))
        .collect();
    assert!(
        wrong.is_empty(),
        "the launch environment of the python-shaped app with group-writable:\n{}\nall of it: {env:#?}",
        wrong.join("\n")
    );
}

fn launch_env_is_not_set_without_the_buildpack() {
    let image = assert_control(App::Python);
    let env = launch_env(image, &Run::read_only());
    let set: Vec<&str> = ["TMPDIR", "PYTHONPYCACHEPREFIX", "XDG_CACHE_HOME"]
        .into_iter()
        .filter(|name| env.contains_key(*name))
        .collect();
    assert!(
        set.is_empty(),
        "without group-writable something else set {set:?}: {env:#?}"
    );
}

/// Where the lifecycle exports the SBOM of our launch layer `redirects`.
const HELPER_SBOM_IN_IMAGE: &str =
    "/layers/sbom/launch/cnb-utils_group-writable/redirects/sbom.cdx.json";

fn helper_sbom_is_where_the_lifecycle_puts_launch_sboms() {
    let output = image(App::Rails, true).run(&Run::read_only(), &["cat", HELPER_SBOM_IN_IMAGE]);
    assert!(
        output.status.success(),
        "no {HELPER_SBOM_IN_IMAGE} in the rails-shaped image with group-writable ({}):\n{}",
        output.status,
        stderr(&output)
    );
    let packaged = Platform::get()
        .buildpack()
        .join(group_writable::sbom::HELPER_SBOM);
    let expected =
        std::fs::read(&packaged).unwrap_or_else(|error| panic!("{}: {error}", packaged.display()));
    assert!(
        output.stdout == expected,
        "{HELPER_SBOM_IN_IMAGE} is not the packaged {}:\n{}",
        packaged.display(),
        stdout(&output)
    );
}

fn no_helper_sbom_without_the_buildpack() {
    let image = assert_control(App::Rails);
    let output = image.run(&Run::read_only(), &["cat", HELPER_SBOM_IN_IMAGE]);
    assert!(
        !output.status.success(),
        "the control image has {HELPER_SBOM_IN_IMAGE}:\n{}",
        stdout(&output)
    );
}
