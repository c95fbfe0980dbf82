//! Contract tests: the packaged `bin/detect` and `bin/build`, run exactly as the lifecycle
//! runs them (see `support`), on trees made by the tests. Needs `bin/package` first.

// The dependencies belong to the library; this test crate uses only a few of them.
#![allow(unused_crate_dependencies)]

mod support;

use std::fs;
use std::os::unix::fs::symlink;
use support::{CnbDirs, build_uid, ctime, mode, modes_under, running_as_root, write_file};

#[test]
fn detect_passes_on_any_app() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.detect().assert_success();

    let odd = CnbDirs::new();
    odd.app_tree(&["locked/secret"]);
    symlink("/nonexistent", odd.app.join("dangling")).unwrap();
    fs::write(odd.app.join(".group-writable"), b"\xff\xfe not text").unwrap();
    fs::set_permissions(
        odd.app.join("locked"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    odd.detect().assert_success();
}

#[test]
fn detect_fails_only_when_disabled() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.platform_env("BP_GROUP_WRITABLE_ENABLED", "false");
    assert_eq!(dirs.detect().code, Some(100));

    let on = CnbDirs::new();
    on.platform_env("BP_GROUP_WRITABLE_ENABLED", "true");
    on.detect().assert_success();
}

#[test]
fn build_makes_matched_app_and_layer_paths_group_writable() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "log/production.log",
        "log/archive/old.log",
        "tmp/pids/",
        "server.pid",
        "keep.pid",
        "src/app.rb",
    ])
    .patterns(
        "# Rails writes these\nlog/\n/tmp/pids/\n*.pid\n!keep.pid\n/layers/other_bp/cache/\n",
    );
    support::make_tree(
        &dirs.layers_root,
        &["other_bp/cache/sub/entry", "other_bp/rest/file"],
    );

    let outcome = dirs.build();
    outcome
        .assert_success()
        .assert_log_contains("Patterns from `.group-writable`")
        .assert_log_contains("`log/` (.group-writable:2): 2 directories and 2 files (4 changed)")
        .assert_log_contains("`/tmp/pids/` (.group-writable:3): 1 directory (1 changed)")
        .assert_log_contains("`*.pid` (.group-writable:4): 1 file (1 changed)")
        .assert_log_contains("`!keep.pid` (.group-writable:5): re-includes")
        .assert_log_contains(
            "`/layers/other_bp/cache/` (.group-writable:6): 2 directories and 1 file (3 changed)",
        )
        .assert_log_contains("Group-writable: 5 directories and 4 files, 9 changed");

    let app = &dirs.app;
    for dir in ["log", "log/archive", "tmp/pids"] {
        assert_eq!(mode(&app.join(dir)), 0o2775, "{dir}");
    }
    for file in ["log/production.log", "log/archive/old.log", "server.pid"] {
        assert_eq!(mode(&app.join(file)), 0o664, "{file}");
    }
    for untouched in ["keep.pid", "src/app.rb", ".group-writable"] {
        assert_eq!(mode(&app.join(untouched)), 0o644, "{untouched}");
    }
    assert_eq!(mode(&app.join("tmp")), 0o755);
    assert_eq!(mode(&app.join("src")), 0o755);
    let layers = &dirs.layers_root;
    assert_eq!(mode(&layers.join("other_bp/cache")), 0o2775);
    assert_eq!(mode(&layers.join("other_bp/cache/sub")), 0o2775);
    assert_eq!(mode(&layers.join("other_bp/cache/sub/entry")), 0o664);
    assert_eq!(mode(&layers.join("other_bp/rest/file")), 0o644);
    assert_eq!(mode(&layers.join("other_bp")), 0o755);
}

#[test]
fn build_reads_the_named_file_and_the_variable() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["config/writable", "uploads/", "cache/", "data.db"])
        .platform_env("BP_GROUP_WRITABLE_FILE", "config/writable")
        .platform_env("BP_GROUP_WRITABLE_PATHS", "cache/, *.db");
    write_file(&dirs.app.join("config/writable"), "/uploads/\n");
    dirs.build()
        .assert_success()
        .assert_log_contains("Patterns from `config/writable` and `BP_GROUP_WRITABLE_PATHS`")
        .assert_log_contains("`*.db` (BP_GROUP_WRITABLE_PATHS:2): 1 file");
    assert_eq!(mode(&dirs.app.join("uploads")), 0o2775);
    assert_eq!(mode(&dirs.app.join("cache")), 0o2775);
    assert_eq!(mode(&dirs.app.join("data.db")), 0o664);
}

