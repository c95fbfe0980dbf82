//! The Rust side of the end-to-end platform: builds and runs images through
//! `tests/e2e/cnb` (see its header for what each subcommand does), and records how long
//! each step took for the suite's summary.

use crate::probe::{Probe, Report};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

// The build user, the run user and the group they share (Paketo jammy's ids, as
// `tests/e2e/lib/stack.sh` defines them for the stack's images too).
pub(crate) use crate::support::{BUILD_GID as SHARED_GID, RUN_UID};

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A directory under `tests/fixtures/`.
pub(crate) fn fixture(relative: &str) -> PathBuf {
    repository().join("tests/fixtures").join(relative)
}

/// What the suite needs once: a provisioned platform, the packaged buildpack, and an
/// empty directory for the builds.
pub(crate) struct Platform {
    cli: PathBuf,
    buildpack: PathBuf,
    work_root: PathBuf,
}

impl Platform {
    /// Provisions the platform and packages the buildpack on first use. Panics (failing
    /// the test that asked) with the reason if either cannot be done.
    pub(crate) fn get() -> &'static Platform {
        static PLATFORM: OnceLock<Result<Platform, String>> = OnceLock::new();
        match PLATFORM.get_or_init(Platform::set_up) {
            Ok(platform) => platform,
            Err(message) => panic!("{message}"),
        }
    }

    fn set_up() -> Result<Platform, String> {
        let started = Instant::now();
        let cli = repository().join("tests/e2e/cnb");
        run_checked(Command::new(&cli).arg("provision"), "cnb provision")?;
        // The suite only runs when it is named (see main.rs).
        let buildpack = crate::support::packaged_buildpack()
            .ok_or("no packaged buildpack named (GROUP_WRITABLE_BUILDPACK_DIR)")?;
        if !buildpack.join("buildpack.toml").is_file() {
            return Err(format!(
                "{} is not a packaged buildpack (no buildpack.toml)",
                buildpack.display()
            ));
        }
        // Inside the target directory, not /tmp: the build sandbox mounts a tmpfs on /tmp.
        let work_root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
        if work_root.exists() {
            std::fs::remove_dir_all(&work_root)
                .map_err(|error| format!("could not empty {}: {error}", work_root.display()))?;
        }
        std::fs::create_dir_all(&work_root)
            .map_err(|error| format!("could not create {}: {error}", work_root.display()))?;
        record_timing("provision and package", started.elapsed());
        Ok(Platform {
            cli,
            buildpack,
            work_root,
        })
    }

    /// Empties the build cache of the builds named `name` (the previous image stays).
    pub(crate) fn clear_cache(&self, name: &str) {
        let cache = self.work_root.join(name).join("cache");
        if cache.exists() {
            for entry in std::fs::read_dir(&cache).expect("the cache directory") {
                let path = entry.expect("a cache entry").path();
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                }
                .unwrap_or_else(|error| panic!("could not remove {}: {error}", path.display()));
            }
        }
    }

    /// The packaged group-writable buildpack.
    pub(crate) fn buildpack(&self) -> &Path {
        &self.buildpack
    }

    /// Builds with the real lifecycle phases; the work directory is `<name>` under the
    /// suite's work root, so building the same name again is a rebuild with the cache and
    /// the previous image.
    pub(crate) fn build(&self, name: &str, build: &Build) -> Result<Image, String> {
        let started = Instant::now();
        let mut command = Command::new(&self.cli);
        command
            .arg("build")
            .arg("--work")
            .arg(self.work_root.join(name))
            .arg("--app")
            .arg(&build.app)
            .arg("--gid")
            .arg(build.gid.to_string());
        for buildpack in &build.buildpacks {
            command.arg("--buildpack").arg(buildpack);
        }
        for (name, value) in &build.env {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        if build.group_writable_checkout {
            command.arg("--checkout-umask").arg("002");
        }
        let output = run_checked(&mut command, &format!("cnb build ({name})"))?;
        record_timing(&format!("build {name}"), started.elapsed());
        let stdout = String::from_utf8_lossy(&output.stdout);
        let layout = stdout
            .lines()
            .last()
            .ok_or_else(|| format!("cnb build ({name}) printed no image layout"))?;
        Ok(Image {
            cli: self.cli.clone(),
            layout: PathBuf::from(layout),
            log: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// What to build: the app directory, the buildpacks in order, `/platform/env` variables,
/// and the group id of the build (the build user is always 1001).
pub(crate) struct Build {
    pub(crate) app: PathBuf,
    pub(crate) buildpacks: Vec<PathBuf>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) gid: u32,
    /// The app as a checkout under umask 002 has it (group-writable everywhere), rather
    /// than umask 022's.
    pub(crate) group_writable_checkout: bool,
}

impl Build {
    /// A build of `app` with `buildpacks`, as 1001:1000.
    pub(crate) fn new(app: PathBuf, buildpacks: Vec<PathBuf>) -> Build {
        Build {
            app,
            buildpacks,
            env: Vec::new(),
            gid: SHARED_GID,
            group_writable_checkout: false,
        }
    }

    /// Sets `name` to `value` in `/platform/env` (`pack build --env`).
    pub(crate) fn env(mut self, name: &str, value: &str) -> Build {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The app as a checkout under umask 002 has it.
    pub(crate) fn umask_002_checkout(mut self) -> Build {
        self.group_writable_checkout = true;
        self
    }

    /// The build as 1001 in group `gid` (`pack build --gid`).
    pub(crate) fn gid(mut self, gid: u32) -> Build {
        self.gid = gid;
        self
    }
}

/// An exported image: its OCI layout directory and the build's log.
pub(crate) struct Image {
    cli: PathBuf,
    pub(crate) layout: PathBuf,
    pub(crate) log: String,
}

/// Who runs the image and on what root file system.
#[derive(Clone, Debug, Default)]
pub(crate) struct Run {
    /// `None`: the image's user (the run user, 1002:1000).
    pub(crate) user: Option<(u32, u32)>,
    /// Supplementary groups.
    pub(crate) groups: Vec<u32>,
    /// A read-only root file system with a tmpfs on /tmp.
    pub(crate) read_only: bool,
    /// Variables set over the image's environment (`docker run -e NAME=VALUE`).
    pub(crate) env: Vec<(&'static str, &'static str)>,
}

impl Run {
    pub(crate) fn as_user(uid: u32, gid: u32) -> Run {
        Run {
            user: Some((uid, gid)),
            ..Run::default()
        }
    }

    /// As the image's user, on a read-only root with a tmpfs /tmp
    /// (`docker run --read-only --tmpfs /tmp`, Kubernetes' `readOnlyRootFilesystem`).
    pub(crate) fn read_only() -> Run {
        Run {
            read_only: true,
            ..Run::default()
        }
    }

    /// Also sets `name` to `value` in the container's environment.
    pub(crate) fn env(mut self, name: &'static str, value: &'static str) -> Run {
        self.env.push((name, value));
        self
    }
}

impl Image {
    /// Runs `command` through the CNB launcher (no command: the default process).
    pub(crate) fn run(&self, run: &Run, command: &[&str]) -> Output {
        let started = Instant::now();
        let mut cli = Command::new(&self.cli);
        cli.arg("run").arg("--image").arg(&self.layout);
        if let Some((uid, gid)) = run.user {
            cli.arg("--user").arg(format!("{uid}:{gid}"));
        }
        if !run.groups.is_empty() {
            let groups: Vec<String> = run.groups.iter().map(u32::to_string).collect();
            cli.arg("--groups").arg(groups.join(","));
        }
        if run.read_only {
            cli.arg("--read-only");
        }
        for (name, value) in &run.env {
            cli.arg("--env").arg(format!("{name}={value}"));
        }
        if !command.is_empty() {
            cli.arg("--").args(command);
        }
        let output = cli
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("could not start {}: {error}", self.cli.display()));
        record_timing("runs", started.elapsed());
        output
    }

    /// Runs `probe` through the launcher and reads what it reports.
    pub(crate) fn probe(&self, probe: &Probe, run: &Run) -> Report {
        let output = self.run(run, &["sh", "-c", &probe.script()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the probe did not run ({}):\n--- stdout\n{stdout}--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        Report::parse(&stdout)
    }

    /// The digest of the image's config (`sha256:...`), from its OCI layout.
    pub(crate) fn config_digest(&self) -> String {
        self.manifest()["config"]["digest"]
            .as_str()
            .expect("a config digest")
            .to_owned()
    }

    /// The image's config, parsed.
    pub(crate) fn config(&self) -> serde_json::Value {
        self.blob(&self.config_digest())
    }

    /// The group-writable policy label, parsed.
    pub(crate) fn policy_label(&self) -> serde_json::Value {
        let config = self.config();
        let label = config["config"]["Labels"]["io.github.cnb-utils.group-writable.policy"]
            .as_str()
            .unwrap_or_else(|| panic!("no policy label in {}", self.layout.display()));
        serde_json::from_str(label).expect("the policy label is JSON")
    }

    fn manifest(&self) -> serde_json::Value {
        let index = Self::json(&self.layout.join("index.json"));
        let digest = index["manifests"][0]["digest"]
            .as_str()
            .expect("a manifest");
        self.blob(digest)
    }

    fn blob(&self, digest: &str) -> serde_json::Value {
        let (algorithm, hex) = digest.split_once(':').expect("an algorithm:hex digest");
        Self::json(&self.layout.join("blobs").join(algorithm).join(hex))
    }

    fn json(path: &Path) -> serde_json::Value {
        let text = std::fs::read(path)
            .unwrap_or_else(|error| panic!("could not read {}: {error}", path.display()));
        serde_json::from_slice(&text)
            .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
    }

    /// `cnb digests`: the image's layer digests, then the app and buildpack layers'.
    pub(crate) fn digests(&self) -> String {
        let output = run_checked(
            Command::new(&self.cli)
                .arg("digests")
                .arg("--image")
                .arg(&self.layout),
            "cnb digests",
        )
        .unwrap_or_else(|message| panic!("{message}"));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// Runs `bin/package` and returns the packaged buildpack directory it prints last.
/// Runs a command to completion, its output captured; an error with the output if it
/// fails.
fn run_checked(command: &mut Command, what: &str) -> Result<Output, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("could not start {what}: {error}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{what} failed ({}):\n--- stdout\n{}--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

static TIMINGS: Mutex<Vec<(String, Duration)>> = Mutex::new(Vec::new());

/// Adds `elapsed` to the step `what` of the suite's timing summary.
fn record_timing(what: &str, elapsed: Duration) {
    let mut timings = TIMINGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match timings.iter_mut().find(|(step, _)| step == what) {
        Some((_, total)) => *total += elapsed,
        None => timings.push((what.to_owned(), elapsed)),
    }
}

/// The time spent in each step, in the order the steps first ran.
pub(crate) fn timings() -> Vec<(String, Duration)> {
    TIMINGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}
