//! The writable surface: what the build reports the image leaves group- or other-writable
//! (pack's 0777 `/workspace`, an umask-002 checkout), `BP_GROUP_WRITABLE_READ_ONLY` (what
//! no pattern or redirect names becomes read-only for group and other, and the named
//! paths, the redirects and their seeds keep working), and a label that stays the same
//! across rebuilds with the cache when an earlier buildpack reuses its launch layer from
//! the previous image (`tests/fixtures/buildpacks/layer-reuser`, as libpak does).

use crate::group_writable_paths::group_writable_image;
use crate::platform::{Build, Image, Platform, Run, fixture};
use crate::probe::{Outcome, Probe, assert_outcomes};
use crate::shared_build;
use crate::writable_paths::{IN_WORKSPACE_ROOT, MATCHED, NOT_MATCHED};
use libtest_mimic::Trial;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

pub(crate) fn trials() -> Vec<Trial> {
    trials![
        the_report_names_the_0777_workspace,
        the_report_counts_an_umask_002_checkout,
        read_only_leaves_only_what_patterns_name,
        read_only_passes_the_audit_of_the_exported_image,
        read_only_keeps_redirects_and_seeds_working,
        entries_under_redirected_paths_are_reported_as_redirected,
        three_builds_with_a_reused_layer_give_the_same_config_digest,
    ]
}

const READ_ONLY: &str = "BP_GROUP_WRITABLE_READ_ONLY";

/// The buildpacks of the writable-paths app's builds, group-writable last.
fn buildpacks() -> Vec<PathBuf> {
    vec![
        fixture("buildpacks/layer-maker"),
        fixture("buildpacks/procfile"),
        Platform::get().buildpack().to_owned(),
    ]
}

/// The writable-paths app checked out under umask 002, built with the buildpack.
fn umask_002_image() -> &'static Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    shared_build(&IMAGE, "umask-002", || {
        Build::new(fixture("apps/writable-paths"), buildpacks()).umask_002_checkout()
    })
}

/// The same with `BP_GROUP_WRITABLE_READ_ONLY=true`.
fn read_only_image() -> &'static Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    shared_build(&IMAGE, "read-only", || {
        Build::new(fixture("apps/writable-paths"), buildpacks())
            .umask_002_checkout()
            .env(READ_ONLY, "true")
    })
}

fn surface(image: &Image) -> Value {
    image.policy_label()["surface"].clone()
}

