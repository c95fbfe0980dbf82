//! Differential search against git: random trees and random pattern files drawn from the
//! whole gitignore grammar, each run through the real group-writable pass and through
//! `git check-ignore`, which must agree path for path (see `support::git_oracle`).
//!
//! The default run is a fixed set of cases from a fixed seed. `bin/fuzz` runs a longer
//! search by setting `GROUP_WRITABLE_PROPTEST_CASES` (and a seed with
//! `GROUP_WRITABLE_PROPTEST_SEED`). A disagreement is shrunk by proptest to a small tree
//! and pattern file; fix it and add that case to `REGRESSIONS` in `tests/conformance.rs`.

// Integration tests link every dependency of the package but use only a few.
#![allow(unused_crate_dependencies)]

mod support;

use group_writable::pass::patterns::{self, RootContext};
use group_writable_gitignore::git_pattern::Line;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use support::git_oracle::{GitOracle, LinkTarget, Node, Tree};

/// Cases in the default run: a second or two.
const DEFAULT_CASES: u32 = 256;
const DEFAULT_SEED: u64 = 0x6769_7420_6967_6e72;

// Trees.

/// Characters of generated names: a few letters often (so that patterns drawn from the
/// grammar match often), and every character the grammar gives a meaning to.
fn name_char() -> impl Strategy<Value = char> {
    prop_oneof![
        30 => prop::sample::select(vec!['a', 'b']),
        4 => prop::sample::select(vec!['c', 'A', '0', '.', '-', '_']),
        4 => prop::sample::select(vec![
            ' ', '*', '?', '[', ']', '{', '}', '\\', '#', '!', ',', '^', ':', '\t',
        ]),
        1 => prop::sample::select(vec![
            '\r', '\n', 'é', '日', '\u{3000}', '\u{7f}', '\u{1}', RAW_E9, RAW_FF,
        ]),
    ]
}

/// Stand-ins, in generated names, for bytes that are not UTF-8 (names need not be): the
/// tree gets the byte, patterns drawn from the name match it with `?`.
const RAW_E9: char = '\u{e0e9}';
const RAW_FF: char = '\u{e0ff}';

