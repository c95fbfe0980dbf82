//! Which catalog entries apply to an app, and how: a pure function of the setting, the
//! tmp base and what the app holds (asked through [`AppProbe`], so tests need no files).
//!
//! An entry applies when it is selected (`auto`: all; a list: those named), its
//! ecosystem is present (one of its marker files exists), and, for a path redirect, the
//! path is the app's own directory (not behind a symlink), exists or will be created by
//! the framework, and is not made group-writable by the user's patterns: their explicit
//! choice wins. An env redirect is left out when what the build left makes it unneeded
//! ([`Unneeded`]): the tool's default lies in an applied path redirect (Bootsnap's
//! `tmp/cache` in Rails' `tmp/`), or the build's Python bytecode is hash-based.

use crate::redirects::catalog::{
    self, CATALOG, Content, Entry, EnvTarget, PhpIniValue, Presence, Redirect, Unneeded,
};
use crate::redirects::{Existing, Outcome, Planned, Redirection, Skip};
use crate::settings::RedirectSetting;
use group_writable_launch::contract::TmpBase;
use std::path::PathBuf;

/// What the app holds at a path (app-relative, without a trailing `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathState {
    Directory,
    Missing {
        /// Whether its parent directory exists (every ancestor being a directory).
        parent_exists: bool,
    },
    Symlink {
        target: PathBuf,
    },
    NotADirectory,
    /// An ancestor is a symlink (another buildpack's layer, typically) or not a directory:
    /// the path is not the app's own to replace.
    Blocked {
        ancestor: String,
        symlink: bool,
    },
}

/// How the Python bytecode the build left in the app and the launch layers is invalidated
/// (PEP 552: the flags word of each `.pyc` header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bytecode {
    /// No `.pyc` file.
    None,
    /// Some `.pyc` is timestamp-based: keyed on its source's mtime, which the export sets
    /// to 1980, so stale in the image.
    TimestampBased,
    /// Every `.pyc` is hash-based (checked or unchecked): valid in the image.
    HashBased,
    /// The scan met its bound (or a directory it could not read) before the end without a
    /// timestamp-based `.pyc`: what the rest holds is unknown, so the redirect stays.
    Unknown,
}

/// The questions the plan asks about the app.
pub trait AppProbe {
    /// Whether the app has this file (a marker).
    fn has(&self, relative: &str) -> bool;
    fn state(&self, relative: &str) -> PathState;
    /// The user's pattern (as `` `text` (file:line) ``) that makes this path, an ancestor
    /// or anything below it group-writable, if any.
    fn protected_by(&self, relative: &str) -> Option<String>;
    /// The Python bytecode the build left in the app and the launch layers.
    fn bytecode(&self) -> Bytecode;
}

/// Files in the app that hold a database (`SQLite`'s, by the names frameworks give them):
/// data, which the build log points out, since no redirect can keep it.
pub const DATA_FILE_CANDIDATES: &[&str] = &[
    "db.sqlite3",
    "db.sqlite",
    "database.sqlite",
    "db/production.sqlite3",
    "db/development.sqlite3",
    "storage/production.sqlite3",
    "database/database.sqlite",
];

/// The data files the app holds, for the build log's hint.
pub fn data_files(app: &dyn AppProbe) -> Vec<String> {
    DATA_FILE_CANDIDATES
        .iter()
        .filter(|file| app.has(file))
        .map(|file| (*file).to_owned())
        .collect()
}

/// `BP_GROUP_WRITABLE_REDIRECTS` names ids the catalog does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownIds(pub Vec<String>);

