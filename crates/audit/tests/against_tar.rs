//! Property: applying random layers the way the audit does gives the same file system as
//! extracting them one after another with GNU tar (as root, keeping modes and owners)
//! and walking the result, where whiteouts and opaque markers are applied to what the
//! lower layers left before each extraction (the one thing tar does not do).

// Test code: a failure is a panic, helpers included.
#![allow(unused_crate_dependencies, clippy::unwrap_used)]

mod support;

use group_writable_audit::tree::{NodeKind, Tree};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use support::{Member, tar_bytes};

const DIRS: &[&str] = &["a", "a/b", "c"];
const FILES: &[&str] = &["f", "a/f", "a/b/f", "a/b/g", "c/f"];

#[derive(Clone, Debug)]
enum Op {
    Dir(usize, u32, u64, u64),
    File(usize, u32, u64, u64),
    Symlink(usize, usize),
    HardLink(usize, usize),
    Whiteout(usize),
    Opaque(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let id = 0u64..3;
    prop_oneof![
        (0..DIRS.len(), 0u32..0o7777, id.clone(), id.clone()).prop_map(|(i, m, u, g)| Op::Dir(
            i,
            m,
            u * 1000,
            g * 1000
        )),
        (0..FILES.len(), 0u32..0o7777, id.clone(), id).prop_map(|(i, m, u, g)| Op::File(
            i,
            m,
            u * 1000,
            g * 1000
        )),
        (0..FILES.len(), 0..FILES.len()).prop_map(|(i, t)| Op::Symlink(i, t)),
        (0..FILES.len(), 0..FILES.len()).prop_map(|(i, t)| Op::HardLink(i, t)),
        (0..DIRS.len() + FILES.len()).prop_map(Op::Whiteout),
        (0..DIRS.len()).prop_map(Op::Opaque),
    ]
}

fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(parent, _)| parent)
}

/// The members of one layer: whiteouts and opaque markers first (of paths the lower
/// layers have), then the additions, each after the directories above it.
fn members(ops: &[Op], lower: &Tree) -> Vec<Member> {
    let mut removals = Vec::new();
    let mut additions: Vec<Member> = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    for op in ops {
        match op {
            Op::Whiteout(index) => {
                let path = DIRS.iter().chain(FILES).nth(*index).unwrap();
                if lower.get(path).is_some() {
                    let (dir, name) = path.rsplit_once('/').map_or(("", *path), |(d, n)| (d, n));
                    let prefix = if dir.is_empty() {
                        String::new()
                    } else {
                        format!("{dir}/")
                    };
                    removals.push(Member::whiteout(&format!("{prefix}.wh.{name}")));
                    touched.push((*path).to_owned());
                }
            }
            Op::Opaque(index)
                if lower
                    .get(DIRS[*index])
                    .is_some_and(group_writable_audit::tree::Node::is_dir) =>
            {
                removals.push(Member::whiteout(&format!("{}/.wh..wh..opq", DIRS[*index])));
                touched.push(DIRS[*index].to_owned());
            }
            _ => {}
        }
    }
    let present = |path: &str, additions: &mut Vec<Member>, touched: &[String]| {
        let mut chain = Vec::new();
        let mut current = parent(path);
        while let Some(dir) = current {
            chain.push(dir);
            current = parent(dir);
        }
        for dir in chain.into_iter().rev() {
            let hidden = touched
                .iter()
                .any(|t| dir == t || dir.starts_with(&format!("{t}/")));
            let added = additions.iter().any(|member| member.name == dir.as_bytes());
            if (hidden || lower.get(dir).is_none()) && !added {
                additions.push(Member::dir(dir, 0o755, 0, 0));
            }
        }
    };
    for op in ops {
        let member = match op {
            Op::Dir(index, mode, uid, gid) => Member::dir(DIRS[*index], *mode, *uid, *gid),
            Op::File(index, mode, uid, gid) => Member::file(FILES[*index], *mode, *uid, *gid),
            Op::Symlink(index, target) => Member::symlink(FILES[*index], FILES[*target]),
            Op::HardLink(index, target) => {
                let target = FILES[*target];
                // Only to a regular file the lower layers have and this layer leaves alone.
                let untouched = !touched
                    .iter()
                    .any(|t| target == t || target.starts_with(&format!("{t}/")))
                    && !additions.iter().any(|member| {
                        member.name == target.as_bytes()
                            || target
                                .as_bytes()
                                .starts_with(&[member.name.as_slice(), b"/"].concat())
                    });
                if *index == FILES.iter().position(|file| *file == target).unwrap()
                    || !untouched
                    || !lower
                        .get(target)
                        .is_some_and(|node| node.kind == NodeKind::File)
                {
                    continue;
                }
                Member::hard_link(FILES[*index], target)
            }
            Op::Whiteout(_) | Op::Opaque(_) => continue,
        };
        let path = String::from_utf8(member.name.clone()).unwrap();
        present(&path, &mut additions, &touched);
        // A later entry for a path replaces it; a hard link to it would then point at the
        // old inode, which this test's bookkeeping does not follow: keep it simple.
        touched.push(path);
        additions.push(member);
    }
    removals.extend(additions);
    removals
}

