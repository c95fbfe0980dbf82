//! Writable executable code: what the launcher runs or sources at every start. A pattern
//! that makes such a file group-writable lets the run user change what the next start
//! runs, so the build warns, naming the path and why.
//!
//! What counts as code at a fixed place ([`layer_code`], [`app_code`]) is shared with
//! `group-writable-audit`: the crate `group-writable-policy`'s `code`, re-exported here.
//! The command of each process, which only the build can read, is this module's.

use crate::messages;
use crate::pass::PatternReport;
use crate::pass::patterns::{self, Pattern, Root};
use group_writable_gitignore::matcher::{Decision, Matcher};
pub use group_writable_policy::code::{app_code, layer_code};
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// The warnings for the files the patterns made group-writable that are code: the
/// fixed places ([`layer_code`], [`app_code`]) and the commands of the processes other
/// buildpacks declared in their `launch.toml`. `skips` are the names in the layers root
/// the pass never walks (the lifecycle's, and this buildpack's own).
#[must_use]
pub fn warnings(
    app_dir: &Path,
    layers_root: &Path,
    skips: &[&OsStr],
    patterns: &[PatternReport],
) -> Vec<String> {
    let list: Vec<Pattern> = patterns
        .iter()
        .map(|report| report.pattern.clone())
        .collect();
    let (Ok(app), Ok(layers)) = (
        patterns::matcher_for(&list, Root::App),
        patterns::matcher_for(&list, Root::Layers),
    ) else {
        return Vec::new();
    };
    if app.is_empty() && layers.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<(PathBuf, String, usize)> = Vec::new();
    let mut check = |root: &Path, matcher: &Matcher, relative: &str, why: String| {
        if let Some(pattern) = named_by(matcher, relative) {
            found.push((root.join(relative), why, pattern));
        }
    };
    if app_dir.join(".profile").is_file() {
        check(
            app_dir,
            &app,
            ".profile",
            app_code(".profile", false).unwrap_or_default().to_owned(),
        );
    }
    let mut launch_files = Vec::new();
    let mut bins = Vec::new();
    for buildpack in read_dir(layers_root) {
        let Some(name) = buildpack.file_name().map(OsStr::to_owned) else {
            continue;
        };
        if skips.contains(&name.as_os_str()) || !buildpack.is_dir() || buildpack.is_symlink() {
            continue;
        }
        launch_files.push(buildpack.join("launch.toml"));
        for layer in read_dir(&buildpack) {
            if !layer.is_dir() || layer.is_symlink() {
                continue;
            }
            for place in ["exec.d", "profile.d", "bin"] {
                for file in files_below(&layer.join(place)) {
                    let Ok(relative) = file.strip_prefix(layers_root) else {
                        continue;
                    };
                    let relative = relative.to_string_lossy().into_owned();
                    let components: Vec<&str> = relative.split('/').collect();
                    let mode = file
                        .symlink_metadata()
                        .map_or(0, |meta| meta.permissions().mode());
                    if let Some(why) = layer_code(&components, false, mode) {
                        check(layers_root, &layers, &relative, why.to_owned());
                    }
                }
            }
            bins.push(layer.join("bin"));
        }
    }
    for (kind, command) in launch_files.iter().flat_map(|file| process_commands(file)) {
        let candidates: Vec<PathBuf> = if command.starts_with('/') {
            vec![PathBuf::from(&command)]
        } else if command.contains('/') {
            vec![app_dir.join(&command)]
        } else {
            bins.iter().map(|bin| bin.join(&command)).collect()
        };
        let Some(path) = candidates
            .into_iter()
            .find(|path| path.is_file() && !path.is_symlink())
        else {
            continue;
        };
        let why = format!("the command of process `{kind}`: the launcher runs it at every start");
        for (root, matcher) in [(app_dir, &app), (layers_root, &layers)] {
            if let Ok(relative) = path.strip_prefix(root) {
                check(root, matcher, &relative.to_string_lossy(), why.clone());
            }
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    found
        .iter()
        .map(|(path, why, pattern)| messages::writable_code(path, why, &list[*pattern]))
        .collect()
}

/// The pattern that names a file (relative to its root) as the walk decides it: a matched
/// directory above it covers it, else the file itself must match.
fn named_by(matcher: &Matcher, relative: &str) -> Option<usize> {
    let mut prefix = String::new();
    let components: Vec<&str> = relative.split('/').collect();
    for (index, component) in components.iter().enumerate() {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(component);
        let is_dir = index + 1 < components.len();
        if let Decision::Matched(pattern) = matcher.decide(Path::new(&prefix), is_dir) {
            return Some(pattern);
        }
    }
    None
}

fn read_dir(directory: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

/// The regular files below a directory (a few levels: exec.d/<process>/...), never
/// through a symlink.
fn files_below(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![(directory.to_owned(), 0)];
    while let Some((directory, depth)) = pending.pop() {
        if directory.is_symlink() || !directory.is_dir() || depth > 4 {
            continue;
        }
        for entry in read_dir(&directory) {
            match entry.symlink_metadata() {
                Ok(meta) if meta.is_file() => files.push(entry),
                Ok(meta) if meta.is_dir() => pending.push((entry, depth + 1)),
                _ => {}
            }
        }
    }
    files
}

/// The processes of a buildpack's `launch.toml`: their type and the program they start
/// (the first word of a shell command).
fn process_commands(launch_toml: &Path) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Launch {
        #[serde(default)]
        processes: Vec<Process>,
    }
    #[derive(serde::Deserialize)]
    struct Process {
        #[serde(rename = "type", default)]
        kind: String,
        #[serde(default)]
        command: Command,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(untagged)]
    enum Command {
        List(Vec<String>),
        Text(String),
        #[default]
        None,
    }
    let Ok(launch) = libcnb::read_toml_file::<Launch>(launch_toml) else {
        return Vec::new();
    };
    launch
        .processes
        .into_iter()
        .filter_map(|process| {
            let first = match process.command {
                Command::List(list) => list.into_iter().next(),
                Command::Text(text) => text.split_whitespace().next().map(str::to_owned),
                Command::None => None,
            }?;
            (!first.is_empty()).then_some((process.kind, first))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_places_in_a_layer() {
        assert!(layer_code(&["bp", "l", "exec.d", "helper"], false, 0o755).is_some());
        assert!(layer_code(&["bp", "l", "exec.d", "web", "helper"], false, 0o644).is_some());
        assert!(layer_code(&["bp", "l", "profile.d", "env.sh"], false, 0o644).is_some());
        assert!(layer_code(&["bp", "l", "bin", "tool"], false, 0o755).is_some());
        assert!(layer_code(&["bp", "l", "bin", "data"], false, 0o644).is_none());
        assert!(layer_code(&["bp", "l", "lib", "x.so"], false, 0o755).is_none());
        assert!(app_code(".profile", false).is_some());
        assert!(app_code("bin/server", false).is_none());
    }
}
