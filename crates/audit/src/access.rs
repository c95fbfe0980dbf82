//! Which paths of a tree a user can write, by the POSIX rules a kernel applies. Pure.
//!
//! - The permission class is the first that applies: owner, then group (the primary
//!   group or a supplementary one), then other. The owner class wins even when it has
//!   fewer bits (a `0077` file is not writable for its owner through the mode).
//! - A file's content is writable with `w`; a directory's entries (create, delete,
//!   rename) with `w` and `x`. In a sticky directory (`+t`) a user may still create
//!   entries, but delete or rename only the ones it owns.
//! - A path is only reachable with search permission (`x`) on every directory above it,
//!   so a writable path under a directory the user cannot search is not reported (the
//!   kernel refuses every write there).
//! - The owner of a file can always `chmod` it: a path the user owns is writable even
//!   when its mode says no (and a directory it owns is searchable), reported as such.
//! - Symlinks are never followed and never writable themselves (their permission bits
//!   mean nothing); replacing one is a write of the directory that holds it.
//! - uid 0 (without a user namespace) can write everything; the caller says so instead of
//!   listing every path.

use crate::tree::{Node, NodeKind, Tree};
use std::collections::{BTreeSet, HashMap};

/// Who writes: a uid, its primary gid and its supplementary groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub groups: BTreeSet<u32>,
}

impl User {
    #[must_use]
    pub fn new(uid: u32, gid: u32, supplementary: impl IntoIterator<Item = u32>) -> User {
        let mut groups: BTreeSet<u32> = supplementary.into_iter().collect();
        groups.insert(gid);
        User { uid, gid, groups }
    }

    #[must_use]
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    /// The `rwx` bits of `node` that apply to this user.
    fn class_bits(&self, node: &Node) -> u32 {
        if node.uid == self.uid {
            (node.mode >> 6) & 0o7
        } else if self.groups.contains(&node.gid) {
            (node.mode >> 3) & 0o7
        } else {
            node.mode & 0o7
        }
    }

    fn owns(&self, node: &Node) -> bool {
        node.uid == self.uid
    }

    /// Whether the user may search (enter) the directory `node`.
    fn may_search(&self, node: &Node) -> bool {
        self.class_bits(node) & 0o1 != 0 || self.owns(node)
    }
}

const W: u32 = 0o2;
const X: u32 = 0o1;
const STICKY: u32 = 0o1000;

/// How the user can write a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Through {
    /// Its mode gives the user's class `w` (and `x` on a directory).
    Mode,
    /// The user owns it, so it can `chmod` it first.
    Ownership,
}

/// A path the user can write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Writable<'t> {
    /// Relative to the root (`""` is the root).
    pub path: &'t str,
    pub node: &'t Node,
    pub through: Through,
}

impl Writable<'_> {
    #[must_use]
    pub fn is_dir(&self) -> bool {
        self.node.is_dir()
    }

    /// A sticky directory: the user may create entries, and delete only its own.
    #[must_use]
    pub fn is_sticky(&self) -> bool {
        self.is_dir() && self.node.mode & STICKY != 0
    }

    /// Writable by every user: `o+w` (on a directory, with `o+x`).
    #[must_use]
    pub fn is_world_writable(&self) -> bool {
        let other = self.node.mode & 0o7;
        if self.is_dir() {
            other & (W | X) == W | X
        } else {
            other & W != 0
        }
    }
}

/// Every path of `tree` that `user` can write, parents before children. For uid 0 this
/// is every file and directory (the caller reports that instead of the list).
#[must_use]
pub fn writable_paths<'t>(tree: &'t Tree, user: &User) -> Vec<Writable<'t>> {
    // Whether each directory can be reached and searched (the root always can be
    // reached). Parents come before children in the tree's order.
    let mut searchable: HashMap<&'t str, bool> = HashMap::new();
    let mut writable = Vec::new();
    for (path, node) in tree.iter() {
        let reachable = if path.is_empty() {
            true
        } else {
            let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
            searchable.get(parent).copied().unwrap_or(false)
        };
        if node.is_dir() {
            searchable.insert(path, reachable && (user.is_root() || user.may_search(node)));
        }
        if !reachable {
            continue;
        }
        if let Some(through) = write_access(user, node) {
            writable.push(Writable {
                path,
                node,
                through,
            });
        }
    }
    writable
}

