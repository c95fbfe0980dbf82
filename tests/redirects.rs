//! Contract tests of the redirects: the packaged `bin/build` on an app of each ecosystem
//! (see `support`), then the exec.d helper it installed, run as the launcher runs it: by
//! absolute path, in the app directory, with the launch environment and fd 3 on a pipe,
//! as the run user, with the test's own directory as `/tmp`. Needs `bin/package` first.

// The dependencies belong to the library; this test crate uses only a few of them.
#![allow(unused_crate_dependencies)]

mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use support::{BUILD_GID, CnbDirs, RUN_UID, TmpMount, build_uid, mode, running_as_root};

const OWN: &str = "/tmp/group-writable";

/// `(name, value)` pairs, for comparing with the helper's output.
fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs
}

const GENERIC: &[(&str, &str)] = &[
    ("TMPDIR", "/tmp"),
    ("XDG_CACHE_HOME", "/tmp/group-writable/xdg-cache"),
    ("XDG_STATE_HOME", "/tmp/group-writable/xdg-state"),
];

fn with_generic(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    vars(&[GENERIC, extra].concat())
}

#[track_caller]
fn assert_symlink(dirs: &CnbDirs, app_path: &str, target: &str) {
    let link = dirs.app.join(app_path);
    assert_eq!(
        fs::read_link(&link)
            .unwrap_or_else(|error| panic!("{} is not a symlink: {error}", link.display())),
        PathBuf::from(target),
        "{app_path}"
    );
}

/// The owner that files the helper creates have.
fn run_uid() -> u32 {
    if running_as_root() {
        RUN_UID
    } else {
        build_uid()
    }
}

fn label(dirs: &CnbDirs) -> serde_json::Value {
    let launch: toml::Table = fs::read_to_string(dirs.layers.join("launch.toml"))
        .expect("launch.toml")
        .parse()
        .expect("launch.toml is TOML");
    let labels = launch["labels"].as_array().expect("[[labels]]");
    assert_eq!(labels.len(), 1);
    assert_eq!(
        labels[0]["key"].as_str(),
        Some("io.github.cnb-utils.group-writable.policy")
    );
    serde_json::from_str(labels[0]["value"].as_str().expect("a string")).expect("JSON")
}

fn rails_app() -> CnbDirs {
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "Gemfile",
        "config/application.rb",
        "app/models/user.rb",
        "tmp/cache/store/00/abc",
        "tmp/cache/bootsnap/compile-cache/00/def",
        "tmp/cache/assets/sprockets/v4.0/ghi",
        "tmp/pids/",
        "log/.keep",
    ]);
    dirs
}

