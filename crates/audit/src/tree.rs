//! The image's file system as the run user sees it: the layers' entries applied in order,
//! with whiteouts and opaque directories, as a container runtime's overlay shows them.
//!
//! Only metadata is kept (kind, mode, owner, a symlink's target), plus the content of the
//! few files the audit reads ([`CAPTURED`]), so memory grows with the number of entries,
//! never with the size of the image. Pure: entries in, tree out.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

/// Files whose content the audit keeps: the user and group databases that resolve the
/// image's `User`.
pub const CAPTURED: &[&str] = &["etc/passwd", "etc/group"];

/// What an entry of a layer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    File,
    Symlink {
        target: String,
    },
    /// A FIFO: writable like a file, but holds no content.
    Fifo,
    /// A hard link to `target` (a path of the image): it is the target's inode, so it has
    /// the target's kind, mode and owner, not those of its own header.
    HardLink {
        target: String,
    },
}

/// One member of a layer, its name already checked and normalized by the reader
/// (relative to the root, `/`-separated, no `.` or `..` components; `""` is the root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits with setuid, setgid and sticky (`0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The file's content, for the [`CAPTURED`] paths only.
    pub content: Option<Vec<u8>>,
}

/// What a path of the final tree is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Directory,
    File,
    Symlink { target: String },
    Fifo,
}

/// A path of the final tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub content: Option<Vec<u8>>,
}

impl Node {
    /// A directory a layer implies but does not list (the parent of one of its entries),
    /// created as container runtimes create it: `0755`, owned by root.
    fn implied_directory() -> Node {
        Node {
            kind: NodeKind::Directory,
            mode: 0o755,
            uid: 0,
            gid: 0,
            content: None,
        }
    }

    #[must_use]
    pub fn is_dir(&self) -> bool {
        self.kind == NodeKind::Directory
    }
}

/// Why an entry cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// A hard link whose target no earlier entry or layer has.
    HardLinkTargetMissing { target: String },
    /// A hard link to a directory, which no file system allows.
    HardLinkToDirectory { target: String },
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::HardLinkTargetMissing { target } => write!(
                f,
                "is a hard link to /{target}, which neither an earlier entry of this layer nor an earlier layer has"
            ),
            TreeError::HardLinkToDirectory { target } => {
                write!(f, "is a hard link to /{target}, which is a directory")
            }
        }
    }
}

/// The merged file system: every path (relative, `""` is the root) and what it is.
/// Sorted, so a directory comes right before its subtree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Default for Tree {
    fn default() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(String::new(), Node::implied_directory());
        Tree { nodes }
    }
}

/// The prefix of the whiteout files (`.wh.<name>` hides `<name>` of the lower layers).
const WHITEOUT_PREFIX: &str = ".wh.";
/// An opaque directory's marker: the directory hides every entry of the lower layers in it.
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What an entry of a layer does to the lower layers.
enum Change<'e> {
    /// Hides the path and its subtree.
    Whiteout(String),
    /// Hides what the lower layers have in this directory.
    Opaque(&'e str),
    /// aufs bookkeeping (`.wh..wh.plnk`, ...): nothing for the merged tree.
    Ignored,
    Add(&'e Entry),
}

fn change(entry: &Entry) -> Change<'_> {
    let (parent, name) = split(&entry.path);
    if name == OPAQUE_MARKER {
        Change::Opaque(parent)
    } else if entry
        .path
        .split('/')
        .any(|component| component.starts_with(".wh..wh."))
    {
        Change::Ignored
    } else if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
        Change::Whiteout(join(parent, hidden))
    } else {
        Change::Add(entry)
    }
}

/// Splits `a/b/c` into `a/b` and `c`, and `c` into the root (empty) and `c`.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

impl Tree {
    /// Applies one layer. Whiteouts and opaque markers hide only what the lower layers
    /// have (the OCI image spec: an entry of the same layer is never hidden by them), so
    /// they are applied first, then the entries in archive order (a later entry for the
    /// same path wins).
    pub fn apply_layer(&mut self, entries: &[Entry]) -> Result<(), (usize, TreeError)> {
        for entry in entries {
            match change(entry) {
                Change::Whiteout(path) => self.remove_subtree(&path, true),
                Change::Opaque(directory) => self.remove_subtree(directory, false),
                Change::Ignored | Change::Add(_) => {}
            }
        }
        for (index, entry) in entries.iter().enumerate() {
            if let Change::Add(entry) = change(entry) {
                self.add(entry).map_err(|error| (index, error))?;
            }
        }
        Ok(())
    }

