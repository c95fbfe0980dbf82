//! The bad-input matrix of SECURITY.md: one test per input or fault the contract and
//! redirect tests do not already cover, each run through the packaged buildpack (and, for
//! launch faults, the installed exec.d helper) as the lifecycle runs them.

// The dependencies belong to the library; this test crate uses only a few of them.
#![allow(unused_crate_dependencies)]

mod support;

use rustix::fs::{AtFlags, Mode, OFlags};
use std::ffi::OsStr;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};
use std::path::Path;
use support::{CnbDirs, TmpMount, mode, modes_under};

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn symlink_loops_dangling_links_and_linked_layers_are_skipped() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["real/file"]);
    support::make_tree(&dirs.root, &["outside/dir/inner"]);
    let outside = dirs.root.join("outside");
    symlink("loop", dirs.app.join("loop")).unwrap();
    symlink("pong", dirs.app.join("ping")).unwrap();
    symlink("ping", dirs.app.join("pong")).unwrap();
    symlink("/nonexistent/target", dirs.app.join("dangling")).unwrap();
    symlink(&outside, dirs.app.join("log")).unwrap();
    // A "buildpack directory" in the layers root that is a link to elsewhere.
    symlink(outside.join("dir"), dirs.layers_root.join("evil_bp")).unwrap();
    dirs.patterns("*\nlog/\n/layers/evil_bp/**\n/layers/evil_bp/\n");
    let outside_before = modes_under(&outside);

    dirs.build().assert_success();

    assert_eq!(modes_under(&outside), outside_before);
    assert_eq!(mode(&outside), 0o755);
    assert_eq!(
        mode(&dirs.app.join("real")),
        0o2775,
        "the real directory is matched"
    );
}

#[test]
fn a_matched_name_that_is_a_symlink_is_left_alone() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["app.rb"]);
    support::make_tree(&dirs.root, &["elsewhere/uploads/photo.jpg"]);
    let elsewhere = dirs.root.join("elsewhere/uploads");
    symlink(&elsewhere, dirs.app.join("uploads")).unwrap();
    dirs.patterns("uploads\nuploads/\n/uploads/**\n");
    let before = modes_under(&dirs.root.join("elsewhere"));

    dirs.build().assert_success();

    assert_eq!(modes_under(&dirs.root.join("elsewhere")), before);
    assert!(
        fs::symlink_metadata(dirs.app.join("uploads"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// A mode belongs to the inode: a file hard-linked from outside the app gets the change
/// under both names. Nothing outside the app and the layers is exported, and files of
/// other users can be neither linked in (`fs.protected_hardlinks`) nor changed.
#[test]
fn a_hard_link_shares_its_inode_mode() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    support::make_tree(&dirs.root, &["outside/data.db"]);
    let outside = dirs.root.join("outside/data.db");
    fs::hard_link(&outside, dirs.app.join("data.db")).unwrap();
    dirs.patterns("*.db\n");

    dirs.build()
        .assert_success()
        .assert_log_contains("`*.db` (.group-writable:1): 1 file (1 changed)");

    assert_eq!(mode(&dirs.app.join("data.db")), 0o664);
    let (inside, outside) = (
        fs::metadata(dirs.app.join("data.db")).unwrap(),
        fs::metadata(&outside).unwrap(),
    );
    assert_eq!(inside.ino(), outside.ino());
    assert_eq!(outside.mode() & 0o7777, 0o664);
}

#[test]
fn an_unreadable_matched_directory_fails_the_build() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["data/inside"]).patterns("data/\n");
    set_mode(&dirs.app.join("data"), 0o300);
    dirs.build()
        .assert_failure()
        .assert_log_contains(&format!(
            "{}/data is matched, but it cannot be read (Permission denied",
            dirs.app.display()
        ))
        .assert_log_contains("chmod u+rx");
}

#[test]
fn an_unreadable_unmatched_directory_is_a_warning() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["secret/inside.log", "app.log"])
        .patterns("*.log\n");
    set_mode(&dirs.app.join("secret"), 0o000);
    dirs.build()
        .assert_success()
        .assert_log_contains(&format!(
            "Could not read the directory {}/secret (Permission denied",
            dirs.app.display()
        ))
        .assert_log_contains("`*.log` (.group-writable:1): 1 file (1 changed)");
    assert_eq!(mode(&dirs.app.join("app.log")), 0o664);
}

#[test]
fn a_directory_with_a_hundred_thousand_entries() {
    const ENTRIES: usize = 100_000;
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    let big = dirs.app.join("big");
    fs::create_dir(&big).unwrap();
    let big_fd = open_directory(&big);
    for index in 0..ENTRIES {
        let file = rustix::fs::openat(
            &big_fd,
            format!("f{index}"),
            OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        rustix::fs::fchmod(&file, Mode::from_raw_mode(0o644)).unwrap();
    }
    dirs.patterns("big/\n");

    dirs.build().assert_success().assert_log_contains(
        "`big/` (.group-writable:1): 1 directory and 100000 files (100001 changed)",
    );

    let unchanged = fs::read_dir(&big)
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().metadata().unwrap().mode() & 0o7777 != 0o664)
        .count();
    assert_eq!(unchanged, 0);
}

