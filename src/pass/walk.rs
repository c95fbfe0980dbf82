//! The permission walk: visits a root top-down with directory file descriptors, asks the
//! matcher about each entry, and makes matched entries group-writable.
//!
//! Why it cannot be redirected outside its root: every directory is opened with
//! `openat(parent, name, O_DIRECTORY | O_NOFOLLOW)`, so a symlink is never entered; every
//! file is examined with `fstatat(parent, name, AT_SYMLINK_NOFOLLOW)`, and, when it needs a
//! change, opened with `O_PATH | O_NOFOLLOW`, checked on that descriptor (a regular file,
//! the same inode) and changed through it ([`exact_chmod`]), so a file swapped for a
//! symlink meanwhile is not followed; directories are changed through their own
//! descriptor (`fchmod`). No path string is ever resolved again from the root.
//!
//! Why it is fast: a directory's entries come from `getdents64` into a reused buffer with
//! their types, so an unmatched entry costs no system call at all, a matched one costs one
//! `stat`, plus an open, a `stat`, a `chmod` and a close only when its mode lacks a bit,
//! and the work is shared between threads (a busy thread hands a subdirectory to an idle
//! one, and recurses itself otherwise: nothing is queued or allocated while every thread
//! is busy). The same walk on `rayon` scopes measured no faster and is larger
//! (BENCHMARKS.md).
//!
//! The writable surface: every entry in the walk's [`SurfaceScope`] that no pattern names
//! is examined too (one `stat` each, so no directory is pruned then), counted when it is
//! group- or other-writable, and, with `read_only`, made read-only for group and other
//! (a `chmod`, through the same exact descriptors, only when it has one of those bits).

use crate::pass::exact_chmod;
use crate::pass::fingerprint::{Fingerprint, PathHash};
use crate::pass::mode::{GROUP_OR_OTHER_WRITE, Kind, group_writable_mode, read_only_mode};
use crate::pass::patterns::Root;
use crate::pass::surface::SurfaceCounts;
use group_writable_gitignore::matcher::{Decision, Matcher};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, OsStr};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// One root to walk.
pub struct RootWalk<'a> {
    pub root: Root,
    pub directory: &'a Path,
    pub matcher: &'a Matcher,
    /// Top-level names never entered (the lifecycle's and our own directories in the
    /// layers root).
    pub skip_top_level: &'a [&'a OsStr],
    /// Whether top-level entries that are not directories are skipped (the layers root
    /// holds the lifecycle's files there, never a layer).
    pub directories_only_at_top: bool,
    /// Which entries make up the writable surface.
    pub surface: SurfaceScope,
    /// `BP_GROUP_WRITABLE_READ_ONLY`: the surface entries lose `g+w` and `o+w`.
    pub read_only: bool,
    /// Root-relative paths (no trailing `/`) a redirect replaces after the walk: a
    /// writable surface entry at or below one is counted as redirected, not as left
    /// writable (it leaves the app with the redirect).
    pub redirected: &'a [&'a str],
}

/// Which entries of a root the surface covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SurfaceScope {
    /// The app: every entry, the root directory itself included. Figures are one group.
    App,
    /// The layers root: the layer directories (`<buildpack>/<layer>`) and everything in
    /// them, not the buildpacks' directories nor their `*.toml` files (the lifecycle's
    /// input, not part of the image). Figures are grouped by layer.
    Layers,
}

/// The build user: who runs the walk, for deciding what the kernel will allow, and whom
/// the image label names as the owner of the app's files.
#[derive(Clone, Debug)]
pub struct BuildUser {
    /// The effective uid.
    pub uid: u32,
    /// The effective gid.
    pub gid: u32,
    /// The effective group and the supplementary groups: setgid is only kept on a
    /// directory whose group is one of these.
    pub groups: Vec<u32>,
}

impl BuildUser {
    /// The user this process runs as (buildpacks run as the build user, and the
    /// lifecycle passes them no `CNB_USER_ID`).
    #[must_use]
    pub fn current() -> BuildUser {
        let gid = rustix::process::getegid().as_raw();
        let mut groups: Vec<u32> = rustix::process::getgroups()
            .unwrap_or_default()
            .into_iter()
            .map(rustix::process::Gid::as_raw)
            .collect();
        groups.push(gid);
        BuildUser {
            uid: rustix::process::geteuid().as_raw(),
            gid,
            groups,
        }
    }
}

/// One changed entry, for the debug listing.
pub struct Change<'a> {
    /// Relative to the root.
    pub path: &'a Path,
    pub kind: Kind,
    pub old_mode: u32,
    pub new_mode: u32,
}

/// What one pattern matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternCounts {
    pub directories: u64,
    pub files: u64,
    /// How many of those needed a `chmod`.
    pub changed: u64,
}

impl std::ops::AddAssign for PatternCounts {
    fn add_assign(&mut self, other: PatternCounts) {
        self.directories += other.directories;
        self.files += other.files;
        self.changed += other.changed;
    }
}

