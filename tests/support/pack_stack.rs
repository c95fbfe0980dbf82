//! The pack suite's side of `tests/pack/stack`: which builder and buildpack files to use,
//! Debian's `docker` (first on the PATH the stack gives), and what libcnb-test does not
//! offer: running an image as another user or on a read-only root, reading its labels and
//! layers, and `pack build --gid`.

use crate::probe::{Probe, Report};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable `tests/pack/stack` sets to the default builder's name; without it the
/// suite's tests are ignored (outside CI).
pub(crate) const BUILDER_VARIABLE: &str = "GROUP_WRITABLE_PACK_BUILDER";

/// The image label the buildpack writes.
pub(crate) const POLICY_LABEL: &str = "io.github.cnb-utils.group-writable.policy";

/// What the tests build with.
pub(crate) struct Stack {
    /// The default builder: the stack images, the pinned lifecycle, the test buildpacks.
    pub(crate) builder: String,
    /// `tests/pack/stack`, to make more builders.
    pub(crate) script: PathBuf,
    /// The packaged buildpack directory (`bin/package`).
    pub(crate) buildpack_dir: PathBuf,
    /// The buildpackage file (`bin/package`).
    pub(crate) buildpackage: PathBuf,
}

impl Stack {
    /// The stack `tests/pack/stack` set up, or `None` when it did not run.
    pub(crate) fn from_env() -> Option<Stack> {
        let builder = std::env::var(BUILDER_VARIABLE).ok()?;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let buildpack_dir = std::env::var_os("GROUP_WRITABLE_BUILDPACK_DIR").map_or_else(
            || root.join("packaged/cnb-utils_group-writable/linux/amd64"),
            PathBuf::from,
        );
        let stack = Stack {
            builder,
            script: std::env::var_os("GROUP_WRITABLE_PACK_STACK")
                .map_or_else(|| root.join("tests/pack/stack"), PathBuf::from),
            buildpack_dir,
            buildpackage: root.join("packaged/cnb-utils_group-writable-linux-amd64.cnb"),
        };
        for path in [&stack.buildpack_dir, &stack.buildpackage] {
            assert!(
                path.exists(),
                "{} does not exist: run bin/package first",
                path.display()
            );
        }
        Some(stack)
    }
}

/// Runs a command and returns its output; panics when it cannot start.
pub(crate) fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"))
}

/// Runs a command that must succeed; returns its standard output.
pub(crate) fn succeed(command: &mut Command) -> String {
    let output = output(command);
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `docker ARGS...`: Debian's client, which the stack puts first on PATH.
pub(crate) fn docker<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new("docker");
    command.args(args);
    command
}

/// A name for an image or volume no other test uses, with the prefix the stack's clean-up
/// removes.
pub(crate) fn unique_name(what: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "gwtest_{what}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The image libcnb-test built, from pack's output (libcnb-test keeps the name private).
pub(crate) fn built_image(pack_stdout: &str) -> String {
    pack_stdout
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Successfully built image '")?
                .strip_suffix('\'')
        })
        .unwrap_or_else(|| panic!("no built image in pack's output:\n{pack_stdout}"))
        .to_owned()
}

/// How `docker run` starts a container.
#[derive(Clone, Copy, Default)]
pub(crate) struct Run<'a> {
    /// `--user`; the image's user (the run user) when `None`.
    pub(crate) user: Option<&'a str>,
    /// `--read-only --tmpfs /tmp`.
    pub(crate) read_only: bool,
}

impl Run<'_> {
    /// `docker run --rm [--user U] [--read-only --tmpfs /tmp] [--entrypoint E] IMAGE`.
    fn command(self, entrypoint: Option<&str>, image: &str) -> Command {
        let mut command = docker(["run", "--rm"]);
        if let Some(user) = self.user {
            command.args(["--user", user]);
        }
        if self.read_only {
            command.args(["--read-only", "--tmpfs", "/tmp"]);
        }
        if let Some(entrypoint) = entrypoint {
            command.args(["--entrypoint", entrypoint]);
        }
        command.arg(image);
        command
    }

    /// The image's default process.
    pub(crate) fn start(self, image: &str) -> Output {
        output(&mut self.command(None, image))
    }

    /// A probe through the CNB launcher (`launcher -- sh -c SCRIPT`), so exec.d runs.
    pub(crate) fn probe(self, image: &str, probe: &Probe) -> Report {
        let mut command = self.command(Some("/cnb/lifecycle/launcher"), image);
        command.args(["--", "sh", "-c", &probe.script()]);
        Report::parse(&succeed(&mut command))
    }
}