#[test]
fn rails_tmp_and_log_are_redirected_and_seeded() {
    packaged_or_skip!();
    let dirs = rails_app();
    let build = dirs.build();
    build
        .assert_success()
        .assert_log_contains("Redirects to `/tmp`")
        .assert_log_contains("`tmpdir`: TMPDIR=/tmp at launch, unless set")
        .assert_log_contains(
            "`xdg-cache`: XDG_CACHE_HOME=/tmp/group-writable/xdg-cache at launch, unless set or $HOME is writable",
        )
        .assert_log_contains(
            "`rails-tmp`: tmp/ -> /tmp/group-writable/rails-tmp, seeded at launch with the build's 7 directories and 2 files (16 bytes)",
        )
        .assert_log_contains("`rails-log`: log/ -> /tmp/group-writable/rails-log, seeded")
        .assert_log_contains(
            "`bootsnap`: $BOOTSNAP_CACHE_DIR not redirected: not needed: the default, `tmp/cache`, lies in `tmp/`, which `rails-tmp` makes writable at launch",
        )
        .assert_log_contains("The exec.d helper `group-writable-redirects` applies them");
    assert_symlink(&dirs, "tmp", "/tmp/group-writable/rails-tmp");
    assert_symlink(&dirs, "log", "/tmp/group-writable/rails-log");

    // The seed is in the launch layer, group-readable.
    let seed = dirs.layers.join("redirects/seeds/rails-tmp");
    assert_eq!(mode(&seed.join("cache/store/00/abc")) & 0o040, 0o040);
    // Bootsnap's cache is seeded (Bootsnap reads it at every boot), Sprockets' is not.
    assert!(seed.join("cache/bootsnap/compile-cache/00/def").is_file());
    assert!(!seed.join("cache/assets").exists());
    assert_eq!(mode(&seed.join("pids")) & 0o050, 0o050);
    let layer_toml = fs::read_to_string(dirs.layers.join("redirects.toml")).unwrap();
    assert!(layer_toml.contains("launch = true"), "{layer_toml}");
    assert!(!layer_toml.contains("build = true"), "{layer_toml}");
    assert!(!layer_toml.contains("cache = true"), "{layer_toml}");

    let launch = dirs.launch().run();
    launch.assert_exit_0();
    assert_eq!(launch.stderr, "");
    // BOOTSNAP_CACHE_DIR unset: Bootsnap's default, tmp/cache, holds the seeded cache.
    assert_eq!(sorted(launch.variables()), with_generic(&[]));
    let target = dirs.in_tmp(Path::new("/tmp/group-writable/rails-tmp"));
    assert!(target.join("cache/bootsnap/compile-cache/00/def").is_file());
    let seeded = target.join("cache/store/00/abc");
    assert_eq!(fs::read_to_string(&seeded).unwrap(), "content\n");
    assert_eq!(mode(&seeded), 0o644, "copies are writable for the run user");
    assert_eq!(fs::metadata(&seeded).unwrap().uid(), run_uid());
    assert!(target.join("pids").is_dir());
    assert!(
        dirs.in_tmp(Path::new(OWN))
            .join("rails-log/.keep")
            .is_file()
    );
    assert_eq!(mode(&dirs.in_tmp(Path::new(OWN))), 0o700);
    assert!(!dirs.in_tmp(Path::new(OWN)).join("bootsnap").exists());
    for env_dir in ["xdg-cache", "xdg-state"] {
        assert!(
            dirs.in_tmp(Path::new(OWN)).join(env_dir).is_dir(),
            "{env_dir}"
        );
    }

    // A second launch in the same container copies nothing again.
    fs::write(&seeded, "changed by the app\n").unwrap();
    fs::remove_dir(target.join("pids")).unwrap();
    let again = dirs.launch().run();
    again.assert_exit_0();
    assert_eq!(again.stderr, "");
    assert_eq!(again.output, launch.output);
    assert_eq!(fs::read_to_string(&seeded).unwrap(), "changed by the app\n");
    assert!(!target.join("pids").exists());
}

/// The control of the Rails case: Bootsnap without Rails' `tmp/` redirect gets its
/// variable.
#[test]
fn bootsnap_without_rails_gets_its_variable() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["Gemfile", "app.rb", "tmp/cache/bootsnap/load-path-cache"]);
    dirs.build()
        .assert_success()
        .assert_log_contains("`bootsnap`: BOOTSNAP_CACHE_DIR=/tmp/group-writable/bootsnap");
    let launch = dirs.launch().run();
    launch.assert_exit_0();
    assert_eq!(
        sorted(launch.variables()),
        with_generic(&[("BOOTSNAP_CACHE_DIR", "/tmp/group-writable/bootsnap")])
    );
}

#[test]
fn user_set_variables_and_a_writable_home_are_left_alone() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.build().assert_success();

    let launch = dirs
        .launch()
        .env("TMPDIR", "/var/tmp/mine")
        .env("BOOTSNAP_CACHE_DIR", "/cache")
        .env("XDG_STATE_HOME", "")
        .run();
    launch.assert_exit_0();
    assert_eq!(
        sorted(launch.variables()),
        vars(&[
            ("XDG_CACHE_HOME", "/tmp/group-writable/xdg-cache"),
            ("XDG_STATE_HOME", "/tmp/group-writable/xdg-state"),
        ])
    );

    // $HOME writable: the XDG defaults below it work.
    let writable_home = dirs.launch().env("HOME", "/tmp").run();
    writable_home.assert_exit_0();
    assert_eq!(
        sorted(writable_home.variables()),
        vars(&[("TMPDIR", "/tmp")])
    );
}

