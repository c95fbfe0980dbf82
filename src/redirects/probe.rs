//! The redirect plan's questions, answered from the app directory on disk: marker files,
//! what is at a path (never following symlinks), and whether the user's patterns make a
//! path, an ancestor or anything below it group-writable.
//!
//! The last question is answered the way the walk decides: top-down, a matched directory
//! covering its whole subtree, symlinks and special files never matched.

use crate::pass::app_patterns::AppPatterns;
use crate::pass::patterns::Pattern;
use crate::redirects::plan::{AppProbe, Bytecode, PathState};
use group_writable_launch::{dir_entries, tree_copy};
use std::ffi::CStr;
use std::fs;
use std::io::{self, Read as _};
use std::ops::ControlFlow;
use std::os::fd::{AsFd as _, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// At most this many directory entries are examined, in the app and the launch layers
/// together: a large Django app with its site-packages has some 20,000 to 60,000, and each
/// costs one `fstatat` (a `.pyc` an `openat` and an 8-byte read more), so the scan stays
/// well under a second on any tree. At the bound the bytecode is [`Bytecode::Unknown`]
/// and the redirect stays, the safe default.
const BYTECODE_SCAN_ENTRIES: usize = 100_000;

/// How deep the scan goes below a root (each level holds one descriptor open): far
/// deeper than any package tree; deeper than this is [`Bytecode::Unknown`] too.
const BYTECODE_SCAN_DEPTH: usize = 64;

/// Bytes of directory entries read per `getdents64`.
const DIRENT_BUFFER_BYTES: usize = 8 * 1024;

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

    /// Reads every `.pyc` header in the `__pycache__` directories of the app and of the
    /// launch layers (what the image holds; build and cache layers are not exported),
    /// never following symlinks: timestamp-based as soon as one is, hash-based only when
    /// the whole of both was read within [`BYTECODE_SCAN_ENTRIES`] and every header is,
    /// whatever order the kernel lists them in.
    fn bytecode(&self) -> Bytecode {
        let layers = crate::pass::image_layers(self.layers_root)
            .into_iter()
            .map(|layer| self.layers_root.join(layer));
        BytecodeScan::new(BYTECODE_SCAN_ENTRIES)
            .roots(std::iter::once(self.app_dir.to_path_buf()).chain(layers))
    }
}

/// The state of the bytecode scan over the roots.
struct BytecodeScan {
    /// At most this many entries are examined ([`BYTECODE_SCAN_ENTRIES`]).
    limit: usize,
    /// Entries examined so far.
    entries: usize,
    /// Hash-based headers read.
    hash_based: usize,
    /// Some directory was not read (unopenable, unlistable, too deep).
    incomplete: bool,
}

impl BytecodeScan {
    fn new(limit: usize) -> Self {
        BytecodeScan {
            limit,
            entries: 0,
            hash_based: 0,
            incomplete: false,
        }
    }

    /// The bytecode of `roots`, scanned in that order.
    fn roots(mut self, roots: impl IntoIterator<Item = PathBuf>) -> Bytecode {
        for root in roots {
            if let ControlFlow::Break(found) = self.root(&root) {
                return found;
            }
        }
        if self.incomplete {
            Bytecode::Unknown
        } else if self.hash_based == 0 {
            Bytecode::None
        } else {
            Bytecode::HashBased
        }
    }

