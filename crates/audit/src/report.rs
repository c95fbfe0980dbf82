//! The audit's answer: every writable path, grouped (app, layers, system), collapsed to the
//! top of each writable subtree, explained against the policy label, with the findings
//! `--deny` acts on. Its JSON form is the documented schema (crates/audit/README.md);
//! `SCHEMA_VERSION` changes with any incompatible change of shape.

use crate::access::{Through, User, Writable};
use crate::code::Commands;
use crate::policy::{APP_DIR, Explanation, LAYERS_DIR, Policy};
use crate::tree::{NodeKind, Tree};
use serde::Serialize;
use std::collections::HashMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub image: ImageSummary,
    pub user: UserSummary,
    pub policy: PolicySummary,
    pub summary: Summary,
    /// The top of each writable subtree, in path order.
    pub writable: Vec<Subtree>,
    /// Every writable path that every user can write, by name.
    pub world_writable: Vec<WorldWritable>,
    /// Every writable path that is executable code, or where code can be added, by name.
    pub writable_code: Vec<CodePath>,
}

#[derive(Debug, Serialize)]
pub struct ImageSummary {
    pub source: String,
    pub config_digest: String,
    pub layers: usize,
    pub entries: usize,
    /// What was read but left out (device files under `/dev`).
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub name: Option<String>,
    /// `config`, `argument` or `random`.
    pub source: String,
    /// The image config's `User`, as written.
    pub configured: Option<String>,
    /// uid 0: it can write every path.
    pub root: bool,
}

#[derive(Debug, Serialize)]
pub struct PolicySummary {
    /// Whether the image has the group-writable policy label.
    pub label: bool,
    pub label_version: Option<u32>,
    pub patterns: usize,
    pub redirects: usize,
    /// The label has redirects: the image is meant to run on a read-only root.
    pub read_only_root: bool,
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub writable: u64,
    pub directories: u64,
    pub files: u64,
    pub app: u64,
    pub layers: u64,
    pub system: u64,
    pub unexplained: u64,
    /// World-writable paths other than sticky directories.
    pub world_writable: u64,
    pub writable_code: u64,
}

#[derive(Debug, Serialize)]
pub struct Subtree {
    /// Absolute.
    pub path: String,
    /// `app`, `layers` or `system`.
    pub group: &'static str,
    /// For a path in `/layers/<buildpack>/<layer>`, those two names.
    pub buildpack: Option<String>,
    pub layer: Option<String>,
    /// `directory`, `file` or `fifo`.
    pub kind: &'static str,
    /// Octal, with setuid, setgid and sticky (`2775`).
    pub mode: String,
    pub uid: u32,
    pub gid: u32,
    /// `mode` (its permission bits allow it) or `ownership` (the user owns it and can
    /// chmod it).
    pub through: &'static str,
    pub sticky: bool,
    pub world_writable: bool,
    pub explained: Option<Explanation>,
    /// The writable paths this entry stands for, itself included.
    pub directories: u64,
    pub files: u64,
    /// Of those, how many are world-writable (sticky directories aside) and how many are
    /// writable code.
    pub world_writable_paths: u64,
    pub writable_code_paths: u64,
}

#[derive(Debug, Serialize)]
pub struct WorldWritable {
    pub path: String,
    pub sticky: bool,
}

#[derive(Debug, Serialize)]
pub struct CodePath {
    pub path: String,
    pub reason: String,
}

/// What `--deny` can refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Finding {
    Unexplained,
    WorldWritable,
    WritableCode,
}

impl Finding {
    /// The name `--deny` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Finding::Unexplained => "unexplained",
            Finding::WorldWritable => "world-writable",
            Finding::WritableCode => "writable-code",
        }
    }
}

impl Report {
    /// How many paths of each denied kind there are.
    #[must_use]
    pub fn count(&self, finding: Finding) -> u64 {
        match finding {
            Finding::Unexplained => self.summary.unexplained,
            Finding::WorldWritable => self.summary.world_writable,
            Finding::WritableCode => self.summary.writable_code,
        }
    }
}