#[test]
fn node_cache_is_redirected_and_the_build_cache_dropped() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "package.json",
        "index.js",
        "node_modules/express/index.js",
        "node_modules/.cache/babel-loader/0123.json",
    ]);
    dirs.build()
        .assert_success()
        .assert_log_contains(
            "`node-modules-cache`: node_modules/.cache/ -> /tmp/group-writable/node-modules-cache, the build's cache dropped",
        )
        .assert_log_contains("`npm-cache`: NPM_CONFIG_CACHE=/tmp/group-writable/npm-cache")
        .assert_log_contains("`npm-logs`: NPM_CONFIG_LOGS_DIR=/tmp/group-writable/npm-logs");
    assert_symlink(
        &dirs,
        "node_modules/.cache",
        "/tmp/group-writable/node-modules-cache",
    );
    assert!(!dirs.layers.join("redirects/seeds").exists());
    assert!(dirs.app.join("node_modules/express/index.js").is_file());

    let launch = dirs.launch().run();
    launch.assert_exit_0();
    assert_eq!(launch.stderr, "");
    assert_eq!(
        sorted(launch.variables()),
        with_generic(&[
            ("NPM_CONFIG_CACHE", "/tmp/group-writable/npm-cache"),
            ("NPM_CONFIG_LOGS_DIR", "/tmp/group-writable/npm-logs"),
        ])
    );
    let target = dirs.in_tmp(Path::new("/tmp/group-writable/node-modules-cache"));
    assert!(target.is_dir());
    assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
}

/// `node_modules` a symlink to another buildpack's launch layer. The link stays below the
/// layers root, so the redirect follows it and links the cache in the layer. (Paketo's
/// npm-install links through `/tmp/<sha256>` instead, which is not followed: the unit
/// tests of `src/redirects/probe.rs`.)
#[test]
fn node_modules_in_another_buildpacks_layer_is_followed() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["package.json"]);
    support::make_tree(
        &dirs.layers_root,
        &["npm-install/modules/node_modules/.cache/x"],
    );
    std::os::unix::fs::symlink(
        dirs.layers_root.join("npm-install/modules/node_modules"),
        dirs.app.join("node_modules"),
    )
    .unwrap();
    dirs.hand_to_build_user();
    dirs.build().assert_success().assert_log_contains(
        "`node-modules-cache`: node_modules/.cache/ -> /tmp/group-writable/node-modules-cache, the build's cache dropped",
    );
    let cache = dirs
        .layers_root
        .join("npm-install/modules/node_modules/.cache");
    assert_eq!(
        fs::read_link(&cache).unwrap(),
        PathBuf::from("/tmp/group-writable/node-modules-cache")
    );
}

/// A `node_modules` that links out of the app and the layers is not the app's.
#[test]
fn node_modules_elsewhere_is_left_alone() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["package.json"]);
    support::make_tree(&dirs.root, &["elsewhere/node_modules/.cache/x"]);
    std::os::unix::fs::symlink(
        dirs.root.join("elsewhere/node_modules"),
        dirs.app.join("node_modules"),
    )
    .unwrap();
    dirs.build().assert_success().assert_log_contains(
        "`node-modules-cache`: node_modules/.cache/ not redirected: `node_modules` is a symlink that leads out of the app directory and the layers root",
    );
    assert!(dirs.root.join("elsewhere/node_modules/.cache/x").is_file());
}