    fn add(&mut self, entry: &Entry) -> Result<(), TreeError> {
        let node = match &entry.kind {
            EntryKind::HardLink { target } => {
                let linked =
                    self.nodes
                        .get(target)
                        .ok_or_else(|| TreeError::HardLinkTargetMissing {
                            target: target.clone(),
                        })?;
                if linked.is_dir() {
                    return Err(TreeError::HardLinkToDirectory {
                        target: target.clone(),
                    });
                }
                linked.clone()
            }
            kind => Node {
                kind: match kind {
                    EntryKind::Directory => NodeKind::Directory,
                    EntryKind::File | EntryKind::HardLink { .. } => NodeKind::File,
                    EntryKind::Symlink { target } => NodeKind::Symlink {
                        target: target.clone(),
                    },
                    EntryKind::Fifo => NodeKind::Fifo,
                },
                mode: entry.mode & 0o7777,
                uid: entry.uid,
                gid: entry.gid,
                content: entry.content.clone(),
            },
        };
        if entry.path.is_empty() {
            // The root's own metadata (a `./` member); it stays a directory.
            if node.is_dir() {
                self.nodes.insert(String::new(), node);
            }
            return Ok(());
        }
        self.ensure_parents(&entry.path);
        match self.nodes.get(&entry.path) {
            // A directory over a directory keeps what is in it.
            Some(existing) if existing.is_dir() && node.is_dir() => {}
            Some(existing) if existing.is_dir() => self.remove_subtree(&entry.path, true),
            _ => {}
        }
        self.nodes.insert(entry.path.clone(), node);
        Ok(())
    }

