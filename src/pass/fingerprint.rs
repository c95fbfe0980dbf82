//! A layer's fingerprint: its entries' names, types, modes and sizes, so that the next
//! build can tell a layer restored from the build cache just as this build left it from
//! one its buildpack rebuilt. A rebuild with the same names, modes and sizes is taken for
//! the layer this build left: it matches it in everything the label describes.
//!
//! Why it is needed: the lifecycle restores a cached layer with the modes the previous
//! build gave it, so this build changes nothing there, and a label counting only this
//! build's changes would differ from the previous build's (the rebuild would not be
//! reproducible). But a buildpack may also rebuild the layer, with other files or with
//! modes of its own, and then this build's figures are the true ones. Counts cannot tell
//! the two apart; the fingerprint of the layer as the walk found it, compared with the
//! fingerprint of the layer as the previous build left it, can.
//!
//! Why these fields: the lifecycle sets no mtime when it restores a layer (an extracted
//! file has the time of the restore, like a rebuilt one), and a directory's size depends
//! on its history, not its entries. A symlink, socket, FIFO or device counts by its name
//! and type (a symlink's target would cost a `readlink` per link). Contents would cost a
//! read of every file. The entries' hashes are summed, so the result does
//! not depend on the order in which the threads of the walk visit them.
//!
//! Why [`PathHash`]: hashing every entry's whole path made a walk of a 100,000-entry
//! layer 7% slower; the walk hashes each directory's path once, and each entry's name
//! after it (the same hash).

use std::hash::Hasher as _;
use std::ops::AddAssign;

/// FNV-1a's state after the bytes of a path (stable across builds and releases, unlike
/// the standard library's hasher): a directory's, continued with each entry's name, is
/// the entry's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathHash(u64);

impl PathHash {
    /// Of the empty path: FNV-1a's offset basis.
    pub const EMPTY: PathHash = PathHash(0xcbf2_9ce4_8422_2325);

    /// Of this path followed by `bytes`.
    #[must_use]
    pub fn then(self, bytes: &[u8]) -> PathHash {
        let mut hasher = fnv::FnvHasher::with_key(self.0);
        hasher.write(bytes);
        PathHash(hasher.finish())
    }
}

/// The fingerprint of a group of entries (a layer), before and after this pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// The entries as the walk found them.
    pub found: u64,
    /// The entries as the walk left them.
    pub left: u64,
}

impl Fingerprint {
    /// Adds one entry as the walk found it: its path relative to the root (hashed), its
    /// `st_mode` (type and permissions) and, for a regular file, its size.
    pub fn add(&mut self, path: PathHash, st_mode: u32, size: u64) {
        let hash = entry_hash(path, st_mode, size);
        self.found = self.found.wrapping_add(hash);
        self.left = self.left.wrapping_add(hash);
    }

    /// Records that the walk changed the permissions of an entry it added.
    pub fn changed(&mut self, path: PathHash, old_st_mode: u32, new_mode: u32, size: u64) {
        let new_st_mode = (old_st_mode & !0o7777) | (new_mode & 0o7777);
        self.left = self
            .left
            .wrapping_sub(entry_hash(path, old_st_mode, size))
            .wrapping_add(entry_hash(path, new_st_mode, size));
    }
}

impl AddAssign for Fingerprint {
    fn add_assign(&mut self, other: Fingerprint) {
        self.found = self.found.wrapping_add(other.found);
        self.left = self.left.wrapping_add(other.left);
    }
}

/// FNV-1a over the fields, after the path's, then a finalizer: FNV-1a's last bytes, here
/// the mode and size, would otherwise change only its low bits, and the sum mixes the
/// entries' hashes linearly.
fn entry_hash(path: PathHash, st_mode: u32, size: u64) -> u64 {
    let mut hasher = fnv::FnvHasher::with_key(path.0);
    // Ends the path, so that no path and mode can read as another path and mode.
    hasher.write_u8(0);
    hasher.write(&st_mode.to_le_bytes());
    hasher.write(&size.to_le_bytes());
    // SplitMix64's finalizer.
    let mut mixed = hasher.finish();
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    mixed ^ (mixed >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: u32 = 0o100_000;
    const DIRECTORY: u32 = 0o040_000;

    fn layer(entries: &[(&str, u32, u64)]) -> Fingerprint {
        let mut fingerprint = Fingerprint::default();
        for (path, st_mode, size) in entries {
            fingerprint.add(PathHash::EMPTY.then(path.as_bytes()), *st_mode, *size);
        }
        fingerprint
    }

    #[test]
    fn a_path_hashes_the_same_in_parts() {
        let directory = PathHash::EMPTY.then(b"bp/l/lib/");
        assert_eq!(
            directory.then(b"a.js"),
            PathHash::EMPTY.then(b"bp/l/lib/a.js")
        );
        assert_ne!(
            directory.then(b"b.js"),
            PathHash::EMPTY.then(b"bp/l/lib/a.js")
        );
    }

    #[test]
    fn the_order_of_the_entries_does_not_matter() {
        let entries = [
            ("bp/l", DIRECTORY | 0o755, 0),
            ("bp/l/a", FILE | 0o644, 3),
            ("bp/l/b", FILE | 0o644, 4),
        ];
        let mut reversed = entries;
        reversed.reverse();
        assert_eq!(layer(&entries), layer(&reversed));
        let mut halves = layer(&entries[..1]);
        halves += layer(&entries[1..]);
        assert_eq!(halves, layer(&entries));
    }

    #[test]
    fn a_changed_mode_is_what_the_next_build_finds() {
        let mut first = layer(&[("bp/l", DIRECTORY | 0o755, 0), ("bp/l/a", FILE | 0o644, 3)]);
        first.changed(PathHash::EMPTY.then(b"bp/l/a"), FILE | 0o644, 0o664, 3);
        first.changed(PathHash::EMPTY.then(b"bp/l"), DIRECTORY | 0o755, 0o2775, 0);
        let restored = layer(&[("bp/l", DIRECTORY | 0o2775, 0), ("bp/l/a", FILE | 0o664, 3)]);
        assert_eq!(first.left, restored.found);
        assert_ne!(first.found, first.left);
    }

    #[test]
    fn any_difference_in_an_entry_changes_it() {
        let base = layer(&[("bp/l/a", FILE | 0o644, 3), ("bp/l/b", FILE | 0o644, 3)]);
        for other in [
            layer(&[("bp/l/a", FILE | 0o664, 3), ("bp/l/b", FILE | 0o644, 3)]),
            layer(&[("bp/l/a", FILE | 0o644, 4), ("bp/l/b", FILE | 0o644, 3)]),
            layer(&[("bp/l/a", FILE | 0o644, 3), ("bp/l/c", FILE | 0o644, 3)]),
            layer(&[
                ("bp/l/a", DIRECTORY | 0o644, 3),
                ("bp/l/b", FILE | 0o644, 3),
            ]),
            layer(&[("bp/l/a", FILE | 0o644, 3)]),
        ] {
            assert_ne!(base, other);
        }
        // Two entries swapping their modes.
        let swapped_a = layer(&[("bp/l/a", FILE | 0o664, 3), ("bp/l/b", FILE | 0o644, 3)]);
        let swapped_b = layer(&[("bp/l/a", FILE | 0o644, 3), ("bp/l/b", FILE | 0o664, 3)]);
        assert_ne!(swapped_a, swapped_b);
    }
}