/// PHP sessions: an ini file in the helper layer, first in `PHP_INI_SCAN_DIR`.
#[test]
fn php_sessions_go_to_the_tmp_base() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["index.php"]);
    dirs.build().assert_success().assert_log_contains(
        "`php-sessions`: session.save_path = \"/tmp\" in an ini file PHP reads first (PHP_INI_SCAN_DIR)",
    );
    let layer = dirs.layers.join("redirects");
    let ini = fs::read_to_string(layer.join("php.ini.d/00-group-writable.ini")).unwrap();
    assert!(ini.contains("\nsession.save_path = \"/tmp\"\n"), "{ini}");
    assert_eq!(
        fs::read_to_string(layer.join("env.launch/PHP_INI_SCAN_DIR.prepend")).unwrap(),
        format!("{}:", layer.join("php.ini.d").display())
    );
    assert!(!layer.join("env.launch/PHP_INI_SCAN_DIR.delim").exists());
}

/// A database file in the app gets the build log's hint.
#[test]
fn a_database_in_the_app_gets_a_hint() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["manage.py", "requirements.txt", "db.sqlite3"]);
    dirs.build()
        .assert_success()
        .assert_log_contains("The app holds the database file `db.sqlite3`");
}

#[test]
fn next_cache_is_redirected() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "package.json",
        "next.config.mjs",
        ".next/BUILD_ID",
        ".next/cache/webpack/client-production/0.pack",
    ]);
    dirs.build()
        .assert_success()
        .assert_log_contains(
            "`next-cache`: .next/cache/ -> /tmp/group-writable/next-cache, the build's cache dropped",
        )
        .assert_log_contains(
            "`node-modules-cache`: node_modules/.cache/ not redirected: its parent directory does not exist",
        );
    assert_symlink(&dirs, ".next/cache", "/tmp/group-writable/next-cache");
    assert!(dirs.app.join(".next/BUILD_ID").is_file());

    let launch = dirs.launch().run();
    launch.assert_exit_0();
    assert_eq!(
        sorted(launch.variables()),
        with_generic(&[
            ("NPM_CONFIG_CACHE", "/tmp/group-writable/npm-cache"),
            ("NPM_CONFIG_LOGS_DIR", "/tmp/group-writable/npm-logs"),
        ])
    );
    assert!(
        dirs.in_tmp(Path::new("/tmp/group-writable/next-cache"))
            .is_dir()
    );
}

#[test]
fn python_gets_its_variables() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["requirements.txt", "app.py"]);
    dirs.build()
        .assert_success()
        .assert_log_contains(
            "`python-pycache`: PYTHONPYCACHEPREFIX=/tmp/group-writable/python-pycache",
        )
        .assert_log_contains("`matplotlib`: MPLCONFIGDIR=/tmp/group-writable/matplotlib");
    let launch = dirs.launch().run();
    launch.assert_exit_0();
    assert_eq!(
        sorted(launch.variables()),
        with_generic(&[
            ("PYTHONPYCACHEPREFIX", "/tmp/group-writable/python-pycache"),
            ("MPLCONFIGDIR", "/tmp/group-writable/matplotlib"),
        ])
    );
}

/// A `.pyc` file of Python 3.11 with the PEP 552 flags word `flags` (0: timestamp-based,
/// 3: checked-hash).
fn pyc(path: &Path, flags: u32) {
    let mut bytes = vec![0xa7, 0x0d, b'\r', b'\n'];
    bytes.extend_from_slice(&flags.to_le_bytes());
    bytes.extend_from_slice(&[0; 8]);
    fs::create_dir_all(path.parent().expect("a parent")).expect("create __pycache__");
    fs::write(path, bytes).expect("write the .pyc");
}

