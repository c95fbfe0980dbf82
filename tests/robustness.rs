//! Robustness of the pattern parser: any text or bytes go through the whole path from a
//! pattern file to a matcher without a panic, and every line `git_pattern` writes for the
//! `ignore` crate is taken by it as exactly one pattern (a line it rejected would make
//! `Matcher::new` panic; one it dropped or trimmed would silently match differently).
//!
//! Case counts follow `GROUP_WRITABLE_PROPTEST_CASES` (see `bin/fuzz`).

// Integration tests link every dependency of the package but use only a few.
#![allow(unused_crate_dependencies)]

mod support;

use group_writable::pass::patterns::{self, Root, RootContext};
use group_writable_gitignore::git_pattern::{GitPattern, Line};
use group_writable_gitignore::matcher::Matcher;
use ignore::gitignore::GitignoreBuilder;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::path::Path;

const DEFAULT_CASES: u32 = 600;
const DEFAULT_SEED: u64 = 0x7061_7474_6572_6e73;

/// Paths each matcher is asked about, to exercise matching as well as building.
const PROBES: &[&str] = &[
    "a", "a/b", "ab", "a b", "a\\b", "[a]", "#a", "!a", "é", "a/b/c/d",
];

/// Text made mostly of characters the gitignore grammar gives a meaning to, so that
/// generated lines reach deep into the parser (arbitrary Unicode rarely would).
fn grammar_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(vec![
            "a", "b", "/", "\\", "*", "**", "?", "[", "]", "!", "^", "-", ":", "#", "{", "}",
            ",", " ", "\t", "\r", "\n", ".", "..", "é", "\u{3000}", "\u{feff}",
        ])
        .prop_map(str::to_owned),
        2 => prop::sample::select(vec![
            "[:alpha:]", "[:space:]", "[:foo:]", "[:", ":]", "/layers/", "/workspace/", "/etc/",
            "\\/", "\\ ", "[!", "[^",
        ])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// Parses `text` as a pattern file and builds the matchers of both roots, checking every
/// line written for `ignore` on the way.
fn parse_and_build(text: &str) -> Result<(), TestCaseError> {
    let context = RootContext {
        app_dir: Path::new("/workspace"),
        layers_root: Path::new("/layers"),
        app_has_entry: &|name| name == "tmp",
    };
    // Errors are fine (they are reported to the user); panics are not.
    let Ok(list) = patterns::parse_pattern_text(".group-writable", text, &context) else {
        return Ok(());
    };
    for pattern in &list.patterns {
        check_written_lines(&pattern.git)?;
    }
    for root in [Root::App, Root::Layers] {
        // Only thousands of patterns, or enormous ones, are too complex (see the
        // matcher's tests); a few short lines must always build.
        let matcher = patterns::matcher_for(&list.patterns, root)
            .map_err(|error| TestCaseError::fail(format!("{text:?}: {error}")))?;
        for probe in PROBES {
            let _ = matcher.decide(Path::new(probe), true);
            let _ = matcher.decide(Path::new(probe), false);
            let _ = matcher.may_match_below(probe.as_bytes());
        }
    }
    Ok(())
}

/// Every written line must be one pattern for `ignore`, neither dropped (as a comment or a
/// blank line) nor trimmed (its trailing whitespace), nor rejected.
fn check_written_lines(git: &GitPattern) -> Result<(), TestCaseError> {
    for line in git.ignore_lines() {
        prop_assert!(
            !line.ends_with(char::is_whitespace),
            "`ignore` would trim {line:?} (written for {git:?})"
        );
        let mut builder = GitignoreBuilder::new("");
        if let Err(error) = builder.add_line(None, &line) {
            return Err(TestCaseError::fail(format!(
                "`ignore` rejects {line:?} (written for {git:?}): {error}"
            )));
        }
        let gitignore = builder
            .build()
            .map_err(|error| TestCaseError::fail(format!("{line:?}: {error}")))?;
        prop_assert_eq!(
            gitignore.num_ignores() + gitignore.num_whitelists(),
            1,
            "`ignore` dropped {:?} (written for {:?})",
            line,
            git
        );
    }
    Ok(())
}

fn run(
    name: &str,
    strategy: impl Strategy<Value = String>,
    check: fn(&str) -> Result<(), TestCaseError>,
) {
    let config = support::proptest_config(DEFAULT_CASES, DEFAULT_SEED);
    let (cases, seed) = (config.cases, config.rng_seed);
    let mut runner = TestRunner::new(config);
    if let Err(error) = runner.run(&strategy, |text| check(&text)) {
        panic!("{name} (seed {seed}): {error}");
    }
    println!("robustness: {name}: {cases} cases, seed {seed}");
}

#[test]
fn grammar_like_pattern_files_never_panic() {
    run(
        "grammar-like pattern files",
        grammar_text(),
        parse_and_build,
    );
}

#[test]
fn arbitrary_pattern_files_never_panic() {
    run("arbitrary text", any::<String>(), parse_and_build);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let config = support::proptest_config(DEFAULT_CASES, DEFAULT_SEED);
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let bytes = prop_oneof![
        any::<Vec<u8>>(),
        grammar_text().prop_map(String::into_bytes),
    ];
    let result = runner.run(&bytes, |bytes| {
        if let Ok(text) = patterns::decode_pattern_bytes(Path::new(".group-writable"), bytes) {
            parse_and_build(&text)?;
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("arbitrary bytes: {error}");
    }
    println!("robustness: arbitrary bytes: {cases} cases");
}

#[test]
fn single_lines_never_panic() {
    run("single lines", grammar_text(), |text| {
        for raw in text.split('\n') {
            if let Line::Pattern(git) = Line::parse(raw) {
                check_written_lines(&git)?;
                let matcher = Matcher::new([(0, &git)])
                    .map_err(|error| TestCaseError::fail(format!("{raw:?}: {error}")))?;
                for probe in PROBES {
                    let _ = matcher.decide(Path::new(probe), false);
                }
            }
        }
        Ok(())
    });
}
