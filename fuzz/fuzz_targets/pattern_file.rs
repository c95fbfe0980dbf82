//! Any bytes as a pattern file: decoding, parsing, writing for `ignore` and building the
//! matchers must not panic, and every line written for `ignore` must be taken by it as
//! exactly one pattern (not rejected, and not dropped or trimmed, which would make it
//! match differently from git without a word).
#![no_main]

use group_writable::pass::patterns::{self, Root, RootContext};
use group_writable_gitignore::git_pattern::GitPattern;
use group_writable_gitignore::matcher::Matcher;
use ignore::gitignore::GitignoreBuilder;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const PROBES: &[&str] = &[
    "a", "a/b", "ab", "a b", "a\\b", "[a]", "#a", "!a", "é", "a/b/c/d",
];

fn check_written_lines(git: &GitPattern) {
    for line in git.ignore_lines() {
        assert!(
            !line.ends_with(char::is_whitespace),
            "`ignore` would trim {line:?} (written for {git:?})"
        );
        let mut builder = GitignoreBuilder::new("");
        if let Err(error) = builder.add_line(None, &line) {
            panic!("`ignore` rejects {line:?} (written for {git:?}): {error}");
        }
        let gitignore = builder.build().expect("one line builds");
        assert_eq!(
            gitignore.num_ignores() + gitignore.num_whitelists(),
            1,
            "`ignore` dropped {line:?} (written for {git:?})"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = patterns::decode_pattern_bytes(Path::new(".group-writable"), data.to_vec())
    else {
        return;
    };
    let context = RootContext {
        app_dir: Path::new("/workspace"),
        layers_root: Path::new("/layers"),
        app_has_entry: &|name| name == "tmp",
    };
    let Ok(list) = patterns::parse_pattern_text(".group-writable", &text, &context) else {
        return;
    };
    for pattern in &list.patterns {
        check_written_lines(&pattern.git);
    }
    for root in [Root::App, Root::Layers] {
        // Too many or too complex patterns are an error for the user, not a panic.
        let Ok(matcher) = patterns::matcher_for(&list.patterns, root) else {
            continue;
        };
        for probe in PROBES {
            let _ = matcher.decide(Path::new(probe), true);
            let _ = matcher.decide(Path::new(probe), false);
            let _ = matcher.may_match_below(probe.as_bytes());
        }
    }
});