/// The image's policy label, or `None` when it has none.
pub(crate) fn policy_label(image: &str) -> Option<String> {
    let format = format!("{{{{ index .Config.Labels \"{POLICY_LABEL}\" }}}}");
    let value = succeed(&mut docker(["inspect", "--format", &format, image]));
    let value = value.trim();
    (value != "<no value>" && !value.is_empty()).then(|| value.to_owned())
}

/// The image's layer digests, as `docker inspect` lists them.
pub(crate) fn layer_digests(image: &str) -> Vec<String> {
    succeed(&mut docker([
        "inspect",
        "--format",
        "{{range .RootFS.Layers}}{{println .}}{{end}}",
        image,
    ]))
    .lines()
    .filter(|line| !line.is_empty())
    .map(str::to_owned)
    .collect()
}

/// An image built by `pack build` directly (for what libcnb-test cannot pass, such as
/// `--gid`), with its cache volumes; removed on drop, also when a test fails.
pub(crate) struct PackImage {
    pub(crate) name: String,
    pub(crate) pack_stdout: String,
}

impl PackImage {
    /// `pack build` of APP with BUILDPACKS on BUILDER, plus EXTRA arguments, as libcnb-test
    /// runs it (never pull, trust the builder and the extra buildpacks).
    pub(crate) fn build(builder: &str, app: &Path, buildpacks: &[&Path], extra: &[&str]) -> Self {
        let mut image = PackImage {
            name: unique_name("image"),
            pack_stdout: String::new(),
        };
        let mut command = Command::new("pack");
        command
            .args(["build", &image.name, "--builder", builder, "--path"])
            .arg(app)
            .args(["--pull-policy", "never", "--trust-builder"])
            .args(["--trust-extra-buildpacks", "--cache"])
            .arg(format!(
                "type=build;format=volume;name={}_build",
                image.name
            ))
            .arg("--cache")
            .arg(format!(
                "type=launch;format=volume;name={}_launch",
                image.name
            ));
        for buildpack in buildpacks {
            command.arg("--buildpack").arg(buildpack);
        }
        command.args(extra);
        image.pack_stdout = succeed(&mut command);
        image
    }
}

impl Drop for PackImage {
    fn drop(&mut self) {
        let _ = output(&mut docker(["rmi", "-f", &self.name]));
        let _ = output(&mut docker([
            "volume",
            "rm",
            "-f",
            &format!("{}_build", self.name),
            &format!("{}_launch", self.name),
        ]));
    }
}

/// A builder made by `tests/pack/stack builder`; removed on drop.
pub(crate) struct Builder {
    pub(crate) name: String,
}

impl Builder {
    /// A builder from the `[[buildpacks]]` and `[[order]]` tables in `buildpacks_toml`.
    pub(crate) fn create(stack: &Stack, buildpacks_toml: &Path) -> Builder {
        let builder = Builder {
            name: unique_name("builder"),
        };
        succeed(
            Command::new(&stack.script)
                .args(["builder", "--name", &builder.name, "--buildpacks"])
                .arg(buildpacks_toml),
        );
        builder
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        let _ = output(&mut docker(["rmi", "-f", &self.name]));
    }
}

/// The fenced TOML block of the README that contains `marker`, exactly as written there.
pub(crate) fn readme_toml_block(marker: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block))
        .filter(|block| block.contains(marker))
        .collect();
    let [block] = blocks[..] else {
        panic!(
            "expected one ```toml block with {marker} in README.md, found {}",
            blocks.len()
        );
    };
    format!("{block}\n")
}

/// `text` with its one `uri = "..."` line that names this buildpack pointing at `uri` instead:
/// the only change the tests make to the README's snippets.
pub(crate) fn with_buildpack_uri(text: &str, uri: &Path) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let matching: Vec<usize> = (0..lines.len())
        .filter(|&index| {
            let line = lines[index].trim_start();
            line.starts_with("uri = \"") && line.contains("cnb-utils/group-writable")
        })
        .collect();
    let [index] = matching[..] else {
        panic!("expected one uri line naming cnb-utils/group-writable in:\n{text}");
    };
    let mut replaced: Vec<String> = lines.iter().map(|line| (*line).to_owned()).collect();
    replaced[index] = format!("uri = {:?}", uri.display().to_string());
    replaced.join("\n") + "\n"
}