    /// Scans the directory `root` (opened without following a symlink at its last
    /// component: an app or layer directory that is a symlink is not read).
    fn root(&mut self, root: &Path) -> ControlFlow<Bytecode> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::open(root, flags, Mode::empty()) {
            Ok(directory) => self.directory(directory.as_fd(), false, 0),
            Err(rustix::io::Errno::NOENT) => ControlFlow::Continue(()),
            Err(_) => {
                self.incomplete = true;
                ControlFlow::Continue(())
            }
        }
    }

    /// Scans `directory` by its descriptor: subdirectories entered with
    /// `openat(O_DIRECTORY | O_NOFOLLOW)`, `.pyc` files of a `__pycache__` opened as
    /// regular files only ([`tree_copy::open_regular_file_at`]: a FIFO swapped in after
    /// the listing is refused, never waited on).
    fn directory(
        &mut self,
        directory: BorrowedFd<'_>,
        in_pycache: bool,
        depth: usize,
    ) -> ControlFlow<Bytecode> {
        use rustix::fs::{FileType, Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut path = Vec::new();
        let listed = dir_entries::for_each(
            directory,
            DIRENT_BUFFER_BYTES,
            &mut path,
            |name, stat, _| {
                self.entries += 1;
                if self.entries > self.limit {
                    return Err(Bytecode::Unknown);
                }
                let Ok(stat) = stat else {
                    return Ok(());
                };
                match FileType::from_raw_mode(stat.st_mode) {
                    FileType::Directory if depth + 1 >= BYTECODE_SCAN_DEPTH => {
                        self.incomplete = true;
                    }
                    FileType::Directory => {
                        match rustix::fs::openat(directory, name, flags, Mode::empty()) {
                            Ok(child) => {
                                let pycache = name.to_bytes() == b"__pycache__";
                                if let ControlFlow::Break(found) =
                                    self.directory(child.as_fd(), pycache, depth + 1)
                                {
                                    return Err(found);
                                }
                            }
                            Err(_) => self.incomplete = true,
                        }
                    }
                    FileType::RegularFile if in_pycache && name.to_bytes().ends_with(b".pyc") => {
                        match read_header(directory, name).as_deref().map(is_hash_based) {
                            Ok(Some(true)) => self.hash_based += 1,
                            Ok(Some(false)) => return Err(Bytecode::TimestampBased),
                            // Unreadable or not bytecode: says nothing about how the build
                            // compiles.
                            Ok(None) | Err(_) => {}
                        }
                    }
                    _ => {}
                }
                Ok(())
            },
        );
        match listed {
            Ok(()) => ControlFlow::Continue(()),
            Err(dir_entries::Stop::Visit(found)) => ControlFlow::Break(found),
            Err(dir_entries::Stop::Listing(_)) => {
                self.incomplete = true;
                ControlFlow::Continue(())
            }
        }
    }
}