/// A generated path as the bytes of the tree entry.
fn path_bytes(path: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(path.len());
    for ch in path.chars() {
        match ch {
            RAW_E9 => bytes.push(0xe9),
            RAW_FF => bytes.push(0xff),
            ch => bytes.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    bytes
}

/// A name git and the pass can both hold: not `.`, `..`, git's own names or the pattern
/// file (the tree's only fixed entry).
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(name_char(), 1..=3)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("a name git can hold", |name| {
            !matches!(
                name.as_str(),
                "." | ".." | ".git" | ".gitignore" | support::git_oracle::PATTERN_FILE
            )
        })
}

#[derive(Clone, Debug)]
enum LinkChoice {
    /// One of the tree's files or directories.
    Inside(Index),
    OutsideFile,
    OutsideDir,
    Dangling,
}

#[derive(Clone, Debug)]
enum GenNode {
    File,
    Dir(BTreeMap<String, GenNode>),
    Link(LinkChoice),
}

fn link_choice() -> impl Strategy<Value = LinkChoice> {
    prop_oneof![
        4 => any::<Index>().prop_map(LinkChoice::Inside),
        1 => Just(LinkChoice::OutsideFile),
        1 => Just(LinkChoice::OutsideDir),
        1 => Just(LinkChoice::Dangling),
    ]
}

/// A directory's entries: up to three levels deep.
fn entries() -> impl Strategy<Value = BTreeMap<String, GenNode>> {
    let leaf = prop_oneof![
        6 => Just(GenNode::File),
        1 => Just(GenNode::Dir(BTreeMap::new())),
        2 => link_choice().prop_map(GenNode::Link),
    ];
    let node = leaf.prop_recursive(3, 64, 5, |inner| {
        prop_oneof![
            3 => Just(GenNode::File),
            3 => prop::collection::btree_map(name(), inner, 0..5).prop_map(GenNode::Dir),
            1 => link_choice().prop_map(GenNode::Link),
        ]
    });
    prop::collection::btree_map(name(), node, 3..12)
}

/// Flattens generated entries into a `Tree`, resolving symlinks to inside entries; also
/// returns the paths as generated (for drawing patterns from).
fn to_tree(root: &BTreeMap<String, GenNode>) -> (Tree, Vec<String>) {
    fn flatten<'t>(
        entries: &'t BTreeMap<String, GenNode>,
        prefix: &str,
        out: &mut Vec<(String, &'t GenNode)>,
    ) {
        for (name, node) in entries {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            out.push((path.clone(), node));
            if let GenNode::Dir(children) = node {
                flatten(children, &path, out);
            }
        }
    }
    let mut flat = Vec::new();
    flatten(root, "", &mut flat);
    let targets: Vec<&String> = flat
        .iter()
        .filter(|(_, node)| !matches!(node, GenNode::Link(_)))
        .map(|(path, _)| path)
        .collect();
    let entries = flat
        .iter()
        .map(|(path, node)| {
            let node = match node {
                GenNode::File => Node::File,
                GenNode::Dir(_) => Node::Dir,
                GenNode::Link(choice) => Node::Symlink(match choice {
                    LinkChoice::Inside(index) if !targets.is_empty() => {
                        LinkTarget::Inside(path_bytes(index.get(&targets).as_str()))
                    }
                    LinkChoice::Inside(_) | LinkChoice::Dangling => LinkTarget::Dangling,
                    LinkChoice::OutsideFile => LinkTarget::OutsideFile,
                    LinkChoice::OutsideDir => LinkTarget::OutsideDir,
                }),
            };
            (path_bytes(path), node)
        })
        .collect();
    let paths = flat.into_iter().map(|(path, _)| path).collect();
    (Tree { entries }, paths)
}

// Pattern files.

/// One piece of a pattern component, as text in gitignore syntax.
fn atom() -> BoxedStrategy<String> {
    prop_oneof![
        8 => (name_char(), any::<bool>()).prop_map(|(ch, raw)| literal(ch, raw)),
        3 => Just("*".to_owned()),
        2 => Just("**".to_owned()),
        1 => Just("***".to_owned()),
        3 => Just("?".to_owned()),
        4 => class(),
        1 => name_char().prop_map(|ch| format!("\\{ch}")),
        1 => Just("\\/".to_owned()),
        1 => Just("\\".to_owned()),
    ]
    .boxed()
}

/// A character as git reads it literally (escaped where it has a meaning), or `raw`.
fn literal(ch: char, raw: bool) -> String {
    if !raw && matches!(ch, '*' | '?' | '[' | '\\') {
        format!("\\{ch}")
    } else {
        ch.to_string()
    }
}

const POSIX_NAMES: &[&str] = &[
    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
    "upper", "xdigit", "foo", "",
];

/// A bracket expression: members, ranges, escapes, POSIX classes (some unknown), `]`
/// and `-` in every position, sometimes left open.
fn class() -> BoxedStrategy<String> {
    let class_char = prop_oneof![
        6 => name_char(),
        1 => prop::sample::select(vec![']', '-', '/', '!', '^', '[', ':']),
        // git reads a class byte by byte: a non-ASCII member is several members.
        1 => prop::sample::select(vec!['é', 'ê', 'à', 'ā', '日']),
    ];
    let item = prop_oneof![
        4 => class_char.clone().prop_map(|ch| ch.to_string()),
        3 => (class_char.clone(), class_char.clone()).prop_map(|(lo, hi)| format!("{lo}-{hi}")),
        1 => class_char.prop_map(|ch| format!("\\{ch}")),
        2 => prop::sample::select(POSIX_NAMES).prop_map(|name| format!("[:{name}:]")),
        1 => Just("[:".to_owned()),
    ];
    (
        prop::sample::select(vec!["", "", "", "!", "^"]),
        prop::collection::vec(item, 0..4),
        prop::bool::weighted(0.92),
    )
        .prop_map(|(negation, items, closed)| {
            format!(
                "[{negation}{}{}",
                items.concat(),
                if closed { "]" } else { "" }
            )
        })
        .boxed()
}

/// How a character of a real name is written in a pattern drawn from it.
#[derive(Clone, Debug)]
enum Edit {
    Question,
    Star,
    DoubleStar,
    /// A class holding it (and, with `Some`, a neighbour range).
    ClassOf(bool),
    /// `[!x]` of another character.
    NegatedClass(char),
    Posix(&'static str),
    Escape,
    Raw,
    Delete,
    Insert(String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => Just(Edit::Question),
        3 => Just(Edit::Star),
        1 => Just(Edit::DoubleStar),
        2 => any::<bool>().prop_map(Edit::ClassOf),
        2 => name_char().prop_map(Edit::NegatedClass),
        1 => prop::sample::select(POSIX_NAMES).prop_map(Edit::Posix),
        2 => Just(Edit::Escape),
        1 => Just(Edit::Raw),
        1 => Just(Edit::Delete),
        1 => atom().prop_map(Edit::Insert),
    ]
}

/// Writes a name as a pattern component, literally except where an edit says otherwise.
fn derive(name: &str, edits: &[(Index, Edit)]) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut at: BTreeMap<usize, &Edit> = BTreeMap::new();
    for (index, edit) in edits {
        at.insert(index.index(chars.len()), edit);
    }
    let mut out = String::new();
    for (i, &ch) in chars.iter().enumerate() {
        match at.get(&i) {
            // A leading `#` or `!` (a comment, a negation at the start of a line) and a
            // trailing space (trimmed at the end of one) are escaped, which git reads as
            // the same character anywhere.
            None if (i == 0 && matches!(ch, '#' | '!')) || (i + 1 == chars.len() && ch == ' ') => {
                let _ = write!(out, "\\{ch}");
            }
            None | Some(Edit::Raw) if matches!(ch, RAW_E9 | RAW_FF) => out.push('?'),
            None => out.push_str(&literal(ch, false)),
            Some(Edit::Question) => out.push('?'),
            Some(Edit::Star) => out.push('*'),
            Some(Edit::DoubleStar) => out.push_str("**"),
            Some(Edit::ClassOf(range)) => {
                let member = if matches!(ch, ']' | '\\' | '-' | '!' | '^' | '[') {
                    format!("\\{ch}")
                } else {
                    ch.to_string()
                };
                if *range {
                    let _ = write!(out, "[{member}-~]");
                } else {
                    let _ = write!(out, "[{member}]");
                }
            }
            Some(Edit::NegatedClass(other)) => {
                let _ = write!(out, "[!{}]", literal(*other, false));
            }
            Some(Edit::Posix(class)) => {
                let _ = write!(out, "[[:{class}:]]");
            }
            Some(Edit::Escape) => {
                let _ = write!(out, "\\{ch}");
            }
            Some(Edit::Raw) => out.push(ch),
            Some(Edit::Delete) => {}
            Some(Edit::Insert(atom)) => {
                out.push_str(atom);
                out.push_str(&literal(ch, false));
            }
        }
    }
    out
}

/// Which components of a tree path a pattern drawn from it keeps.
#[derive(Clone, Debug)]
enum Shape {
    /// All of them (anchored at the root, as the path is).
    Whole,
    /// The last one: a basename pattern, matching at any depth.
    Basename,
    /// Those from some index on, after `**/`.
    UnderDoubleStar(Index),
    /// Those up to some index: a parent directory.
    Parent(Index),
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        3 => Just(Shape::Whole),
        3 => Just(Shape::Basename),
        2 => any::<Index>().prop_map(Shape::UnderDoubleStar),
        1 => any::<Index>().prop_map(Shape::Parent),
    ]
}