#[test]
fn build_without_patterns_changes_nothing() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["a/b", "c"]);
    let before = modes_under(&dirs.root);
    dirs.build()
        .assert_success()
        .assert_log_contains("No `.group-writable` file and no `BP_GROUP_WRITABLE_PATHS`");
    // The build adds its own launch layer (the redirects helper); nothing that was
    // there before changes.
    let after: Vec<_> = modes_under(&dirs.root)
        .into_iter()
        .filter(|(path, _)| before.iter().any(|(existing, _)| existing == path))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn debug_log_level_lists_every_change() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["log/app.log"])
        .patterns("log/\n")
        .platform_env("BP_LOG_LEVEL", "DEBUG");
    let log = dirs.build().assert_success().log();
    let app = dirs.app.display();
    assert!(
        log.contains(&format!("{app}/log (directory): 0755 -> 2775")),
        "{log}"
    );
    assert!(
        log.contains(&format!("{app}/log/app.log (file): 0644 -> 0664")),
        "{log}"
    );
}

#[test]
fn warnings_for_patterns_that_match_nothing() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["log/"]).patterns(
        "log/\nstorage/\n/layers/paketo-buildpacks_npm-install/**/.cache/\n./log/\n[oops\n",
    );
    dirs.build()
        .assert_success()
        .assert_log_contains("`storage/` (.group-writable:2) matches nothing in")
        .assert_log_contains(&format!(
            "there is no {}/paketo-buildpacks_npm-install. group-writable can only change layers that exist when it runs",
            dirs.layers_root.display()
        ))
        .assert_log_contains("`./` never matches")
        .assert_log_contains("`[oops` (.group-writable:5) never matches anything: its `[` is never closed");
}

/// Each bad input fails the build, names where and what, and changes nothing.
#[test]
fn bad_input_fails_the_build_with_a_clear_message() {
    packaged_or_skip!();
    let cases: &[(&str, &[u8], &[&str])] = &[
        (
            "parent component",
            b"log/\n../secrets\n",
            &[".group-writable:2", "`../secrets`", "`..`"],
        ),
        (
            "absolute path outside",
            b"/home/cnb/.cache/\n",
            &[
                ".group-writable:1",
                "`/home/cnb/.cache/`",
                "outside the app and the layers",
            ],
        ),
        (
            "not UTF-8",
            b"log/\n\xc3\x28\n",
            &[".group-writable line 2 is not valid UTF-8"],
        ),
        (
            "NUL byte",
            b"log/\0\n",
            &[".group-writable line 1 contains a NUL byte"],
        ),
        (
            "whole layers root",
            b"/layers/\n",
            &["names the layers directory itself"],
        ),
    ];
    for (name, content, needles) in cases {
        let dirs = CnbDirs::new();
        dirs.app_tree(&["log/app.log"]);
        fs::write(dirs.app.join(".group-writable"), content).unwrap();
        let before = modes_under(&dirs.root);
        let outcome = dirs.build();
        outcome.assert_failure();
        for needle in *needles {
            assert!(
                outcome.log().contains(needle),
                "{name}: no {needle:?} in:\n{}",
                outcome.log()
            );
        }
        assert_eq!(modes_under(&dirs.root), before, "{name}: something changed");
    }
}

#[test]
fn bad_pattern_files_and_settings_fail_the_build() {
    packaged_or_skip!();
    let large = CnbDirs::new();
    large.patterns(&"#".repeat(1024 * 1024 + 1));
    large
        .build()
        .assert_failure()
        .assert_log_contains("1048577 bytes; pattern files are limited to 1048576 bytes");

    let directory = CnbDirs::new();
    directory.app_tree(&[".group-writable/"]);
    directory
        .build()
        .assert_failure()
        .assert_log_contains("is not a regular file (it is a directory)");

    let missing = CnbDirs::new();
    missing.platform_env("BP_GROUP_WRITABLE_FILE", "config/none");
    missing
        .build()
        .assert_failure()
        .assert_log_contains("BP_GROUP_WRITABLE_FILE names")
        .assert_log_contains("config/none, which does not exist");

    let setting = CnbDirs::new();
    setting.platform_env("BP_GROUP_WRITABLE_TMP", "relative/tmp");
    setting
        .build()
        .assert_failure()
        .assert_log_contains("BP_GROUP_WRITABLE_TMP is set to `relative/tmp`");
}

