//! Conformance with git: for each case, the paths the group-writable pass changes must be
//! exactly the paths `git check-ignore --no-index` excludes with the same pattern file
//! (less symlinks, which git reports like files and the pass never changes), and each
//! must be attributed to the same pattern line. See `support::git_oracle` for how that is measured.
//!
//! The cases cover the whole gitignore grammar, every rule where the `ignore` crate reads
//! a line differently from git (see `crates/gitignore/src/git_pattern.rs`), and every disagreement the
//! differential search (`tests/differential.rs`) has found, as fixed regressions.

// Integration tests link every dependency of the package but use only a few.
#![allow(unused_crate_dependencies)]

mod support;

use group_writable_gitignore::git_pattern::Line;
use support::git_oracle::{GitOracle, LinkTarget, Tree};

/// The tree most cases run on: names that the cases tell apart, with symlinks to files
/// and directories inside and outside the app.
fn standard_tree() -> Tree {
    Tree::new()
        .files(&[
            "a.txt",
            "b.txt",
            "y.txt",
            "z.txt",
            "ab.txt",
            "c.log",
            "README",
            "foo",
            "ba",
            "bxa",
            "-",
            "]",
            "x",
            "a",
            "#hash",
            " #hash",
            "!bang",
            "xbang",
            "\"bang",
            "trail ",
            "trail",
            "trail  ",
            "tab\t",
            "tab",
            "cr\r",
            "cr",
            "nl\nname",
            "{a,b}",
            "a,b",
            "[x]",
            "[ab",
            "*",
            "?",
            "a\\b",
            "é",
            "日本.txt",
            "sp ace",
            "src/main.rs",
            "src/lib.rs",
            "src/a.txt",
            "src/deep/x/a.txt",
            "src/deep/y.rs",
            "log/app.log",
            "log/old/x.log",
            "tmp/pids/server.pid",
            "tmp/cache/c",
            "docs/build/index.html",
            "docs/a.txt",
            "bar/foo/x",
            "b/a",
            "bx/y/a",
            "q/b",
            "q/x/b",
            "q/x/y/b",
            "q/xb",
            "q/xy/b",
        ])
        .dir("build")
        .dir("empty")
        .file("cls/a")
        .file("cls/Z")
        .file("cls/5")
        .file("cls/ ")
        .file("cls/\t")
        .file("cls/\r")
        .file("cls/\u{b}")
        .file("cls/_")
        .file("cls/~")
        .file("cls/\u{7}")
        .file("cls/\u{7f}")
        .file("cls/f")
        .file("cls/G")
        .file("cls/é")
        .file("cls/\\")
        .file("cls/^")
        .file("cls/!")
        .file("cls/t]")
        .link("link-file", LinkTarget::Inside("a.txt".into()))
        .link("link-dir", LinkTarget::Inside("src".into()))
        .link("src/link-up", LinkTarget::Inside("docs".into()))
        .link("link-out-file", LinkTarget::OutsideFile)
        .link("link-out-dir", LinkTarget::OutsideDir)
        .link("dangling", LinkTarget::Dangling)
        .link("build-link", LinkTarget::Inside("build".into()))
}