/// Something that went wrong with one entry.
#[derive(Debug)]
pub enum Problem {
    /// A matched entry that belongs to another user, so the build user may not chmod it.
    NotOwner {
        path: PathBuf,
        owner: u32,
        mode: u32,
    },
    /// A directory that could not be read. Fatal when it was matched (its subtree would
    /// silently stay read-only), a warning otherwise.
    Unreadable {
        path: PathBuf,
        error: Errno,
        matched: bool,
    },
    /// Any other failure of a system call on a matched entry.
    Failed {
        path: PathBuf,
        operation: &'static str,
        error: Errno,
    },
    /// An entry no pattern names that `read_only` could not make read-only (a warning:
    /// it is reported as left writable).
    NotMadeReadOnly { path: PathBuf, error: Errno },
}

impl Problem {
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Problem::Unreadable { matched: false, .. } | Problem::NotMadeReadOnly { .. }
        )
    }
}

/// What the walk found in one group of entries (the app, or one layer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Indexed like the pattern list given to the matcher.
    pub counts: Vec<PatternCounts>,
    pub surface: SurfaceCounts,
    /// Of a layer's entries ([`SurfaceScope::Layers`] only).
    pub fingerprint: Fingerprint,
}

impl Figures {
    fn new(pattern_count: usize) -> Figures {
        Figures {
            counts: vec![PatternCounts::default(); pattern_count],
            surface: SurfaceCounts::default(),
            fingerprint: Fingerprint::default(),
        }
    }

    fn add(&mut self, other: &Figures) {
        for (sum, counts) in self.counts.iter_mut().zip(&other.counts) {
            *sum += *counts;
        }
        self.surface += &other.surface;
        self.fingerprint += other.fingerprint;
    }
}

/// The result of walking one root.
#[derive(Debug, Default)]
pub struct WalkOutcome {
    /// Indexed like the pattern list given to the matcher: the sum over all groups.
    pub counts: Vec<PatternCounts>,
    /// The sum over all groups.
    pub surface: SurfaceCounts,
    /// Per layer (`<buildpack dir>/<layer>`) for [`SurfaceScope::Layers`]; empty for the
    /// app.
    pub layers: BTreeMap<String, Figures>,
    pub problems: Vec<Problem>,
}

/// Walks one root with `threads` threads. `on_change` sees every changed entry (it is
/// only set when the debug listing is on). Fails only when the root cannot be opened.
pub fn walk_root(
    walk: &RootWalk<'_>,
    pattern_count: usize,
    user: &BuildUser,
    threads: usize,
    on_change: Option<&(dyn Fn(&Change<'_>) + Sync)>,
) -> Result<WalkOutcome, Errno> {
    let root_fd = rustix::fs::open(
        walk.directory,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let threads = threads.max(1);
    let shared = Shared {
        walk,
        user,
        on_change,
        queue: Mutex::new(Vec::new()),
        wakeup: Condvar::new(),
        idle: AtomicUsize::new(0),
        threads,
    };
    let new_worker = |shared| Worker {
        shared,
        whole: Figures::new(pattern_count),
        layers: HashMap::new(),
        problems: Vec::new(),
        buffers: Vec::new(),
        directory_hash: (0, PathHash::EMPTY),
    };
    // The app directory itself is part of the app's surface (pack makes it 0777).
    let mut root_worker = new_worker(&shared);
    if walk.surface == SurfaceScope::App {
        root_worker.surface_entry(Target::Fd(&root_fd), b"", Kind::Directory, None);
    }
    shared.push(Task {
        directory: root_fd,
        path: Vec::new(),
        state: State::Searching,
    });
    let mut workers: Vec<Worker<'_>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut worker = new_worker(&shared);
                    while let Some(task) = shared.next_task() {
                        let mut path = task.path;
                        worker.read_directory(&task.directory, &mut path, task.state);
                    }
                    worker
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    workers.push(root_worker);
    let mut whole = Figures::new(pattern_count);
    let mut total = WalkOutcome::default();
    for worker in workers {
        whole.add(&worker.whole);
        for (key, figures) in worker.layers {
            let name = String::from_utf8_lossy(&key).into_owned();
            whole.add(&figures);
            total
                .layers
                .entry(name)
                .or_insert_with(|| Figures::new(pattern_count))
                .add(&figures);
        }
        total.problems.extend(worker.problems);
    }
    total.counts = whole.counts;
    total.surface = whole.surface;
    total
        .problems
        .sort_by(|a, b| problem_path(a).cmp(problem_path(b)));
    Ok(total)
}

fn problem_path(problem: &Problem) -> &Path {
    match problem {
        Problem::NotOwner { path, .. }
        | Problem::Unreadable { path, .. }
        | Problem::Failed { path, .. }
        | Problem::NotMadeReadOnly { path, .. } => path,
    }
}

/// An entry to change: a directory through its own descriptor, a file by name in its
/// directory.
#[derive(Clone, Copy)]
enum Target<'a> {
    Fd(&'a OwnedFd),
    At(&'a OwnedFd, &'a CStr),
}

impl Target<'_> {
    /// Changes the entry whose status is `stat`: a file through a descriptor of exactly
    /// that inode ([`exact_chmod`]; `NOENT` when it was replaced meanwhile).
    fn chmod(self, mode: u32, stat: &rustix::fs::Stat) -> rustix::io::Result<()> {
        match self {
            Target::Fd(directory) => rustix::fs::fchmod(directory, Mode::from_raw_mode(mode)),
            Target::At(directory, name) => {
                match exact_chmod::pin_file(directory.as_fd(), name, Some(stat))? {
                    Some(file) => file.chmod(directory.as_fd(), name, mode),
                    None => Err(Errno::NOENT),
                }
            }
        }
    }
}

/// Whether a directory is being searched for matches, or lies inside a matched one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Searching,
    /// Inside a directory matched by this pattern: everything is made group-writable.
    Covered(usize),
}

/// A directory handed to any thread: already opened (and, when matched, already changed).
struct Task {
    directory: OwnedFd,
    /// Relative to the root, with a trailing `/` unless it is the root.
    path: Vec<u8>,
    state: State,
}

struct Shared<'a> {
    walk: &'a RootWalk<'a>,
    user: &'a BuildUser,
    on_change: Option<&'a (dyn Fn(&Change<'_>) + Sync)>,
    queue: Mutex<Vec<Task>>,
    wakeup: Condvar,
    /// Threads waiting for work; a busy thread hands out subdirectories while this is
    /// non-zero, and recurses itself otherwise (no queueing cost when all are busy).
    idle: AtomicUsize,
    threads: usize,
}