/// Decides every selected catalog entry, in catalog order.
pub fn plan(
    setting: &RedirectSetting,
    tmp_base: &TmpBase,
    app: &dyn AppProbe,
) -> Result<Vec<Planned>, UnknownIds> {
    let requested: &[String] = match setting {
        RedirectSetting::Off => return Ok(Vec::new()),
        RedirectSetting::Auto => &[],
        RedirectSetting::Only(ids) => {
            let unknown: Vec<String> = ids
                .iter()
                .filter(|id| catalog::find(id).is_none())
                .cloned()
                .collect();
            if !unknown.is_empty() {
                return Err(UnknownIds(unknown));
            }
            ids
        }
    };
    let selected = |entry: &Entry| {
        matches!(setting, RedirectSetting::Auto) || requested.iter().any(|id| id == entry.id)
    };
    // Listed by id: every selected entry is named.
    let named = !requested.is_empty();
    let mut planned: Vec<Planned> = CATALOG
        .iter()
        .filter(|entry| selected(entry))
        .map(|entry| Redirection {
            entry,
            requested: named,
            outcome: decide(entry, tmp_base, app, named),
        })
        .collect();
    // An env redirect whose tool's default lies in an applied path redirect is not needed
    // (the default is writable at launch, and holds the path redirect's seed).
    let covering = |default: &str| {
        planned.iter().find_map(|other| match other.outcome {
            Outcome::Path { path, .. } if default.starts_with(&format!("{path}/")) => {
                Some((other.entry.id, path))
            }
            _ => None,
        })
    };
    let unneeded: Vec<(usize, Skip)> = planned
        .iter()
        .enumerate()
        .filter_map(|(index, redirect)| match redirect.entry.redirect {
            Redirect::Env {
                unneeded_when: Unneeded::DefaultRedirected(default),
                ..
            } if redirect.outcome.is_applied() => covering(default)
                .map(|(by, path)| (index, Skip::DefaultRedirected { default, by, path })),
            _ => None,
        })
        .collect();
    for (index, skip) in unneeded {
        planned[index].outcome = Outcome::Skipped(skip);
    }
    Ok(planned)
}

