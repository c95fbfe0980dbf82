//! Races, run bounded: another process changing the tree while the buildpack or the
//! exec.d helper works on it. Each test repeats its race a fixed number of rounds
//! (`GROUP_WRITABLE_RACE_ROUNDS`, default small for `bin/test`; `bin/fuzz --races` runs
//! many more) and checks that nothing outside was ever changed.
//!
//! The seed pass's races (`group_writable::redirects::seed::make_readable`, what the
//! build runs on each seed in the helper's layer) swap entries with
//! `renameat2(RENAME_EXCHANGE)`: the name is always there, as a real entry or as a
//! symlink to something outside, flipping as fast as the racer can. A pass that resolves a
//! path string twice (once to look, once to change) or resolves a path of more than one
//! name at all lands outside in most rounds; one that works through descriptors never does.

// The dependencies belong to the library; this test crate uses only a few of them.
#![allow(unused_crate_dependencies)]

mod support;

use group_writable::redirects::seed;
use rustix::fs::{Mode, OFlags, RenameFlags};
use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
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
    let (rounds, started, mut swapped) = (rounds(150), Instant::now(), 0);
    for round in 0..rounds {
        clear(&dirs.tmp);
        let _ = fs::remove_dir_all(&victim);
        fs::create_dir_all(precious.parent().unwrap()).unwrap();
        fs::write(&precious, "the run user's own").unwrap();
        chown_tree(&victim, support::RUN_UID);

        let done = AtomicBool::new(false);
        let (run, did_swap) = std::thread::scope(|scope| {
            let racer = scope.spawn(|| {
                let moved = dirs.tmp.join("moved");
                while !done.load(Ordering::Relaxed) {
                    if fs::rename(&own, &moved).is_ok() {
                        let _ = symlink(&victim, &own);
                        return true;
                    }
                }
                false
            });
            let run = dirs.launch().run();
            done.store(true, Ordering::Relaxed);
            (run, racer.join().expect("the racer"))
        });
        swapped += u32::from(did_swap);
        run.assert_exit_0();
        assert_eq!(
            fs::read_to_string(&precious).unwrap(),
            "the run user's own",
            "round {round}: the helper wrote through the swapped-in symlink:\n{}",
            run.stderr
        );
    }
    // The figures `bin/fuzz --races` reports (SECURITY.md).
    eprintln!(
        "helper race: {rounds} launches in {:.2} s, the own directory swapped in {swapped}, 0 writes outside",
        started.elapsed().as_secs_f64()
    );
}

/// Files per directory in the seed races: each is one more chance per round.
const SEED_RACE_FILES: usize = 64;

/// A directory of the seed (`d`, 0700, with files 0600) and a symlink beside it (`l`) to
/// a directory outside (0700, files of the same names, 0600), exchanged again and again
/// while the seed pass runs. Whatever the pass sees, the outside directory and its files
/// keep their modes: a pass that follows `l` (or resolves `d/f0` while `d` is the link)
/// gives them `g+rx` and `g+r`.
#[test]
fn race_seed_a_directory_exchanged_with_a_symlink_to_an_outside_directory() {
    seed_race("d", "l", 1000, &|seed, outside| {
        let mut inside = Vec::new();
        for dir in [seed.join("d"), outside.to_owned()] {
            fs::create_dir(&dir).unwrap();
            for i in 0..SEED_RACE_FILES {
                let file = dir.join(format!("f{i}"));
                private_file(&file);
                inside.push(file);
            }
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
            inside.push(dir);
        }
        inside.truncate(SEED_RACE_FILES + 1); // the seed's, not the outside's
        symlink(outside, seed.join("l")).unwrap();
        (vec![("d".to_owned(), "l".to_owned())], inside)
    });
}

/// Files of the seed (`fN`, 0600), each exchanged with a symlink beside it (`sN`) to a
/// file outside (0600) while the seed pass runs. A pass that looks at a name and then
/// changes it by its path changes the outside file whenever the exchange falls between.
#[test]
fn race_seed_files_exchanged_with_symlinks_to_outside_files() {
    // A third as likely per round as the directory's on the old pass: three times the rounds.
    seed_race("fN", "sN", 3000, &|seed, outside| {
        fs::create_dir(outside).unwrap();
        fs::set_permissions(outside, fs::Permissions::from_mode(0o700)).unwrap();
        (0..SEED_RACE_FILES)
            .map(|i| {
                let (file, link) = (format!("f{i}"), format!("s{i}"));
                private_file(&seed.join(&file));
                let secret = outside.join(format!("secret{i}"));
                private_file(&secret);
                symlink(&secret, seed.join(&link)).unwrap();
                ((file, link), seed.join(format!("f{i}")))
            })
            .unzip()
    });
}