/// How the components of a drawn body are joined: mostly `/`, sometimes `\/` (the same
/// for git but for `**`) or `//` (an empty component, which only a `**/` after the
/// literal prefix can make match), where the disagreements found so far clustered.
fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => Just("/"),
        1 => Just("\\/"),
        1 => Just("//"),
    ]
}

/// A pattern body drawn from a path of the tree: some of its components, each written
/// literally except for a few edits, and sometimes a component replaced by `*` or `**`.
fn drawn_body(paths: Vec<String>) -> BoxedStrategy<String> {
    (
        prop::sample::select(paths),
        shape(),
        prop::collection::vec((any::<Index>(), any::<Index>(), edit()), 0..3),
        prop::collection::vec((any::<Index>(), any::<bool>()), 0..2),
        prop::collection::vec(separator(), 4),
    )
        .prop_map(|(path, shape, edits, wildcards, separators)| {
            let all: Vec<&str> = path.split('/').collect();
            let (lead, chosen): (&str, &[&str]) = match shape {
                Shape::Whole => ("", &all),
                Shape::Basename => ("", &all[all.len() - 1..]),
                Shape::UnderDoubleStar(index) => ("**/", &all[index.index(all.len())..]),
                Shape::Parent(index) => ("", &all[..=index.index(all.len())]),
            };
            let mut components: Vec<String> = chosen
                .iter()
                .enumerate()
                .map(|(position, name)| {
                    let own: Vec<(Index, Edit)> = edits
                        .iter()
                        .filter(|(which, _, _)| which.index(chosen.len()) == position)
                        .map(|(_, at, edit)| (*at, edit.clone()))
                        .collect();
                    derive(name, &own)
                })
                .collect();
            for (which, double) in wildcards {
                let position = which.index(components.len());
                if double { "**" } else { "*" }.clone_into(&mut components[position]);
            }
            let mut body = lead.to_owned();
            for (index, component) in components.iter().enumerate() {
                if index > 0 {
                    body.push_str(separators[index % separators.len()]);
                }
                body.push_str(component);
            }
            body
        })
        .boxed()
}

