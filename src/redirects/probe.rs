//! The redirect plan's questions, answered from the app directory on disk: marker files,
//! what is at a path (never following symlinks), and whether the user's patterns make a
//! path, an ancestor or anything below it group-writable.
//!
//! The last question is answered the way the walk decides: top-down, a matched directory
//! covering its whole subtree, symlinks and special files never matched.

use crate::pass::app_patterns::AppPatterns;
use crate::pass::patterns::Pattern;
use crate::redirects::plan::{AppProbe, PathState};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The app directory, with the app patterns of the group-writable pass.
pub struct AppDirectory<'a> {
    app_dir: &'a Path,
    /// The layers root: an app symlink whose target lies below it (Paketo's npm-install
    /// links `node_modules` to its launch layer) is followed, as the app's own.
    layers_root: &'a Path,
    patterns: &'a AppPatterns,
}

impl<'a> AppDirectory<'a> {
    #[must_use]
    pub fn new(app_dir: &'a Path, layers_root: &'a Path, patterns: &'a AppPatterns) -> Self {
        AppDirectory {
            app_dir,
            layers_root,
            patterns,
        }
    }

    /// The first pattern selecting an entry below the unselected directory `relative`.
    fn matched_below(&self, relative: &str) -> Option<&'a Pattern> {
        let entries = fs::read_dir(self.app_dir.join(relative)).ok()?;
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let child = format!("{relative}/{}", name.to_string_lossy());
            if file_type.is_dir() {
                if let Some(pattern) = self.patterns.selecting(Path::new(&child), true) {
                    return Some(pattern);
                }
                if self.patterns.may_match_below(Path::new(&child))
                    && let Some(pattern) = self.matched_below(&child)
                {
                    return Some(pattern);
                }
            } else if file_type.is_file()
                && let Some(pattern) = self.patterns.selecting(Path::new(&child), false)
            {
                return Some(pattern);
            }
        }
        None
    }
}

impl AppProbe for AppDirectory<'_> {
    fn has(&self, relative: &str) -> bool {
        self.app_dir.join(relative).symlink_metadata().is_ok()
    }

    fn state(&self, relative: &str) -> PathState {
        let parts: Vec<&str> = relative.split('/').collect();
        let mut current = self.app_dir.to_path_buf();
        for (index, part) in parts.iter().enumerate() {
            current.push(part);
            let last = index + 1 == parts.len();
            let ancestor = || parts[..=index].join("/");
            match fs::symlink_metadata(&current) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    return PathState::Missing {
                        parent_exists: last,
                    };
                }
                Ok(metadata)
                    if metadata.is_symlink()
                        && !last
                        && leads_below(&current, self.layers_root) => {}
                Ok(metadata) if metadata.is_symlink() => {
                    return if last {
                        PathState::Symlink {
                            target: fs::read_link(&current).unwrap_or_else(|_| PathBuf::from("?")),
                        }
                    } else {
                        PathState::Blocked {
                            ancestor: ancestor(),
                            symlink: true,
                        }
                    };
                }
                Ok(metadata) if metadata.is_dir() => {}
                // Not a directory, or not examinable: not ours to replace.
                _ if last => return PathState::NotADirectory,
                _ => {
                    return PathState::Blocked {
                        ancestor: ancestor(),
                        symlink: false,
                    };
                }
            }
        }
        PathState::Directory
    }

    fn protected_by(&self, relative: &str) -> Option<String> {
        if self.patterns.is_empty() {
            return None;
        }
        let describe = |pattern: &Pattern| format!("`{}` ({})", pattern.text, pattern.location);
        let mut prefix = String::new();
        for part in relative.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            // Only what exists was made group-writable.
            if !self
                .app_dir
                .join(&prefix)
                .symlink_metadata()
                .is_ok_and(|m| m.is_dir())
            {
                return None;
            }
            if let Some(pattern) = self.patterns.selecting(Path::new(&prefix), true) {
                return Some(describe(pattern));
            }
        }
        self.matched_below(relative).map(describe)
    }
}

