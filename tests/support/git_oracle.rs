//! The oracle shared by the conformance and differential suites: build a tree, ask
//! `git check-ignore` which of its paths a pattern file excludes, run the real
//! group-writable pass on the same tree with the same pattern file, and compare what git
//! excluded with what the pass changed (read back from the mode bits).
//!
//! Every entry is created with mode 0644 (files) or 0755 (directories), so the pass
//! changes exactly the entries it matched and the changed set can be read off `lstat`.
//! git reports symlinks like files; the pass never changes a symlink, so they are taken
//! out of git's set and checked separately (their own mode, and their targets').

// Each suite that includes this module uses its own part of it.
#![allow(dead_code)]

use super::modes_by_path;
use group_writable::pass::surface::LayerRecords;
use group_writable::pass::walk::BuildUser;
use group_writable::pass::{self, PassInput};
use group_writable::settings::Settings;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;
/// The pattern file, at the top of every tree (so git sees it as a file too).
pub const PATTERN_FILE: &str = ".group-writable";

/// What a symlink in a tree points at.
#[derive(Clone, Debug)]
pub enum LinkTarget {
    /// Another entry of the tree, by its relative path (absolute link to it).
    Inside(Vec<u8>),
    /// A regular file outside the app directory.
    OutsideFile,
    /// A directory outside the app directory (with a file in it).
    OutsideDir,
    /// Nothing.
    Dangling,
}

#[derive(Clone, Debug)]
pub enum Node {
    File,
    Dir,
    Symlink(LinkTarget),
}

/// A tree to build: relative `/`-separated paths (bytes: names need not be UTF-8).
/// Missing parents become directories.
#[derive(Clone, Default)]
pub struct Tree {
    pub entries: Vec<(Vec<u8>, Node)>,
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|(path, node)| format!("{}: {node:?}", show(path))),
            )
            .finish()
    }
}

impl Tree {
    #[must_use]
    pub fn new() -> Tree {
        Tree::default()
    }

    #[must_use]
    pub fn file(self, path: &str) -> Tree {
        self.file_bytes(path.as_bytes())
    }

    /// A file whose path is any bytes (a Latin-1 name, say).
    #[must_use]
    pub fn file_bytes(mut self, path: &[u8]) -> Tree {
        self.entries.push((path.to_vec(), Node::File));
        self
    }

    #[must_use]
    pub fn dir(mut self, path: &str) -> Tree {
        self.entries.push((path.into(), Node::Dir));
        self
    }

    #[must_use]
    pub fn link(mut self, path: &str, target: LinkTarget) -> Tree {
        self.entries.push((path.into(), Node::Symlink(target)));
        self
    }

    /// Files at each of these paths.
    #[must_use]
    pub fn files(self, paths: &[&str]) -> Tree {
        paths.iter().fold(self, |tree, path| tree.file(path))
    }
}

/// What git excluded and what the pass changed, for one tree and pattern file.
#[derive(Debug)]
pub struct Comparison {
    /// Every path of the tree, given to git.
    pub paths: usize,
    /// Paths git excludes, symlinks left out.
    pub git_excluded: BTreeSet<Vec<u8>>,
    /// Paths whose mode the pass changed.
    pub changed: BTreeSet<Vec<u8>>,
    /// Per pattern line: how many non-symlink paths git attributes to it.
    pub git_lines: BTreeMap<usize, u64>,
    /// Per pattern line: how many entries the pass counted for it.
    pub pass_lines: BTreeMap<usize, u64>,
    /// Symlinks, outside entries or changed modes that are not what they must be.
    pub violations: Vec<String>,
}

impl Comparison {
    /// A description of every disagreement, or `None` when the pass did what git says.
    #[must_use]
    pub fn disagreement(&self) -> Option<String> {
        let mut out = String::new();
        let only_git: Vec<_> = self
            .git_excluded
            .difference(&self.changed)
            .map(|p| show(p))
            .collect();
        let only_pass: Vec<_> = self
            .changed
            .difference(&self.git_excluded)
            .map(|p| show(p))
            .collect();
        if !only_git.is_empty() {
            let _ = writeln!(out, "  excluded by git but not changed: {only_git:?}");
        }
        if !only_pass.is_empty() {
            let _ = writeln!(out, "  changed but not excluded by git: {only_pass:?}");
        }
        if only_git.is_empty() && only_pass.is_empty() && self.git_lines != self.pass_lines {
            let _ = writeln!(
                out,
                "  attributed to other lines: git {:?}, pass {:?}",
                self.git_lines, self.pass_lines
            );
        }
        for violation in &self.violations {
            let _ = writeln!(out, "  {violation}");
        }
        (!out.is_empty()).then_some(out)
    }
}