impl Shared<'_> {
    fn push(&self, task: Task) {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(task);
        self.wakeup.notify_one();
    }

    fn wants_work(&self) -> bool {
        self.idle.load(Ordering::Relaxed) > 0
    }

    /// The next task, or `None` once every thread is idle and nothing is queued.
    fn next_task(&self) -> Option<Task> {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(task) = queue.pop() {
                return Some(task);
            }
            let idle = self.idle.fetch_add(1, Ordering::SeqCst) + 1;
            if idle == self.threads {
                // Everyone is idle and nothing is queued: the walk is over. Leave `idle`
                // at its maximum so every waiting thread sees that too.
                self.wakeup.notify_all();
                return None;
            }
            queue = self
                .wakeup
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if self.idle.load(Ordering::SeqCst) == self.threads && queue.is_empty() {
                return None;
            }
            self.idle.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Room for a few hundred directory entries per `getdents64`.
const DIRENT_BUFFER_BYTES: usize = 16 * 1024;

struct Worker<'a> {
    shared: &'a Shared<'a>,
    /// The figures of the app (every entry is one group).
    whole: Figures,
    /// The figures per layer: by the first two components of the path.
    layers: HashMap<Vec<u8>, Figures>,
    problems: Vec<Problem>,
    /// Directory-entry buffers, one per directory being read, reused.
    buffers: Vec<Vec<MaybeUninit<u8>>>,
    /// The length of the path of the directory being read (with its `/`) and its hash,
    /// from which its entries' paths are hashed (the layers only).
    directory_hash: (usize, PathHash),
}