/// `(what it checks, pattern file)`, each run on the standard tree.
const STANDARD_CASES: &[(&str, &str)] = &[
    // Negation and re-inclusion.
    ("negation", "*.txt\n!a.txt\n"),
    ("negation then selection again", "*.txt\n!a.txt\na.txt\n"),
    ("a directory re-included", "src/*\n!src/deep/\n"),
    (
        "re-inclusion below an excluded directory stays excluded",
        "src/\n!src/main.rs\n!src/deep/\n",
    ),
    (
        "re-inclusion below a basename-excluded directory",
        "log\n!log/app.log\n!*.log\n",
    ),
    ("a negated directory-only pattern", "*\n!*/\n"),
    ("a lone `!` is empty", "!\n*.log\n"),
    // Anchoring.
    ("a leading slash anchors", "/a.txt\n"),
    ("a middle slash anchors", "src/a.txt\ndeep/x\n"),
    ("an anchored directory", "/src/deep/\n"),
    ("a basename at any depth", "a.txt\n"),
    (
        "a double slash never matches",
        "//a.txt\nsrc//main.rs\n/src/**//a.txt\n",
    ),
    // Directory-only.
    (
        "trailing slash: only directories",
        "foo/\nlink-dir/\nbuild/\n",
    ),
    (
        "trailing slash: a symlink to a directory is never a directory",
        "link-dir/\nbuild-link/\n",
    ),
    ("a pattern that only matches a directory", "build/\n"),
    ("dir-only basename deep", "x/\n"),
    // Wildcards.
    ("star", "*.log\n"),
    ("star alone", "*\n"),
    ("star in a path", "src/*.rs\n"),
    ("star does not cross slashes", "/*.txt\nsrc*a.txt\n"),
    ("question mark", "?.txt\n"),
    ("question mark is one byte", "??\n/?\n"),
    ("question mark never matches a slash", "b?a\n"),
    ("range", "[a-c].txt\n"),
    ("negated class", "[!a].txt\n"),
    ("caret-negated class", "[^a].txt\n"),
    ("negated class in a path", "src/[!m]*\n"),
    // Double stars.
    ("leading **/", "**/a.txt\n**/x\n"),
    ("leading **/ to a directory", "**/deep/\n"),
    ("middle /**/", "src/**/a.txt\n"),
    ("middle /**/ matches zero directories", "src/**/lib.rs\n"),
    ("trailing /**", "log/**\n"),
    ("trailing /**/", "src/**/\n"),
    ("/** alone", "/**\n"),
    ("**/ alone", "**/\n"),
    ("** alone", "**\n"),
    ("** not between separators acts as *", "src/m**rs\na**b\n"),
    ("*** runs", "src/***/a.txt\n"),
    ("** after a literal prefix", "b**/a\n"),
    ("** after a literal prefix at the end", "/b**\n"),
    ("** after a literal prefix, then more", "/src/de**/a.txt\n"),
    ("** after a prefix that ends at a slash", "src/**a.txt\n"),
    // Escapes, comments, blank lines, spaces.
    ("escaped #", "\\#hash\n"),
    ("escaped !", "\\!bang\n"),
    ("negated escaped !", "*bang\n!\\!bang\n"),
    (
        "comment and blank lines",
        "# a.txt\n\n   \n#hash\n\t\nb.txt\n",
    ),
    ("a comment is not one after spaces", " #hash\n"),
    ("trailing spaces are trimmed", "a.txt   \n"),
    ("escaped trailing space", "trail\\ \n"),
    ("escaped trailing spaces", "trail\\ \\ \n"),
    ("an escaped space then trimmed ones", "trail\\    \n"),
    ("a trailing tab is kept", "tab\t\n"),
    ("a trailing tab then spaces", "tab\t  \n"),
    ("escapes of ordinary characters", "\\a\\.txt\n"),
    ("escaped wildcards are literal", "\\*\n\\?\n\\[x]\n"),
    ("an escaped backslash", "a\\\\b\n"),
    ("a trailing backslash matches nothing", "a.txt\\\n"),
    (
        "a backslash before the trailing slash never matches",
        "src\\/\n",
    ),
    ("an escaped slash in the middle", "src\\/a.txt\n"),
    // Line endings and the byte order mark.
    ("CRLF line endings", "a.txt\r\nsrc/\r\n"),
    ("only one carriage return is dropped", "cr\r\r\n"),
    ("a comment ending in CR", "#hash\r\nb.txt\r\n"),
    ("a carriage return before trailing spaces stays", "cr\r \n"),
    ("a space before the CR is trimmed", "a.txt \r\n"),
    ("a byte order mark is skipped", "\u{feff}a.txt\nb.txt\n"),
    (
        "a byte order mark before a comment",
        "\u{feff}#hash\nb.txt\n",
    ),
    ("no newline at the end", "a.txt"),
    // Braces are literal for git.
    ("braces are literal", "{a,b}\n"),
    ("braces with a wildcard", "{a,b}*\n*{a,*}\n"),
    ("a comma", "a,b\n"),
    // Bracket expressions.
    ("escape inside a class", "[\\]]\n[\\\\]\n"),
    ("escaped range endpoints", "[\\a-\\c].txt\n"),
    ("] first in a class", "[]x]\n"),
    ("] first in a negated class", "cls/[!]a-z]\n"),
    ("- first and last", "[-x]\n[x-]\n"),
    ("- after a range", "cls/[a-c-z]\n"),
    // git matches the first endpoint as a member before it sees the `-`.
    (
        "a reversed range matches its first endpoint only",
        "[z-a].txt\n",
    ),
    ("a reversed range beside a member", "[z-ab].txt\n"),
    ("an unclosed bracket matches nothing", "[ab\n*[\n"),
    ("a bracket left open by an escape never matches", "[a\\]\n"),
    (
        "a slash in a class never matches",
        "src[/]main.rs\nsrc[!a]main.rs\nsrc[[:punct:]]main.rs\n",
    ),
    (
        "classes of one member",
        "[a].txt\n[!].txt\n[*]\n[?]\n[\\\\]\n",
    ),
    ("[:alnum:]", "cls/[[:alnum:]]\n"),
    ("[:alpha:]", "cls/[[:alpha:]]\n"),
    ("[:blank:]", "cls/[[:blank:]]\n"),
    ("[:cntrl:]", "cls/[[:cntrl:]]\n"),
    ("[:digit:]", "cls/[[:digit:]]\n"),
    ("[:graph:]", "cls/[[:graph:]]\n"),
    ("[:lower:]", "cls/[[:lower:]]\n"),
    ("[:print:]", "cls/[[:print:]]\n"),
    ("[:punct:]", "cls/[[:punct:]]\n"),
    ("[:space:]", "cls/[[:space:]]\nnl[[:space:]]name\n"),
    ("[:upper:]", "cls/[[:upper:]]\n"),
    ("[:xdigit:]", "cls/[[:xdigit:]]\n"),
    ("negated POSIX class", "cls/[![:alnum:]]\n"),
    ("POSIX class with members", "cls/[[:digit:]a-c_]\n"),
    (
        "an unknown POSIX class matches nothing",
        "cls/[[:word:]]\n*\n!cls/[[:foo:]]\n",
    ),
    ("[: without :] is a plain [", "[[:x]\n[[:]\n"),
    ("a POSIX class cannot start a range", "cls/[[:digit:]-a]\n"),
    ("a range cannot end in a POSIX class", "cls/[a-[:digit:]]\n"),
    ("a class of ! and ^", "cls/[\\!^]\n"),
    (
        "a POSIX class at the end",
        "cls/[[:blank:]]\ntrail[[:space:]]\n",
    ),
    // Non-ASCII names.
    ("a non-ASCII literal", "é\n日本.*\n"),
    ("a wildcard over a non-ASCII name", "日*\n*.txt\n!a*\n"),
];