/// A path for messages: quoted text, or escaped bytes when it is not UTF-8.
#[must_use]
pub fn show(path: &[u8]) -> String {
    match std::str::from_utf8(path) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!("b\"{}\"", path.escape_ascii()),
    }
}

/// Fails the test with a clear message when `git` cannot be run.
pub fn require_git() -> String {
    match Command::new("git").arg("--version").output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
        Ok(output) => panic!(
            "`git --version` failed ({}): these tests compare against git itself, so git must work",
            output.status
        ),
        Err(error) => panic!(
            "git is not installed or not on PATH ({error}): these tests compare against git itself; install git"
        ),
    }
}

/// A bare repository whose `info/exclude` is the pattern file under test, and an empty
/// home, so that no user or system configuration or excludes file takes part.
pub struct GitOracle {
    scratch: tempfile::TempDir,
}

impl GitOracle {
    #[must_use]
    pub fn new() -> GitOracle {
        let scratch = scratch_dir();
        fs::create_dir(scratch.path().join("home")).expect("home");
        let status = git_command(scratch.path())
            .args(["init", "-q", "--bare"])
            .arg(scratch.path().join("repo.git"))
            .status()
            .expect("run git init");
        assert!(status.success(), "git init failed");
        GitOracle { scratch }
    }

    fn git_dir(&self) -> PathBuf {
        self.scratch.path().join("repo.git")
    }

    /// `git check-ignore -v` on `paths` (relative to `work_tree`): for each excluded
    /// path, the line of the pattern that excludes it (itself, or a parent directory).
    fn excluded(
        &self,
        work_tree: &Path,
        patterns: &str,
        paths: &[Vec<u8>],
    ) -> BTreeMap<Vec<u8>, usize> {
        fs::write(self.git_dir().join("info/exclude"), patterns).expect("write info/exclude");
        let mut child = git_command(self.scratch.path())
            .arg("--git-dir")
            .arg(self.git_dir())
            .arg("--work-tree")
            .arg(work_tree)
            .args(["check-ignore", "--no-index", "--stdin", "-z", "-v"])
            .current_dir(work_tree)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run git check-ignore");
        let mut input = Vec::new();
        for path in paths {
            // `./` keeps a leading `:` from being read as pathspec magic.
            input.extend_from_slice(b"./");
            input.extend_from_slice(path);
            input.push(0);
        }
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let output = child.wait_with_output().expect("git check-ignore output");
        writer.join().expect("writer thread").expect("write to git");
        // 0: something is excluded, 1: nothing is; anything else is an error.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "git check-ignore failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let fields: Vec<&[u8]> = output.stdout.split(|&byte| byte == 0).collect();
        let mut excluded = BTreeMap::new();
        // Records of four fields: source, line number, pattern, path.
        for record in fields.chunks_exact(4) {
            let [_source, line, pattern, path] = record else {
                unreachable!()
            };
            // -v also reports paths that a `!` pattern re-includes; those are not excluded.
            if pattern.starts_with(b"!") {
                continue;
            }
            let line: usize = std::str::from_utf8(line)
                .expect("line number")
                .parse()
                .expect("line number");
            let path = path.strip_prefix(b"./").expect("./ prefix").to_vec();
            excluded.insert(path, line);
        }
        excluded
    }
}

impl Default for GitOracle {
    fn default() -> Self {
        GitOracle::new()
    }
}

/// A temporary directory, in memory when the machine has `/dev/shm`: the suites create
/// and delete thousands of small trees, which is many times faster on tmpfs.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let mut builder = tempfile::Builder::new();
    builder.prefix("group-writable-test-");
    if std::env::var_os("TMPDIR").is_none()
        && shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("temporary directory")
}

fn git_command(home: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", home.join("home"))
        .env("XDG_CONFIG_HOME", home.join("home"))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_LITERAL_PATHSPECS")
        .env_remove("GIT_GLOB_PATHSPECS")
        .env_remove("GIT_ICASE_PATHSPECS");
    command
}