impl Worker<'_> {
    /// Reads one opened directory and handles each entry; `path` is its relative path
    /// (with a trailing `/`, or empty for the root) and is restored before returning.
    fn read_directory(&mut self, directory: &OwnedFd, path: &mut Vec<u8>, state: State) {
        let mut buffer = self
            .buffers
            .pop()
            .unwrap_or_else(|| vec![MaybeUninit::uninit(); DIRENT_BUFFER_BYTES]);
        let mut entries = RawDir::new(directory.as_fd(), &mut buffer);
        let path_len = path.len();
        let at_top = path.is_empty();
        let parent_hash = self.directory_hash;
        if self.shared.walk.surface == SurfaceScope::Layers {
            self.directory_hash = (path_len, PathHash::EMPTY.then(path));
        }
        // Components of this directory's path: its entries have one more.
        #[allow(clippy::naive_bytecount)] // paths are short: no crate for this
        let depth = path.iter().filter(|&&byte| byte == b'/').count();
        while let Some(entry) = entries.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    self.problems.push(Problem::Unreadable {
                        path: to_path(path),
                        error,
                        matched: matches!(state, State::Covered(_)),
                    });
                    break;
                }
            };
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let mut file_type = entry.file_type();
            if file_type == FileType::Unknown {
                // Some filesystems do not report types in directory entries.
                file_type = match rustix::fs::statat(directory, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(stat) => FileType::from_raw_mode(stat.st_mode),
                    Err(_) => continue, // vanished meanwhile
                };
            }
            if at_top && self.skipped_at_top(name, file_type) {
                continue;
            }
            path.truncate(path_len);
            path.extend_from_slice(name.to_bytes());
            let in_surface = self.in_surface(depth + 1, file_type == FileType::Directory);
            match file_type {
                FileType::Directory => {
                    self.visit_directory(directory, name, path, state, in_surface);
                }
                FileType::RegularFile => {
                    self.visit_file(directory, name, path, state, in_surface);
                }
                // Symlinks are never followed nor changed; sockets, fifos and devices are
                // not the app's data. A layer's fingerprint counts them.
                _ => {
                    if in_surface {
                        self.add_to_fingerprint(path, file_type.as_raw_mode(), 0);
                    }
                }
            }
        }
        path.truncate(path_len);
        self.buffers.push(buffer);
        self.directory_hash = parent_hash;
    }

    /// Whether an entry with this many path components is part of the surface.
    fn in_surface(&self, components: usize, is_directory: bool) -> bool {
        match self.shared.walk.surface {
            SurfaceScope::App => true,
            SurfaceScope::Layers => components > 2 || (components == 2 && is_directory),
        }
    }

    /// The figures of the group `path` belongs to.
    fn figures(&mut self, path: &[u8]) -> &mut Figures {
        if self.shared.walk.surface == SurfaceScope::App {
            return &mut self.whole;
        }
        let key = match path
            .iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'/')
            .nth(1)
        {
            Some((end, _)) => &path[..end],
            None => path.strip_suffix(b"/").unwrap_or(path),
        };
        let pattern_count = self.whole.counts.len();
        if !self.layers.contains_key(key) {
            self.layers
                .insert(key.to_vec(), Figures::new(pattern_count));
        }
        self.layers.get_mut(key).unwrap_or(&mut self.whole)
    }

    /// An entry of the surface that no pattern names: counted when it is group- or
    /// other-writable, and, with `read_only`, made read-only for both. `stat` is its
    /// status when known already.
    fn surface_entry(
        &mut self,
        target: Target<'_>,
        path: &[u8],
        kind: Kind,
        stat: Option<rustix::fs::Stat>,
    ) {
        let stat = match stat {
            Some(stat) => stat,
            None => match &target {
                Target::Fd(directory) => match rustix::fs::fstat(directory) {
                    Ok(stat) => stat,
                    Err(_) => return, // counted nowhere: the directory vanished
                },
                Target::At(..) => return,
            },
        };
        let size = file_size(kind, &stat);
        self.add_to_fingerprint(path, stat.st_mode, size);
        let mode = stat.st_mode & 0o7777;
        if mode & GROUP_OR_OTHER_WRITE == 0 {
            return;
        }
        if self.shared.walk.read_only
            && let Some(new_mode) = read_only_mode(mode)
        {
            match target.chmod(new_mode, &stat) {
                Ok(()) => {
                    self.figures(path).surface.made_read_only += 1;
                    self.changed_in_fingerprint(path, stat.st_mode, new_mode, size);
                    self.report_change(path, kind, mode, new_mode);
                    return;
                }
                Err(Errno::NOENT) => return,
                Err(error) => self.problems.push(Problem::NotMadeReadOnly {
                    path: to_path(path),
                    error,
                }),
            }
        }
        if self.is_redirected(path) {
            self.figures(path).surface.redirected += 1;
            return;
        }
        let root = self.shared.walk.directory;
        self.figures(path)
            .surface
            .add_left(kind == Kind::Directory, mode, || {
                root.join(OsStr::from_bytes(path.strip_suffix(b"/").unwrap_or(path)))
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_owned()
            });
    }

    /// Whether `path` (relative, a directory's with or without its trailing `/`) is a
    /// redirected path or lies below one.
    fn is_redirected(&self, path: &[u8]) -> bool {
        let path = path.strip_suffix(b"/").unwrap_or(path);
        self.shared.walk.redirected.iter().any(|redirected| {
            path.strip_prefix(redirected.as_bytes())
                .is_some_and(|rest| rest.is_empty() || rest[0] == b'/')
        })
    }

    /// Adds an entry as the walk found it to its layer's fingerprint (the app has none).
    /// `path` is an entry of the directory being read, as are the next two's.
    fn add_to_fingerprint(&mut self, path: &[u8], st_mode: u32, size: u64) {
        if self.shared.walk.surface == SurfaceScope::Layers {
            let hash = self.path_hash(path);
            self.figures(path).fingerprint.add(hash, st_mode, size);
        }
    }

    /// Records in its layer's fingerprint that the walk changed an entry's permissions.
    fn changed_in_fingerprint(&mut self, path: &[u8], st_mode: u32, new_mode: u32, size: u64) {
        if self.shared.walk.surface == SurfaceScope::Layers {
            let hash = self.path_hash(path);
            self.figures(path)
                .fingerprint
                .changed(hash, st_mode, new_mode, size);
        }
    }

    /// The hash of the path of an entry of the directory being read: its name after the
    /// directory's hash.
    fn path_hash(&self, path: &[u8]) -> PathHash {
        let (length, directory) = self.directory_hash;
        match path.get(length..) {
            Some(name) => directory.then(name),
            None => PathHash::EMPTY.then(path),
        }
    }

    fn report_change(&self, path: &[u8], kind: Kind, old_mode: u32, new_mode: u32) {
        if let Some(on_change) = self.shared.on_change {
            on_change(&Change {
                path: Path::new(OsStr::from_bytes(path.strip_suffix(b"/").unwrap_or(path))),
                kind,
                old_mode,
                new_mode,
            });
        }
    }

    fn skipped_at_top(&self, name: &CStr, file_type: FileType) -> bool {
        let walk = self.shared.walk;
        (walk.directories_only_at_top && file_type != FileType::Directory)
            || walk
                .skip_top_level
                .iter()
                .any(|skip| skip.as_bytes() == name.to_bytes())
    }

    fn visit_file(
        &mut self,
        directory: &OwnedFd,
        name: &CStr,
        path: &[u8],
        state: State,
        in_surface: bool,
    ) {
        let pattern = match state {
            State::Covered(pattern) => Some(pattern),
            State::Searching => {
                match self
                    .shared
                    .walk
                    .matcher
                    .decide(Path::new(OsStr::from_bytes(path)), false)
                {
                    Decision::Matched(pattern) => Some(pattern),
                    Decision::Unmatched => None,
                }
            }
        };
        if pattern.is_none() && !in_surface {
            return;
        }
        let stat = match rustix::fs::statat(directory, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(Errno::NOENT) => return, // vanished meanwhile
            Err(error) => return self.failed(path, "stat", error),
        };
        // Checked again: the entry may have been replaced since the directory was read.
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return;
        }
        let Some(pattern) = pattern else {
            return self.surface_entry(Target::At(directory, name), path, Kind::File, Some(stat));
        };
        self.add_to_fingerprint(path, stat.st_mode, file_size(Kind::File, &stat));
        self.figures(path).counts[pattern].files += 1;
        let Some(new_mode) = group_writable_mode(Kind::File, stat.st_mode, true) else {
            return;
        };
        // Changed without following the name: a symlink swapped in meanwhile is skipped
        // (see `exact_chmod`).
        let result = match exact_chmod::chmod_file(directory.as_fd(), name, &stat, new_mode) {
            Ok(true) => Ok(()),
            Ok(false) => return, // replaced meanwhile: no longer this file
            Err(error) => Err(error),
        };
        self.record_change(result, path, Kind::File, &stat, new_mode, pattern);
    }

    fn visit_directory(
        &mut self,
        parent: &OwnedFd,
        name: &CStr,
        path: &mut Vec<u8>,
        state: State,
        in_surface: bool,
    ) {
        let state = match state {
            State::Covered(_) => state,
            State::Searching => {
                match self
                    .shared
                    .walk
                    .matcher
                    .decide(Path::new(OsStr::from_bytes(path)), true)
                {
                    Decision::Matched(pattern) => State::Covered(pattern),
                    // The layers' surface starts below the buildpacks' directories, so
                    // those are always entered.
                    Decision::Unmatched
                        if in_surface || self.shared.walk.surface == SurfaceScope::Layers =>
                    {
                        State::Searching
                    }
                    Decision::Unmatched => {
                        if !self.shared.walk.matcher.may_match_below(path) {
                            return;
                        }
                        State::Searching
                    }
                }
            }
        };
        let directory = match rustix::fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(directory) => directory,
            // Vanished, or replaced by a symlink or a file since it was listed.
            Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => return,
            Err(error) => {
                self.problems.push(Problem::Unreadable {
                    path: to_path(path),
                    error,
                    matched: matches!(state, State::Covered(_)),
                });
                return;
            }
        };
        match state {
            State::Covered(pattern) => self.change_directory(&directory, path, pattern),
            State::Searching if in_surface => {
                self.surface_entry(Target::Fd(&directory), path, Kind::Directory, None);
            }
            State::Searching => {}
        }
        path.push(b'/');
        if self.shared.wants_work() {
            self.shared.push(Task {
                directory,
                path: path.clone(),
                state,
            });
        } else {
            self.read_directory(&directory, path, state);
        }
        path.pop();
    }

    fn change_directory(&mut self, directory: &OwnedFd, path: &[u8], pattern: usize) {
        let stat = match rustix::fs::fstat(directory) {
            Ok(stat) => stat,
            Err(error) => return self.failed(path, "stat", error),
        };
        self.add_to_fingerprint(path, stat.st_mode, 0);
        self.figures(path).counts[pattern].directories += 1;
        let may_set_group_id = self.shared.user.groups.contains(&stat.st_gid);
        let Some(new_mode) = group_writable_mode(Kind::Directory, stat.st_mode, may_set_group_id)
        else {
            return;
        };
        let result = rustix::fs::fchmod(directory, Mode::from_raw_mode(new_mode));
        self.record_change(result, path, Kind::Directory, &stat, new_mode, pattern);
    }

    fn record_change(
        &mut self,
        result: rustix::io::Result<()>,
        path: &[u8],
        kind: Kind,
        stat: &rustix::fs::Stat,
        new_mode: u32,
        pattern: usize,
    ) {
        match result {
            Ok(()) => {
                self.figures(path).counts[pattern].changed += 1;
                self.changed_in_fingerprint(path, stat.st_mode, new_mode, file_size(kind, stat));
                self.report_change(path, kind, stat.st_mode & 0o7777, new_mode);
            }
            Err(Errno::PERM) if stat.st_uid != self.shared.user.uid => {
                self.problems.push(Problem::NotOwner {
                    path: to_path(path),
                    owner: stat.st_uid,
                    mode: stat.st_mode & 0o7777,
                });
            }
            Err(Errno::NOENT) => {} // vanished meanwhile
            Err(error) => self.failed(path, "chmod", error),
        }
    }

    fn failed(&mut self, path: &[u8], operation: &'static str, error: Errno) {
        self.problems.push(Problem::Failed {
            path: to_path(path),
            operation,
            error,
        });
    }
}