/// Disagreements with git found so far (by the cases above when they were written, and
/// by `tests/differential.rs`), each kept as a fixed case on the standard tree.
const REGRESSIONS: &[(&str, &str)] = &[
    // `ignore` reads a line holding `/` as anchored; a negated class is written with a
    // `/` in it (to keep it from matching one), so basename patterns with one were
    // anchored at the root.
    (
        "negated class in a basename pattern at depth",
        "[!z]ain.rs\n",
    ),
    (
        "negated class in a basename pattern after a star",
        "*[!q]\n",
    ),
    // git lets `**/` match nothing, but not `**\/`: the `**` must be followed by a `/`
    // of the path.
    ("**\\/ in the middle", "q/**\\/b\n"),
    ("**\\/ after a literal prefix", "b**\\/a\n"),
    ("**\\/ at the start", "**\\/b\n"),
    // git's literal prefix ends at any backslash, an escaped slash included, so the `**`
    // after it is not at the start of the rest and does not widen.
    (
        "** after a prefix that ends at an escaped slash",
        "q\\/x**/b\n",
    ),
    // git strips only an unescaped leading `/`; `\/` must then match a `/` that no
    // relative path starts with.
    (
        "a leading escaped slash never matches",
        "\\/a.txt\n\\/src/\n",
    ),
    // A class of `!` (or `^`) and its neighbour was written as the range `[!"]`, which
    // globset reads as negated.
    ("a class of ! and a neighbour", "[\\!\"]bang\n"),
    ("a class of ^ and a neighbour", "cls/[\\^_]\n"),
    // A class of one whitespace character at the end was written as that character,
    // which `ignore` trims.
    ("a class of one space at the end", "trail[ ]\n"),
    ("a class of one tab at the end", "tab[\t]\n"),
    // git anchors a pattern whose text holds a `/` anywhere, even inside `[...]`, where
    // it matches no `/` (found by tests/differential.rs).
    ("a slash inside a class anchors", "[/a]\n"),
    ("a slash inside a negated class anchors", "[!/b]\n"),
    // `**//` is dir-only `**/`, which needs a path ending in `/`; globset read `**/` as
    // `**` and matched everything (found by tests/differential.rs, seed 2).
    ("**// never matches", "**//\n"),
    ("*// and a// never match", "*//\nsrc//\n"),
    // git matches the rest after the literal prefix as a whole pattern, so every `**/`
    // right after the prefix is leading and may match nothing: `b**/**/a` matches `ba`.
    // Only the first was widened (found by tests/differential.rs, seed 2).
    ("** runs after a literal prefix", "b**/**/a\n"),
    (
        "** runs after a literal prefix, negated",
        "*\n!!**/**/bang\n",
    ),
];

