//! Example passes and redirects, for the tests of the label and of the build log.

use crate::pass::mode::Kind;
use crate::pass::patterns::{RootContext, parse_pattern_text};
use crate::pass::surface::SurfaceCounts;
use crate::pass::walk::PatternCounts;
use crate::pass::{ChangedPath, PassReport, PatternReport};
use crate::policy::label::{NamedCounts, SurfaceRecord};
use crate::redirects::{Applied, BuildContent, Outcome, Redirection, Skip, catalog};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A pass with a selecting, a re-including, an app and a layers pattern, a changed
/// path and a warning.
pub(crate) fn pass_report() -> PassReport {
    let has = |_: &str| true;
    let context = RootContext {
        app_dir: Path::new("/workspace"),
        layers_root: Path::new("/layers"),
        app_has_entry: &has,
    };
    let list = parse_pattern_text(
        ".group-writable",
        "log/\n!log/keep\n*.sqlite3\n/layers/x/cache/\n",
        &context,
    )
    .unwrap();
    let counts = [(3, 5, 2), (0, 0, 0), (0, 1, 1), (0, 0, 0)];
    PassReport {
        sources: vec![".group-writable".to_owned()],
        patterns: list
            .patterns
            .into_iter()
            .zip(counts)
            .map(|(pattern, (directories, files, changed))| PatternReport {
                pattern,
                counts: PatternCounts {
                    directories,
                    files,
                    changed,
                },
            })
            .collect(),
        warnings: vec!["a warning".to_owned()],
        changed_paths: vec![ChangedPath {
            path: PathBuf::from("/workspace/log"),
            kind: Kind::Directory,
            old_mode: 0o755,
            new_mode: 0o775,
        }],
        duration: Duration::from_millis(12),
        ..PassReport::default()
    }
}

/// Redirects of every outcome: two variables, a seeded and a dropped path, and skips
/// (one asked for).
pub(crate) fn applied() -> Vec<Applied> {
    let redirect = |id, requested, outcome| Redirection {
        entry: catalog::find(id).unwrap(),
        requested,
        outcome,
    };
    vec![
        redirect(
            "tmpdir",
            false,
            Outcome::Env {
                variable: "TMPDIR",
                value: "/tmp".into(),
                unless_home_writable: false,
            },
        ),
        redirect(
            "xdg-cache",
            false,
            Outcome::Env {
                variable: "XDG_CACHE_HOME",
                value: "/tmp/group-writable/xdg-cache".into(),
                unless_home_writable: true,
            },
        ),
        redirect(
            "rails-tmp",
            false,
            Outcome::Path {
                path: "tmp",
                target: "/tmp/group-writable/rails-tmp".into(),
                content: BuildContent::Seeded {
                    files: 2,
                    directories: 1,
                    bytes: 10,
                    copied_hard_links: 1,
                },
            },
        ),
        redirect(
            "rails-log",
            false,
            Outcome::Path {
                path: "log",
                target: "/tmp/group-writable/rails-log".into(),
                content: BuildContent::Dropped,
            },
        ),
        redirect(
            "php-sessions",
            false,
            Outcome::PhpIni {
                directive: "session.save_path",
                value: "/tmp".into(),
            },
        ),
        redirect("bootsnap", false, Outcome::Skipped(Skip::Missing)),
        redirect(
            "laravel-logs",
            true,
            Outcome::Skipped(Skip::EcosystemAbsent),
        ),
        redirect("npm-cache", false, Outcome::Skipped(Skip::EcosystemAbsent)),
    ]
}

/// A surface: named entries, the app's left writable (one world-writable), the layers'
/// made read-only, one redirected path.
pub(crate) fn surface() -> SurfaceRecord {
    SurfaceRecord {
        read_only: false,
        named: NamedCounts {
            directories: 3,
            files: 6,
        },
        app: SurfaceCounts {
            directories: 1,
            files: 2,
            world_writable: 2,
            world_writable_paths: vec!["/workspace/public".to_owned()],
            made_read_only: 0,
            redirected: 3,
        },
        layers: SurfaceCounts {
            made_read_only: 4,
            ..SurfaceCounts::default()
        },
        redirected: vec!["/workspace/tmp".to_owned()],
    }
}