/// A regular file's size, for its fingerprint (a directory's depends on its history).
fn file_size(kind: Kind, stat: &rustix::fs::Stat) -> u64 {
    match kind {
        Kind::File => u64::try_from(stat.st_size).unwrap_or_default(),
        Kind::Directory => 0,
    }
}

fn to_path(relative: &[u8]) -> PathBuf {
    let trimmed = relative.strip_suffix(b"/").unwrap_or(relative);
    PathBuf::from(OsStr::from_bytes(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::patterns::{RootContext, parse_pattern_text};
    use std::fs;
    use std::os::unix::fs::{PermissionsExt as _, symlink};
    use std::sync::Mutex;

    /// A tree with explicit modes (umask 022's): `d/` directories, the rest files.
    fn tree(entries: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        for entry in entries {
            let path = dir.path().join(entry.trim_end_matches('/'));
            if entry.ends_with('/') {
                fs::create_dir_all(&path).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
            } else {
                fs::write(&path, "").unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
        dir
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn matcher(text: &str) -> (Matcher, usize) {
        let context = RootContext {
            app_dir: Path::new("/workspace"),
            layers_root: Path::new("/layers"),
            app_has_entry: &|_| false,
        };
        let list = parse_pattern_text(".group-writable", text, &context).unwrap();
        let matcher = crate::pass::patterns::matcher_for(&list.patterns, Root::App).unwrap();
        (matcher, list.patterns.len())
    }

    /// Walks `dir` with the patterns `text` on `threads` threads; the changed paths too.
    fn walk(dir: &Path, text: &str, threads: usize) -> (WalkOutcome, Vec<String>) {
        let (matcher, count) = matcher(text);
        let walk = RootWalk {
            root: Root::App,
            directory: dir,
            matcher: &matcher,
            skip_top_level: &[OsStr::new("skipped")],
            directories_only_at_top: false,
            surface: SurfaceScope::App,
            read_only: false,
            redirected: &[],
        };
        let changed = Mutex::new(Vec::new());
        let record = |change: &Change<'_>| {
            changed
                .lock()
                .unwrap()
                .push(change.path.display().to_string());
        };
        let outcome =
            walk_root(&walk, count, &BuildUser::current(), threads, Some(&record)).unwrap();
        let mut changed = changed.into_inner().unwrap();
        changed.sort();
        (outcome, changed)
    }

    #[test]
    fn a_matched_directory_covers_its_whole_subtree_and_nothing_else() {
        for threads in [1, 4] {
            let dir = tree(&["a/", "a/b/", "a/b/c", "a/d", "e/", "e/f", "g"]);
            let (outcome, changed) = walk(dir.path(), "/a/\n", threads);
            assert_eq!(changed, ["a", "a/b", "a/b/c", "a/d"], "{threads} threads");
            assert_eq!(
                outcome.counts,
                [PatternCounts {
                    directories: 2,
                    files: 2,
                    changed: 4
                }]
            );
            assert!(outcome.problems.is_empty());
            assert_eq!(mode(&dir.path().join("a/b/c")), 0o664);
            assert_eq!(mode(&dir.path().join("e/f")), 0o644);
            assert_eq!(mode(&dir.path().join("g")), 0o644);
            // Directories also get setgid (the build user's own group), so new files
            // inherit the shared group.
            assert_eq!(mode(&dir.path().join("a/b")) & 0o2775, 0o2775);
        }
    }

    #[test]
    fn each_entry_counts_for_the_last_pattern_that_matches_it() {
        let dir = tree(&["x.log", "y.log", "keep.log", "sub/", "sub/z.log"]);
        let (outcome, changed) = walk(dir.path(), "*.log\n!keep.log\nsub/\n", 2);
        assert_eq!(changed, ["sub", "sub/z.log", "x.log", "y.log"]);
        let files: Vec<u64> = outcome.counts.iter().map(|counts| counts.files).collect();
        assert_eq!(files, [2, 0, 1]);
        assert_eq!(outcome.counts[2].directories, 1);
        assert_eq!(mode(&dir.path().join("keep.log")), 0o644);
    }

    #[test]
    fn a_second_walk_changes_nothing() {
        let dir = tree(&["a/", "a/b"]);
        walk(dir.path(), "a/\n", 2);
        let (outcome, changed) = walk(dir.path(), "a/\n", 2);
        assert!(changed.is_empty());
        assert_eq!(outcome.counts[0].changed, 0);
        assert_eq!(outcome.counts[0].files, 1);
    }

    #[test]
    fn symlinks_are_neither_followed_nor_changed() {
        let outside = tree(&["secret/", "secret/file"]);
        let dir = tree(&["a/"]);
        symlink(outside.path().join("secret"), dir.path().join("a/to-dir")).unwrap();
        symlink(
            outside.path().join("secret/file"),
            dir.path().join("a/to-file"),
        )
        .unwrap();
        let (_, changed) = walk(dir.path(), "a/\n", 2);
        assert_eq!(changed, ["a"]);
        assert_eq!(mode(&outside.path().join("secret")), 0o755);
        assert_eq!(mode(&outside.path().join("secret/file")), 0o644);
    }

    #[test]
    fn skipped_top_level_names_are_never_entered() {
        let dir = tree(&["skipped/", "skipped/x.log", "kept/", "kept/x.log"]);
        let (_, changed) = walk(dir.path(), "*.log\n", 2);
        assert_eq!(changed, ["kept/x.log"]);
    }

    #[test]
    fn deep_and_wide_trees_give_the_same_counts_on_any_number_of_threads() {
        let mut entries = Vec::new();
        for top in 0..20 {
            let mut path = format!("t{top}/");
            for depth in 0..12 {
                entries.push(path.clone());
                entries.push(format!("{path}f{depth}.log"));
                entries.push(format!("{path}g{depth}"));
                path = format!("{path}d{depth}/");
            }
        }
        let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
        let mut results = Vec::new();
        for threads in [1, 2, 8] {
            let dir = tree(&refs);
            let (outcome, changed) = walk(dir.path(), "*.log\n", threads);
            results.push((outcome.counts, changed.len()));
        }
        assert_eq!(results[0].0[0].files, 240);
        assert!(
            results.iter().all(|result| *result == results[0]),
            "{results:?}"
        );
    }

    /// Walks `dir` as the app with `read_only`; the outcome and the changed paths.
    fn walk_surface(dir: &Path, text: &str, read_only: bool) -> (WalkOutcome, Vec<String>) {
        walk_redirected_surface(dir, text, read_only, &[])
    }

    /// The same, with the paths a redirect replaces.
    fn walk_redirected_surface(
        dir: &Path,
        text: &str,
        read_only: bool,
        redirected: &[&str],
    ) -> (WalkOutcome, Vec<String>) {
        let (matcher, count) = matcher(text);
        let walk = RootWalk {
            root: Root::App,
            directory: dir,
            matcher: &matcher,
            skip_top_level: &[],
            directories_only_at_top: false,
            surface: SurfaceScope::App,
            read_only,
            redirected,
        };
        let changed = Mutex::new(Vec::new());
        let record = |change: &Change<'_>| {
            changed.lock().unwrap().push(format!(
                "{} {:04o}",
                change.path.display(),
                change.new_mode
            ));
        };
        let outcome = walk_root(&walk, count, &BuildUser::current(), 2, Some(&record)).unwrap();
        let mut changed = changed.into_inner().unwrap();
        changed.sort();
        (outcome, changed)
    }

    #[test]
    fn the_surface_counts_what_no_pattern_names_the_root_included() {
        let dir = tree(&[
            "log/",
            "log/a",
            "src/",
            "src/b",
            "src/c",
            "deep/",
            "deep/er/",
            "deep/er/d",
        ]);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        fs::set_permissions(dir.path().join("src/b"), fs::Permissions::from_mode(0o664)).unwrap();
        fs::set_permissions(
            dir.path().join("deep/er/d"),
            fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        let (outcome, changed) = walk_surface(dir.path(), "/log/\n", false);
        assert_eq!(changed, ["log 2775", "log/a 0664"]);
        let surface = &outcome.surface;
        assert_eq!((surface.directories, surface.files), (1, 2), "{surface:?}");
        assert_eq!(surface.world_writable, 2);
        let root = dir.path().display().to_string();
        assert_eq!(
            surface.world_writable_paths,
            [root.clone(), format!("{root}/deep/er/d")]
        );
        assert_eq!(surface.made_read_only, 0);
        // The control: the same tree, nothing writable, nothing counted.
        let quiet = tree(&["log/", "log/a", "src/", "src/b"]);
        let (outcome, _) = walk_surface(quiet.path(), "/log/\n", false);
        assert!(outcome.surface.is_empty(), "{:?}", outcome.surface);
    }

    #[test]
    fn writable_entries_under_a_redirected_path_are_counted_as_redirected() {
        let dir = tree(&[
            "log/",
            "log/production.log",
            "tmp/",
            "tmp/cache/",
            "tmp/cache/a",
            "tmp-not/",
            "src/",
            "src/b",
        ]);
        for entry in ["log", "tmp/cache", "tmp-not", "src"] {
            fs::set_permissions(dir.path().join(entry), fs::Permissions::from_mode(0o775)).unwrap();
        }
        for entry in ["log/production.log", "tmp/cache/a", "src/b"] {
            fs::set_permissions(dir.path().join(entry), fs::Permissions::from_mode(0o666)).unwrap();
        }
        let (outcome, _) =
            walk_redirected_surface(dir.path(), "/public/\n", false, &["log", "tmp"]);
        let surface = &outcome.surface;
        // log, log/production.log, tmp/cache, tmp/cache/a; not tmp-not (a sibling whose
        // name only starts with tmp).
        assert_eq!(surface.redirected, 4, "{surface:?}");
        assert_eq!((surface.directories, surface.files), (2, 1), "{surface:?}");
        let root = dir.path().display().to_string();
        assert_eq!(surface.world_writable_paths, [format!("{root}/src/b")]);
        // The control: without the redirects, the same entries are left writable.
        let (outcome, _) = walk_surface(dir.path(), "/public/\n", false);
        let surface = &outcome.surface;
        assert_eq!(surface.redirected, 0);
        assert_eq!((surface.directories, surface.files), (4, 3), "{surface:?}");
        // With the read-only setting they lose the bits like any other entry: the seed
        // keeps what the walk left.
        let (outcome, _) = walk_redirected_surface(dir.path(), "/public/\n", true, &["log"]);
        assert_eq!(outcome.surface.made_read_only, 7);
        assert_eq!(outcome.surface.redirected, 0);
    }

    #[test]
    fn read_only_removes_group_and_other_write_from_what_no_pattern_names() {
        let dir = tree(&["log/", "log/a", "src/", "src/b", "src/c"]);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        fs::set_permissions(dir.path().join("src"), fs::Permissions::from_mode(0o2775)).unwrap();
        fs::set_permissions(dir.path().join("src/b"), fs::Permissions::from_mode(0o666)).unwrap();
        let (outcome, changed) = walk_surface(dir.path(), "/log/\n", true);
        assert_eq!(
            changed,
            [" 0755", "log 2775", "log/a 0664", "src 2755", "src/b 0644"]
        );
        assert_eq!(outcome.surface.made_read_only, 3);
        assert!(outcome.surface.is_empty());
        assert_eq!(mode(dir.path()), 0o755);
        assert_eq!(mode(&dir.path().join("src/c")), 0o644);
        assert_eq!(
            mode(&dir.path().join("log/a")),
            0o664,
            "named paths keep their bits"
        );
        // A second walk changes nothing: no chmod when nothing changes.
        let (outcome, changed) = walk_surface(dir.path(), "/log/\n", true);
        assert!(changed.is_empty(), "{changed:?}");
        assert_eq!(outcome.surface.made_read_only, 0);
    }

    #[test]
    fn layers_figures_are_grouped_by_layer_and_skip_the_buildpack_level() {
        let dir = tree(&[
            "bp/",
            "bp/one/",
            "bp/one/x",
            "bp/two/",
            "bp/two/y",
            "bp/one.toml",
        ]);
        for (path, mode) in [("bp", 0o777), ("bp/one.toml", 0o666), ("bp/two/y", 0o666)] {
            fs::set_permissions(dir.path().join(path), fs::Permissions::from_mode(mode)).unwrap();
        }
        let context = RootContext {
            app_dir: Path::new("/workspace"),
            layers_root: Path::new("/layers"),
            app_has_entry: &|_| false,
        };
        let list = parse_pattern_text(".group-writable", "/layers/bp/one/\n", &context).unwrap();
        let matcher = crate::pass::patterns::matcher_for(&list.patterns, Root::Layers).unwrap();
        let walk = RootWalk {
            root: Root::Layers,
            directory: dir.path(),
            matcher: &matcher,
            skip_top_level: &[],
            directories_only_at_top: true,
            surface: SurfaceScope::Layers,
            read_only: false,
            redirected: &[],
        };
        let outcome = walk_root(&walk, 1, &BuildUser::current(), 2, None).unwrap();
        let layers: Vec<&str> = outcome.layers.keys().map(String::as_str).collect();
        assert_eq!(layers, ["bp/one", "bp/two"]);
        assert_eq!(outcome.layers["bp/one"].counts[0].files, 1);
        assert_eq!(outcome.layers["bp/two"].surface.files, 1);
        // Neither the buildpack's directory nor its toml files are part of the surface.
        assert_eq!((outcome.surface.directories, outcome.surface.files), (0, 1));
    }

    #[test]
    fn an_unreadable_root_is_an_error() {
        let (matcher, _) = matcher("a\n");
        let walk = RootWalk {
            root: Root::App,
            directory: Path::new("/nonexistent/group-writable-walk-test"),
            matcher: &matcher,
            skip_top_level: &[],
            directories_only_at_top: false,
            surface: SurfaceScope::App,
            read_only: false,
            redirected: &[],
        };
        assert_eq!(
            walk_root(&walk, 1, &BuildUser::current(), 2, None).err(),
            Some(Errno::NOENT)
        );
    }

    /// The last window: a matched file swapped for a symlink between its `stat` and its
    /// `chmod` must not make the change land on the link's target.
    #[test]
    fn race_a_file_swapped_for_a_symlink_never_changes_its_target() {
        let _one_way = exact_chmod::ONE_WAY_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for fchmodat2 in [true, false] {
            exact_chmod::use_fchmodat2(fchmodat2);
            race_once();
            assert_eq!(exact_chmod::fchmodat2_in_use(), fchmodat2);
            eprintln!(
                "the walk's race above changed modes through {}",
                if fchmodat2 {
                    "fchmodat2(AT_SYMLINK_NOFOLLOW)"
                } else {
                    "O_PATH and /proc/self/fd (no fchmodat2)"
                }
            );
        }
        exact_chmod::use_fchmodat2(true);
    }

    fn race_once() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret");
        fs::write(&secret, "").unwrap();
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
        let dir = tree(&["a/"]);
        let raced = dir.path().join("a");
        let result = exact_chmod::race::outside_untouched(
            &raced,
            &secret,
            16,
            exact_chmod::race::rounds(3000),
            &|| {
                walk(dir.path(), "a/\n", 1);
            },
        );
        assert_eq!(result, Ok(()));
    }
}