/// Cases that need their own tree.
fn special_cases() -> Vec<(&'static str, Tree, &'static str)> {
    vec![
        (
            "deep nesting and **",
            Tree::new().files(&[
                "a/b/c/d/e/f.txt",
                "a/x/f.txt",
                "f.txt",
                "a/b/f.txt",
                "z/a/b/f.txt",
            ]),
            "a/**/f.txt\n!a/b/**\n",
        ),
        (
            "a symlink named like a matched directory",
            Tree::new()
                .file("real/cache/x")
                .link("cache", LinkTarget::Inside("real/cache".into()))
                .link("other/cache", LinkTarget::OutsideDir),
            "cache/\n**/cache\n",
        ),
        (
            // Names are bytes: `?` and negated classes match one byte of a Latin-1
            // name, a UTF-8 literal matches none of it.
            "names that are not UTF-8",
            Tree::new()
                .file_bytes(b"caf\xe9")
                .file_bytes(b"\xff")
                .file_bytes(b"d\xe9j\xe0/x")
                .file("caf\u{e9}")
                .file("cafe"),
            "caf?\n/?\nd[!a]j?/\n!cafe\n",
        ),
        (
            "a UTF-8 literal does not match a Latin-1 name",
            Tree::new().file_bytes(b"caf\xe9").file("caf\u{e9}"),
            "caf\u{e9}\n",
        ),
        (
            // git's classes are byte sets: `[é]` is 0xC3 and 0xA9, each on its own.
            "non-ASCII bracket expressions match bytes",
            non_ascii_tree(),
            "caf[é]*\n*[é]*\n",
        ),
        (
            "a negated non-ASCII class",
            non_ascii_tree(),
            "[!é]\n[!é][!é]\n",
        ),
        (
            "non-ASCII ranges and escapes",
            non_ascii_tree(),
            "d/[a-é]?\nd/[ê-é][!x]\n[\\é]?x\n",
        ),
        (
            "non-ASCII classes with negation, anchors and directories",
            non_ascii_tree(),
            "*\n!*[é]*\n/d/[é]*\n[ā]*/\n",
        ),
        (
            "symlinks inside a matched directory are left alone",
            Tree::new()
                .file("data/file")
                .link("data/to-file", LinkTarget::Inside("outside-me".into()))
                .link("data/to-out", LinkTarget::OutsideFile)
                .link("data/to-out-dir", LinkTarget::OutsideDir)
                .file("outside-me"),
            "data/\n",
        ),
    ]
}