/// Paths longer than `PATH_MAX` (4096 bytes): the walk works relative to each directory's
/// descriptor, so no path it uses is ever longer than one name.
#[test]
fn paths_longer_than_path_max() {
    const LEVELS: usize = 30;
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    let name = "d".repeat(200);
    fs::create_dir(dirs.app.join("deep")).unwrap();
    let mut current = open_directory(&dirs.app.join("deep"));
    for _ in 0..LEVELS {
        rustix::fs::mkdirat(&current, name.as_str(), Mode::from_raw_mode(0o755)).unwrap();
        current = rustix::fs::openat(
            &current,
            name.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
    }
    let file = rustix::fs::openat(
        &current,
        "bottom.txt",
        OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .unwrap();
    rustix::fs::fchmod(&file, Mode::from_raw_mode(0o644)).unwrap();
    assert!(LEVELS * (name.len() + 1) > 4096);
    dirs.patterns("deep/\n");

    dirs.build().assert_success().assert_log_contains(&format!(
        "`deep/` (.group-writable:1): {} directories and 1 file",
        LEVELS + 1
    ));

    let bottom = rustix::fs::statat(&current, "bottom.txt", AtFlags::SYMLINK_NOFOLLOW).unwrap();
    assert_eq!(bottom.st_mode & 0o7777, 0o664);
    assert_eq!(
        rustix::fs::fstat(&current).unwrap().st_mode & 0o7777,
        0o2775
    );
}

#[test]
fn names_that_are_not_utf8_are_matched_and_listed() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    let data = dirs.app.join("data");
    fs::create_dir(&data).unwrap();
    for name in [&b"caf\xe9.log"[..], b"\xff\xfe", b"ok.log"] {
        support::write_file(&data.join(OsStr::from_bytes(name)), "x\n");
    }
    dirs.patterns("*.log\n")
        .platform_env("BP_LOG_LEVEL", "DEBUG");

    dirs.build()
        .assert_success()
        .assert_log_contains("`*.log` (.group-writable:1): 2 files (2 changed)")
        .assert_log_contains("data/caf\u{fffd}.log (file): 0644 -> 0664");

    assert_eq!(mode(&data.join(OsStr::from_bytes(b"caf\xe9.log"))), 0o664);
    assert_eq!(mode(&data.join(OsStr::from_bytes(b"\xff\xfe"))), 0o644);
}

#[test]
fn a_full_tmp_base_while_seeding_is_one_line_and_the_app_starts() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["Gemfile", "config/application.rb", "tmp/cache/small"]);
    // Larger than the tmpfs the helper gets below.
    support::write_file(&dirs.app.join("tmp/cache/large"), &"x".repeat(256 * 1024));
    dirs.build().assert_success();

    let run = dirs.launch().tmp(TmpMount::SmallTmpfs(64 * 1024)).run();
    run.assert_exit_0();
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "expected one line:\n{}", run.stderr);
    assert!(
        lines[0].starts_with("group-writable-redirects: could not copy all of the build's tmp/")
            && lines[0].contains("No space left on device"),
        "{}",
        lines[0]
    );
    let variables = run.variables();
    assert!(
        variables.iter().any(|(name, _)| name == "TMPDIR"),
        "the env redirects are still set: {variables:?}"
    );
}

fn open_directory(path: &Path) -> OwnedFd {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .expect("open directory")
}

/// In a shared /tmp another user may create `/tmp/group-writable` first, as a symlink to
/// somewhere of theirs or as their own directory: the helper must not put the app's
/// files there.
#[test]
fn a_planted_own_directory_in_a_shared_tmp_is_refused() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["Gemfile", "config/application.rb", "tmp/cache/seeded"]);
    dirs.build().assert_success();
    let planted = dirs.tmp.join("group-writable");
    let victim = dirs.tmp.join("victim");
    fs::create_dir(&victim).unwrap();
    set_mode(&victim, 0o777);

    symlink(&victim, &planted).unwrap();
    let run = dirs.launch().run();
    run.assert_exit_0();
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("/tmp/group-writable exists but is not a directory of the run user"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_dir(&victim).unwrap().count(),
        0,
        "something was written through the link"
    );
    fs::remove_file(&planted).unwrap();

    if support::running_as_root() {
        // A directory of another user (root here; the helper runs as the run user).
        fs::create_dir(&planted).unwrap();
        set_mode(&planted, 0o777);
        let run = dirs.launch().run();
        run.assert_exit_0();
        assert!(
            run.stderr
                .contains("exists but is not a directory of the run user"),
            "{}",
            run.stderr
        );
        assert_eq!(fs::read_dir(&planted).unwrap().count(), 0);
    }
}
