//! The group-writable policy label (`io.github.cnb-utils.group-writable.policy`, written
//! by the buildpack; its types are the crate `group-writable-policy`) read back, and which
//! writable path it explains: a path that one of its patterns selects (matched exactly as
//! the buildpack matched it, with the same parser and matcher), or a redirect's path or
//! target.

use crate::tree::Tree;
use group_writable_gitignore::matcher::{Decision, Matcher};
use group_writable_policy::label::{Policy as Label, RedirectRecord};
use group_writable_policy::patterns::{
    Pattern, Root, RootContext, matcher_for, parse_pattern_text,
};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

/// The label key.
pub use group_writable_policy::label::KEY as LABEL;

/// The label version this audit reads.
const KNOWN_VERSION: u32 = 1;

/// The app directory and the layers root of every CNB image, relative to the root.
pub const APP_DIR: &str = "workspace";
pub const LAYERS_DIR: &str = "layers";

/// Why a writable path is writable, as far as the label says.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Explanation {
    /// A pattern selects the path or a directory above it.
    Pattern { pattern: String, source: String },
    /// A redirect's target (or the app path it replaces) is the path or above it.
    Redirect { id: String },
    /// The tmp base, which every redirect needs writable.
    TmpBase,
}

/// The label, ready to explain paths of one image.
pub struct Policy {
    pub label: Label,
    patterns: Vec<Pattern>,
    /// The label's `source` of each pattern (`.group-writable:3`).
    sources: Vec<String>,
    app: Option<Matcher>,
    layers: Option<Matcher>,
    /// Decisions per absolute path, so a deep tree costs one match per path.
    memo: RefCell<HashMap<String, Option<usize>>>,
    pub warnings: Vec<String>,
}

impl Policy {
    /// Reads the label's value, with the types the buildpack wrote it with; an error (a warning for
    /// the report) when it is not of the version and shape this audit reads.
    pub fn read(value: &str, tree: &Tree) -> Result<Policy, String> {
        let version = serde_json::from_str::<serde_json::Value>(value)
            .ok()
            .and_then(|document| document.get("version")?.as_u64());
        let label: Label = serde_json::from_str(value).map_err(|error| match version {
            Some(version) if version != u64::from(KNOWN_VERSION) => format!(
                "the label {LABEL} has version {version}, which this audit does not read (it reads version {KNOWN_VERSION}): nothing is explained"
            ),
            _ => format!(
                "the label {LABEL} is not the policy JSON of version {KNOWN_VERSION}: {error}"
            ),
        })?;
        let mut warnings = Vec::new();
        let app_has_entry = |name: &str| tree.get(&format!("{APP_DIR}/{name}")).is_some();
        let context = RootContext {
            app_dir: Path::new("/workspace"),
            layers_root: Path::new("/layers"),
            app_has_entry: &app_has_entry,
        };
        let mut patterns = Vec::new();
        let mut sources = Vec::new();
        for recorded in &label.patterns {
            match parse_pattern_text(&recorded.source, &recorded.pattern, &context) {
                Ok(list) => {
                    for pattern in list.patterns {
                        patterns.push(pattern);
                        sources.push(recorded.source.clone());
                    }
                }
                Err(errors) => warnings.push(format!(
                    "the label's pattern `{}` ({}) cannot be read, so it explains nothing: {}",
                    recorded.pattern,
                    recorded.source,
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
            }
        }
        let mut matcher = |root| match matcher_for(&patterns, root) {
            Ok(matcher) => Some(matcher),
            Err(error) => {
                warnings.push(format!(
                    "the label's {root} patterns cannot be matched: {error}"
                ));
                None
            }
        };
        let app = matcher(Root::App);
        let layers = matcher(Root::Layers);
        Ok(Policy {
            label,
            patterns,
            sources,
            app,
            layers,
            memo: RefCell::new(HashMap::new()),
            warnings,
        })
    }

    /// The image is meant to run on a read-only root when the build redirected writes.
    #[must_use]
    pub fn meant_for_read_only_root(&self) -> bool {
        !self.label.redirects.is_empty()
    }

    /// What explains `path` (relative to the root) being writable, if anything.
    #[must_use]
    pub fn explain(&self, path: &str, tree: &Tree) -> Option<Explanation> {
        let absolute = format!("/{path}");
        for redirect in &self.label.redirects {
            let (id, paths) = match redirect {
                RedirectRecord::Env { id, value, .. }
                | RedirectRecord::PhpIni { id, value, .. } => (id, vec![value.clone()]),
                RedirectRecord::Path {
                    id, path, target, ..
                } => (id, vec![target.clone(), format!("/{APP_DIR}/{path}")]),
            };
            if paths
                .iter()
                .any(|redirected| is_at_or_below(&absolute, redirected))
            {
                return Some(Explanation::Redirect { id: id.clone() });
            }
        }
        if self.meant_for_read_only_root() && self.label.tmp_base.trim_end_matches('/') == absolute
        {
            return Some(Explanation::TmpBase);
        }
        let (matcher, relative) = if let Some(relative) = below(path, APP_DIR) {
            (self.app.as_ref()?, relative)
        } else if let Some(relative) = below(path, LAYERS_DIR) {
            (self.layers.as_ref()?, relative)
        } else {
            return None;
        };
        let root_len = path.len() - relative.len();
        let index = self.selected_by(matcher, path, root_len, tree)?;
        Some(Explanation::Pattern {
            pattern: self.patterns[index].text.clone(),
            source: self.sources[index].clone(),
        })
    }

    /// The pattern that selects `path` or the nearest directory above it, top-down as the
    /// buildpack's walk decides (a selected directory covers its whole subtree).
    fn selected_by(
        &self,
        matcher: &Matcher,
        path: &str,
        root_len: usize,
        tree: &Tree,
    ) -> Option<usize> {
        if path.len() <= root_len {
            return None;
        }
        if let Some(known) = self.memo.borrow().get(path) {
            return *known;
        }
        let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
        let decided = if parent.len() >= root_len {
            self.selected_by(matcher, parent, root_len, tree)
        } else {
            None
        }
        .or_else(|| {
            let is_dir = tree.get(path).is_some_and(crate::tree::Node::is_dir);
            match matcher.decide(Path::new(&path[root_len..]), is_dir) {
                Decision::Matched(index) => Some(index),
                Decision::Unmatched => None,
            }
        });
        self.memo.borrow_mut().insert(path.to_owned(), decided);
        decided
    }
}

/// `path` relative to `root` when it is strictly below it (`workspace/a` below
/// `workspace` is `a`).
fn below<'p>(path: &'p str, root: &str) -> Option<&'p str> {
    path.strip_prefix(root)?.strip_prefix('/')
}