/// Hash-based bytecode from the build (pip with `SOURCE_DATE_EPOCH`, as Heroku's Python
/// buildpack runs it) in a launch layer is valid in the image: no prefix. Its control,
/// timestamp-based bytecode (stale after the export), gets the prefix. A build-only
/// layer's timestamp-based bytecode is not exported and changes nothing.
#[test]
fn python_hash_based_bytecode_needs_no_prefix() {
    packaged_or_skip!();
    let site = "python/packages/site-packages/django/__pycache__";
    for (flags, prefixed) in [(3, false), (0, true)] {
        let dirs = CnbDirs::new();
        dirs.app_tree(&["requirements.txt", "app.py"]);
        pyc(
            &dirs.layers_root.join(site).join("__init__.cpython-311.pyc"),
            flags,
        );
        pyc(&dirs.layers_root.join(site).join("apps.cpython-311.pyc"), 3);
        fs::write(
            dirs.layers_root.join("python/packages.toml"),
            "[types]\nlaunch = true\n",
        )
        .expect("write the layer's toml");
        pyc(
            &dirs
                .layers_root
                .join("python/tools/pip/__pycache__/main.cpython-311.pyc"),
            0,
        );
        fs::write(
            dirs.layers_root.join("python/tools.toml"),
            "[types]\nbuild = true\n",
        )
        .expect("write the layer's toml");
        let build = dirs.build();
        build.assert_success();
        let launch = dirs.launch().run();
        launch.assert_exit_0();
        let variables = sorted(launch.variables());
        let prefix = ("PYTHONPYCACHEPREFIX", "/tmp/group-writable/python-pycache");
        let expected: &[(&str, &str)] = if prefixed {
            build.assert_log_contains(
                "`python-pycache`: PYTHONPYCACHEPREFIX=/tmp/group-writable/python-pycache",
            );
            &[prefix, ("MPLCONFIGDIR", "/tmp/group-writable/matplotlib")]
        } else {
            build.assert_log_contains(
                "`python-pycache`: $PYTHONPYCACHEPREFIX not redirected: not needed: the build's Python bytecode is hash-based (PEP 552)",
            );
            &[("MPLCONFIGDIR", "/tmp/group-writable/matplotlib")]
        };
        assert_eq!(variables, with_generic(expected), "flags {flags}");
    }
}

#[test]
fn laravel_storage_and_bootstrap_cache_are_redirected_and_seeded() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "composer.json",
        "artisan",
        "storage/app/public/.gitignore",
        "storage/framework/views/.gitignore",
        "storage/framework/cache/data/.gitignore",
        "storage/framework/sessions/.gitignore",
        "storage/logs/.gitignore",
        "bootstrap/app.php",
        "bootstrap/cache/packages.php",
    ]);
    dirs.build()
        .assert_success()
        .assert_log_contains("`laravel-framework`: storage/framework/ -> /tmp/group-writable/laravel-framework, seeded at launch with the build's 4 directories and 3 files")
        .assert_log_contains("`laravel-logs`: storage/logs/ -> /tmp/group-writable/laravel-logs")
        .assert_log_contains("`laravel-bootstrap-cache`: bootstrap/cache/ -> /tmp/group-writable/laravel-bootstrap-cache")
        .assert_log_contains("`composer-home`: COMPOSER_HOME=/tmp/group-writable/composer-home");
    assert_symlink(
        &dirs,
        "storage/framework",
        "/tmp/group-writable/laravel-framework",
    );
    assert_symlink(&dirs, "storage/logs", "/tmp/group-writable/laravel-logs");
    assert_symlink(
        &dirs,
        "bootstrap/cache",
        "/tmp/group-writable/laravel-bootstrap-cache",
    );
    assert!(
        fs::symlink_metadata(dirs.app.join("storage/app"))
            .unwrap()
            .is_dir()
    );

    let launch = dirs.launch().run();
    launch.assert_exit_0();
    assert_eq!(launch.stderr, "");
    assert_eq!(
        sorted(launch.variables()),
        with_generic(&[
            ("COMPOSER_HOME", "/tmp/group-writable/composer-home"),
            ("COMPOSER_CACHE_DIR", "/tmp/group-writable/composer-cache"),
        ])
    );
    let own = dirs.in_tmp(Path::new(OWN));
    assert!(own.join("laravel-framework/views/.gitignore").is_file());
    assert!(
        own.join("laravel-framework/cache/data/.gitignore")
            .is_file()
    );
    assert!(own.join("laravel-logs/.gitignore").is_file());
    assert!(own.join("laravel-bootstrap-cache/packages.php").is_file());
}

