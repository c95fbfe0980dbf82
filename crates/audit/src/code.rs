//! Executable code the launcher runs at every start (issue "writable surface"): exec.d
//! programs, profile.d scripts, the app's `.profile`, executables in a layer's `bin/`
//! (on `PATH` at launch), and each process's command and the image's entrypoint. A
//! writable path is *writable code* when it is such a file, or a directory where such a
//! file can be added or replaced. Pure.

use crate::access::Writable;
use crate::policy::{APP_DIR, LAYERS_DIR};
use crate::tree::{NodeKind, Tree};
use group_writable_policy::code::{app_code, layer_code};
use serde::Deserialize;

/// The commands of an image: what starts when it runs.
#[derive(Debug, Default)]
pub struct Commands {
    /// `(what, path relative to the root)`: the resolved command of each process and the
    /// entrypoint, and each symlink on the way to them.
    pub paths: Vec<(String, String)>,
}

/// The lifecycle's `io.buildpacks.build.metadata` label, the processes part.
#[derive(Debug, Default, Deserialize)]
struct BuildMetadata {
    #[serde(default)]
    processes: Vec<Process>,
}

#[derive(Debug, Deserialize)]
struct Process {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    command: CommandValue,
    #[serde(default = "default_true")]
    direct: bool,
}

fn default_true() -> bool {
    true
}

/// A process's command: an array since Platform API 0.10, a string before.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CommandValue {
    List(Vec<String>),
    Text(String),
}

impl Default for CommandValue {
    fn default() -> Self {
        CommandValue::List(Vec::new())
    }
}

pub const BUILD_METADATA_LABEL: &str = "io.buildpacks.build.metadata";

impl Commands {
    /// The commands of the image: its processes (from the lifecycle's label) and its
    /// entrypoint, resolved in the tree as the launcher resolves them (relative to the
    /// working directory, or on `PATH` with the layers' `bin/` first).
    #[must_use]
    pub fn find(
        tree: &Tree,
        build_metadata: Option<&str>,
        entrypoint: Option<&[String]>,
        env: &[String],
        working_dir: Option<&str>,
    ) -> Commands {
        let metadata: BuildMetadata = build_metadata
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        let working_dir = working_dir
            .filter(|dir| !dir.is_empty())
            .unwrap_or("/workspace");
        let mut search: Vec<String> = tree
            .iter()
            .filter(|(path, node)| {
                node.is_dir()
                    && path
                        .strip_prefix("layers/")
                        .is_some_and(|rest| rest.split('/').count() == 3 && rest.ends_with("/bin"))
            })
            .map(|(path, _)| format!("/{path}"))
            .collect();
        search.extend(
            env.iter()
                .filter_map(|variable| variable.strip_prefix("PATH="))
                .flat_map(|path| path.split(':'))
                .map(str::to_owned),
        );
        let mut commands = Commands::default();
        for process in &metadata.processes {
            let first = match &process.command {
                CommandValue::List(list) => list.first().cloned(),
                CommandValue::Text(text) => Some(text.clone()),
            };
            // A shell (non-direct) process's command is a shell expression: its first word
            // is what runs.
            let first = first.map(|command| {
                if process.direct {
                    command
                } else {
                    command
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                }
            });
            if let Some(command) = first.filter(|command| !command.is_empty()) {
                commands.add(
                    tree,
                    &format!("the command of process `{}`", process.kind),
                    &command,
                    working_dir,
                    &search,
                );
            }
        }
        if let Some(first) = entrypoint.and_then(<[String]>::first) {
            commands.add(tree, "the image's entrypoint", first, working_dir, &search);
        }
        commands
    }

    fn add(
        &mut self,
        tree: &Tree,
        what: &str,
        command: &str,
        working_dir: &str,
        search: &[String],
    ) {
        let candidates: Vec<String> = if command.starts_with('/') {
            vec![command.to_owned()]
        } else if command.contains('/') {
            vec![format!("{working_dir}/{command}")]
        } else {
            search
                .iter()
                .map(|dir| format!("{dir}/{command}"))
                .collect()
        };
        let Some(mut path) = candidates
            .iter()
            .filter_map(|candidate| crate::layer::normalize(candidate.as_bytes()).ok())
            .find(|candidate| tree.get(candidate).is_some())
        else {
            return;
        };
        // Follow symlinks inside the image, a few hops, recording each.
        for _ in 0..8 {
            self.paths.push((what.to_owned(), path.clone()));
            let Some(NodeKind::Symlink { target }) = tree.get(&path).map(|node| &node.kind) else {
                break;
            };
            let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
            let joined = if target.starts_with('/') {
                target.clone()
            } else {
                format!("{parent}/{target}")
            };
            match resolve_dots(&joined) {
                Some(next) if tree.get(&next).is_some() => path = next,
                _ => break,
            }
        }
    }