fn count(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

fn the_report_names_the_0777_workspace() {
    let image = group_writable_image();
    let surface = surface(image);
    assert_eq!(
        surface["app"]["world_writable_paths"],
        serde_json::json!(["/workspace"]),
        "{surface}"
    );
    assert_eq!(
        (
            count(&surface["app"]["directories"]),
            count(&surface["app"]["files"])
        ),
        (1, 0),
        "a checkout under umask 022 leaves only /workspace itself writable: {surface}"
    );
    assert!(
        image.log.contains("World-writable: /workspace"),
        "the build log does not name /workspace:\n{}",
        image.log
    );
    // The control: with the read-only setting, /workspace is no longer reported (nor
    // writable: see read_only_leaves_only_what_patterns_name).
    let surface = self::surface(read_only_image());
    assert_eq!(count(&surface["app"]["world_writable"]), 0, "{surface}");
}

fn the_report_counts_an_umask_002_checkout() {
    let image = umask_002_image();
    let surface = surface(image);
    let files = count(&surface["app"]["files"]);
    // Every app file no pattern names: .group-writable, Procfile, start.sh,
    // config/app.toml, data/seed.json (and whatever else the fixture holds).
    assert!(files >= 5, "{surface}");
    assert!(count(&surface["app"]["directories"]) >= 3, "{surface}");
    assert!(
        image
            .log
            .contains("Left writable in the app by the platform or an earlier buildpack"),
        "{}",
        image.log
    );
    // The paths no pattern names are writable for the run user in that image: what the
    // report is about.
    let report = image.probe(&Probe::writes(&NOT_MATCHED[..3]), &Run::default());
    assert_outcomes(
        &report,
        &NOT_MATCHED[..3],
        &Outcome::Written,
        "umask-002 checkout, without the read-only setting",
    );
    // The control: the umask-022 build reports no app file.
    let control = self::surface(group_writable_image());
    assert_eq!(count(&control["app"]["files"]), 0, "{control}");
}

fn read_only_leaves_only_what_patterns_name() {
    let image = read_only_image();
    let surface = surface(image);
    assert!(count(&surface["app"]["made_read_only"]) >= 8, "{surface}");
    assert_eq!(surface["read_only"], Value::Bool(true));
    assert!(
        image.log.contains("Made read-only for group and other"),
        "{}",
        image.log
    );
    let report = image.probe(&Probe::writes(MATCHED), &Run::default());
    assert_outcomes(
        &report,
        MATCHED,
        &Outcome::Written,
        "read-only setting, named paths",
    );
    let report = image.probe(&Probe::writes(NOT_MATCHED), &Run::default());
    assert_outcomes(
        &report,
        NOT_MATCHED,
        &Outcome::PermissionDenied,
        "read-only setting, umask-002 checkout, paths no pattern names",
    );
    let report = image.probe(
        &Probe::writes(IN_WORKSPACE_ROOT).stat("/workspace"),
        &Run::default(),
    );
    assert_eq!(report.group_and_mode("/workspace").1, "drwxr-xr-x");
    assert_outcomes(
        &report,
        IN_WORKSPACE_ROOT,
        &Outcome::PermissionDenied,
        "read-only setting, directly in /workspace",
    );
    let output = image.run(&Run::default(), &[]);
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("app started"),
        "the app did not start with the read-only setting ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The app and layer paths the audit finds writable for the run user that the label does
/// not explain (neither a pattern nor a redirect names them).
fn unexplained(image: &Image) -> Vec<String> {
    crate::audit_tool::unexplained(&crate::audit_tool::report(&image.layout, &[]))
}

fn read_only_passes_the_audit_of_the_exported_image() {
    let unexplained_paths = unexplained(read_only_image());
    assert!(
        unexplained_paths.is_empty(),
        "with the read-only setting, the audit finds writable app or layer paths no pattern or redirect names: {unexplained_paths:?}"
    );
    // The control: the same checkout without the setting.
    let control = unexplained(umask_002_image());
    assert!(
        control.iter().any(|path| path == "/workspace")
            && control
                .iter()
                .any(|path| path == "/workspace/config/app.toml"),
        "{control:?}"
    );
}

/// The Rails-shaped app (`tmp/` and `log/` redirected) checked out under umask 002.
fn rails_build(read_only: bool) -> Build {
    let build = Build::new(
        fixture("apps/rails-shaped"),
        vec![
            fixture("buildpacks/procfile"),
            Platform::get().buildpack().to_owned(),
        ],
    )
    .umask_002_checkout();
    if read_only {
        build.env(READ_ONLY, "true")
    } else {
        build
    }
}

fn entries_under_redirected_paths_are_reported_as_redirected() {
    let image = Platform::get()
        .build("rails-umask-002", &rails_build(false))
        .unwrap_or_else(|message| panic!("the build failed: {message}"));
    let surface = surface(&image);
    // log, log/.keep, tmp, tmp/cache, tmp/cache/warmed-at-build, tmp/pids, tmp/pids/.keep:
    // all group-writable in the checkout, all moved out of the app by the redirects.
    assert_eq!(count(&surface["app"]["redirected"]), 7, "{surface}");
    assert!(
        image.log.contains(
            "/workspace/tmp, /workspace/log; the 7 group- or other-writable entries there leave the app with them"
        ),
        "{}",
        image.log
    );
    // What is left writable is what stays in the image's app: the checkout's other
    // entries (/workspace, config, bin; Procfile, Gemfile, config/application.rb,
    // bin/rails-server), never those under tmp/ or log/.
    let left = count(&surface["app"]["directories"]) + count(&surface["app"]["files"]);
    let unexplained = unexplained(&image);
    assert!(
        unexplained
            .iter()
            .all(|path| !path.starts_with("/workspace/tmp") && !path.starts_with("/workspace/log")),
        "{unexplained:?}"
    );
    assert_eq!(
        left,
        unexplained
            .iter()
            .filter(|path| path.starts_with("/workspace"))
            .count() as u64,
        "the label's app figures differ from what the audit finds writable in the image: {surface} {unexplained:?}"
    );
    // They leave the app read-only for group and other: the seeds in our layer are only
    // read (the helper copies them), so no write bit of the checkout's comes with them.
    let report = crate::audit_tool::report(&image.layout, &[]);
    let writable_seeds: Vec<String> = crate::audit_tool::paths(&report, "writable")
        .into_iter()
        .filter(|path| path.contains("/redirects/seeds/"))
        .collect();
    assert!(
        writable_seeds.is_empty(),
        "seed entries are writable in the image, where the label does not count them: {writable_seeds:?}"
    );
}

fn read_only_keeps_redirects_and_seeds_working() {
    let platform = Platform::get();
    let image = platform
        .build("rails-read-only", &rails_build(true))
        .unwrap_or_else(|message| panic!("the build failed: {message}"));
    let surface = surface(&image);
    assert_eq!(
        surface["redirected"],
        serde_json::json!(["/workspace/tmp", "/workspace/log"]),
        "{surface}"
    );
    assert!(count(&surface["app"]["made_read_only"]) > 0, "{surface}");
    for run in [Run::read_only(), Run::default()] {
        let output = image.run(&run, &[]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        for line in [
            "wrote tmp/pids/server.pid",
            "appended to log/production.log",
            "read tmp/cache/warmed-at-build: cache entry written at build time",
            "rails-shaped app booted",
        ] {
            assert!(
                output.status.success() && stdout.lines().any(|printed| printed == line),
                "read-only setting, {run:?}: `{line}` missing ({})\n--- stdout\n{stdout}--- stderr\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    // The control: the app directory itself is not writable with the setting, so the
    // start works because of the redirects, not because of a writable checkout.
    let output = image.run(&Run::default(), &["sh", "-c", "touch /workspace/new"]);
    assert!(
        !output.status.success(),
        "/workspace is writable with the read-only setting"
    );
}

/// The app whose pattern addresses the reused layer, with layer-reuser before ours.
fn reuse_build() -> Build {
    Build::new(
        fixture("apps/reused-layer"),
        vec![
            fixture("buildpacks/layer-reuser"),
            Platform::get().buildpack().to_owned(),
        ],
    )
}

const REUSED_PATTERN: &str = "/layers/test_layer-reuser/kept/data/";
/// The pattern addressing its cached launch layer, which the lifecycle restores onto the
/// disk on a rebuild with the modes this buildpack gave it.
const RESTORED_PATTERN: &str = "/layers/test_layer-reuser/cached/data/";

/// The label's counts (directories, files, changed) for one pattern.
fn pattern_counts(image: &Image, text: &str) -> (u64, u64, u64) {
    let label = image.policy_label();
    let pattern = label["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .find(|pattern| pattern["pattern"] == text)
        .unwrap_or_else(|| panic!("no {text} in {label}"))
        .clone();
    (
        count(&pattern["directories"]),
        count(&pattern["files"]),
        count(&pattern["changed"]),
    )
}

/// The label's counts for the pattern addressing the reused layer.
fn reused_pattern_counts(image: &Image) -> (u64, u64) {
    let (directories, files, _) = pattern_counts(image, REUSED_PATTERN);
    (directories, files)
}

fn three_builds_with_a_reused_layer_give_the_same_config_digest() {
    let platform = Platform::get();
    let mut images = Vec::new();
    for build in 1..=3 {
        let image = platform
            .build("reused-layer", &reuse_build())
            .unwrap_or_else(|message| panic!("build {build} failed: {message}"));
        images.push(image);
    }
    for (index, image) in images.iter().enumerate().skip(1) {
        assert!(
            image
                .log
                .contains("Reusing the launch layer kept from the previous image")
                && image.log.contains("is reused from the previous image")
                && image
                    .log
                    .contains("the label records the figures of the build that made it"),
            "build {} did not reuse the layer, or did not say so:\n{}",
            index + 1,
            image.log
        );
    }
    for (index, image) in images.iter().enumerate().skip(1) {
        assert!(
            image
                .log
                .contains("test_layer-reuser/cached is as the previous build left it"),
            "build {} did not say the cached layer was restored:\n{}",
            index + 1,
            image.log
        );
    }
    for image in &images {
        assert_eq!(reused_pattern_counts(image), (1, 2));
        // What the first build changed in the cached layer, also on the rebuilds, which
        // find it restored with those modes.
        assert_eq!(pattern_counts(image, RESTORED_PATTERN), (1, 2, 3));
        assert_eq!(
            image.policy_label(),
            images[0].policy_label(),
            "a rebuild's label differs from the first build's"
        );
    }
    let digests: Vec<String> = images.iter().map(Image::config_digest).collect();
    assert!(
        digests.iter().all(|digest| *digest == digests[0]),
        "three builds with the cache gave different image configs: {digests:?}"
    );

    // The control of what is carried: the cached layer rebuilt by its buildpack, the same
    // entries with other content and modes already group-writable. This build changed
    // nothing there, and it found the same counts as the record, but not the layer the
    // previous build left: the label says it changed nothing, and the log is silent.
    let rebuilt = platform
        .build(
            "reused-layer",
            &reuse_build().env("REUSER_REBUILD_CACHED", "true"),
        )
        .unwrap_or_else(|message| panic!("the rebuild of the cached layer failed: {message}"));
    assert!(
        rebuilt.log.contains("Rebuilding the launch layer cached")
            && !rebuilt.log.contains("is as the previous build left it"),
        "{}",
        rebuilt.log
    );
    assert_eq!(pattern_counts(&rebuilt, RESTORED_PATTERN), (1, 2, 0));

    // The control: without the record (the cache emptied; the previous image stays, so
    // the layer is still reused), the label counts nothing in the reused layer, and the
    // config differs: the record is what keeps it stable.
    platform.clear_cache("reused-layer");
    let fourth = platform
        .build("reused-layer", &reuse_build())
        .unwrap_or_else(|message| panic!("build 4 failed: {message}"));
    assert!(
        fourth.log.contains("no earlier build recorded its figures"),
        "{}",
        fourth.log
    );
    assert_eq!(reused_pattern_counts(&fourth), (0, 0));
    assert_ne!(fourth.config_digest(), digests[0]);
}