/// A pattern body made of free atoms, one to three components.
fn free_body() -> BoxedStrategy<String> {
    prop::collection::vec(
        (
            prop::collection::vec(atom(), 1..4).prop_map(|atoms| atoms.concat()),
            prop::sample::select(vec!["/", "/", "/", "/", "/", "\\/"]),
        ),
        1..4,
    )
    .prop_map(|components| {
        let mut body = String::new();
        for (index, (component, separator)) in components.iter().enumerate() {
            if index > 0 {
                body.push_str(separator);
            }
            body.push_str(component);
        }
        body
    })
    .boxed()
}

/// One line of a pattern file.
fn line(paths: Vec<String>) -> BoxedStrategy<String> {
    let pattern = (
        prop_oneof![
            14 => Just(""),
            5 => Just("!"),
            1 => prop::sample::select(vec!["\\!", "\\#", "!!", "!\\!"]),
        ],
        prop::bool::weighted(0.25),
        prop_oneof![3 => drawn_body(paths), 1 => free_body()],
        prop::bool::weighted(0.2),
        prop_oneof![
            16 => Just(""),
            3 => prop::sample::select(vec![" ", "  "]),
            1 => prop::sample::select(vec!["\\ ", "\t", "\\ \\ ", "\\  "]),
        ],
        prop::bool::weighted(0.06),
    )
        .prop_map(|(prefix, anchored, body, dir_only, trailing, cr)| {
            let mut line = prefix.to_owned();
            if anchored {
                line.push('/');
            }
            line.push_str(&body);
            if dir_only {
                line.push('/');
            }
            line.push_str(trailing);
            if cr {
                line.push('\r');
            }
            line
        });
    prop_oneof![
        16 => pattern,
        1 => prop::collection::vec(name_char(), 0..4)
            .prop_map(|chars| format!("#{}", chars.into_iter().collect::<String>())),
        1 => prop::sample::select(vec!["", " ", "\t", "\r", " \r"]).prop_map(str::to_owned),
    ]
    .boxed()
}

/// A tree and a pattern file drawn from the paths in it.
fn case() -> impl Strategy<Value = (Tree, String)> {
    entries().prop_flat_map(|root| {
        let (tree, paths) = to_tree(&root);
        (
            Just(tree),
            prop::collection::vec(line(paths), 1..6),
            prop::bool::weighted(0.05),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.8),
        )
            .prop_map(|(tree, lines, bom, crlf, final_newline)| {
                let mut text = if bom {
                    "\u{feff}".to_owned()
                } else {
                    String::new()
                };
                text.push_str(&lines.join(if crlf { "\r\n" } else { "\n" }));
                if final_newline {
                    text.push('\n');
                }
                (tree, text)
            })
    })
}

