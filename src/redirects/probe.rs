//! The redirect plan's questions, answered from the app directory on disk: marker files,
//! what is at a path (never following symlinks), and whether the user's patterns make a
//! path, an ancestor or anything below it group-writable.
//!
//! The last question is answered the way the walk decides: top-down, a matched directory
//! covering its whole subtree, symlinks and special files never matched.

use crate::pass::app_patterns::AppPatterns;
use crate::pass::patterns::Pattern;
use crate::redirects::plan::{AppProbe, Bytecode, PathState};
use std::fs;
use std::io::{self, Read as _};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// At most this many `.pyc` headers are read, in the app and then the layers: enough to
/// tell how a build compiles (pip compiles a whole install one way), bounded on any tree.
const BYTECODE_SAMPLE: usize = 256;

/// The app directory, with the app patterns of the group-writable pass.
pub struct AppDirectory<'a> {
    app_dir: &'a Path,
    /// The layers root: an app symlink whose target lies below it (a `node_modules`
    /// linked to a launch layer), through links that lie below it too, is followed, as
    /// the app's own.
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

    fn bytecode(&self) -> Bytecode {
        let mut hash_based = 0;
        for root in [self.app_dir, self.layers_root] {
            if let ControlFlow::Break(found) = scan_bytecode(root, &mut hash_based) {
                return found;
            }
        }
        if hash_based == 0 {
            Bytecode::None
        } else {
            Bytecode::HashBased
        }
    }
}

/// Reads the `.pyc` headers of the `__pycache__` directories below `directory` (never
/// following symlinks): breaks at the first timestamp-based one, or when
/// [`BYTECODE_SAMPLE`] were hash-based; counts the hash-based ones in `hash_based`.
fn scan_bytecode(directory: &Path, hash_based: &mut usize) -> ControlFlow<Bytecode> {
    let Ok(entries) = fs::read_dir(directory) else {
        return ControlFlow::Continue(());
    };
    let in_pycache = directory.file_name() == Some("__pycache__".as_ref());
    for entry in entries.flatten() {
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if file_type.is_dir() {
            scan_bytecode(&path, hash_based)?;
        } else if in_pycache && file_type.is_file() && path.extension() == Some("pyc".as_ref()) {
            match read_header(&path).as_deref().map(is_hash_based) {
                Ok(Some(true)) => *hash_based += 1,
                Ok(Some(false)) => return ControlFlow::Break(Bytecode::TimestampBased),
                // Unreadable or not bytecode: says nothing about how the build compiles.
                Ok(None) | Err(_) => {}
            }
            if *hash_based >= BYTECODE_SAMPLE {
                return ControlFlow::Break(Bytecode::HashBased);
            }
        }
    }
    ControlFlow::Continue(())
}

/// The first 8 bytes of a file (the magic number and the flags word of a `.pyc`), opened
/// without following a symlink.
fn read_header(path: &Path) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed())
        .open(path)?;
    let mut header = Vec::with_capacity(8);
    file.take(8).read_to_end(&mut header)?;
    Ok(header)
}

/// Whether a `.pyc` header is hash-based: PEP 552's flags word (bytes 4 to 8, little
/// endian) has bit 0 set for hash-based bytecode (bit 1: checked), and is 0 for
/// timestamp-based. `None` when it is no bytecode header (too short, the magic number
/// not ending in `\r\n`, unknown flags).
fn is_hash_based(header: &[u8]) -> Option<bool> {
    let (magic, flags) = (header.get(..4)?, header.get(4..8)?);
    if magic[2..] != *b"\r\n" {
        return None;
    }
    match u32::from_le_bytes(flags.try_into().ok()?) {
        0 => Some(false),
        1 | 3 => Some(true),
        _ => None,
    }
}

/// How many links a chain from the app may pass through (the kernel allows 40; a layout
/// uses one or two).
const MAX_HOPS: usize = 8;

/// Whether the symlink `link` leads to a directory strictly below `root`, every link on
/// the way lying below it too. Only the app and the layers are in the image: a chain that
/// passes through another directory (Paketo's npm-install links `node_modules` to
/// `/tmp/<sha256>`, which links to a layer during the build and is made again at launch)
/// resolves differently at run time, so it is not followed. Each hop's directory and the
/// final directory are placed by descriptors, never by comparing path strings: the
/// kernel resolves them (however many `..` they hold) and the walk up their `..` entries
/// must meet `root`'s device and inode before the filesystem root.
fn leads_below(link: &Path, root: &Path) -> bool {
    let mut hop = link.to_path_buf();
    for _ in 0..MAX_HOPS {
        let Ok(target) = fs::read_link(&hop) else {
            return false;
        };
        // An absolute target replaces the link's directory.
        let next = hop.parent().unwrap_or(Path::new("/")).join(target);
        let (Some(directory), Some(_)) = (next.parent(), next.file_name()) else {
            return false;
        };
        if !directory_below(directory, root) {
            return false;
        }
        match fs::symlink_metadata(&next) {
            Ok(metadata) if metadata.is_symlink() => hop = next,
            Ok(metadata) if metadata.is_dir() => return directory_below(&next, root),
            _ => return false,
        }
    }
    false
}