/// Whether the symlink `link` leads to a directory strictly below `root`, decided by
/// descriptors, never by comparing path strings: the kernel resolves the link (however
/// many `..`, relative or nested links it holds) to a directory, and the walk up its
/// `..` entries must meet `root`'s device and inode before the filesystem root.
fn leads_below(link: &Path, root: &Path) -> bool {
    use rustix::fs::{Mode, OFlags, fstat, open, openat};
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let identity = |stat: &rustix::fs::Stat| (stat.st_dev, stat.st_ino);
    let Ok(root) = open(root, flags, Mode::empty()).and_then(|fd| fstat(&fd)) else {
        return false;
    };
    let root = identity(&root);
    let Ok(mut current) = open(link, flags, Mode::empty()) else {
        return false;
    };
    let Ok(start) = fstat(&current) else {
        return false;
    };
    let mut here = identity(&start);
    if here == root {
        return false;
    }
    loop {
        let Ok(parent) = openat(&current, "..", flags, Mode::empty()) else {
            return false;
        };
        let Ok(parent_stat) = fstat(&parent) else {
            return false;
        };
        let up = identity(&parent_stat);
        if up == root {
            return true;
        }
        if up == here {
            // The filesystem root: `..` of `/` is itself.
            return false;
        }
        here = up;
        current = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::patterns::{RootContext, parse_pattern_text};
    use std::os::unix::fs::symlink;

    fn app() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for directory in [
            "tmp/pids",
            "log",
            "node_modules_real/.cache",
            "storage/logs",
        ] {
            fs::create_dir_all(dir.path().join(directory)).unwrap();
        }
        fs::write(dir.path().join("log/production.log"), "").unwrap();
        fs::write(dir.path().join("storage/framework"), "a file").unwrap();
        symlink("node_modules_real", dir.path().join("node_modules")).unwrap();
        symlink("/elsewhere", dir.path().join("tmp/link")).unwrap();
        dir
    }

    fn patterns(app_dir: &Path, text: &str) -> Vec<Pattern> {
        let has = |_: &str| true;
        let context = RootContext {
            app_dir,
            layers_root: Path::new("/layers"),
            app_has_entry: &has,
        };
        parse_pattern_text(".group-writable", text, &context)
            .unwrap()
            .patterns
    }

    fn protected(text: &str, relative: &str) -> Option<String> {
        let dir = app();
        let compiled = AppPatterns::compile(&patterns(dir.path(), text)).unwrap();
        AppDirectory::new(dir.path(), Path::new("/layers"), &compiled).protected_by(relative)
    }

    #[test]
    fn states() {
        let dir = app();
        let none = AppPatterns::compile(&[]).unwrap();
        let probe = AppDirectory::new(dir.path(), Path::new("/nonexistent-layers"), &none);
        assert_eq!(probe.state("tmp"), PathState::Directory);
        assert_eq!(
            probe.state("var/cache"),
            PathState::Missing {
                parent_exists: false
            }
        );
        assert_eq!(
            probe.state("log/archive"),
            PathState::Missing {
                parent_exists: true
            }
        );
        assert_eq!(
            probe.state("tmp/link"),
            PathState::Symlink {
                target: "/elsewhere".into()
            }
        );
        assert_eq!(
            probe.state("node_modules/.cache"),
            PathState::Blocked {
                ancestor: "node_modules".into(),
                symlink: true
            }
        );
        assert_eq!(probe.state("storage/framework"), PathState::NotADirectory);
        assert_eq!(
            probe.state("storage/framework/views"),
            PathState::Blocked {
                ancestor: "storage/framework".into(),
                symlink: false
            }
        );
        assert!(probe.has("log/production.log"));
        assert!(probe.has("node_modules"));
        assert!(!probe.has("Gemfile"));
    }

    /// Paketo's npm-install: `node_modules` links into a launch layer. Followed when it
    /// stays below the layers root, however it is spelled; not when it leaves it.
    #[test]
    fn symlinks_into_the_layers_root_are_followed() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("workspace");
        let layers = root.path().join("layers");
        let modules = layers.join("paketo-buildpacks_npm-install/launch-modules/node_modules");
        fs::create_dir_all(modules.join(".cache")).unwrap();
        fs::create_dir_all(&app).unwrap();
        fs::create_dir_all(root.path().join("elsewhere/lib")).unwrap();
        symlink(&modules, app.join("node_modules")).unwrap();
        // Relative, through `..`: still below the layers root.
        symlink(
            "../layers/paketo-buildpacks_npm-install/launch-modules",
            app.join("relative"),
        )
        .unwrap();
        // A string that starts with the layers root but leaves it.
        symlink(layers.join("../elsewhere"), app.join("escapes")).unwrap();
        // The layers root itself is not below it.
        symlink(&layers, app.join("all-layers")).unwrap();
        // A link into the layers root to a link out of it.
        symlink(root.path().join("elsewhere"), layers.join("out")).unwrap();
        symlink(layers.join("out"), app.join("via")).unwrap();
        let none = AppPatterns::compile(&[]).unwrap();
        let probe = AppDirectory::new(&app, &layers, &none);
        assert_eq!(probe.state("node_modules/.cache"), PathState::Directory);
        assert_eq!(
            probe.state("node_modules/.vite"),
            PathState::Missing {
                parent_exists: true
            }
        );
        assert_eq!(
            probe.state("relative/node_modules/.cache"),
            PathState::Directory
        );
        for (link, below) in [("escapes", "lib"), ("all-layers", "out"), ("via", "lib")] {
            assert_eq!(
                probe.state(&format!("{link}/{below}")),
                PathState::Blocked {
                    ancestor: link.into(),
                    symlink: true
                },
                "{link}"
            );
        }
        // Without the layers root (another directory), the link is not followed.
        let elsewhere = root.path().join("elsewhere");
        let probe = AppDirectory::new(&app, &elsewhere, &none);
        assert!(matches!(
            probe.state("node_modules/.cache"),
            PathState::Blocked { .. }
        ));
    }

    #[test]
    fn a_pattern_on_the_path_an_ancestor_or_below_protects_it() {
        assert_eq!(
            protected("log/\n", "log").as_deref(),
            Some("`log/` (.group-writable:1)")
        );
        assert_eq!(
            protected("/storage/\n", "storage/logs").as_deref(),
            Some("`/storage/` (.group-writable:1)")
        );
        assert_eq!(
            protected("# pids\ntmp/pids/\n", "tmp").as_deref(),
            Some("`tmp/pids/` (.group-writable:2)")
        );
        assert_eq!(
            protected("*.log\n", "log").as_deref(),
            Some("`*.log` (.group-writable:1)")
        );
    }

    #[test]
    fn unrelated_negated_or_absent_matches_do_not_protect() {
        assert_eq!(protected("uploads/\n", "log"), None);
        assert_eq!(protected("log/\n!log/\n", "log"), None);
        // Symlinks are never made group-writable.
        assert_eq!(protected("link\n", "tmp"), None);
        // Nothing exists there, so nothing was made group-writable.
        assert_eq!(protected("var/\n", "var/cache"), None);
        assert_eq!(protected("", "log"), None);
    }
}
