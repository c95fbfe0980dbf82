//! Runs the packaged buildpack the way the CNB lifecycle does: `bin/detect` and
//! `bin/build` by path (libcnb picks the phase from argv[0]), with the `CNB_*` variables
//! and arguments of Buildpack API 0.10, the app directory as working directory, a cleared
//! environment, and, when the tests run as root, as a non-root build user (through
//! `setpriv --reuid --regid --clear-groups`, as the lifecycle's own privilege drop would
//! leave root's groups behind).
//!
//! Trees are created with explicit modes (directories 0755, files 0644: what umask 022
//! gives) and owned by the build user, like an app directory the lifecycle prepared.
//!
//! The one support module of the tests: the ids of the build and run users, the packaged
//! buildpack and the gate of the suites that need it, trees and their modes, the proptest
//! configuration of the searches, and [`git_oracle`] (the pass against `git check-ignore`,
//! for the conformance and differential suites). The end-to-end and pack suites include
//! it too, and its `probe.rs`, `writable_paths.rs` and `pack_stack.rs`.

// Each test crate uses a different part of this module, and `pub` here means "for the
// test crates", which the `unreachable_pub` lint cannot see.
#![allow(dead_code, unreachable_pub)]

pub mod git_oracle;
mod ids;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The build user and group, and the run user, of every test stack (`ids.rs`).
pub use self::ids::{BUILD_GID, BUILD_UID, RUN_UID};

/// The exec.d helper, as the build installs it in our layers directory.
pub const HELPER: &str = "redirects/exec.d/group-writable-redirects";

/// Names the packaged buildpack: `bin/test` sets it to the directory `bin/package`
/// printed. The suites that run the packaged binaries (contract, redirects, bad input,
/// the helper binary, end to end) run only when it is set, so that `cargo test` passes on
/// a bare clone, without a packaged buildpack, a lifecycle or root.
pub const BUILDPACK_DIR_VARIABLE: &str = "GROUP_WRITABLE_BUILDPACK_DIR";

/// The packaged buildpack named by [`BUILDPACK_DIR_VARIABLE`], or `None` when it is unset
/// (the caller skips, and this says so on stderr). Panics when it names no packaged
/// buildpack: then the suite was asked to run and cannot.
pub fn packaged_buildpack() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os(BUILDPACK_DIR_VARIABLE).map(PathBuf::from) else {
        // Once per test binary, and past the test harness's capture of `eprintln!`, so
        // that the skip shows in `cargo test`'s output.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: the tests that run the packaged buildpack; set {BUILDPACK_DIR_VARIABLE}=$PWD/$(bin/package) to run them (bin/test does)"
            );
        });
        return None;
    };
    assert!(
        dir.join("bin/build").is_file(),
        "{BUILDPACK_DIR_VARIABLE} names {}, which holds no packaged buildpack (no bin/build): run bin/package",
        dir.display()
    );
    Some(dir)
}

/// The packaged buildpack, for a test that has checked [`packaged_buildpack`] already.
pub fn buildpack_dir() -> PathBuf {
    packaged_buildpack().unwrap_or_else(|| panic!("{BUILDPACK_DIR_VARIABLE} is not set"))
}

/// The switch for the target the packaged binaries are for: a Rust target triple of
/// bin/package's (`x86_64-unknown-linux-musl`, `aarch64-unknown-linux-musl`). Unset: the
/// host's. bin/package prints that target's directory, and the suites run its binaries
/// under Debian's `qemu-aarch64-static` when the host cannot run them (bin/test runs both):
/// `GROUP_WRITABLE_TARGET=aarch64-unknown-linux-musl GROUP_WRITABLE_BUILDPACK_DIR=$PWD/$(bin/package) cargo test --test contract`.
pub const TARGET_VARIABLE: &str = "GROUP_WRITABLE_TARGET";

/// The target of the packaged binaries under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    X86_64,
    Aarch64,
}

impl Target {
    /// The target [`TARGET_VARIABLE`] names, or the host's.
    pub fn under_test() -> Target {
        match std::env::var(TARGET_VARIABLE).ok().as_deref() {
            None | Some("") => Target::host(),
            Some("x86_64-unknown-linux-musl") => Target::X86_64,
            Some("aarch64-unknown-linux-musl") => Target::Aarch64,
            Some(other) => panic!(
                "{TARGET_VARIABLE}={other} is not a target of bin/package (x86_64-unknown-linux-musl, aarch64-unknown-linux-musl)"
            ),
        }
    }