/// Whether absolute `path` is `base` or below it.
fn is_at_or_below(path: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    !base.is_empty()
        && (path == base
            || path
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Entry, EntryKind};

    fn tree(paths: &[(&str, bool)]) -> Tree {
        let entries: Vec<Entry> = paths
            .iter()
            .map(|(path, dir)| Entry {
                path: (*path).to_owned(),
                kind: if *dir {
                    EntryKind::Directory
                } else {
                    EntryKind::File
                },
                mode: 0o775,
                uid: 1001,
                gid: 1000,
                content: None,
            })
            .collect();
        let mut tree = Tree::default();
        tree.apply_layer(&entries).unwrap();
        tree
    }

    const LABEL_JSON: &str = r#"{"version":1,"build_user":{"uid":1001,"gid":1000},"tmp_base":"/tmp",
        "patterns":[{"pattern":"log/","source":".group-writable:1","root":"app","negated":false,"directories":1,"files":1,"changed":2},
                    {"pattern":"*.db","source":".group-writable:2","root":"app","negated":false,"directories":0,"files":1,"changed":1},
                    {"pattern":"!keep.db","source":".group-writable:3","root":"app","negated":true,"directories":0,"files":0,"changed":0},
                    {"pattern":"/layers/bp/store/","source":".group-writable:4","root":"layers","negated":false,"directories":1,"files":0,"changed":1}],
        "redirects":[{"kind":"env","id":"tmpdir","variable":"TMPDIR","value":"/tmp","when":"unset"},
                     {"kind":"path","id":"rails-tmp","path":"tmp","target":"/tmp/group-writable/rails-tmp","build_content":"none","seeded_files":0}]}"#;

    #[test]
    fn patterns_explain_what_they_select_and_the_subtree_below() {
        let tree = tree(&[
            ("workspace/log", true),
            ("workspace/log/a.log", false),
            ("workspace/data.db", false),
            ("workspace/keep.db", false),
            ("workspace/other", false),
            ("layers/bp/store", true),
            ("layers/bp/store/x", false),
            ("layers/bp/other", true),
        ]);
        let policy = Policy::read(LABEL_JSON, &tree).unwrap();
        assert!(policy.warnings.is_empty(), "{:?}", policy.warnings);
        let by = |path: &str| match policy.explain(path, &tree) {
            Some(Explanation::Pattern { source, .. }) => source,
            Some(other) => format!("{other:?}"),
            None => "-".to_owned(),
        };
        assert_eq!(by("workspace/log"), ".group-writable:1");
        assert_eq!(by("workspace/log/a.log"), ".group-writable:1");
        assert_eq!(by("workspace/data.db"), ".group-writable:2");
        assert_eq!(by("workspace/keep.db"), "-");
        assert_eq!(by("workspace/other"), "-");
        assert_eq!(by("workspace"), "-");
        assert_eq!(by("layers/bp/store/x"), ".group-writable:4");
        assert_eq!(by("layers/bp/other"), "-");
        assert_eq!(by("etc"), "-");
    }

    #[test]
    fn redirects_explain_their_targets_and_the_tmp_base() {
        let tree = tree(&[("tmp", true)]);
        let policy = Policy::read(LABEL_JSON, &tree).unwrap();
        assert!(policy.meant_for_read_only_root());
        assert_eq!(
            policy.explain("tmp", &tree),
            Some(Explanation::Redirect {
                id: "tmpdir".into()
            })
        );
        assert_eq!(
            policy.explain("workspace/tmp", &tree),
            Some(Explanation::Redirect {
                id: "rails-tmp".into()
            })
        );
        assert_eq!(policy.explain("tmpfoo", &tree), None);
        let without_redirects = Policy::read(
            r#"{"version":1,"build_user":{"uid":1,"gid":1},"tmp_base":"/tmp","patterns":[],"redirects":[]}"#,
            &tree,
        )
        .unwrap();
        assert!(!without_redirects.meant_for_read_only_root());
        assert_eq!(without_redirects.explain("tmp", &tree), None);
    }

    #[test]
    fn a_label_of_another_shape_is_refused() {
        assert!(Policy::read("{}", &Tree::default()).is_err());
        assert!(
            Policy::read(r#"{"version":2}"#, &Tree::default())
                .err()
                .unwrap()
                .contains("version 2, which this audit does not read")
        );
    }
}
