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
    let current = deep_tree(&dirs.app.join("deep"), LEVELS);
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

/// Creates `levels` directories of 200-byte names below the new directory `top`, and a
/// file `bottom.txt` (0644) in the last: a path longer than `PATH_MAX`. Returns the last.
fn deep_tree(top: &Path, levels: usize) -> OwnedFd {
    let name = "d".repeat(200);
    fs::create_dir_all(top).expect("make the deep tree");
    let mut current = open_directory(top);
    for _ in 0..levels {
        rustix::fs::mkdirat(&current, name.as_str(), Mode::from_raw_mode(0o755))
            .expect("make the deep tree");
        current = rustix::fs::openat(
            &current,
            name.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("make the deep tree");
    }
    let file = rustix::fs::openat(
        &current,
        "bottom.txt",
        OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .expect("make the deep tree");
    rustix::fs::fchmod(&file, Mode::from_raw_mode(0o644)).expect("make the deep tree");
    assert!(levels * (name.len() + 1) > 4096);
    current
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

fn chown(path: &Path, uid: u32) {
    rustix::fs::chownat(
        rustix::fs::CWD,
        path,
        Some(rustix::fs::Uid::from_raw(uid)),
        None,
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("chown");
}

/// An own directory the run user owns but others may write (`mkdir -m 0777` by a script,
/// or an emptyDir's umask), and targets inside it planted by someone else, as a directory
/// of theirs or a symlink to their cache (`PYTHONPYCACHEPREFIX` there would load their
/// bytecode): refused, and nothing is written there.
#[test]
fn an_own_directory_others_may_write_and_planted_targets_are_refused() {
    packaged_or_skip!();
    if !support::running_as_root() {
        return; // needs another uid than the run user's
    }
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "requirements.txt",
        "config/application.rb",
        "tmp/cache/seeded",
    ]);
    dirs.build().assert_success();
    let own = dirs.tmp.join("group-writable");

    fs::create_dir(&own).unwrap();
    chown(&own, support::RUN_UID);
    set_mode(&own, 0o777);
    let run = dirs.launch().run();
    run.assert_exit_0();
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("its mode 0777 lets others write into it"),
        "{}",
        run.stderr
    );
    assert_eq!(run.output, "", "no variable may point into it");
    assert_eq!(
        fs::read_dir(&own).unwrap().count(),
        0,
        "nothing written there"
    );

    // The own directory is fine, but its targets were planted (by root, as another uid).
    set_mode(&own, 0o700);
    let theirs = dirs.tmp.join("theirs");
    fs::create_dir(&theirs).unwrap();
    fs::create_dir(own.join("python-pycache")).unwrap();
    symlink(&theirs, own.join("rails-tmp")).unwrap();
    let run = dirs.launch().env("BPL_GROUP_WRITABLE_DEBUG", "true").run();
    run.assert_exit_0();
    // (Root outside the helper's sandbox is another uid inside it.)
    assert!(
        run.stderr.contains(
            "/tmp/group-writable/python-pycache exists but is not a directory of the run user's (it belongs to uid "
        ) && run.stderr.contains("), so PYTHONPYCACHEPREFIX is not set"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "/tmp/group-writable/rails-tmp exists but is not a directory of the run user's (it is a symbolic link), so writes to tmp/ will fail"
        ),
        "{}",
        run.stderr
    );
    let variables = run.variables();
    assert!(
        !variables
            .iter()
            .any(|(name, _)| name == "PYTHONPYCACHEPREFIX"),
        "{variables:?}"
    );
    assert!(
        variables.iter().any(|(name, _)| name == "TMPDIR"),
        "{variables:?}"
    );
    assert_eq!(
        fs::read_dir(&theirs).unwrap().count(),
        0,
        "nothing seeded through the link"
    );
    assert_eq!(fs::read_dir(own.join("python-pycache")).unwrap().count(), 0);
}

/// A configuration that is a FIFO would block the helper, and so the app's start,
/// forever; one that is a symlink to `/dev/zero` would read until memory runs out; one
/// far too large is damage too. Each is one line, exit 0, and no redirect.
#[test]
fn a_configuration_that_is_a_fifo_a_device_or_huge_is_one_line() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["Gemfile", "config/application.rb"]);
    dirs.build().assert_success();
    let config = dirs.layers.join("redirects/redirects.conf");
    let one_line = |needle: &str| {
        let run = dirs.launch().bounded().run();
        run.assert_exit_0();
        let lines = run.stderr_lines();
        assert_eq!(lines.len(), 1, "{}", run.stderr);
        assert!(
            lines[0].contains(needle),
            "expected {needle:?} in {}",
            lines[0]
        );
        assert_eq!(run.output, "");
    };

    fs::remove_file(&config).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &config,
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    one_line("redirects.conf (it is a FIFO, not a regular file), so no redirects are made");

    fs::remove_file(&config).unwrap();
    symlink("/dev/zero", &config).unwrap();
    one_line("redirects.conf (it is a symbolic link), so no redirects are made");

    fs::remove_file(&config).unwrap();
    fs::write(&config, vec![b'#'; 1024 * 1024]).unwrap();
    one_line(
        "redirects.conf (it is 1048576 bytes, more than the 65536 bytes a configuration may have)",
    );
}