/// Builds `tree` with `patterns` as its pattern file, asks git, runs the pass, compares.
pub fn compare(oracle: &GitOracle, tree: &Tree, patterns: &str) -> Comparison {
    let scratch = scratch_dir();
    let app = scratch.path().join("app");
    let outside = scratch.path().join("outside");
    let layers_dir = scratch.path().join("layers/cnb-utils_group-writable");
    fs::create_dir_all(&layers_dir).expect("layers directory");
    build(tree, &app, &outside, patterns);

    let before = modes_by_path(&app);
    let outside_before = modes_by_path(&outside);
    let paths: Vec<Vec<u8>> = before.keys().cloned().collect();
    let symlinks: BTreeSet<Vec<u8>> = before
        .iter()
        .filter(|(_, mode)| **mode & 0o170_000 == 0o120_000)
        .map(|(path, _)| path.clone())
        .collect();

    let git = oracle.excluded(&app, patterns, &paths);
    let mut git_lines = BTreeMap::new();
    for (path, line) in &git {
        if !symlinks.contains(path) {
            *git_lines.entry(*line).or_insert(0) += 1;
        }
    }
    let git_excluded = git
        .into_keys()
        .filter(|path| !symlinks.contains(path))
        .collect();

    let settings = Settings::read(|_| None, Path::new("/workspace")).expect("default settings");
    let input = PassInput {
        app_dir: &app,
        layers_dir: &layers_dir,
        settings: &settings,
        user: &BuildUser::current(),
        threads: 2,
        previous: &LayerRecords::default(),
    };
    let report = pass::prepare(&input)
        .and_then(|prepared| pass::run(&input, prepared, &[]))
        .unwrap_or_else(|error| panic!("the pass failed: {error}"));
    let mut pass_lines = BTreeMap::new();
    for pattern in &report.patterns {
        let count = pattern.counts.directories + pattern.counts.files;
        if count > 0 {
            *pass_lines.entry(pattern.pattern.location.line).or_insert(0) += count;
        }
    }

    let after = modes_by_path(&app);
    let mut violations = Vec::new();
    let mut changed = BTreeSet::new();
    for (path, old) in &before {
        let new = after[path];
        if new == *old {
            continue;
        }
        changed.insert(path.clone());
        let expected = if old & 0o170_000 == 0o040_000 {
            0o042_775
        } else {
            0o100_664
        };
        if symlinks.contains(path) {
            violations.push(format!(
                "symlink {} changed from {old:o} to {new:o}",
                show(path)
            ));
        } else if new != expected {
            violations.push(format!(
                "{} changed from {old:o} to {new:o}, not {expected:o}",
                show(path)
            ));
        }
    }
    if modes_by_path(&outside) != outside_before {
        violations.push("an entry outside the app directory changed".to_owned());
    }
    Comparison {
        paths: paths.len(),
        git_excluded,
        changed,
        git_lines,
        pass_lines,
        violations,
    }
}

fn build(tree: &Tree, app: &Path, outside: &Path, patterns: &str) {
    fs::create_dir_all(outside.join("dir")).expect("outside dir");
    fs::write(outside.join("file"), "outside").expect("outside file");
    fs::write(outside.join("dir/inner"), "outside").expect("outside inner file");
    fs::create_dir(app).expect("app directory");
    fs::write(app.join(PATTERN_FILE), patterns).expect("pattern file");
    for (path, node) in &tree.entries {
        let shown = show(path);
        let full = app.join(OsStr::from_bytes(path));
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("parent of {shown}: {e}"));
        }
        let created = match node {
            Node::File => fs::write(&full, path),
            Node::Dir => fs::create_dir_all(&full),
            Node::Symlink(target) => symlink(
                match target {
                    LinkTarget::Inside(to) => app.join(OsStr::from_bytes(to)),
                    LinkTarget::OutsideFile => outside.join("file"),
                    LinkTarget::OutsideDir => outside.join("dir"),
                    LinkTarget::Dangling => outside.join("nothing"),
                },
                &full,
            ),
        };
        created.unwrap_or_else(|e| panic!("create {shown} as {node:?}: {e}"));
    }
    set_modes(outside);
    set_modes(app);
}

/// Gives every directory below `root` mode 0755 and every file 0644.
fn set_modes(root: &Path) {
    for entry in fs::read_dir(root).expect("read_dir") {
        let entry = entry.expect("entry");
        let file_type = entry.file_type().expect("file type");
        if file_type.is_dir() {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(DIR_MODE)).expect("chmod");
            set_modes(&entry.path());
        } else if file_type.is_file() {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(FILE_MODE))
                .expect("chmod");
        }
    }
}