#[test]
fn symfony_var_is_redirected_even_before_it_exists() {
    packaged_or_skip!();
    let warmed = CnbDirs::new();
    warmed.app_tree(&[
        "composer.json",
        "symfony.lock",
        "var/cache/prod/App_KernelProdContainer.php",
    ]);
    warmed
        .build()
        .assert_success()
        .assert_log_contains("`symfony-cache`: var/cache/ -> /tmp/group-writable/symfony-cache, seeded at launch with the build's 1 directory and 1 file")
        .assert_log_contains("`symfony-log`: var/log/ -> /tmp/group-writable/symfony-log");
    assert_symlink(&warmed, "var/cache", "/tmp/group-writable/symfony-cache");
    assert_symlink(&warmed, "var/log", "/tmp/group-writable/symfony-log");
    warmed.launch().run().assert_exit_0();
    assert!(
        warmed
            .in_tmp(Path::new(
                "/tmp/group-writable/symfony-cache/prod/App_KernelProdContainer.php"
            ))
            .is_file()
    );
    assert!(
        warmed
            .in_tmp(Path::new("/tmp/group-writable/symfony-log"))
            .is_dir()
    );

    let fresh = CnbDirs::new();
    fresh.app_tree(&["composer.json", "symfony.lock"]);
    fresh.build().assert_success();
    assert_symlink(&fresh, "var/cache", "/tmp/group-writable/symfony-cache");
    assert_eq!(mode(&fresh.app.join("var")), 0o755);
}

#[test]
fn paths_the_user_made_group_writable_are_not_redirected() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.patterns("log/\n");
    dirs.build()
        .assert_success()
        .assert_log_contains(
            "`rails-log`: log/ not redirected: left alone: `log/` (.group-writable:1) makes it group-writable",
        )
        .assert_log_contains("`rails-tmp`: tmp/ -> /tmp/group-writable/rails-tmp");
    let log = fs::symlink_metadata(dirs.app.join("log")).unwrap();
    assert!(log.is_dir());
    assert_eq!(log.mode() & 0o7777, 0o2775);

    let policy = label(&dirs);
    assert_eq!(policy["patterns"][0]["pattern"], "log/");
    assert_eq!(policy["patterns"][0]["source"], ".group-writable:1");
    assert_eq!(policy["patterns"][0]["directories"], 1);
    assert_eq!(policy["patterns"][0]["files"], 1);
    let ids: Vec<&str> = policy["redirects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|redirect| redirect["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["tmpdir", "xdg-cache", "xdg-state", "rails-tmp"]);
}

#[test]
fn the_label_records_the_policy_and_the_build_user() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.build().assert_success();
    let policy = label(&dirs);
    assert_eq!(policy["version"], 1);
    assert_eq!(policy["build_user"]["uid"], build_uid());
    let gid = if running_as_root() {
        BUILD_GID
    } else {
        rustix::process::getgid().as_raw()
    };
    assert_eq!(policy["build_user"]["gid"], gid);
    assert_eq!(policy["tmp_base"], "/tmp");
    assert_eq!(
        policy["redirects"][3],
        serde_json::json!({
            "kind": "path",
            "id": "rails-tmp",
            "path": "tmp",
            "target": "/tmp/group-writable/rails-tmp",
            "build_content": "seeded",
            "seeded_files": 2,
            "seeded_bytes": 16
        })
    );
    assert_eq!(
        policy["redirects"][1],
        serde_json::json!({
            "kind": "env",
            "id": "xdg-cache",
            "variable": "XDG_CACHE_HOME",
            "value": "/tmp/group-writable/xdg-cache",
            "when": "unset_and_home_not_writable"
        })
    );
}