/// The pattern file with every line the pass refuses blanked out (a `..` component, an
/// absolute path outside the roots, ...): the pass fails on those by design, so git gets
/// the same file without them. Returns how many lines were blanked.
fn without_refused_lines(text: &str) -> (String, usize) {
    let context = RootContext {
        app_dir: Path::new("/nonexistent-app"),
        layers_root: Path::new("/nonexistent-layers"),
        app_has_entry: &|_| false,
    };
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text),
    };
    let mut lines: Vec<&str> = body.split('\n').collect();
    let mut refused = 0;
    let joined = lines.join("\n");
    if let Err(errors) = patterns::parse_pattern_text("f", &joined, &context) {
        for error in errors {
            lines[error.location.line - 1] = "";
            refused += 1;
        }
    }
    (format!("{bom}{}", lines.join("\n")), refused)
}

#[derive(Default)]
struct Tally {
    /// Cases run until the first disagreement.
    cases: u64,
    /// Cases run after it, while shrinking.
    shrinking: u64,
    failures: u64,
    lines: u64,
    refused: u64,
    paths: u64,
    with_exclusions: u64,
    /// Lines compared whose classes hold non-ASCII bytes (the pass once refused them).
    non_ascii_classes: u64,
}

#[test]
fn the_pass_agrees_with_git_on_generated_trees_and_patterns() {
    let git_version = support::git_oracle::require_git();
    let oracle = GitOracle::new();
    let config = support::proptest_config(DEFAULT_CASES, DEFAULT_SEED);
    let (cases, seed) = (config.cases, config.rng_seed);
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |(tree, text)| {
        let (text, refused) = without_refused_lines(&text);
        let comparison = support::git_oracle::compare(&oracle, &tree, &text);
        let disagreement = comparison.disagreement();
        let mut tally = tally.borrow_mut();
        if tally.failures > 0 {
            tally.shrinking += 1;
        } else {
            tally.cases += 1;
            tally.lines += text.split('\n').count() as u64;
            tally.refused += refused as u64;
            tally.paths += comparison.paths as u64;
            tally.with_exclusions += u64::from(!comparison.git_excluded.is_empty());
            tally.non_ascii_classes += text
                .split('\n')
                .filter(|line| matches!(Line::parse(line), Line::Pattern(git) if git.needs_byte_regex()))
                .count() as u64;
            // Long searches say how far they are, and that shrinking (which can take
            // a minute) has begun.
            if tally.cases % 2000 == 0 {
                eprintln!("differential: {} cases so far", tally.cases);
            }
        }
        match disagreement {
            None => Ok(()),
            Some(disagreement) => {
                tally.failures += 1;
                if tally.failures == 1 {
                    eprintln!(
                        "differential: disagreement found at case {}; shrinking it",
                        tally.cases
                    );
                }
                Err(TestCaseError::fail(describe(&tree, &text, &disagreement)))
            }
        }
    });
    let tally = tally.into_inner();
    println!(
        "differential: {} cases run ({cases} asked, seed {seed}; {} more while shrinking), {} pattern lines ({} refused by the pass and left out, {} with non-ASCII bytes in a class), {} paths compared with {git_version}; git excluded something in {} cases",
        tally.cases,
        tally.shrinking,
        tally.lines,
        tally.refused,
        tally.non_ascii_classes,
        tally.paths,
        tally.with_exclusions
    );
    if let Err(error) = result {
        panic!("the pass disagrees with git (seed {seed}):\n{error}");
    }
    // Classes with non-ASCII bytes are compared, not refused.
    assert!(
        tally.non_ascii_classes * 40 > tally.cases,
        "only {} lines with non-ASCII bytes in a class were compared in {} cases",
        tally.non_ascii_classes,
        tally.cases
    );
    // A generator that never makes git exclude anything would test nothing.
    assert!(
        tally.with_exclusions * 2 > tally.cases,
        "git excluded something in only {} of {} cases",
        tally.with_exclusions,
        tally.cases
    );
}

/// A failing case, written so it can be pasted into `tests/conformance.rs`.
fn describe(tree: &Tree, text: &str, disagreement: &str) -> String {
    let mut out = format!("pattern file: {text:?}\n");
    for line in text.split('\n') {
        if let Line::Pattern(git) = Line::parse(line) {
            let _ = writeln!(
                out,
                "  {line:?} is written for ignore as {:?}",
                git.ignore_lines()
            );
        }
    }
    out.push_str("tree:\n");
    for (path, node) in &tree.entries {
        let _ = writeln!(out, "  {}: {node:?}", support::git_oracle::show(path));
    }
    out.push_str(disagreement);
    out
}