    fn host() -> Target {
        if cfg!(target_arch = "aarch64") {
            Target::Aarch64
        } else {
            Target::X86_64
        }
    }

    /// `CNB_TARGET_ARCH`, as the lifecycle sets it on such a machine.
    pub fn cnb_arch(self) -> &'static str {
        match self {
            Target::X86_64 => "amd64",
            Target::Aarch64 => "arm64",
        }
    }

    /// The user-mode emulator that runs this target's binaries here, if the host cannot.
    pub fn emulator(self) -> Option<&'static str> {
        (self != Target::host()).then_some(match self {
            Target::X86_64 => "qemu-x86_64-static",
            Target::Aarch64 => "qemu-aarch64-static",
        })
    }
}

/// A command that runs the packaged `program` as `uid` (see [`as_user`]), under the
/// emulator when the binaries under test are for another architecture.
pub fn packaged_program(uid: u32, program: &Path) -> Command {
    match Target::under_test().emulator() {
        Some(emulator) => {
            let mut command = as_user(uid, Path::new(emulator));
            command.arg(program);
            command
        }
        None => as_user(uid, program),
    }
}

/// The `sh -c` script that becomes the packaged program `$0` (under the emulator when
/// needed), with `redirections` applied, as the launcher starts an exec.d program.
/// `exec` is `exec`, or what runs it in bounds (`ulimit ...; exec timeout ...`).
pub fn exec_packaged_script(exec: &str, redirections: &str) -> String {
    match Target::under_test().emulator() {
        Some(emulator) => format!("{exec} {emulator} \"$0\" {redirections}"),
        None => format!("{exec} \"$0\" {redirections}"),
    }
}

/// Skips the calling test (returning from it) unless the packaged buildpack is named.
#[macro_export]
macro_rules! packaged_or_skip {
    () => {
        if support::packaged_buildpack().is_none() {
            return;
        }
    };
}

/// A command that runs `program` as `uid` in the shared group `BUILD_GID`, with no
/// supplementary groups, when the tests run as root (through `setpriv`, as the lifecycle's
/// own privilege drop would leave root's groups behind); as the current user otherwise.
pub fn as_user(uid: u32, program: &Path) -> Command {
    if running_as_root() {
        let mut setpriv = Command::new("setpriv");
        setpriv
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={BUILD_GID}"))
            .arg("--clear-groups")
            .arg(program);
        setpriv
    } else {
        Command::new(program)
    }
}

/// Whether the tests run as root, so the buildpack runs as `BUILD_UID` through setpriv.
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The uid the buildpack runs as.
pub fn build_uid() -> u32 {
    if running_as_root() {
        BUILD_UID
    } else {
        rustix::process::geteuid().as_raw()
    }
}

/// Where the tests' directories go: Cargo's temporary directory for tests, unless that
/// is below `/tmp` (the repository cloned there): the helper runs in a sandbox with a
/// test's own directory mounted on `/tmp`, which would hide the app and the layers.
pub fn scratch_parent() -> PathBuf {
    let target_tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    if target_tmp.starts_with("/tmp") {
        PathBuf::from("/var/tmp")
    } else {
        target_tmp.to_owned()
    }
}

/// The directories of one buildpack run, under a fresh temporary directory.
pub struct CnbDirs {
    /// Removed when dropped.
    _root: tempfile::TempDir,
    pub root: PathBuf,
    pub app: PathBuf,
    /// The layers root (`/layers`): our layers directory is `layers/cnb-utils_group-writable`.
    pub layers_root: PathBuf,
    pub layers: PathBuf,
    pub platform: PathBuf,
    pub plan: PathBuf,
    /// A directory of the test's own, mounted on `/tmp` when the helper runs (mode 1777,
    /// like `/tmp`).
    pub tmp: PathBuf,
    /// Paths that stay with another user (root) when the tree goes to the build user.
    foreign: RefCell<Vec<PathBuf>>,
    /// Set once the tree went to the build user: a second `chown` would touch every
    /// ctime, and tests compare ctimes to prove a run made no `chmod`.
    handed_over: Cell<bool>,
}