fn group_of(path: &str) -> (&'static str, Option<String>, Option<String>) {
    let within = |root: &str| {
        path == root
            || path
                .strip_prefix(root)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    if within(APP_DIR) {
        ("app", None, None)
    } else if within(LAYERS_DIR) {
        let mut components = path.split('/').skip(1);
        (
            "layers",
            components.next().map(str::to_owned),
            components.next().map(str::to_owned),
        )
    } else {
        ("system", None, None)
    }
}

impl Subtree {
    /// A subtree whose top is `writable`, its counts still zero.
    fn top(
        writable: &Writable<'_>,
        group: &'static str,
        buildpack: Option<String>,
        layer: Option<String>,
        explained: Option<Explanation>,
    ) -> Subtree {
        Subtree {
            path: format!("/{}", writable.path),
            group,
            buildpack,
            layer,
            kind: match writable.node.kind {
                NodeKind::Directory => "directory",
                NodeKind::Fifo => "fifo",
                NodeKind::File | NodeKind::Symlink { .. } => "file",
            },
            mode: format!("{:04o}", writable.node.mode),
            uid: writable.node.uid,
            gid: writable.node.gid,
            through: match writable.through {
                Through::Mode => "mode",
                Through::Ownership => "ownership",
            },
            sticky: writable.is_sticky(),
            world_writable: writable.is_world_writable(),
            explained,
            directories: 0,
            files: 0,
            world_writable_paths: 0,
            writable_code_paths: 0,
        }
    }
}

/// What the report is built from.
pub struct Inputs<'a> {
    pub image: ImageSummary,
    pub user: UserSummary,
    pub tree: &'a Tree,
    pub writable: &'a [Writable<'a>],
    pub policy: Option<&'a Policy>,
    pub policy_warnings: Vec<String>,
    pub commands: &'a Commands,
    /// One entry per writable path instead of one per subtree.
    pub every_path: bool,
}

/// Builds the report. Pure.
#[must_use]
pub fn build(inputs: Inputs<'_>) -> Report {
    let mut summary = Summary::default();
    let mut subtrees: Vec<Subtree> = Vec::new();
    let mut world_writable = Vec::new();
    let mut writable_code = Vec::new();
    // The subtree each writable path was counted in, and its explanation.
    let mut placed: HashMap<&str, (usize, Option<Explanation>)> = HashMap::new();
    for writable in inputs.writable {
        let path = writable.path;
        let explained = inputs
            .policy
            .and_then(|policy| policy.explain(path, inputs.tree));
        let code = inputs.commands.reason(writable, inputs.tree);
        let (group, buildpack, layer) = group_of(path);
        let is_world = writable.is_world_writable() && !writable.is_sticky();
        summary.writable += 1;
        if writable.is_dir() {
            summary.directories += 1;
        } else {
            summary.files += 1;
        }
        match group {
            "app" => summary.app += 1,
            "layers" => summary.layers += 1,
            _ => summary.system += 1,
        }
        if explained.is_none() {
            summary.unexplained += 1;
        }
        if is_world {
            summary.world_writable += 1;
        }
        if writable.is_world_writable() {
            world_writable.push(WorldWritable {
                path: format!("/{path}"),
                sticky: writable.is_sticky(),
            });
        }
        if let Some(reason) = &code {
            summary.writable_code += 1;
            writable_code.push(CodePath {
                path: format!("/{path}"),
                reason: reason.clone(),
            });
        }
        let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
        let joins = (!path.is_empty() && !inputs.every_path)
            .then(|| placed.get(parent))
            .flatten()
            .filter(|(index, parent_explained)| {
                *parent_explained == explained && subtrees[*index].group == group
            })
            .map(|(index, _)| *index);
        let index = joins.unwrap_or_else(|| {
            subtrees.push(Subtree::top(
                writable,
                group,
                buildpack,
                layer,
                explained.clone(),
            ));
            subtrees.len() - 1
        });
        let subtree = &mut subtrees[index];
        if writable.is_dir() {
            subtree.directories += 1;
        } else {
            subtree.files += 1;
        }
        subtree.world_writable_paths += u64::from(is_world);
        subtree.writable_code_paths += u64::from(code.is_some());
        placed.insert(path, (index, explained));
    }
    let policy = match inputs.policy {
        Some(policy) => PolicySummary {
            label: true,
            label_version: Some(policy.label.version),
            patterns: policy.label.patterns.len(),
            redirects: policy.label.redirects.len(),
            read_only_root: policy.meant_for_read_only_root(),
            warnings: inputs.policy_warnings,
        },
        None => PolicySummary {
            label: false,
            label_version: None,
            patterns: 0,
            redirects: 0,
            read_only_root: false,
            warnings: inputs.policy_warnings,
        },
    };
    Report {
        version: SCHEMA_VERSION,
        image: inputs.image,
        user: inputs.user,
        policy,
        summary,
        writable: subtrees,
        world_writable,
        writable_code,
    }
}

/// The report's user part.
#[must_use]
pub fn user_summary(
    user: &User,
    name: Option<String>,
    source: &str,
    configured: Option<String>,
) -> UserSummary {
    UserSummary {
        uid: user.uid,
        gid: user.gid,
        groups: user.groups.iter().copied().collect(),
        name,
        source: source.to_owned(),
        configured,
        root: user.is_root(),
    }
}