/// Names for non-ASCII bracket expressions: UTF-8 (`é` is 0xC3 0xA9, `ā` 0xC4 0x81, `ê`
/// 0xC3 0xAA) and one Latin-1 name.
fn non_ascii_tree() -> Tree {
    Tree::new()
        .files(&[
            "café", "cafe", "cafā", "b/é", "é", "e", "ō", "éx", "x", "d/é", "d/ê", "d/bx", "d/ā",
            "āx",
        ])
        .dir("ā/sub")
        .file("ā/f")
        .file_bytes(b"caf\xe9")
        .file_bytes(b"\xa9")
}

/// Disagreements found by `tests/differential.rs` that need their own tree.
fn regression_cases() -> Vec<(&'static str, Tree, &'static str)> {
    // After a literal prefix, `**/` may match nothing, and then a `/` after it is the
    // path's own: `a**/\/b` matches `a/b`. The empty-component rule had made such
    // patterns never match (found with seed 20261122, shrunk to `a**/\/b`).
    let widened = || {
        Tree::new()
            .files(&["a/c", "ab/d", "ax", "x/b"])
            .dir("a/b")
            .dir("ab/c")
    };
    vec![
        (
            "a `/` after a widened **/ (escaped)",
            widened(),
            "a**/\\/c\n",
        ),
        ("a `/` after a widened **/", widened(), "a**//c\n"),
        ("a `/` after widened **/ runs", widened(), "a**/**//c\n"),
        (
            "a widened **/ at the end of a directory pattern",
            widened(),
            "a**//\n",
        ),
        ("a `/` after **\\/ never matches", widened(), "a**\\//c\n"),
        ("**\\/** after a literal prefix", widened(), "a**\\/**\n"),
        ("a**/* after a literal prefix", widened(), "a**/*\n"),
    ]
}

#[test]
fn the_pass_changes_exactly_what_git_excludes() {
    let git_version = support::git_oracle::require_git();
    let oracle = GitOracle::new();
    let standard = standard_tree();
    let mut cases: Vec<(&str, &Tree, &str)> = STANDARD_CASES
        .iter()
        .chain(REGRESSIONS)
        .map(|&(name, patterns)| (name, &standard, patterns))
        .collect();
    let special = special_cases();
    let regressions = regression_cases();
    cases.extend(special.iter().map(|(n, t, p)| (*n, t, *p)));
    cases.extend(regressions.iter().map(|(n, t, p)| (*n, t, *p)));

    let mut failures = Vec::new();
    let mut paths = 0;
    let mut pattern_count = 0;
    for (name, tree, patterns) in &cases {
        let comparison = support::git_oracle::compare(&oracle, tree, patterns);
        paths += comparison.paths;
        pattern_count += patterns
            .trim_start_matches('\u{feff}')
            .split('\n')
            .filter(|line| matches!(Line::parse(line), Line::Pattern(_)))
            .count();
        if comparison.git_excluded.is_empty()
            && !name.contains("nothing")
            && !name.contains("never")
        {
            failures.push(format!(
                "{name}: {patterns:?} excludes nothing; the case tests nothing"
            ));
        }
        if let Some(disagreement) = comparison.disagreement() {
            failures.push(format!("{name}: {patterns:?}\n{disagreement}"));
        }
    }
    println!(
        "conformance: {} trees, {} pattern files ({pattern_count} patterns), {paths} paths compared with {git_version}",
        cases
            .iter()
            .map(|(_, tree, _)| format!("{tree:?}"))
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        cases.len(),
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with git:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