/// Whether `user` can write `node` itself (its ancestors aside).
fn write_access(user: &User, node: &Node) -> Option<Through> {
    let needed = match node.kind {
        NodeKind::Symlink { .. } => return None,
        NodeKind::Directory => W | X,
        NodeKind::File | NodeKind::Fifo => W,
    };
    if user.is_root() || user.class_bits(node) & needed == needed {
        Some(Through::Mode)
    } else if user.owns(node) {
        Some(Through::Ownership)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Entry, EntryKind};

    fn entry(path: &str, kind: EntryKind, mode: u32, uid: u32, gid: u32) -> Entry {
        Entry {
            path: path.to_owned(),
            kind,
            mode,
            uid,
            gid,
            content: None,
        }
    }

    fn dir(path: &str, mode: u32, uid: u32, gid: u32) -> Entry {
        entry(path, EntryKind::Directory, mode, uid, gid)
    }

    fn file(path: &str, mode: u32, uid: u32, gid: u32) -> Entry {
        entry(path, EntryKind::File, mode, uid, gid)
    }

    fn writable(entries: &[Entry], user: &User) -> Vec<(String, Through)> {
        let mut tree = Tree::default();
        tree.apply_layer(entries).unwrap();
        writable_paths(&tree, user)
            .into_iter()
            .map(|w| (w.path.to_owned(), w.through))
            .collect()
    }

    const RUN: u32 = 1002;
    const BUILD: u32 = 1001;
    const SHARED: u32 = 1000;

    fn run_user() -> User {
        User::new(RUN, SHARED, [])
    }

    fn paths(list: &[(String, Through)]) -> Vec<&str> {
        list.iter().map(|(path, _)| path.as_str()).collect()
    }

    #[test]
    fn group_bits_apply_to_members_of_the_group() {
        let entries = [
            dir("workspace", 0o755, BUILD, SHARED),
            file("workspace/group-writable", 0o664, BUILD, SHARED),
            file("workspace/read-only", 0o644, BUILD, SHARED),
            file("workspace/other-group", 0o664, BUILD, 4242),
        ];
        assert_eq!(
            paths(&writable(&entries, &run_user())),
            ["workspace/group-writable"]
        );
        // A supplementary group counts as much as the primary one.
        let supplementary = User::new(RUN, RUN, [SHARED]);
        assert_eq!(
            paths(&writable(&entries, &supplementary)),
            ["workspace/group-writable"]
        );
    }

    #[test]
    fn the_owner_class_wins_even_with_fewer_bits() {
        // The owner's class has no w, group and other do: the owner cannot write through
        // the mode, but can chmod what it owns.
        let entries = [
            dir("d", 0o777, 0, 0),
            file("d/mine", 0o466, RUN, SHARED),
            file("d/theirs", 0o466, BUILD, SHARED),
        ];
        let list = writable(&entries, &run_user());
        assert_eq!(
            list,
            [
                ("d".to_owned(), Through::Mode),
                ("d/mine".to_owned(), Through::Ownership),
                ("d/theirs".to_owned(), Through::Mode),
            ]
        );
        // The group class wins over other in the same way.
        let entries = [dir("d", 0o755, 0, 0), file("d/f", 0o602, BUILD, SHARED)];
        assert!(writable(&entries, &run_user()).is_empty());
    }

    #[test]
    fn a_directory_needs_write_and_search() {
        let entries = [
            dir("w-only", 0o722, BUILD, SHARED),
            dir("wx", 0o773, BUILD, SHARED),
        ];
        assert_eq!(paths(&writable(&entries, &run_user())), ["wx"]);
    }

    #[test]
    fn paths_below_an_unsearchable_directory_are_unreachable() {
        let entries = [
            dir("locked", 0o700, BUILD, SHARED),
            file("locked/open", 0o666, BUILD, SHARED),
            dir("listable", 0o744, BUILD, SHARED),
            file("listable/open", 0o666, BUILD, SHARED),
            dir("searchable", 0o711, BUILD, SHARED),
            file("searchable/open", 0o666, BUILD, SHARED),
        ];
        assert_eq!(paths(&writable(&entries, &run_user())), ["searchable/open"]);
        // An owned directory is searchable: its owner can chmod it.
        let entries = [
            dir("mine", 0o000, RUN, SHARED),
            file("mine/open", 0o666, BUILD, SHARED),
        ];
        assert_eq!(
            writable(&entries, &run_user()),
            [
                ("mine".to_owned(), Through::Ownership),
                ("mine/open".to_owned(), Through::Mode)
            ]
        );
    }

    #[test]
    fn symlinks_are_never_writable_nor_followed() {
        let entries = [
            dir("d", 0o755, 0, 0),
            dir("open", 0o777, 0, 0),
            entry(
                "d/link",
                EntryKind::Symlink {
                    target: "/open".to_owned(),
                },
                0o777,
                RUN,
                RUN,
            ),
        ];
        assert_eq!(paths(&writable(&entries, &run_user())), ["open"]);
    }

    #[test]
    fn sticky_and_world_writable_directories() {
        let mut tree = Tree::default();
        tree.apply_layer(&[
            dir("tmp", 0o1777, 0, 0),
            dir("open", 0o777, 0, 0),
            file("open/f", 0o666, 0, 0),
            file("g", 0o664, 0, SHARED),
        ])
        .unwrap();
        let list = writable_paths(&tree, &run_user());
        let flags: Vec<(&str, bool, bool)> = list
            .iter()
            .map(|w| (w.path, w.is_sticky(), w.is_world_writable()))
            .collect();
        assert_eq!(
            flags,
            [
                ("g", false, false),
                ("open", false, true),
                ("open/f", false, true),
                ("tmp", true, true),
            ]
        );
    }

    #[test]
    fn root_writes_everything_but_symlinks() {
        let entries = [
            dir("d", 0o500, BUILD, BUILD),
            file("d/f", 0o400, BUILD, BUILD),
            entry(
                "l",
                EntryKind::Symlink {
                    target: "d".to_owned(),
                },
                0o777,
                0,
                0,
            ),
        ];
        assert_eq!(
            paths(&writable(&entries, &User::new(0, 0, []))),
            ["", "d", "d/f"]
        );
    }

    #[test]
    fn a_random_uid_in_group_zero_writes_through_the_group_only() {
        let random = User::new(1_000_650_000, 0, []);
        let entries = [
            dir("workspace", 0o775, BUILD, 0),
            file("workspace/f", 0o664, BUILD, 0),
            file("workspace/g", 0o664, BUILD, SHARED),
        ];
        assert_eq!(
            paths(&writable(&entries, &random)),
            ["workspace", "workspace/f"]
        );
    }
}