/// Whether `directory`, resolved by the kernel, is a directory strictly below `root`:
/// the walk up its `..` entries meets `root`'s device and inode before the filesystem root.
fn directory_below(directory: &Path, root: &Path) -> bool {
    use rustix::fs::{Mode, OFlags, fstat, open, openat};
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let identity = |stat: &rustix::fs::Stat| (stat.st_dev, stat.st_ino);
    let Ok(root) = open(root, flags, Mode::empty()).and_then(|fd| fstat(&fd)) else {
        return false;
    };
    let root = identity(&root);
    let Ok(mut current) = open(directory, flags, Mode::empty()) else {
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

    /// `node_modules` linked into a launch layer: followed when it stays below the layers
    /// root, however it is spelled, also through a link in a layer; not when it leaves it,
    /// nor through a link outside it (Paketo npm-install's `/tmp/<sha256>`, which the
    /// image does not have).
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
        // Through a link in a layer that stays in the layers.
        let layer = layers.join("paketo-buildpacks_npm-install");
        symlink("launch-modules/node_modules", layer.join("current")).unwrap();
        symlink(layer.join("current"), app.join("in-layers")).unwrap();
        // Paketo's npm-install: through an indirection in the temporary directory.
        fs::create_dir_all(root.path().join("tmp")).unwrap();
        symlink(&modules, root.path().join("tmp/0123abcd")).unwrap();
        symlink(root.path().join("tmp/0123abcd"), app.join("indirect")).unwrap();
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
        assert_eq!(probe.state("in-layers/.cache"), PathState::Directory);
        for (link, below) in [
            ("escapes", "lib"),
            ("all-layers", "out"),
            ("via", "lib"),
            ("indirect", ".cache"),
        ] {
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

    /// A `.pyc` header: Python 3.11's magic number, then the flags word.
    fn pyc(flags: u32) -> Vec<u8> {
        let mut bytes = vec![0xa7, 0x0d, b'\r', b'\n'];
        bytes.extend_from_slice(&flags.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes
    }

    #[test]
    fn pyc_headers() {
        assert_eq!(is_hash_based(&pyc(0)), Some(false));
        assert_eq!(is_hash_based(&pyc(1)), Some(true));
        assert_eq!(is_hash_based(&pyc(3)), Some(true));
        assert_eq!(is_hash_based(&pyc(4)), None);
        assert_eq!(is_hash_based(&pyc(1)[..6]), None);
        assert_eq!(is_hash_based(b"not bytecode"), None);
    }

    /// The bytecode of the app and the layers: hash-based only when every `.pyc` read is;
    /// `.pyc` files outside `__pycache__` and behind symlinks say nothing.
    #[test]
    fn bytecode_of_the_app_and_the_layers() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("workspace");
        let layers = root.path().join("layers");
        let site = layers.join("pip/packages/site-packages/django/__pycache__");
        fs::create_dir_all(&site).unwrap();
        fs::create_dir_all(app.join("mysite")).unwrap();
        let none = AppPatterns::compile(&[]).unwrap();
        let probe = AppDirectory::new(&app, &layers, &none);
        assert_eq!(probe.bytecode(), Bytecode::None);
        fs::write(site.join("__init__.cpython-311.pyc"), pyc(3)).unwrap();
        fs::write(site.join("apps.cpython-311.pyc"), pyc(1)).unwrap();
        fs::write(site.join("__init__.py"), "").unwrap();
        assert_eq!(probe.bytecode(), Bytecode::HashBased);
        // Not in a __pycache__ directory, behind a symlink, or not bytecode: ignored.
        fs::write(app.join("mysite/stray.pyc"), pyc(0)).unwrap();
        let elsewhere = root.path().join("elsewhere/__pycache__");
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(elsewhere.join("old.cpython-311.pyc"), pyc(0)).unwrap();
        symlink(root.path().join("elsewhere"), app.join("linked")).unwrap();
        symlink(
            elsewhere.join("old.cpython-311.pyc"),
            site.join("linked.cpython-311.pyc"),
        )
        .unwrap();
        fs::write(site.join("empty.cpython-311.pyc"), "").unwrap();
        assert_eq!(probe.bytecode(), Bytecode::HashBased);
        // One timestamp-based file, in the app: the build's bytecode is not all valid.
        fs::create_dir_all(app.join("mysite/__pycache__")).unwrap();
        fs::write(
            app.join("mysite/__pycache__/settings.cpython-311.pyc"),
            pyc(0),
        )
        .unwrap();
        assert_eq!(probe.bytecode(), Bytecode::TimestampBased);
    }
}