    /// Makes every ancestor of `path` a directory: a missing one is implied, and a
    /// non-directory one is hidden by it (an overlay's upper directory hides a lower file
    /// or symlink of the same name; the entry never lands behind a symlink).
    fn ensure_parents(&mut self, path: &str) {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            let ancestor = &path[..end + slash];
            match self.nodes.get(ancestor) {
                Some(node) if node.is_dir() => {}
                _ => {
                    self.nodes
                        .insert(ancestor.to_owned(), Node::implied_directory());
                }
            }
            end += slash + 1;
        }
    }

    /// Removes what is below `path`, and `path` itself when `itself` (never the root).
    fn remove_subtree(&mut self, path: &str, itself: bool) {
        if itself && !path.is_empty() {
            self.nodes.remove(path);
        }
        let below: Vec<String> = self
            .nodes
            .range(subtree_range(path))
            .map(|(key, _)| key.clone())
            .collect();
        for key in below {
            self.nodes.remove(&key);
        }
    }

    #[must_use]
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Every path, parents before children.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(path, node)| (path.as_str(), node))
    }

    /// The paths strictly below `path`.
    pub fn below<'t>(&'t self, path: &str) -> impl Iterator<Item = (&'t str, &'t Node)> {
        self.nodes
            .range(subtree_range(path))
            .map(|(path, node)| (path.as_str(), node))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// The keys strictly below `path` in the sorted map: from `path/` up to `path0` (`0` is
/// the byte after `/`). Below the root: every key but the root itself.
fn subtree_range(path: &str) -> (Bound<String>, Bound<String>) {
    if path.is_empty() {
        (Bound::Excluded(String::new()), Bound::Unbounded)
    } else {
        (
            Bound::Included(format!("{path}/")),
            Bound::Excluded(format!("{path}0")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(path: &str) -> Entry {
        Entry {
            path: path.to_owned(),
            kind: EntryKind::Directory,
            mode: 0o755,
            uid: 0,
            gid: 0,
            content: None,
        }
    }

    fn file(path: &str, mode: u32) -> Entry {
        Entry {
            path: path.to_owned(),
            kind: EntryKind::File,
            mode,
            uid: 1001,
            gid: 1000,
            content: None,
        }
    }

    fn link(path: &str, target: &str) -> Entry {
        Entry {
            path: path.to_owned(),
            kind: EntryKind::HardLink {
                target: target.to_owned(),
            },
            mode: 0o777,
            uid: 7,
            gid: 7,
            content: None,
        }
    }

    fn paths(tree: &Tree) -> Vec<&str> {
        tree.iter().map(|(path, _)| path).collect()
    }

    fn applied(layers: &[Vec<Entry>]) -> Tree {
        let mut tree = Tree::default();
        for layer in layers {
            tree.apply_layer(layer).unwrap();
        }
        tree
    }

    #[test]
    fn whiteouts_hide_a_lower_path_and_its_subtree() {
        let tree = applied(&[
            vec![
                dir("a"),
                dir("a/b"),
                file("a/b/c", 0o644),
                file("a/d", 0o644),
                file("a/b-c", 0o644),
            ],
            vec![file("a/.wh.b", 0o644)],
        ]);
        assert_eq!(paths(&tree), ["", "a", "a/b-c", "a/d"]);
    }

    #[test]
    fn a_whiteout_never_hides_its_own_layer() {
        // The same layer hides the lower a/x and adds a new one.
        let tree = applied(&[
            vec![dir("a"), file("a/x", 0o600)],
            vec![file("a/x", 0o666), file("a/.wh.x", 0o644)],
        ]);
        assert_eq!(tree.get("a/x").unwrap().mode, 0o666);
        // A whiteout of nothing is harmless.
        let tree = applied(&[vec![dir("a")], vec![file("a/.wh.missing", 0o644)]]);
        assert_eq!(paths(&tree), ["", "a"]);
    }

    #[test]
    fn an_opaque_directory_hides_the_lower_contents_only() {
        let tree = applied(&[
            vec![
                dir("a"),
                file("a/old", 0o644),
                dir("a/sub"),
                file("a/sub/deep", 0o644),
                file("b", 0o644),
            ],
            vec![
                dir("a"),
                file("a/new", 0o644),
                file("a/.wh..wh..opq", 0o644),
            ],
        ]);
        assert_eq!(paths(&tree), ["", "a", "a/new", "b"]);
        // aufs bookkeeping entries are no paths.
        let tree = applied(&[vec![dir(".wh..wh.plnk"), file(".wh..wh.plnk/1.2", 0o644)]]);
        assert_eq!(paths(&tree), [""]);
    }

    #[test]
    fn a_directory_over_a_directory_keeps_its_contents_and_takes_the_new_mode() {
        let mut upper = dir("a");
        upper.mode = 0o777;
        let tree = applied(&[vec![dir("a"), file("a/x", 0o644)], vec![upper]]);
        assert_eq!(paths(&tree), ["", "a", "a/x"]);
        assert_eq!(tree.get("a").unwrap().mode, 0o777);
    }

    #[test]
    fn a_file_over_a_directory_replaces_the_subtree() {
        let tree = applied(&[vec![dir("a"), file("a/x", 0o644)], vec![file("a", 0o600)]]);
        assert_eq!(paths(&tree), ["", "a"]);
        assert!(!tree.get("a").unwrap().is_dir());
    }

    #[test]
    fn parents_are_implied_and_hide_a_lower_file_or_symlink() {
        let symlink = Entry {
            kind: EntryKind::Symlink {
                target: "/etc".to_owned(),
            },
            ..file("s", 0o777)
        };
        let tree = applied(&[
            vec![symlink],
            vec![file("s/x", 0o644), file("p/q/r", 0o644)],
        ]);
        assert_eq!(paths(&tree), ["", "p", "p/q", "p/q/r", "s", "s/x"]);
        let implied = tree.get("s").unwrap();
        assert_eq!(
            (implied.is_dir(), implied.mode, implied.uid),
            (true, 0o755, 0)
        );
    }

    #[test]
    fn hard_links_share_the_target_s_metadata_across_layers() {
        let tree = applied(&[
            vec![dir("a"), file("a/x", 0o664)],
            vec![link("b", "a/x"), link("c", "b")],
        ]);
        for path in ["b", "c"] {
            let node = tree.get(path).unwrap();
            assert_eq!(
                (node.mode, node.uid, node.gid),
                (0o664, 1001, 1000),
                "{path}"
            );
        }
        let mut tree = Tree::default();
        assert_eq!(
            tree.apply_layer(&[dir("d"), link("l", "missing")]),
            Err((
                1,
                TreeError::HardLinkTargetMissing {
                    target: "missing".into()
                }
            ))
        );
        assert_eq!(
            tree.apply_layer(&[link("l", "d")]),
            Err((0, TreeError::HardLinkToDirectory { target: "d".into() }))
        );
    }

    #[test]
    fn the_root_entry_sets_the_root_s_metadata() {
        let mut root = dir("");
        root.mode = 0o1777;
        let tree = applied(&[vec![root]]);
        assert_eq!(tree.get("").unwrap().mode, 0o1777);
    }
}
