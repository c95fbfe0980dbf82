//! The one mode change this buildpack makes, as a pure function.
//!
//! Directories get `g+rwx` and setgid, so that files the run user creates inside them
//! belong to the shared group. Files get `g+w`, plus `g+r`/`g+x` where the owner has
//! `r`/`x`. Bits are only ever added, and never `o+w` or setuid.

// What kind of entry a mode belongs to (one type for the walk and for the seeds).
// Symlinks, sockets, fifos and devices never reach this module: the walker skips them.
pub use group_writable_launch::tree_copy::Kind;

const SETGID: u32 = 0o2000;
const GROUP_RWX: u32 = 0o070;
const GROUP_W: u32 = 0o020;
const OWNER_R: u32 = 0o400;
const OWNER_X: u32 = 0o100;
const OWNER_TO_GROUP: u32 = 3; // shift from owner bits to the matching group bits

/// The permission bits (`0o7777`) an entry should have, or `None` when it already has
/// them and no `chmod` is due.
///
/// `may_set_group_id` is false when the directory's group is not one of the build user's
/// groups: the kernel would silently drop setgid then, and asking again on every build
/// would never converge.
#[must_use]
pub fn group_writable_mode(kind: Kind, mode: u32, may_set_group_id: bool) -> Option<u32> {
    let permissions = mode & 0o7777;
    let wanted = match kind {
        Kind::Directory => permissions | GROUP_RWX | if may_set_group_id { SETGID } else { 0 },
        Kind::File => {
            permissions | GROUP_W | ((permissions & (OWNER_R | OWNER_X)) >> OWNER_TO_GROUP)
        }
    };
    (wanted != permissions).then_some(wanted)
}

/// Group and other write.
pub const GROUP_OR_OTHER_WRITE: u32 = 0o022;

/// The permission bits an entry no pattern names gets with `BP_GROUP_WRITABLE_READ_ONLY`:
/// its own bits without `g+w` and `o+w` (setgid, sticky and the rest are kept), or `None`
/// when it has neither and no `chmod` is due. The only function that removes bits.
#[must_use]
pub fn read_only_mode(mode: u32) -> Option<u32> {
    let permissions = mode & 0o7777;
    (permissions & GROUP_OR_OTHER_WRITE != 0).then_some(permissions & !GROUP_OR_OTHER_WRITE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_removes_group_and_other_write_and_nothing_else() {
        assert_eq!(read_only_mode(0o40_777), Some(0o755));
        assert_eq!(read_only_mode(0o2775), Some(0o2755));
        assert_eq!(read_only_mode(0o1777), Some(0o1755));
        assert_eq!(read_only_mode(0o664), Some(0o644));
        assert_eq!(read_only_mode(0o755), None);
        for mode in 0..=0o7777 {
            let new = read_only_mode(mode).unwrap_or(mode);
            assert_eq!(new, mode & !0o022, "{mode:o}");
        }
    }

    #[test]
    fn directories_get_group_rwx_and_setgid() {
        assert_eq!(
            group_writable_mode(Kind::Directory, 0o40_755, true),
            Some(0o2775)
        );
        assert_eq!(
            group_writable_mode(Kind::Directory, 0o700, true),
            Some(0o2770)
        );
    }

    #[test]
    fn directories_without_our_group_do_not_ask_for_setgid() {
        assert_eq!(
            group_writable_mode(Kind::Directory, 0o755, false),
            Some(0o775)
        );
        assert_eq!(group_writable_mode(Kind::Directory, 0o775, false), None);
    }

    #[test]
    fn files_get_group_write_and_the_owners_read_and_execute() {
        assert_eq!(
            group_writable_mode(Kind::File, 0o100_644, true),
            Some(0o664)
        );
        assert_eq!(group_writable_mode(Kind::File, 0o755, true), Some(0o775));
        assert_eq!(group_writable_mode(Kind::File, 0o600, true), Some(0o660));
        assert_eq!(group_writable_mode(Kind::File, 0o200, true), Some(0o220));
        assert_eq!(group_writable_mode(Kind::File, 0o500, true), Some(0o570));
    }

    #[test]
    fn nothing_changes_when_the_bits_are_there() {
        assert_eq!(group_writable_mode(Kind::File, 0o664, true), None);
        assert_eq!(group_writable_mode(Kind::File, 0o220, true), None);
        assert_eq!(group_writable_mode(Kind::File, 0o620, true), Some(0o660));
        assert_eq!(group_writable_mode(Kind::Directory, 0o2775, true), None);
        assert_eq!(group_writable_mode(Kind::Directory, 0o3777, true), None);
    }

    #[test]
    fn never_adds_other_write_or_setuid_and_keeps_existing_bits() {
        for mode in 0..=0o7777 {
            for kind in [Kind::File, Kind::Directory] {
                let new = group_writable_mode(kind, mode, true).unwrap_or(mode);
                assert_eq!(new & mode, mode, "a bit was removed from {mode:o}");
                assert_eq!(
                    new & 0o4002,
                    mode & 0o4002,
                    "o+w or setuid added to {mode:o}"
                );
                assert_eq!(new & GROUP_W, GROUP_W);
            }
        }
    }

    #[test]
    fn group_read_and_execute_follow_the_owner_for_files() {
        assert_eq!(group_writable_mode(Kind::File, 0o000, true), Some(0o020));
        assert_eq!(group_writable_mode(Kind::File, 0o100, true), Some(0o130));
    }
}