fn private_file(path: &Path) {
    fs::write(path, "private").expect("write a file");
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod a file");
}

/// The pairs of names (in the seed) a racer exchanges, and the seed's own entries whose
/// modes each round starts from.
type SeedShape = (Vec<(String, String)>, Vec<PathBuf>);

/// Runs the seed pass `rounds(default_rounds)` times on the seed that `make` builds, while a thread
/// exchanges each of its pairs with `renameat2(RENAME_EXCHANGE)` without pause. Before
/// each round the seed's own entries get their first modes back (through descriptors
/// opened before the race, so wherever the racer has put them), and after it every entry
/// of the outside directory must still have its mode. Prints the rounds, the time and the
/// exchanges made (`bin/fuzz --races` reports them); panics at the first outside change.
fn seed_race(
    first: &str,
    second: &str,
    default_rounds: u32,
    make: &dyn Fn(&Path, &Path) -> SeedShape,
) {
    let rounds = rounds(default_rounds);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (seed, outside) = (dir.path().join("seed"), dir.path().join("outside"));
    fs::create_dir(&seed).expect("create the seed");
    let (pairs, inside) = make(&seed, &outside);
    let first_modes: Vec<(fs::File, u32)> = inside
        .iter()
        .map(|path| (fs::File::open(path).expect("open a seed entry"), mode(path)))
        .collect();
    let before = modes(&outside);
    let seed_fd = rustix::fs::open(&seed, OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .expect("open the seed");
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let exchanges = AtomicU64::new(0);
    let outcome = std::thread::scope(|scope| {
        let racer = scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                for (a, b) in &pairs {
                    rustix::fs::renameat_with(&seed_fd, a, &seed_fd, b, RenameFlags::EXCHANGE)
                        .unwrap_or_else(|error| panic!("exchange {a} and {b}: {error}"));
                    exchanges.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let outcome = (0..rounds).try_for_each(|round| {
            for (file, bits) in &first_modes {
                file.set_permissions(fs::Permissions::from_mode(*bits))
                    .expect("reset a seed entry's mode");
            }
            // The pass starts once the racer runs.
            while exchanges.load(Ordering::Relaxed) == 0 {
                assert!(!racer.is_finished(), "the racer stopped before its first exchange");
                std::thread::yield_now();
            }
            // Failures (an entry gone meanwhile) are not the point; changes outside are.
            let _ = seed::make_readable(&seed, &seed::group_readable);
            let after = modes(&outside);
            if after == before {
                return Ok(());
            }
            let changed: Vec<String> = before
                .iter()
                .zip(&after)
                .filter(|(b, a)| b != a)
                .map(|((path, b), (_, a))| format!("{} {b:04o} -> {a:04o}", path.display()))
                .collect();
            Err(format!(
                "round {} of {rounds} ({first} and {second} exchanged), after {:.2} s: outside changed: {}",
                round + 1,
                started.elapsed().as_secs_f64(),
                changed.join(", ")
            ))
        });
        stop.store(true, Ordering::Relaxed);
        outcome
    });
    eprintln!(
        "seed race ({first} exchanged with {second}): {} in {:.2} s, {} exchanges",
        match &outcome {
            Ok(()) => format!("{rounds} rounds, 0 outside changes"),
            Err(failure) => failure.clone(),
        },
        started.elapsed().as_secs_f64(),
        exchanges.load(Ordering::Relaxed)
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .expect("stat an entry")
        .permissions()
        .mode()
        & 0o7777
}

/// The modes of `dir` and of every entry in it (not following symlinks), sorted by path.
fn modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut modes: Vec<(PathBuf, u32)> = fs::read_dir(dir)
        .expect("read the outside directory")
        .map(|entry| entry.expect("read the outside directory").path())
        .map(|path| {
            let bits = mode(&path);
            (path, bits)
        })
        .collect();
    modes.sort();
    modes.insert(0, (dir.to_owned(), mode(dir)));
    modes
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