impl CnbDirs {
    pub fn new() -> CnbDirs {
        // Not under /tmp: the helper runs with the test's own directory mounted there.
        let temp = tempfile::Builder::new()
            .prefix("group-writable-test-")
            .tempdir_in(scratch_parent())
            .expect("temporary directory");
        let root = temp.path().to_owned();
        // The build user must be able to reach the directories below.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).expect("chmod root");
        let dirs = CnbDirs {
            app: root.join("workspace"),
            layers_root: root.join("layers"),
            layers: root.join("layers/cnb-utils_group-writable"),
            platform: root.join("platform"),
            plan: root.join("plan.toml"),
            tmp: root.join("tmp"),
            foreign: RefCell::default(),
            handed_over: Cell::new(false),
            root,
            _root: temp,
        };
        for dir in [
            &dirs.app,
            &dirs.layers,
            &dirs.platform.join("env"),
            &dirs.tmp,
        ] {
            fs::create_dir_all(dir).expect("create directory");
        }
        fs::set_permissions(&dirs.tmp, fs::Permissions::from_mode(0o1777)).expect("chmod tmp");
        fs::write(&dirs.plan, "entries = []\n").expect("write plan");
        dirs
    }

    /// Creates app files and directories from a listing: `dir/` lines are directories,
    /// other lines files (with their parents). Modes 0755/0644.
    pub fn app_tree(&self, listing: &[&str]) -> &Self {
        make_tree(&self.app, listing);
        self
    }

    /// Writes the app's `.group-writable`.
    pub fn patterns(&self, text: &str) -> &Self {
        write_file(&self.app.join(".group-writable"), text);
        self
    }

    /// Sets a platform variable (`/platform/env/NAME`), as `pack build --env` does.
    pub fn platform_env(&self, name: &str, value: &str) -> &Self {
        write_file(&self.platform.join("env").join(name), value);
        self
    }

    /// Keeps `path` owned by another user (root): only meaningful when running as root.
    pub fn owned_by_another_user(&self, path: &Path) -> &Self {
        self.foreign.borrow_mut().push(path.to_owned());
        self
    }

    /// Gives every file under the root to the build user, as the lifecycle prepares them,
    /// except the paths kept by another user. Only the first call does anything: create
    /// the whole tree before the first run.
    pub fn hand_to_build_user(&self) {
        if running_as_root() && !self.handed_over.replace(true) {
            chown_tree(&self.root, BUILD_UID, BUILD_GID);
            for path in self.foreign.borrow().iter() {
                chown_tree(path, 0, 0);
            }
        }
    }

    /// Runs `bin/detect`.
    pub fn detect(&self) -> Outcome {
        self.hand_to_build_user();
        let buildpack = buildpack_dir();
        let build_plan = self.root.join("build-plan.toml");
        let mut command = self.command(&buildpack.join("bin/detect"));
        command
            .arg(&self.platform)
            .arg(&build_plan)
            .env("CNB_BUILD_PLAN_PATH", &build_plan);
        Outcome::of(command)
    }

    /// Runs `bin/build`.
    pub fn build(&self) -> Outcome {
        self.hand_to_build_user();
        let buildpack = buildpack_dir();
        let mut command = self.command(&buildpack.join("bin/build"));
        command
            .arg(&self.layers)
            .arg(&self.platform)
            .arg(&self.plan)
            .env("CNB_LAYERS_DIR", &self.layers)
            .env("CNB_BP_PLAN_PATH", &self.plan);
        Outcome::of(command)
    }

    /// Prepares a run of the installed exec.d helper, as the launcher runs it.
    pub fn launch(&self) -> Launch<'_> {
        Launch {
            dirs: self,
            env: vec![("HOME".to_owned(), self.app.display().to_string())],
            tmp: TmpMount::Writable,
            fd3: true,
            bounded: false,
        }
    }

    /// Where a path under `/tmp` in the helper's sandbox is for the test.
    pub fn in_tmp(&self, path: &Path) -> PathBuf {
        self.tmp
            .join(path.strip_prefix("/tmp").expect("a path under /tmp"))
    }

    fn command(&self, program: &Path) -> Command {
        let buildpack = buildpack_dir();
        let mut command = packaged_program(BUILD_UID, program);
        command
            .current_dir(&self.app)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("CNB_BUILDPACK_DIR", &buildpack)
            .env("CNB_PLATFORM_DIR", &self.platform)
            .env("CNB_TARGET_OS", "linux")
            .env("CNB_TARGET_ARCH", Target::under_test().cnb_arch())
            .env("CNB_TARGET_DISTRO_NAME", "ubuntu")
            .env("CNB_TARGET_DISTRO_VERSION", "22.04");
        command
    }
}