/// What a tree says about each path: kind (with a symlink's target), mode, owner.
type Listing = BTreeMap<String, (String, u32, u32, u32)>;

fn listing_of_tree(tree: &Tree) -> Listing {
    tree.iter()
        .filter(|(path, _)| !path.is_empty())
        .map(|(path, node)| {
            let kind = match &node.kind {
                NodeKind::Directory => "dir".to_owned(),
                NodeKind::File => "file".to_owned(),
                NodeKind::Fifo => "fifo".to_owned(),
                NodeKind::Symlink { target } => format!("symlink {target}"),
            };
            // A symlink's mode and owner are whatever the kernel gives it.
            let (mode, uid, gid) = if kind.starts_with("symlink") {
                (0, 0, 0)
            } else {
                (node.mode, node.uid, node.gid)
            };
            (path.to_owned(), (kind, mode, uid, gid))
        })
        .collect()
}

fn listing_of_dir(root: &Path, dir: &Path, listing: &mut Listing) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let kind = if metadata.is_dir() {
            "dir".to_owned()
        } else if metadata.file_type().is_symlink() {
            format!("symlink {}", std::fs::read_link(&path).unwrap().display())
        } else {
            "file".to_owned()
        };
        let (mode, uid, gid) = if kind.starts_with("symlink") {
            (0, 0, 0)
        } else {
            (metadata.mode() & 0o7777, metadata.uid(), metadata.gid())
        };
        listing.insert(relative, (kind, mode, uid, gid));
        if metadata.is_dir() {
            listing_of_dir(root, &path, listing);
        }
    }
}

fn extract_with_tar(layers: &[Vec<Member>], root: &Path) {
    for members in layers {
        for member in members {
            let name = String::from_utf8(member.name.clone()).unwrap();
            let (dir, base) = name
                .rsplit_once('/')
                .map_or(("", name.as_str()), |(d, b)| (d, b));
            let dir = root.join(dir);
            // A whiteout of what an earlier whiteout of the layer removed is nothing.
            if base == ".wh..wh..opq" && dir.is_dir() {
                for child in std::fs::read_dir(&dir).unwrap() {
                    let child = child.unwrap().path();
                    if std::fs::symlink_metadata(&child).unwrap().is_dir() {
                        std::fs::remove_dir_all(&child).unwrap();
                    } else {
                        std::fs::remove_file(&child).unwrap();
                    }
                }
            } else if let Some(hidden) = base.strip_prefix(".wh.") {
                let path = dir.join(hidden);
                match std::fs::symlink_metadata(&path) {
                    Ok(metadata) if metadata.is_dir() => std::fs::remove_dir_all(&path).unwrap(),
                    Ok(_) => std::fs::remove_file(&path).unwrap(),
                    Err(_) => {}
                }
            }
        }
        let mut child = Command::new("tar")
            .args([
                "--extract",
                "--file=-",
                "--numeric-owner",
                "--same-owner",
                "--same-permissions",
                "--exclude=.wh.*",
                "--directory",
            ])
            .arg(root)
            .stdin(Stdio::piped())
            .spawn()
            .expect("GNU tar runs");
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), &tar_bytes(members)).unwrap();
        drop(child.stdin.take());
        assert!(
            child.wait().unwrap().success(),
            "tar could not extract {members:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_audit_s_tree_is_what_tar_extracts(layers_ops in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..5)) {
        // Extracting with owners needs root, as the suite runs (bin/test).
        if !is_root() {
            eprintln!("skipped: extracting with owners needs root (bin/test runs as root)");
            return Ok(());
        }
        let mut tree = Tree::default();
        let mut layers = Vec::new();
        for ops in &layers_ops {
            let members = members(ops, &tree);
            let entries = group_writable_audit::layer::read_layer(tar_bytes(&members).as_slice()).unwrap().entries;
            tree.apply_layer(&entries).unwrap();
            layers.push(members);
        }
        let scratch = tempfile::Builder::new().prefix("against-tar").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        extract_with_tar(&layers, scratch.path());
        let mut extracted = Listing::new();
        listing_of_dir(scratch.path(), scratch.path(), &mut extracted);
        prop_assert_eq!(listing_of_tree(&tree), extracted, "layers: {:#?}", layers);
    }
}

fn is_root() -> bool {
    // The uid of this process, from /proc (no libc binding needed in this crate).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .map(|line| line.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