    /// Why `writable` is writable code, if it is.
    #[must_use]
    pub fn reason(&self, writable: &Writable<'_>, tree: &Tree) -> Option<String> {
        let path = writable.path;
        let is_dir = writable.is_dir();
        for (what, command) in &self.paths {
            if command == path {
                return Some(format!("{what}: whoever writes it runs as the next start"));
            }
            let parent = command.rsplit_once('/').map_or("", |(parent, _)| parent);
            // In a sticky directory only the owner of an entry may replace it.
            let replaceable = !writable.is_sticky()
                || tree
                    .get(command)
                    .is_some_and(|node| node.uid == writable.node.uid);
            if is_dir && parent == path && replaceable {
                return Some(format!("holds {what} (/{command}), which can be replaced"));
            }
        }
        // The fixed places are the buildpack's own definition, so the build's warning
        // and the audit agree (`group_writable_policy::code`).
        if let Some(relative) = path
            .strip_prefix(APP_DIR)
            .and_then(|rest| rest.strip_prefix('/').or((rest.is_empty()).then_some("")))
        {
            return app_code(relative, is_dir).map(str::to_owned);
        }
        let rest = path.strip_prefix(LAYERS_DIR)?.strip_prefix('/')?;
        let components: Vec<&str> = rest.split('/').collect();
        layer_code(&components, is_dir, writable.node.mode).map(str::to_owned)
    }
}

/// A path with `.` and `..` resolved lexically, relative to the root (`None` above it).
fn resolve_dots(path: &str) -> Option<String> {
    let mut components: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop()?;
            }
            other => components.push(other),
        }
    }
    Some(components.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{User, writable_paths};
    use crate::tree::{Entry, EntryKind};

    fn entry(path: &str, kind: EntryKind, mode: u32) -> Entry {
        Entry {
            path: path.to_owned(),
            kind,
            mode,
            uid: 1001,
            gid: 1000,
            content: None,
        }
    }

    #[test]
    fn code_of_the_launcher_and_the_processes() {
        let mut tree = Tree::default();
        tree.apply_layer(&[
            entry("layers", EntryKind::Directory, 0o755),
            entry("layers/bp", EntryKind::Directory, 0o755),
            entry("layers/bp/l", EntryKind::Directory, 0o755),
            entry("layers/bp/l/exec.d", EntryKind::Directory, 0o775),
            entry("layers/bp/l/exec.d/helper", EntryKind::File, 0o775),
            entry("layers/bp/l/profile.d", EntryKind::Directory, 0o755),
            entry("layers/bp/l/profile.d/env.sh", EntryKind::File, 0o664),
            entry("layers/bp/l/bin", EntryKind::Directory, 0o755),
            entry("layers/bp/l/bin/tool", EntryKind::File, 0o775),
            entry("layers/bp/l/bin/data", EntryKind::File, 0o664),
            entry("layers/bp/l/lib", EntryKind::Directory, 0o755),
            entry("layers/bp/l/lib/x.so", EntryKind::File, 0o775),
            entry("workspace", EntryKind::Directory, 0o755),
            entry("workspace/bin", EntryKind::Directory, 0o775),
            entry("workspace/bin/server", EntryKind::File, 0o755),
            entry("cnb", EntryKind::Directory, 0o755),
            entry("cnb/process", EntryKind::Directory, 0o755),
            entry(
                "cnb/process/web",
                EntryKind::Symlink {
                    target: "../lifecycle/launcher".into(),
                },
                0o777,
            ),
            entry("cnb/lifecycle", EntryKind::Directory, 0o755),
            entry("cnb/lifecycle/launcher", EntryKind::File, 0o775),
        ])
        .unwrap();
        let metadata = r#"{"processes":[{"type":"web","command":["bin/server"],"args":[],"direct":true},
                                        {"type":"tool","command":"tool --flag","direct":false}]}"#;
        let commands = Commands::find(
            &tree,
            Some(metadata),
            Some(&["/cnb/process/web".to_owned()]),
            &["PATH=/usr/bin".to_owned()],
            Some("/workspace"),
        );
        let found: Vec<&str> = commands
            .paths
            .iter()
            .map(|(_, path)| path.as_str())
            .collect();
        assert_eq!(
            found,
            [
                "workspace/bin/server",
                "layers/bp/l/bin/tool",
                "cnb/process/web",
                "cnb/lifecycle/launcher"
            ]
        );
        let user = User::new(1002, 1000, []);
        let code: Vec<(&str, bool)> = writable_paths(&tree, &user)
            .iter()
            .map(|writable| (writable.path, commands.reason(writable, &tree).is_some()))
            .collect();
        assert_eq!(
            code,
            [
                ("cnb/lifecycle/launcher", true),
                ("layers/bp/l/bin/data", false),
                ("layers/bp/l/bin/tool", true),
                ("layers/bp/l/exec.d", true),
                ("layers/bp/l/exec.d/helper", true),
                ("layers/bp/l/lib/x.so", false),
                ("layers/bp/l/profile.d/env.sh", true),
                ("workspace/bin", true),
            ]
        );
    }
}