/// The first 8 bytes (the magic number and the flags word of a `.pyc`) of the regular
/// file `name` in `directory`, opened without following a symlink and without blocking.
fn read_header(directory: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let file = fs::File::from(tree_copy::open_regular_file_at(directory, name)?);
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
/// resolves differently at run time, so it is not followed. The chain is resolved one
/// component at a time by descriptors (`openat(O_PATH | O_DIRECTORY | O_NOFOLLOW)`,
/// `readlinkat` on a component that is a link), so a link in any component of a target
/// (`/tmp/x/node_modules` with `/tmp/x` a link) is met and must itself lie in a directory
/// strictly below `root`; at most [`MAX_HOPS`] links. Directories are placed by their
/// device and inode, never by comparing path strings.
fn leads_below(link: &Path, root: &Path) -> bool {
    use rustix::fs::{AtFlags, FileType, Mode, OFlags, open, openat, readlinkat, statat};
    use std::os::unix::ffi::OsStrExt as _;
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let Ok(root) = open(root, flags, Mode::empty()).and_then(|fd| rustix::fs::fstat(&fd)) else {
        return false;
    };
    let root = (root.st_dev, root.st_ino);
    let (Some(parent), Some(name)) = (link.parent(), link.file_name()) else {
        return false;
    };
    // The link's own directory is the app's (or one the state walk followed already).
    let Ok(mut current) = open(
        parent,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    // The components still to resolve, the next one last.
    let mut pending: Vec<Vec<u8>> = vec![name.as_bytes().to_vec()];
    let mut hops = 0;
    while let Some(component) = pending.pop() {
        match component.as_slice() {
            b"" | b"." => continue,
            b".." => {
                let Ok(up) = openat(&current, "..", flags, Mode::empty()) else {
                    return false;
                };
                current = up;
                continue;
            }
            _ => {}
        }
        let Ok(stat) = statat(&current, component.as_slice(), AtFlags::SYMLINK_NOFOLLOW) else {
            return false;
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => {
                hops += 1;
                // The first link is the app's; every later one must lie below the root.
                if hops > MAX_HOPS || (hops > 1 && !directory_below(&current, root)) {
                    return false;
                }
                let Ok(target) = readlinkat(&current, component.as_slice(), Vec::new()) else {
                    return false;
                };
                let target = target.into_bytes();
                if target.starts_with(b"/") {
                    let Ok(top) = open("/", flags, Mode::empty()) else {
                        return false;
                    };
                    current = top;
                }
                pending.extend(target.split(|&byte| byte == b'/').rev().map(<[u8]>::to_vec));
            }
            FileType::Directory => {
                let Ok(next) = openat(&current, component.as_slice(), flags, Mode::empty()) else {
                    return false;
                };
                current = next;
            }
            _ => return false,
        }
    }
    directory_below(&current, root)
}

/// Whether the directory open as `directory` is strictly below the directory of device
/// and inode `root`: the walk up its `..` entries meets `root` before the filesystem root.
fn directory_below(directory: &OwnedFd, root: (u64, u64)) -> bool {
    use rustix::fs::{Mode, OFlags, fstat, openat};
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let identity = |stat: &rustix::fs::Stat| (stat.st_dev, stat.st_ino);
    let Ok(start) = fstat(directory) else {
        return false;
    };
    let mut here = identity(&start);
    if here == root {
        return false;
    }
    let Ok(mut current) = openat(directory, ".", flags, Mode::empty()) else {
        return false;
    };
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
        // Through a link in a middle component outside the layers root: `/tmp/x` links
        // to the layer, and the app's link names `/tmp/x/launch-modules/node_modules`.
        symlink(&layer, root.path().join("tmp/x")).unwrap();
        symlink(
            root.path().join("tmp/x/launch-modules/node_modules"),
            app.join("middle"),
        )
        .unwrap();
        assert_eq!(
            probe.state("middle/.cache"),
            PathState::Blocked {
                ancestor: "middle".into(),
                symlink: true
            }
        );
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

    fn launch_layer(layer: &Path) {
        fs::write(
            layer.with_extension("toml"),
            "[types]\nlaunch = true\nbuild = true\n",
        )
        .unwrap();
    }

    /// Only what the image holds counts: a build- or cache-only layer's timestamp-based
    /// bytecode (a build tool's) is not exported, so hash-based bytecode in the launch
    /// layer decides.
    #[test]
    fn bytecode_outside_the_image_says_nothing() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("workspace");
        let layers = root.path().join("layers");
        let launch = layers.join("pip/packages/django/__pycache__");
        let build = layers.join("pip/tools/pip/__pycache__");
        fs::create_dir_all(&launch).unwrap();
        fs::create_dir_all(&build).unwrap();
        fs::create_dir_all(&app).unwrap();
        launch_layer(&layers.join("pip/packages"));
        fs::write(
            layers.join("pip/tools.toml"),
            "[types]\nbuild = true\ncache = true\n",
        )
        .unwrap();
        fs::write(launch.join("apps.cpython-311.pyc"), pyc(1)).unwrap();
        fs::write(build.join("main.cpython-311.pyc"), pyc(0)).unwrap();
        let none = AppPatterns::compile(&[]).unwrap();
        assert_eq!(
            AppDirectory::new(&app, &layers, &none).bytecode(),
            Bytecode::HashBased
        );
    }

    /// The decision does not depend on how many hash-based files come first: one
    /// timestamp-based file after 300 hash-based ones (in the app, read first) decides.
    #[test]
    fn one_timestamp_based_file_after_many_hash_based_ones_decides() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("workspace");
        let layers = root.path().join("layers");
        let cache = app.join("mysite/__pycache__");
        let site = layers.join("pip/packages/__pycache__");
        fs::create_dir_all(&cache).unwrap();
        fs::create_dir_all(&site).unwrap();
        launch_layer(&layers.join("pip/packages"));
        for index in 0..300 {
            fs::write(cache.join(format!("m{index}.cpython-311.pyc")), pyc(1)).unwrap();
        }
        fs::write(site.join("six.cpython-311.pyc"), pyc(0)).unwrap();
        let none = AppPatterns::compile(&[]).unwrap();
        assert_eq!(
            AppDirectory::new(&app, &layers, &none).bytecode(),
            Bytecode::TimestampBased
        );
    }

    /// At the entry bound the scan has not seen everything: unknown, so the redirect
    /// stays; below it, the same tree is hash-based.
    #[test]
    fn the_scan_is_bounded_by_entries_and_then_unknown() {
        let app = tempfile::tempdir().unwrap();
        let cache = app.path().join("mysite/__pycache__");
        fs::create_dir_all(&cache).unwrap();
        for index in 0..10 {
            fs::write(cache.join(format!("m{index}.cpython-311.pyc")), pyc(1)).unwrap();
            fs::write(app.path().join(format!("m{index}.py")), "").unwrap();
        }
        let roots = || [app.path().to_path_buf()];
        assert_eq!(BytecodeScan::new(100).roots(roots()), Bytecode::HashBased);
        assert_eq!(BytecodeScan::new(15).roots(roots()), Bytecode::Unknown);
    }

    /// A FIFO where a `.pyc` was (swapped in after the listing) is refused at once, never
    /// waited on for a writer that never comes.
    #[test]
    fn a_fifo_header_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.path().join("m.cpython-311.pyc"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let directory = rustix::fs::open(
            dir.path(),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        assert!(read_header(directory.as_fd(), c"m.cpython-311.pyc").is_err());
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
        launch_layer(&layers.join("pip/packages"));
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