#[test]
fn redirects_can_be_turned_off_or_listed() {
    packaged_or_skip!();
    let off = rails_app();
    off.platform_env("BP_GROUP_WRITABLE_REDIRECTS", "off");
    off.build()
        .assert_success()
        .assert_log_contains("Redirects to /tmp: off (BP_GROUP_WRITABLE_REDIRECTS=off)");
    assert!(fs::symlink_metadata(off.app.join("tmp")).unwrap().is_dir());
    assert!(!off.layers.join("redirects").exists());
    assert_eq!(label(&off)["redirects"], serde_json::json!([]));

    let listed = rails_app();
    listed.platform_env(
        "BP_GROUP_WRITABLE_REDIRECTS",
        "tmpdir, rails-log, laravel-logs",
    );
    listed
        .build()
        .assert_success()
        .assert_log_contains("only those named in `BP_GROUP_WRITABLE_REDIRECTS`")
        .assert_log_contains(
            "`laravel-logs`: storage/logs/ not redirected: none of its marker files is in the app",
        );
    assert_symlink(&listed, "log", "/tmp/group-writable/rails-log");
    assert!(
        fs::symlink_metadata(listed.app.join("tmp"))
            .unwrap()
            .is_dir()
    );
    let launch = listed.launch().run();
    launch.assert_exit_0();
    assert_eq!(sorted(launch.variables()), vars(&[("TMPDIR", "/tmp")]));

    let unknown = rails_app();
    unknown.platform_env("BP_GROUP_WRITABLE_REDIRECTS", "rails-tmp,rails-logs");
    unknown
        .build()
        .assert_failure()
        .assert_log_contains("the id `rails-logs`, which the redirect catalog does not have")
        .assert_log_contains("tmpdir, xdg-cache, xdg-state, rails-tmp, rails-log, bootsnap");
    assert!(
        fs::symlink_metadata(unknown.app.join("tmp"))
            .unwrap()
            .is_dir()
    );
}

#[test]
fn the_tmp_base_is_fixed_at_build() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.platform_env("BP_GROUP_WRITABLE_TMP", "/tmp/base");
    fs::create_dir(dirs.tmp.join("base")).unwrap();
    fs::set_permissions(dirs.tmp.join("base"), fs::Permissions::from_mode(0o1777)).unwrap();
    dirs.build()
        .assert_success()
        .assert_log_contains("Redirects to `/tmp/base`");
    assert_symlink(&dirs, "tmp", "/tmp/base/group-writable/rails-tmp");
    let launch = dirs.launch().run();
    launch.assert_exit_0();
    assert_eq!(launch.stderr, "");
    assert_eq!(
        sorted(launch.variables()),
        vars(&[
            ("TMPDIR", "/tmp/base"),
            ("XDG_CACHE_HOME", "/tmp/base/group-writable/xdg-cache"),
            ("XDG_STATE_HOME", "/tmp/base/group-writable/xdg-state"),
        ])
    );
    assert!(
        dirs.in_tmp(Path::new("/tmp/base/group-writable/rails-tmp/cache"))
            .is_dir()
    );
}

#[test]
fn run_time_switch_and_debug() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.build().assert_success();

    let off = dirs
        .launch()
        .env("BPL_GROUP_WRITABLE_REDIRECTS", "off")
        .run();
    off.assert_exit_0();
    assert_eq!((off.output.as_str(), off.stderr.as_str()), ("", ""));
    assert!(!dirs.in_tmp(Path::new(OWN)).exists());

    let debug = dirs.launch().env("BPL_GROUP_WRITABLE_DEBUG", "true").run();
    debug.assert_exit_0();
    for needle in [
        "group-writable-redirects: read ",
        "group-writable-redirects: created /tmp/group-writable\n",
        "created /tmp/group-writable/rails-tmp for tmp/ and copied 7 directories, 2 files",
        "group-writable-redirects: wrote to fd 3:\nTMPDIR = \"/tmp\"",
    ] {
        assert!(
            debug.stderr.contains(needle),
            "no {needle:?} in:\n{}",
            debug.stderr
        );
    }
}