/// A finished phase: exit code and output (ANSI colours removed).
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn of(mut command: Command) -> Outcome {
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().expect("run the buildpack");
        Outcome {
            code: status.code(),
            stdout: strip_ansi(&String::from_utf8_lossy(&stdout)),
            stderr: strip_ansi(&String::from_utf8_lossy(&stderr)),
        }
    }

    /// Both streams, for assertions and failure messages.
    pub fn log(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success:\n{}", self.log());
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert_ne!(self.code, Some(0), "expected failure:\n{}", self.log());
        self
    }

    #[track_caller]
    pub fn assert_log_contains(&self, needle: &str) -> &Self {
        assert!(
            self.log().contains(needle),
            "expected the log to contain {needle:?}:\n{}",
            self.log()
        );
        self
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequences: ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Creates files and directories from a listing (see `CnbDirs::app_tree`).
pub fn make_tree(root: &Path, listing: &[&str]) {
    for entry in listing {
        let path = root.join(entry.trim_end_matches('/'));
        if entry.ends_with('/') {
            fs::create_dir_all(&path).expect("create directory");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        } else {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).expect("create parent");
            }
            write_file(&path, "content\n");
        }
    }
}

/// Writes a file with mode 0644.
pub fn write_file(path: &Path, content: &str) {
    fs::write(path, content).expect("write file");
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).expect("chmod file");
}

/// The permission bits of a path, not following symlinks.
pub fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .mode()
        & 0o7777
}

/// The change time of a path, not following symlinks: a `chmod`, even to the same mode,
/// updates it, so an unchanged ctime proves no `chmod` was made.
pub fn ctime(path: &Path) -> (i64, i64) {
    let metadata = fs::symlink_metadata(path).expect("stat");
    (metadata.ctime(), metadata.ctime_nsec())
}

/// Every path under `root` with its permission bits, for before/after comparisons.
pub fn modes_under(root: &Path) -> Vec<(PathBuf, u32)> {
    modes_by_path(root)
        .into_iter()
        .map(|(path, mode)| (root.join(std::ffi::OsStr::from_bytes(&path)), mode & 0o7777))
        .collect()
}