/// A redirected `tmp/` whose build content is directories alone (`tmp/pids/`,
/// `tmp/sockets/`): they are build content too, so `tmp/pids/server.pid` can be created
/// at launch.
#[test]
fn seeds_of_directories_alone_are_copied() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&[
        "Gemfile",
        "config/application.rb",
        "tmp/pids/",
        "tmp/sockets/",
    ]);
    dirs.build()
        .assert_success()
        .assert_log_contains("seeded at launch with the build's 2 directories (0 bytes)");
    let run = dirs.launch().run();
    run.assert_exit_0();
    assert_eq!(run.stderr, "");
    let target = dirs.tmp.join("group-writable/rails-tmp");
    assert!(target.join("pids").is_dir(), "no tmp/pids at launch");
    assert!(target.join("sockets").is_dir(), "no tmp/sockets at launch");
}

/// A hard link in a seeded `log/` to a file outside the app (the build user's, 0600): its
/// mode is never changed (no pattern asked for anything); the seed holds a copy, and the
/// build says so.
#[test]
fn a_hard_link_in_seeded_content_never_changes_the_other_name() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["Gemfile", "config/application.rb", "log/own.log"]);
    let outside = dirs.root.join("outside");
    fs::create_dir(&outside).unwrap();
    let secret = outside.join("secret");
    support::write_file(&secret, "outside content");
    set_mode(&secret, 0o600);
    fs::hard_link(&secret, dirs.app.join("log/linked.log")).unwrap();
    dirs.build().assert_success().assert_log_contains(
        "log/ held 1 hard link to files that also have other names (possibly outside the app)",
    );
    assert_eq!(mode(&secret), 0o600, "the outside name's mode was changed");
    let copy = dirs.layers.join("redirects/seeds/rails-log/linked.log");
    assert_eq!(fs::read_to_string(&copy).unwrap(), "outside content");
    assert_eq!(mode(&copy), 0o640);
    assert_ne!(
        fs::metadata(&copy).unwrap().ino(),
        fs::metadata(&secret).unwrap().ino(),
        "the seed still shares the outside inode"
    );
    assert_eq!(
        mode(&dirs.layers.join("redirects/seeds/rails-log/own.log")),
        0o644
    );
}