/// Each failure: exit 0, exactly one line on stderr, and valid TOML on fd 3.
#[track_caller]
fn assert_one_line_and_valid_output(run: &support::HelperRun, needle: &str) {
    run.assert_exit_0();
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "expected one line:\n{}", run.stderr);
    assert!(
        lines[0].starts_with("group-writable-redirects: ") && lines[0].contains(needle),
        "expected {needle:?} in {:?}",
        lines[0]
    );
    run.variables();
}

#[test]
fn a_read_only_tmp_base_is_one_line_and_no_redirect() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.build().assert_success();
    let run = dirs.launch().tmp(TmpMount::ReadOnly).run();
    assert_one_line_and_valid_output(
        &run,
        "cannot create /tmp/group-writable (Read-only file system (os error 30)): the tmp base /tmp is not writable",
    );
    assert_eq!(run.output, "");
}

#[test]
fn a_missing_tmp_base_is_one_line_and_no_redirect() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.platform_env("BP_GROUP_WRITABLE_TMP", "/tmp/not-mounted");
    dirs.build().assert_success();
    let run = dirs.launch().run();
    assert_one_line_and_valid_output(
        &run,
        "the tmp base /tmp/not-mounted does not exist, so run-time writes are not redirected. Mount a writable directory there",
    );
    assert_eq!(run.output, "");
}

#[test]
fn a_missing_or_damaged_configuration_is_one_line() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.build().assert_success();
    let config = dirs.layers.join("redirects/redirects.conf");
    let text = fs::read_to_string(&config).unwrap();

    fs::write(&config, text.replace("\nend\n", "\n")).unwrap();
    assert_one_line_and_valid_output(
        &dirs.launch().run(),
        "redirects.conf is damaged (the file is incomplete (no `end` line)), so no redirects are made. Rebuild the image.",
    );

    fs::write(
        &config,
        text.replacen("env tmpdir TMPDIR", "env tmpdir TMP DIR", 1),
    )
    .unwrap();
    assert_one_line_and_valid_output(
        &dirs.launch().run(),
        "is damaged (line 3: unknown or malformed line)",
    );

    fs::write(&config, b"\xff\xfe garbage").unwrap();
    assert_one_line_and_valid_output(&dirs.launch().run(), "is damaged (not UTF-8 text)");

    fs::remove_file(&config).unwrap();
    let run = dirs.launch().run();
    assert_one_line_and_valid_output(
        &run,
        &format!(
            "cannot read its configuration {} (No such file or directory (os error 2)), so no redirects are made",
            config.display()
        ),
    );
    assert_eq!(run.output, "");
}

#[test]
fn an_unreadable_seed_is_one_line_and_the_rest_is_done() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "Gemfile",
        "config/application.rb",
        "tmp/cache/secret",
        "tmp/cache/public",
    ]);
    dirs.build().assert_success();
    let seed = dirs.layers.join("redirects/seeds/rails-tmp/cache/secret");
    fs::set_permissions(&seed, fs::Permissions::from_mode(0o000)).unwrap();
    let run = dirs.launch().run();
    assert_one_line_and_valid_output(
        &run,
        "could not copy all of the build's tmp/ into /tmp/group-writable/rails-tmp (1 failed, first",
    );
    assert_eq!(sorted(run.variables()), with_generic(&[]));
    let target = dirs.in_tmp(Path::new("/tmp/group-writable/rails-tmp/cache"));
    assert!(target.join("public").is_file());
    assert!(!target.join("secret").exists());
}

#[test]
fn fd_3_not_open_is_one_line() {
    packaged_or_skip!();
    let dirs = rails_app();
    dirs.build().assert_success();
    let run = dirs.launch().without_fd3().run();
    run.assert_exit_0();
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains(
            "file descriptor 3 is not open, so the environment redirects (TMPDIR, XDG_CACHE_HOME, XDG_STATE_HOME) are not set"
        ),
        "{}",
        lines[0]
    );
    // The directories were still made.
    assert!(
        dirs.in_tmp(Path::new("/tmp/group-writable/rails-tmp/cache"))
            .is_dir()
    );
}
