//! Races, run bounded: another process changing the tree while the buildpack or the
//! exec.d helper works on it. Each test repeats its race a fixed number of rounds
//! (`GROUP_WRITABLE_RACE_ROUNDS`, default small for `bin/test`; `bin/fuzz --races` runs
//! many more) and checks that nothing outside was ever changed.

// The dependencies belong to the library; this test crate uses only a few of them.
#![allow(unused_crate_dependencies)]

mod support;

use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use support::CnbDirs;

/// How many rounds each race runs.
fn rounds(default: u32) -> u32 {
    std::env::var("GROUP_WRITABLE_RACE_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A tmp base writable by everyone and not sticky (an emptyDir shared with a sidecar of
/// another uid): between the helper's steps the other uid renames `group-writable` away
/// and puts a symlink there, to a directory of the run user's outside the tmp base. The
/// helper must never write through it: the run user's own file there keeps its content.
#[test]
fn a_swapped_own_directory_in_a_shared_tmp_never_receives_the_seed() {
    packaged_or_skip!();
    if !support::running_as_root() {
        return; // the racer must be another uid than the run user
    }
    let dirs = CnbDirs::new();
    dirs.app_tree(&["Gemfile", "config/application.rb", "tmp/cache/seeded"]);
    fs::write(dirs.app.join("tmp/cache/seeded"), "seed content").unwrap();
    dirs.build().assert_success();
    fs::set_permissions(&dirs.tmp, fs::Permissions::from_mode(0o777)).unwrap();

    let first = dirs.launch().run();
    first.assert_exit_0();
    assert!(
        first
            .stderr
            .contains("the tmp base /tmp is writable by every user and not sticky (mode 0777)"),
        "{}",
        first.stderr
    );

    // A directory of the run user's, outside the tmp base, shaped like the own directory.
    let victim = dirs.root.join("victim");
    let precious = victim.join("rails-tmp/cache/seeded");
    let own = dirs.tmp.join("group-writable");
    for round in 0..rounds(150) {
        clear(&dirs.tmp);
        let _ = fs::remove_dir_all(&victim);
        fs::create_dir_all(precious.parent().unwrap()).unwrap();
        fs::write(&precious, "the run user's own").unwrap();
        chown_tree(&victim, support::RUN_UID);

        let done = AtomicBool::new(false);
        let run = std::thread::scope(|scope| {
            scope.spawn(|| {
                let moved = dirs.tmp.join("moved");
                while !done.load(Ordering::Relaxed) {
                    if fs::rename(&own, &moved).is_ok() {
                        let _ = symlink(&victim, &own);
                        return;
                    }
                }
            });
            let run = dirs.launch().run();
            done.store(true, Ordering::Relaxed);
            run
        });
        run.assert_exit_0();
        assert_eq!(
            fs::read_to_string(&precious).unwrap(),
            "the run user's own",
            "round {round}: the helper wrote through the swapped-in symlink:\n{}",
            run.stderr
        );
    }
}

fn clear(dir: &Path) {
    for entry in fs::read_dir(dir).expect("read the tmp base") {
        let path = entry.expect("read the tmp base").path();
        if path.is_dir() && !path.is_symlink() {
            fs::remove_dir_all(&path).expect("clear the tmp base");
        } else {
            fs::remove_file(&path).expect("clear the tmp base");
        }
    }
}

fn chown_tree(root: &Path, uid: u32) {
    let status = std::process::Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{}", support::BUILD_GID))
        .arg(root)
        .status()
        .expect("run chown");
    assert!(status.success());
}
