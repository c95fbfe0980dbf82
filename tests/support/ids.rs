//! The ids of the test stacks, defined once in `tests/support/ids.sh` (which the shell
//! stacks source) and read from it at compile time, so the two sides cannot drift apart.

// `pub` here means "for the test crates", which the `unreachable_pub` lint cannot see.
#![allow(unreachable_pub)]

const STACK_IDS: &str = include_str!("ids.sh");

/// The build user and group when the tests run as root (Paketo's build uid and group).
pub const BUILD_UID: u32 = stack_id("BUILD_USER_ID");
pub const BUILD_GID: u32 = stack_id("STACK_GROUP_ID");
/// The run user when the tests run as root: another uid, the same group (Paketo jammy).
pub const RUN_UID: u32 = stack_id("RUN_USER_ID");

/// The value of the line `NAME=digits` of `ids.sh`, read at compile time (a missing or
/// malformed line fails the build of the tests).
const fn stack_id(name: &str) -> u32 {
    let text = STACK_IDS.as_bytes();
    let name = name.as_bytes();
    let mut start = 0;
    while start < text.len() {
        let mut at = 0;
        while at < name.len() && start + at < text.len() && text[start + at] == name[at] {
            at += 1;
        }
        let mut end = start + at;
        if at == name.len() && end < text.len() && text[end] == b'=' {
            end += 1;
            let mut value = 0;
            let mut digits = 0;
            while end < text.len() && text[end].is_ascii_digit() {
                value = value * 10 + (text[end] - b'0') as u32;
                end += 1;
                digits += 1;
            }
            assert!(
                digits > 0 && (end == text.len() || text[end] == b'\n'),
                "tests/support/ids.sh: an id is not NAME=digits"
            );
            return value;
        }
        while start < text.len() && text[start] != b'\n' {
            start += 1;
        }
        start += 1;
    }
    panic!("tests/support/ids.sh does not define an id the tests need");
}