/// The installer on what the walk already handles: a path longer than `PATH_MAX` in a
/// seeded `log/`, and, with the layers on another file system than the app (so the seed
/// is copied, then the original removed), a 0555 directory in `tmp/`. Both build, and
/// both seeds are complete.
#[test]
fn the_installer_handles_deep_paths_and_read_only_directories_across_file_systems() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["Gemfile", "config/application.rb", "tmp/ro/file"]);
    deep_tree(&dirs.app.join("log/deep"), 30);
    set_mode(&dirs.app.join("tmp/ro"), 0o555);
    // The layers on a tmpfs: /dev/shm, through a symlink in place of the layers root.
    let other_fs = tempfile::tempdir_in("/dev/shm").unwrap();
    fs::remove_dir_all(&dirs.layers_root).unwrap();
    let layers_root = other_fs.path().join("layers");
    fs::create_dir_all(layers_root.join("cnb-utils_group-writable")).unwrap();
    symlink(&layers_root, &dirs.layers_root).unwrap();
    if support::running_as_root() {
        let status = std::process::Command::new("chown")
            .arg("-R")
            .arg(format!("{}:{}", support::BUILD_UID, support::BUILD_GID))
            .arg(other_fs.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    set_mode(other_fs.path(), 0o755);

    dirs.build().assert_success();
    let seeds = layers_root.join("cnb-utils_group-writable/redirects/seeds");
    assert_eq!(mode(&seeds.join("rails-tmp/ro")), 0o555 | 0o050);
    assert_eq!(
        fs::read_to_string(seeds.join("rails-tmp/ro/file")).unwrap(),
        "content\n"
    );
    let mut bottom = open_directory(&seeds.join("rails-log/deep"));
    for _ in 0..30 {
        bottom = rustix::fs::openat(
            &bottom,
            "d".repeat(200).as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
    }
    let file = rustix::fs::statat(&bottom, "bottom.txt", AtFlags::SYMLINK_NOFOLLOW).unwrap();
    assert_eq!(file.st_mode & 0o7777, 0o644);
    assert!(!dirs.app.join("tmp").is_dir() || dirs.app.join("tmp").is_symlink());
}

/// `BP_GROUP_WRITABLE_PATHS` comes from `project.toml` too, so from the app: bounded as
/// the pattern file is (16 MiB of patterns took minutes and gigabytes), with the same
/// kind of message.
#[test]
fn a_paths_setting_larger_than_a_pattern_file_fails_the_build() {
    packaged_or_skip!();
    let dirs = CnbDirs::new();
    dirs.app_tree(&["data/x.log"]);
    dirs.platform_env("BP_GROUP_WRITABLE_PATHS", &"#\n".repeat(512 * 1024 + 1));
    dirs.build().assert_failure().assert_log_contains(
        "BP_GROUP_WRITABLE_PATHS is 1048578 bytes; like the pattern file, it is limited to 1048576 bytes (1 MiB).",
    );
    assert_eq!(mode(&dirs.app.join("data/x.log")), 0o644);
}

/// A tmp base inside the app (a symlink loop at launch) or not plain ASCII (the helper's
/// configuration cannot hold it) fails at once, with the variable named, before anything
/// is changed: `tmp/` is still the app's directory.
#[test]
fn a_tmp_base_inside_the_app_or_not_ascii_fails_before_anything_changes() {
    packaged_or_skip!();
    for base in [None, Some("/tmp/caf\u{e9}".to_owned())] {
        let dirs = CnbDirs::new();
        dirs.app_tree(&["Gemfile", "config/application.rb", "tmp/cache/seeded"]);
        let base = base.unwrap_or_else(|| dirs.app.join("run").display().to_string());
        dirs.platform_env("BP_GROUP_WRITABLE_TMP", &base);
        dirs.build().assert_failure().assert_log_contains(&format!(
            "BP_GROUP_WRITABLE_TMP is set to `{base}`, but it must be"
        ));
        let tmp = dirs.app.join("tmp");
        assert!(
            tmp.is_dir() && !tmp.is_symlink(),
            "{base}: tmp/ was replaced"
        );
        assert!(tmp.join("cache/seeded").is_file());
    }
}