#[test]
fn symlinks_are_never_followed_nor_changed() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["shared/real/file"]);
    support::make_tree(&dirs.root, &["outside/dir/inner", "outside/file"]);
    let outside = dirs.root.join("outside");
    symlink(outside.join("file"), dirs.app.join("to-file")).unwrap();
    symlink(outside.join("dir"), dirs.app.join("to-dir")).unwrap();
    symlink(outside.join("dir"), dirs.app.join("shared/linked-dir")).unwrap();
    symlink("real", dirs.app.join("shared/inner-link")).unwrap();
    // `*` matches everything at the top, links included; `shared/` covers a subtree that
    // holds links to a directory outside and inside.
    dirs.patterns("to-*\nshared/\n");
    let outside_before = modes_under(&outside);
    let link_modes: Vec<u32> = ["to-file", "to-dir", "shared/linked-dir"]
        .iter()
        .map(|link| mode(&dirs.app.join(link)))
        .collect();

    dirs.build().assert_success();

    assert_eq!(
        modes_under(&outside),
        outside_before,
        "a symlink target outside changed"
    );
    assert_eq!(mode(&outside), 0o755);
    let after: Vec<u32> = ["to-file", "to-dir", "shared/linked-dir"]
        .iter()
        .map(|link| mode(&dirs.app.join(link)))
        .collect();
    assert_eq!(after, link_modes);
    // The real directory inside the matched one is changed through its own entry.
    assert_eq!(mode(&dirs.app.join("shared/real")), 0o2775);
    assert_eq!(mode(&dirs.app.join("shared/real/file")), 0o664);
}

#[test]
fn never_adds_other_write_and_a_second_run_changes_nothing() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "data/a",
        "data/sub/b",
        "data/exec",
        "data/private",
        "data/public",
    ])
    .patterns("data/\n");
    let set = |path: &str, mode: u32| {
        fs::set_permissions(
            dirs.app.join(path),
            std::os::unix::fs::PermissionsExt::from_mode(mode),
        )
        .unwrap();
    };
    set("data/exec", 0o755);
    set("data/private", 0o600);
    set("data/public", 0o646);
    let before = modes_under(&dirs.app);

    dirs.build().assert_success();
    let after = modes_under(&dirs.app);
    for ((path, old), (_, new)) in before.iter().zip(&after) {
        assert_eq!(new & 0o002, old & 0o002, "{}: o+w changed", path.display());
        assert_eq!(new & 0o4000, 0, "{}: setuid", path.display());
        assert_eq!(new & old, *old, "{}: a bit was removed", path.display());
    }
    assert_eq!(mode(&dirs.app.join("data/exec")), 0o775);
    assert_eq!(mode(&dirs.app.join("data/private")), 0o660);
    assert_eq!(mode(&dirs.app.join("data/public")), 0o666);

    let ctimes: Vec<_> = after.iter().map(|(path, _)| ctime(path)).collect();
    dirs.build()
        .assert_success()
        .assert_log_contains("`data/` (.group-writable:1): 2 directories and 5 files (0 changed)");
    assert_eq!(modes_under(&dirs.app), after);
    let ctimes_again: Vec<_> = after.iter().map(|(path, _)| ctime(path)).collect();
    assert_eq!(ctimes, ctimes_again, "the second run made a chmod call");
}

#[test]
fn a_matched_file_of_another_user_fails_the_build_with_owner_and_build_uid() {
    packaged_or_skip!();
    assert!(
        running_as_root(),
        "this test needs root: it creates a file owned by another user (run bin/test as root)"
    );
    let dirs = CnbDirs::new();
    dirs.app_tree(&["log/mine.log", "log/root.log", "log/root-but-fine.log"])
        .patterns("log/\n")
        .owned_by_another_user(&dirs.app.join("log/root.log"))
        .owned_by_another_user(&dirs.app.join("log/root-but-fine.log"));
    // Already group-writable: nothing to change, so no error for this one.
    fs::set_permissions(
        dirs.app.join("log/root-but-fine.log"),
        std::os::unix::fs::PermissionsExt::from_mode(0o664),
    )
    .unwrap();
    let outcome = dirs.build();
    outcome
        .assert_failure()
        .assert_log_contains(&format!(
            "{}/log/root.log (mode 0644) belongs to uid 0, not to the build user (uid {})",
            dirs.app.display(),
            build_uid()
        ))
        .assert_log_contains("Only a file's owner may change its mode");
    assert!(
        !outcome.log().contains("root-but-fine.log"),
        "{}",
        outcome.log()
    );
}