/// `named`: the setting lists the entry's id (the user asked for it by name).
fn decide(
    entry: &'static Entry,
    tmp_base: &TmpBase,
    app: &dyn AppProbe,
    named: bool,
) -> Outcome<Existing> {
    if !entry.markers.is_empty() && !entry.markers.iter().any(|marker| app.has(marker)) {
        return Outcome::Skipped(Skip::EcosystemAbsent);
    }
    let own_target = tmp_base.target(entry.id);
    let (path, when, content) = match entry.redirect {
        Redirect::PhpIni { directive, value } => {
            return Outcome::PhpIni {
                directive,
                value: match value {
                    PhpIniValue::TmpBase => tmp_base.as_str().to_owned(),
                },
            };
        }
        // Named, the prefix is set whatever the bytecode: the user knows what the app
        // compiles at run time.
        Redirect::Env {
            unneeded_when: Unneeded::HashBasedBytecode,
            ..
        } if !named && app.bytecode() == Bytecode::HashBased => {
            return Outcome::Skipped(Skip::HashBasedBytecode);
        }
        Redirect::Env {
            variable,
            target,
            unless_home_writable,
            ..
        } => {
            return Outcome::Env {
                variable,
                value: match target {
                    EnvTarget::TmpBase => tmp_base.as_str().to_owned(),
                    EnvTarget::OwnDirectory => own_target,
                },
                unless_home_writable,
            };
        }
        Redirect::Path {
            path,
            when,
            content,
            ..
        } => (path, when, content),
    };
    let existing = match app.state(path) {
        PathState::Directory => match content {
            Content::Seed => Existing::Seed,
            Content::Drop => Existing::Drop,
        },
        PathState::Missing { parent_exists } => match when {
            Presence::Exists => return Outcome::Skipped(Skip::Missing),
            Presence::ParentExists if !parent_exists => {
                return Outcome::Skipped(Skip::ParentMissing);
            }
            Presence::ParentExists | Presence::Always => Existing::Nothing,
        },
        PathState::Symlink { target } if target.as_os_str() == own_target.as_str() => {
            Existing::Linked
        }
        PathState::Symlink { target } => return Outcome::Skipped(Skip::OtherSymlink { target }),
        PathState::NotADirectory => return Outcome::Skipped(Skip::NotADirectory),
        PathState::Blocked { ancestor, symlink } => {
            return Outcome::Skipped(Skip::Blocked { ancestor, symlink });
        }
    };
    if let Some(pattern) = app.protected_by(path) {
        return Outcome::Skipped(Skip::Protected { pattern });
    }
    Outcome::Path {
        path,
        target: own_target,
        content: existing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An app described by its files, path states and protected paths.
    #[derive(Default)]
    struct FakeApp {
        files: Vec<&'static str>,
        states: HashMap<&'static str, PathState>,
        protected: HashMap<&'static str, &'static str>,
        bytecode: Option<Bytecode>,
    }

    impl AppProbe for FakeApp {
        fn has(&self, relative: &str) -> bool {
            self.files.contains(&relative)
        }
        fn state(&self, relative: &str) -> PathState {
            self.states
                .get(relative)
                .cloned()
                .unwrap_or(PathState::Missing {
                    parent_exists: false,
                })
        }
        fn protected_by(&self, relative: &str) -> Option<String> {
            self.protected
                .get(relative)
                .map(|&pattern| pattern.to_owned())
        }
        fn bytecode(&self) -> Bytecode {
            self.bytecode.unwrap_or(Bytecode::None)
        }
    }

    /// An outcome, less what the catalog fixes (the variable, the path).
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Seen {
        Env {
            value: String,
        },
        PhpIni {
            directive: &'static str,
            value: String,
        },
        Path {
            target: String,
            existing: Existing,
        },
        Skipped(Skip),
    }

    fn seen(outcome: &Outcome<Existing>) -> Seen {
        match outcome {
            Outcome::Env { value, .. } => Seen::Env {
                value: value.clone(),
            },
            Outcome::Path {
                target, content, ..
            } => Seen::Path {
                target: target.clone(),
                existing: *content,
            },
            Outcome::PhpIni { directive, value } => Seen::PhpIni {
                directive,
                value: value.clone(),
            },
            Outcome::Skipped(skip) => Seen::Skipped(skip.clone()),
        }
    }

    fn tmp(base: &str) -> TmpBase {
        TmpBase::new(base).unwrap()
    }

    fn applied(decisions: &[Planned]) -> Vec<(&'static str, Seen)> {
        decisions
            .iter()
            .filter(|decision| decision.outcome.is_applied())
            .map(|decision| (decision.entry.id, seen(&decision.outcome)))
            .collect()
    }

    fn outcome_of(decisions: &[Planned], id: &str) -> Seen {
        decisions
            .iter()
            .find(|decision| decision.entry.id == id)
            .map_or_else(
                || panic!("no decision for {id}"),
                |decision| seen(&decision.outcome),
            )
    }

    fn env(value: &str) -> Seen {
        Seen::Env {
            value: value.to_owned(),
        }
    }

    fn path(id: &str, existing: Existing) -> Seen {
        Seen::Path {
            target: format!("/tmp/group-writable/{id}"),
            existing,
        }
    }

    #[test]
    fn an_empty_app_gets_the_generic_entries_only() {
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &FakeApp::default()).unwrap();
        assert_eq!(
            applied(&decisions),
            [
                ("tmpdir", env("/tmp")),
                ("xdg-cache", env("/tmp/group-writable/xdg-cache")),
                ("xdg-state", env("/tmp/group-writable/xdg-state")),
            ]
        );
        assert_eq!(
            outcome_of(&decisions, "rails-tmp"),
            Seen::Skipped(Skip::EcosystemAbsent)
        );
    }

    #[test]
    fn the_tmp_base_is_the_build_setting() {
        let decisions = plan(
            &RedirectSetting::Auto,
            &tmp("/run/tmp"),
            &FakeApp::default(),
        )
        .unwrap();
        assert_eq!(outcome_of(&decisions, "tmpdir"), env("/run/tmp"));
        assert_eq!(
            outcome_of(&decisions, "xdg-cache"),
            env("/run/tmp/group-writable/xdg-cache")
        );
    }

    #[test]
    fn rails_paths_apply_even_when_missing_and_seed_what_exists() {
        let app = FakeApp {
            files: vec!["Gemfile", "config/application.rb"],
            states: HashMap::from([("tmp", PathState::Directory)]),
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
        assert_eq!(
            outcome_of(&decisions, "rails-tmp"),
            path("rails-tmp", Existing::Seed)
        );
        assert_eq!(
            outcome_of(&decisions, "rails-log"),
            path("rails-log", Existing::Nothing)
        );
    }

    /// Bootsnap's default, `tmp/cache`, lies in `rails-tmp`'s path: `BOOTSNAP_CACHE_DIR`
    /// is left unset, so Bootsnap reads the cache the build left there, from the seed.
    /// Without that path redirect (not selected, protected, or no Rails), it is set.
    #[test]
    fn bootsnap_keeps_its_default_where_rails_tmp_redirects_it() {
        let rails = FakeApp {
            files: vec!["Gemfile", "config/application.rb"],
            states: HashMap::from([("tmp", PathState::Directory)]),
            ..FakeApp::default()
        };
        let redirected = Seen::Skipped(Skip::DefaultRedirected {
            default: "tmp/cache",
            by: "rails-tmp",
            path: "tmp",
        });
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &rails).unwrap();
        assert_eq!(outcome_of(&decisions, "bootsnap"), redirected);
        // Created at launch (no tmp/ at build): the same.
        let unbuilt = FakeApp {
            files: vec!["Gemfile", "config/application.rb"],
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &unbuilt).unwrap();
        assert_eq!(outcome_of(&decisions, "bootsnap"), redirected);

        let set = env("/tmp/group-writable/bootsnap");
        let only = RedirectSetting::Only(vec!["bootsnap".into()]);
        let decisions = plan(&only, &tmp("/tmp"), &rails).unwrap();
        assert_eq!(outcome_of(&decisions, "bootsnap"), set);
        let protected = FakeApp {
            protected: HashMap::from([("tmp", "`tmp/` (.group-writable:1)")]),
            ..rails
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &protected).unwrap();
        assert!(matches!(
            outcome_of(&decisions, "rails-tmp"),
            Seen::Skipped(Skip::Protected { .. })
        ));
        assert_eq!(outcome_of(&decisions, "bootsnap"), set);
        let ruby = FakeApp {
            files: vec!["Gemfile"],
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &ruby).unwrap();
        assert_eq!(outcome_of(&decisions, "bootsnap"), set);
    }

    /// Bootsnap's cache is seeded with `tmp/`; Sprockets' is not.
    #[test]
    fn the_rails_seed_keeps_bootsnap_and_drops_sprockets() {
        let Some(Entry {
            redirect: Redirect::Path { drop_from_seed, .. },
            ..
        }) = catalog::find("rails-tmp")
        else {
            panic!("rails-tmp is a path redirect")
        };
        assert_eq!(*drop_from_seed, ["cache/assets"]);
    }

    #[test]
    fn a_gemfile_alone_is_ruby_but_not_rails() {
        let app = FakeApp {
            files: vec!["Gemfile"],
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
        assert!(matches!(
            outcome_of(&decisions, "bootsnap"),
            Seen::Env { .. }
        ));
        assert_eq!(
            outcome_of(&decisions, "rails-tmp"),
            Seen::Skipped(Skip::EcosystemAbsent)
        );
    }

    #[test]
    fn node_caches_need_their_parent_and_are_dropped() {
        let with_modules = FakeApp {
            files: vec!["package.json", "next.config.mjs"],
            states: HashMap::from([
                ("node_modules/.cache", PathState::Directory),
                (
                    ".next/cache",
                    PathState::Missing {
                        parent_exists: true,
                    },
                ),
            ]),
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &with_modules).unwrap();
        assert_eq!(
            outcome_of(&decisions, "node-modules-cache"),
            path("node-modules-cache", Existing::Drop)
        );
        assert_eq!(
            outcome_of(&decisions, "next-cache"),
            path("next-cache", Existing::Nothing)
        );
        assert_eq!(
            outcome_of(&decisions, "npm-cache"),
            env("/tmp/group-writable/npm-cache")
        );

        let without = FakeApp {
            files: vec!["package.json"],
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &without).unwrap();
        assert_eq!(
            outcome_of(&decisions, "node-modules-cache"),
            Seen::Skipped(Skip::ParentMissing)
        );
        assert_eq!(
            outcome_of(&decisions, "next-cache"),
            Seen::Skipped(Skip::EcosystemAbsent)
        );
    }

    #[test]
    fn node_modules_in_a_layer_is_left_to_its_buildpack() {
        let app = FakeApp {
            files: vec!["package.json"],
            states: HashMap::from([(
                "node_modules/.cache",
                PathState::Blocked {
                    ancestor: "node_modules".into(),
                    symlink: true,
                },
            )]),
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
        let outcome = outcome_of(&decisions, "node-modules-cache");
        assert_eq!(
            outcome,
            Seen::Skipped(Skip::Blocked {
                ancestor: "node_modules".into(),
                symlink: true
            })
        );
        let Seen::Skipped(skip) = outcome else {
            unreachable!()
        };
        assert!(skip.to_string().contains("`node_modules` is a symlink"));
    }

    /// Next.js 15.5 and 16 create `.next/server/route-cache` for ISR at run time.
    #[test]
    fn next_route_cache_needs_the_server_directory() {
        let built = FakeApp {
            files: vec!["package.json", "next.config.js"],
            states: HashMap::from([(
                ".next/server/route-cache",
                PathState::Missing {
                    parent_exists: true,
                },
            )]),
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &built).unwrap();
        assert_eq!(
            outcome_of(&decisions, "next-route-cache"),
            path("next-route-cache", Existing::Nothing)
        );
        let unbuilt = FakeApp {
            files: vec!["package.json", "next.config.js"],
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &unbuilt).unwrap();
        assert_eq!(
            outcome_of(&decisions, "next-route-cache"),
            Seen::Skipped(Skip::ParentMissing)
        );
    }

    #[test]
    fn php_sessions_go_to_the_tmp_base() {
        for marker in ["index.php", "composer.json"] {
            let app = FakeApp {
                files: vec![marker],
                ..FakeApp::default()
            };
            let decisions = plan(&RedirectSetting::Auto, &tmp("/run/tmp"), &app).unwrap();
            assert_eq!(
                outcome_of(&decisions, "php-sessions"),
                Seen::PhpIni {
                    directive: "session.save_path",
                    value: "/run/tmp".into()
                },
                "{marker}"
            );
        }
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &FakeApp::default()).unwrap();
        assert_eq!(
            outcome_of(&decisions, "php-sessions"),
            Seen::Skipped(Skip::EcosystemAbsent)
        );
    }

    #[test]
    fn data_files_are_the_databases_the_app_holds() {
        let app = FakeApp {
            files: vec!["manage.py", "db.sqlite3", "db/production.sqlite3"],
            ..FakeApp::default()
        };
        assert_eq!(data_files(&app), ["db.sqlite3", "db/production.sqlite3"]);
        assert!(data_files(&FakeApp::default()).is_empty());
    }

    #[test]
    fn laravel_paths_apply_only_where_they_exist() {
        let app = FakeApp {
            files: vec!["composer.json", "artisan"],
            states: HashMap::from([
                ("storage/framework", PathState::Directory),
                ("bootstrap/cache", PathState::Directory),
                ("storage/logs", PathState::NotADirectory),
            ]),
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
        assert_eq!(
            outcome_of(&decisions, "laravel-framework"),
            path("laravel-framework", Existing::Seed)
        );
        assert_eq!(
            outcome_of(&decisions, "laravel-bootstrap-cache"),
            path("laravel-bootstrap-cache", Existing::Seed)
        );
        assert_eq!(
            outcome_of(&decisions, "laravel-logs"),
            Seen::Skipped(Skip::NotADirectory)
        );
        assert!(matches!(
            outcome_of(&decisions, "composer-home"),
            Seen::Env { .. }
        ));
        assert_eq!(
            outcome_of(&decisions, "symfony-cache"),
            Seen::Skipped(Skip::EcosystemAbsent)
        );
    }

    #[test]
    fn symfony_var_applies_always() {
        let app = FakeApp {
            files: vec!["composer.json", "symfony.lock"],
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
        assert_eq!(
            outcome_of(&decisions, "symfony-cache"),
            path("symfony-cache", Existing::Nothing)
        );
        assert_eq!(
            outcome_of(&decisions, "symfony-log"),
            path("symfony-log", Existing::Nothing)
        );
    }

    #[test]
    fn python_markers() {
        for marker in ["requirements.txt", "pyproject.toml", "Pipfile", "setup.py"] {
            let app = FakeApp {
                files: vec![marker],
                ..FakeApp::default()
            };
            let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
            assert_eq!(
                outcome_of(&decisions, "python-pycache"),
                env("/tmp/group-writable/python-pycache"),
                "{marker}"
            );
            assert!(matches!(
                outcome_of(&decisions, "matplotlib"),
                Seen::Env { .. }
            ));
        }
    }

    /// Hash-based bytecode is valid in the image: no prefix. Timestamp-based bytecode
    /// (stale after the export) or none: the prefix. Named in the setting: the prefix.
    #[test]
    fn python_pycache_is_not_needed_for_hash_based_bytecode_unless_named() {
        for (bytecode, expected) in [
            (Bytecode::HashBased, Seen::Skipped(Skip::HashBasedBytecode)),
            (
                Bytecode::TimestampBased,
                env("/tmp/group-writable/python-pycache"),
            ),
            (Bytecode::None, env("/tmp/group-writable/python-pycache")),
        ] {
            let app = FakeApp {
                files: vec!["requirements.txt"],
                bytecode: Some(bytecode),
                ..FakeApp::default()
            };
            let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
            assert_eq!(
                outcome_of(&decisions, "python-pycache"),
                expected,
                "{bytecode:?}"
            );
            assert!(matches!(outcome_of(&decisions, "tmpdir"), Seen::Env { .. }));
            // Named in the setting, the prefix is set whatever the bytecode.
            let named = RedirectSetting::Only(vec!["python-pycache".into()]);
            let decisions = plan(&named, &tmp("/tmp"), &app).unwrap();
            assert_eq!(
                outcome_of(&decisions, "python-pycache"),
                env("/tmp/group-writable/python-pycache"),
                "{bytecode:?}"
            );
        }
    }

    #[test]
    fn the_users_patterns_win() {
        let app = FakeApp {
            files: vec!["config/application.rb"],
            states: HashMap::from([("log", PathState::Directory)]),
            protected: HashMap::from([("log", "`log/` (.group-writable:1)")]),
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
        let outcome = outcome_of(&decisions, "rails-log");
        assert_eq!(
            outcome,
            Seen::Skipped(Skip::Protected {
                pattern: "`log/` (.group-writable:1)".into()
            })
        );
        assert_eq!(
            outcome_of(&decisions, "rails-tmp"),
            path("rails-tmp", Existing::Nothing)
        );
    }

    #[test]
    fn symlinks_at_the_path() {
        let app = FakeApp {
            files: vec!["config/application.rb"],
            states: HashMap::from([
                (
                    "tmp",
                    PathState::Symlink {
                        target: "/tmp/group-writable/rails-tmp".into(),
                    },
                ),
                (
                    "log",
                    PathState::Symlink {
                        target: "/var/log/app".into(),
                    },
                ),
            ]),
            ..FakeApp::default()
        };
        let decisions = plan(&RedirectSetting::Auto, &tmp("/tmp"), &app).unwrap();
        assert_eq!(
            outcome_of(&decisions, "rails-tmp"),
            path("rails-tmp", Existing::Linked)
        );
        assert_eq!(
            outcome_of(&decisions, "rails-log"),
            Seen::Skipped(Skip::OtherSymlink {
                target: "/var/log/app".into()
            })
        );
    }

    #[test]
    fn off_plans_nothing() {
        assert!(
            plan(&RedirectSetting::Off, &tmp("/tmp"), &FakeApp::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_list_selects_entries_still_only_where_their_ecosystem_is() {
        let setting = RedirectSetting::Only(vec!["tmpdir".into(), "rails-log".into()]);
        let decisions = plan(&setting, &tmp("/tmp"), &FakeApp::default()).unwrap();
        let ids: Vec<&str> = decisions.iter().map(|decision| decision.entry.id).collect();
        assert_eq!(ids, ["tmpdir", "rails-log"]);
        assert!(decisions.iter().all(|decision| decision.requested));
        assert_eq!(seen(&decisions[0].outcome), env("/tmp"));
        assert_eq!(
            seen(&decisions[1].outcome),
            Seen::Skipped(Skip::EcosystemAbsent)
        );
    }

    #[test]
    fn unknown_ids_are_an_error_listing_the_valid_ones() {
        let setting = RedirectSetting::Only(vec!["tmpdir".into(), "rails".into(), "x".into()]);
        let error = plan(&setting, &tmp("/tmp"), &FakeApp::default()).unwrap_err();
        assert_eq!(error, UnknownIds(vec!["rails".into(), "x".into()]));
        let message = error.to_string();
        assert!(message.contains("the ids `rails`, `x`"), "{message}");
        assert!(message.contains(&catalog::ids()), "{message}");
    }
}