/// The `lstat` mode (with the file type) of every entry below `root`, by path relative to
/// it as bytes (names need not be UTF-8), for before/after comparisons.
pub fn modes_by_path(root: &Path) -> BTreeMap<Vec<u8>, u32> {
    fn visit(root: &Path, prefix: &[u8], out: &mut BTreeMap<Vec<u8>, u32>) {
        for entry in fs::read_dir(root).expect("read_dir") {
            let entry = entry.expect("entry");
            let mut path = prefix.to_vec();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(entry.file_name().as_bytes());
            let metadata = entry.path().symlink_metadata().expect("lstat");
            out.insert(path.clone(), metadata.mode());
            if metadata.is_dir() {
                visit(&entry.path(), &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    visit(root, b"", &mut out);
    out
}

fn chown_tree(root: &Path, uid: u32, gid: u32) {
    let status = Command::new("chown")
        .arg("-hR")
        .arg(format!("{uid}:{gid}"))
        .arg(root)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown -R {} failed", root.display());
}

/// What the helper finds on `/tmp`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TmpMount {
    /// The test's tmp directory.
    Writable,
    /// The test's tmp directory, read-only.
    ReadOnly,
    /// A fresh tmpfs of this many bytes, to fill up.
    SmallTmpfs(u64),
}

/// One run of the exec.d helper: the program from our layer, started by absolute path
/// (as argv[0]) in the app directory with a cleared environment plus the given
/// variables, fd 3 open on a pipe, as the run user (another uid, the build's group) when
/// the tests run as root, in a bubblewrap sandbox whose `/tmp` is the test's `tmp`.
pub struct Launch<'a> {
    dirs: &'a CnbDirs,
    env: Vec<(String, String)>,
    tmp: TmpMount,
    fd3: bool,
    bounded: bool,
}

impl Launch<'_> {
    /// Runs the helper under a 20 s timeout and with 256 MiB of address space: for inputs
    /// that could make it block or read without end (the run then fails, instead of the
    /// test hanging or the machine running out of memory).
    pub fn bounded(mut self) -> Self {
        self.bounded = true;
        self
    }

    /// Sets a launch variable (`HOME` defaults to the app directory, which the run user
    /// cannot write).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(existing, _)| existing != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn tmp(mut self, mount: TmpMount) -> Self {
        self.tmp = mount;
        self
    }

    /// Runs the helper with fd 3 closed, as when it is started without the launcher.
    pub fn without_fd3(mut self) -> Self {
        self.fd3 = false;
        self
    }

    pub fn run(&self) -> HelperRun {
        let dirs = self.dirs;
        let helper = dirs.layers.join(HELPER);
        assert!(helper.is_file(), "no helper at {}", helper.display());
        let mut command = as_user(RUN_UID, Path::new("bwrap"));
        let tmp_mount: Vec<OsString> = match self.tmp {
            TmpMount::Writable => vec!["--bind".into(), dirs.tmp.clone().into(), "/tmp".into()],
            TmpMount::ReadOnly => vec!["--ro-bind".into(), dirs.tmp.clone().into(), "/tmp".into()],
            TmpMount::SmallTmpfs(bytes) => vec![
                "--size".into(),
                bytes.to_string().into(),
                "--tmpfs".into(),
                "/tmp".into(),
            ],
        };
        // The shell only moves the pipe of stdout to fd 3, then becomes the helper with
        // the helper's absolute path as argv[0]; the helper's own stdout goes to stderr.
        let redirect = if self.fd3 { "3>&1 1>&2" } else { "3>&- 1>&2" };
        let bounds = if self.bounded {
            "ulimit -v 262144; exec timeout -s KILL 20"
        } else {
            "exec"
        };
        command
            .args(["--bind", "/", "/"])
            .args(&tmp_mount)
            .arg("--chdir")
            .arg(&dirs.app)
            .args(["--", "/bin/sh", "-c"])
            .arg(exec_packaged_script(bounds, redirect))
            .arg(&helper)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().expect("run the helper");
        HelperRun {
            code: status.code(),
            output: String::from_utf8(stdout).expect("UTF-8 on fd 3"),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// A finished helper run.
pub struct HelperRun {
    pub code: Option<i32>,
    /// What the helper wrote to fd 3.
    pub output: String,
    pub stderr: String,
}

impl HelperRun {
    /// Exit 0 (anything else would make the launcher abort the app with 82).
    #[track_caller]
    pub fn assert_exit_0(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "the helper failed:\n{}\nfd 3:\n{}",
            self.stderr,
            self.output
        );
        self
    }

    /// The fd-3 output, parsed as TOML: every value a string.
    #[track_caller]
    pub fn variables(&self) -> Vec<(String, String)> {
        let table: toml::Table = self
            .output
            .parse()
            .unwrap_or_else(|error| panic!("invalid TOML on fd 3 ({error}):\n{}", self.output));
        table
            .into_iter()
            .map(|(name, value)| {
                let value = value
                    .as_str()
                    .unwrap_or_else(|| panic!("{name} is not a string"))
                    .to_owned();
                (name, value)
            })
            .collect()
    }

    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// The environment variable that sets how many generated cases the proptest suites run.
pub const CASES_VARIABLE: &str = "GROUP_WRITABLE_PROPTEST_CASES";
/// The environment variable that sets their random seed (a number).
pub const SEED_VARIABLE: &str = "GROUP_WRITABLE_PROPTEST_SEED";

/// A proptest configuration: `default_cases` cases from a fixed seed, unless the two
/// variables above ask for another number or seed (as `bin/fuzz` does).
pub fn proptest_config(default_cases: u32, default_seed: u64) -> proptest::test_runner::Config {
    let number = |variable: &str| {
        std::env::var(variable).ok().map(|value| {
            value
                .trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{variable} must be a number, is `{value}`"))
        })
    };
    let cases = number(CASES_VARIABLE).map_or(default_cases, |cases| {
        u32::try_from(cases).unwrap_or(u32::MAX)
    });
    let seed = number(SEED_VARIABLE).unwrap_or(default_seed);
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        // Failures are kept as fixed cases in tests/conformance.rs instead of files.
        failure_persistence: None,
        // Shrinking through `prop_flat_map` can go on for hours; a partly shrunk case
        // reported in a minute is worth more.
        max_shrink_iters: 4096,
        max_shrink_time: 60_000,
        ..proptest::test_runner::Config::default()
    }
}
