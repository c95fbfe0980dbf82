//! The catalog of well-known run-time writes: one table, as data, of the places apps
//! write to by default, per ecosystem, and how each is moved under the tmp base.
//!
//! Two kinds of entries:
//! - env redirects: a variable the tool reads, set at launch to a directory under the tmp
//!   base, only when the user has not set it;
//! - path redirects, where no variable exists: the app path becomes a symlink to
//!   `<tmp base>/group-writable/<id>`, and what the build left there is seeded into it at
//!   launch.
//!
//! Every entry cites the documentation of the knob or behaviour it relies on. The README's
//! redirect table lists the same entries; a unit test keeps the two in sync.

/// One catalog entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    /// Stable id: used in `BP_GROUP_WRITABLE_REDIRECTS`, the target directory name, the
    /// helper configuration and the image label.
    pub id: &'static str,
    /// The ecosystem, for the build log and the README.
    pub ecosystem: &'static str,
    /// App-relative files whose presence enables the entry (any one of them); empty means
    /// every app.
    pub markers: &'static [&'static str],
    pub redirect: Redirect,
}

/// How an entry moves its writes.
#[derive(Debug, PartialEq, Eq)]
pub enum Redirect {
    Env {
        variable: &'static str,
        target: EnvTarget,
        /// Only set when `$HOME` is not writable (the `XDG_*` variables: where `$HOME` is
        /// writable, the defaults below it work and belong to the user).
        unless_home_writable: bool,
        /// When the build leaves the variable unset: what the build left makes it
        /// unneeded, and setting it would throw away a valid cache.
        unneeded_when: Unneeded,
    },
    Path {
        /// App-relative directory, without a trailing `/`.
        path: &'static str,
        when: Presence,
        content: Content,
        /// Paths below `path` (relative to it) dropped from the seed: build caches the
        /// app does not read at run time, which would cost time and tmpfs memory to copy
        /// at every start.
        drop_from_seed: &'static [&'static str],
    },
    /// A PHP ini directive, set in an ini file of the helper layer whose directory is put
    /// first in `PHP_INI_SCAN_DIR` (a blank element keeping PHP's own scan directory), so
    /// the image's `conf.d` and any directory another buildpack or the user adds after it
    /// override it.
    PhpIni {
        directive: &'static str,
        /// The value is the tmp base (which exists at every launch: PHP creates no
        /// directory for it).
        value: PhpIniValue,
    },
}

/// What a [`Redirect::PhpIni`] directive is set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhpIniValue {
    /// The tmp base itself, PHP's own default for the directive (upstream PHP's
    /// `session.save_path` is empty, meaning the system's temporary directory; Debian
    /// changes it to `/var/lib/php/sessions`).
    TmpBase,
}

/// When an env redirect is left out at build, although its ecosystem is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unneeded {
    /// Never: the variable is always set.
    Never,
    /// The tool's own default is this app-relative directory, and a path redirect of the
    /// plan covers it: the default is then writable at launch and holds what the build
    /// left there (the path redirect's seed), which the variable would make the tool
    /// ignore.
    DefaultRedirected(&'static str),
    /// The bytecode the build left in the app and the layers is hash-based (PEP 552): it
    /// stays valid whatever the export does to mtimes, Python needs no writable
    /// `__pycache__` for it, and a prefix would make Python ignore it (and the run
    /// image's own bytecode) and compile everything again into the tmp base.
    HashBasedBytecode,
}

/// Where an env redirect points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvTarget {
    /// The tmp base itself (for `TMPDIR`).
    TmpBase,
    /// `<tmp base>/group-writable/<id>`, created at launch.
    OwnDirectory,
}

/// When a path redirect applies (its ecosystem being present).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Only when the build left the path there.
    Exists,
    /// Also when missing, as long as its parent directory exists: tools create the path
    /// at run time inside a directory the build leaves (`node_modules/`, `.next/`).
    ParentExists,
    /// Always: the framework creates the path, parents included, at run time. Missing
    /// parents are created at build to hold the symlink.
    Always,
}

/// What happens to what the build left at a path redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Kept in the helper layer and copied to the target at launch: the app needs it
    /// (compiled caches, `.gitignore`d directory skeletons, warmed framework caches).
    Seed,
    /// Dropped: a build cache the app does not need at run time, which would cost time to
    /// copy at every start (webpack's cache in `.next/cache` runs to hundreds of MB).
    Drop,
}

const PYTHON: &[&str] = &["requirements.txt", "pyproject.toml", "Pipfile", "setup.py"];
const NEXT: &[&str] = &[
    "next.config.js",
    "next.config.mjs",
    "next.config.cjs",
    "next.config.ts",
    "next.config.mts",
];

/// The catalog, in the order the build log and the README list it.
pub static CATALOG: &[Entry] = &[
    // Any app. TMPDIR: POSIX names it as the directory for temporary files
    // (https://pubs.opengroup.org/onlinepubs/9799919799/basedefs/V1_chap08.html), and
    // mktemp, Python (https://docs.python.org/3/library/tempfile.html#tempfile.gettempdir),
    // Ruby, Go and Node read it. Set to the tmp base so a non-default base is honoured.
    Entry {
        id: "tmpdir",
        ecosystem: "Any",
        markers: &[],
        redirect: Redirect::Env {
            variable: "TMPDIR",
            target: EnvTarget::TmpBase,
            unless_home_writable: false,
            unneeded_when: Unneeded::Never,
        },
    },
    // XDG Base Directory Specification: user caches in $XDG_CACHE_HOME, state (logs,
    // history) in $XDG_STATE_HOME, defaulting below $HOME
    // (https://specifications.freedesktop.org/basedir-spec/latest/).
    Entry {
        id: "xdg-cache",
        ecosystem: "Any",
        markers: &[],
        redirect: Redirect::Env {
            variable: "XDG_CACHE_HOME",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: true,
            unneeded_when: Unneeded::Never,
        },
    },
    Entry {
        id: "xdg-state",
        ecosystem: "Any",
        markers: &[],
        redirect: Redirect::Env {
            variable: "XDG_STATE_HOME",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: true,
            unneeded_when: Unneeded::Never,
        },
    },
    // Rails: `tmp/` holds "temporary files (like cache and pid files)"
    // (https://guides.rubyonrails.org/getting_started.html#directory-structure), "the
    // holding place for temporary files like process id files and cached actions"
    // (https://guides.rubyonrails.org/command_line.html#bin-rails-tmp); `rails server`
    // creates tmp/cache, tmp/pids and tmp/sockets at start, so it always exists at run
    // time. Seeded (a file store cache, `tmp/cache` of `config.cache_store = :file_store`,
    // is run-time data, and Bootsnap's cache in `tmp/cache/bootsnap` is what Bootsnap
    // reads at every boot: see `bootsnap` below), less Sprockets' cache
    // (`tmp/cache/assets`), which only `assets:precompile` reads and which runs to
    // hundreds of MB.
    Entry {
        id: "rails-tmp",
        ecosystem: "Ruby on Rails",
        markers: &["config/application.rb"],
        redirect: Redirect::Path {
            path: "tmp",
            when: Presence::Always,
            content: Content::Seed,
            drop_from_seed: &["cache/assets"],
        },
    },
    // Rails logs to `log/<environment>.log` unless told to log to STDOUT, and creates the
    // directory (https://guides.rubyonrails.org/debugging_rails_applications.html#the-logger).
    Entry {
        id: "rails-log",
        ecosystem: "Ruby on Rails",
        markers: &["config/application.rb"],
        redirect: Redirect::Path {
            path: "log",
            when: Presence::Always,
            content: Content::Seed,
            drop_from_seed: &[],
        },
    },
    // Bootsnap "writes to tmp/cache (or the path specified by ENV['BOOTSNAP_CACHE_DIR']),
    // and that directory must be writable" (https://github.com/rails/bootsnap#usage).
    // In a Rails app whose `tmp/` is redirected (`rails-tmp`), its default is writable and
    // seeded with the cache the build left (a boot at build, `assets:precompile`): the
    // variable is left unset, so Bootsnap finds that cache. Bootsnap keys each compiled
    // file on its source's mtime: the entries of files in the run image stay valid, those
    // of the app and the layers do not (the export sets their mtimes to 1980), unless
    // Bootsnap 1.18.3 or later revalidates them by content (`BOOTSNAP_REVALIDATE=1`).
    Entry {
        id: "bootsnap",
        ecosystem: "Ruby (Bootsnap)",
        markers: &["Gemfile"],
        redirect: Redirect::Env {
            variable: "BOOTSNAP_CACHE_DIR",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: false,
            unneeded_when: Unneeded::DefaultRedirected("tmp/cache"),
        },
    },
    // npm: the `cache` and `logs-dir` settings (logs default to `_logs` in the cache), and
    // "any environment variables that start with npm_config_ will be interpreted as a
    // configuration parameter", case-insensitively
    // (https://docs.npmjs.com/cli/v10/using-npm/config#cache,
    // https://docs.npmjs.com/cli/v10/using-npm/config#logs-dir,
    // https://docs.npmjs.com/cli/v10/using-npm/config#environment-variables).
    Entry {
        id: "npm-cache",
        ecosystem: "Node.js (npm)",
        markers: &["package.json"],
        redirect: Redirect::Env {
            variable: "NPM_CONFIG_CACHE",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: false,
            unneeded_when: Unneeded::Never,
        },
    },
    Entry {
        id: "npm-logs",
        ecosystem: "Node.js (npm)",
        markers: &["package.json"],
        redirect: Redirect::Env {
            variable: "NPM_CONFIG_LOGS_DIR",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: false,
            unneeded_when: Unneeded::Never,
        },
    },
    // `node_modules/.cache/<name>` is the shared convention of find-cache-dir
    // (https://github.com/sindresorhus/find-cache-dir#readme), used by babel-loader's
    // cacheDirectory (https://github.com/babel/babel-loader#options), ESLint loaders, nyc,
    // AVA and others; no variable moves it. A build cache: not seeded.
    Entry {
        id: "node-modules-cache",
        ecosystem: "Node.js",
        markers: &["package.json"],
        redirect: Redirect::Path {
            path: "node_modules/.cache",
            when: Presence::ParentExists,
            content: Content::Drop,
            drop_from_seed: &[],
        },
    },
    // Next.js writes its image optimization and ISR caches to `.next/cache` at run time
    // (https://nextjs.org/docs/app/guides/self-hosting#caching-and-isr,
    // https://nextjs.org/docs/app/api-reference/components/image#minimumcachettl). The
    // build leaves webpack's build cache there, which the server does not read: not seeded.
    Entry {
        id: "next-cache",
        ecosystem: "Next.js",
        markers: NEXT,
        redirect: Redirect::Path {
            path: ".next/cache",
            when: Presence::ParentExists,
            content: Content::Drop,
            drop_from_seed: &[],
        },
    },
    // Next.js 15.5 and 16 write the pages that incremental static regeneration renders at
    // run time to `.next/server/route-cache/` (the `ROUTE_CACHE_DIRECTORY` of
    // `next/dist/server/lib/route-cache-key.js`, joined to the server's dist directory in
    // `incremental-cache/file-system-cache.js`); the build does not create it. Next.js 13
    // and 14 write them beside the compiled pages, to `.next/server/pages/` and
    // `.next/server/app/`, which hold the server's code: see the README.
    Entry {
        id: "next-route-cache",
        ecosystem: "Next.js",
        markers: NEXT,
        redirect: Redirect::Path {
            path: ".next/server/route-cache",
            when: Presence::ParentExists,
            content: Content::Seed,
            drop_from_seed: &[],
        },
    },
    // Python 3.8+: PYTHONPYCACHEPREFIX moves the bytecode cache to a parallel tree
    // (https://docs.python.org/3/using/cmdline.html#envvar-PYTHONPYCACHEPREFIX), for
    // every module, the run image's standard library included. Not set when the build's
    // bytecode is hash-based (PEP 552, https://peps.python.org/pep-0552/; pip compiles so
    // when SOURCE_DATE_EPOCH is set, as Heroku's Python buildpack does): that bytecode is
    // valid in the image as it is.
    Entry {
        id: "python-pycache",
        ecosystem: "Python",
        markers: PYTHON,
        redirect: Redirect::Env {
            variable: "PYTHONPYCACHEPREFIX",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: false,
            unneeded_when: Unneeded::HashBasedBytecode,
        },
    },
    // Matplotlib's configuration and cache directory
    // (https://matplotlib.org/stable/install/environment_variables_faq.html#envvar-MPLCONFIGDIR).
    Entry {
        id: "matplotlib",
        ecosystem: "Python (Matplotlib)",
        markers: PYTHON,
        redirect: Redirect::Env {
            variable: "MPLCONFIGDIR",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: false,
            unneeded_when: Unneeded::Never,
        },
    },
    // PHP's file session handler writes to `session.save_path`
    // (https://www.php.net/manual/en/session.configuration.php#ini.session.save-path),
    // `/var/lib/php/sessions` in Debian's and Ubuntu's packages: read-only on a read-only
    // root, and owned by root. PHP reads every `*.ini` of the directories in
    // `PHP_INI_SCAN_DIR`, in order, a blank element standing for its compiled-in one
    // (https://www.php.net/manual/en/configuration.file.php#configuration.file.scan).
    Entry {
        id: "php-sessions",
        ecosystem: "PHP",
        markers: &["composer.json", "index.php"],
        redirect: Redirect::PhpIni {
            directive: "session.save_path",
            value: PhpIniValue::TmpBase,
        },
    },
    // Composer's home and cache (https://getcomposer.org/doc/03-cli.md#composer-home,
    // https://getcomposer.org/doc/03-cli.md#composer-cache-dir).
    Entry {
        id: "composer-home",
        ecosystem: "PHP (Composer)",
        markers: &["composer.json"],
        redirect: Redirect::Env {
            variable: "COMPOSER_HOME",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: false,
            unneeded_when: Unneeded::Never,
        },
    },
    Entry {
        id: "composer-cache",
        ecosystem: "PHP (Composer)",
        markers: &["composer.json"],
        redirect: Redirect::Env {
            variable: "COMPOSER_CACHE_DIR",
            target: EnvTarget::OwnDirectory,
            unless_home_writable: false,
            unneeded_when: Unneeded::Never,
        },
    },
    // Laravel: "directories within the storage and the bootstrap/cache directories should
    // be writable by your web server" (https://laravel.com/docs/12.x/installation#directory-permissions).
    // `storage/framework` holds compiled views, file caches and sessions, `storage/logs`
    // the logs (https://laravel.com/docs/12.x/structure#the-storage-directory). Not
    // `storage/app`: uploads are data that must outlive the container (mount a volume).
    Entry {
        id: "laravel-framework",
        ecosystem: "Laravel",
        markers: &["artisan"],
        redirect: Redirect::Path {
            path: "storage/framework",
            when: Presence::Exists,
            content: Content::Seed,
            drop_from_seed: &[],
        },
    },
    Entry {
        id: "laravel-logs",
        ecosystem: "Laravel",
        markers: &["artisan"],
        redirect: Redirect::Path {
            path: "storage/logs",
            when: Presence::Exists,
            content: Content::Seed,
            drop_from_seed: &[],
        },
    },
    // `bootstrap/cache` holds the framework's generated package, service, config and
    // route caches (https://laravel.com/docs/12.x/structure#the-bootstrap-directory):
    // seeded, since `php artisan optimize` at build fills it.
    Entry {
        id: "laravel-bootstrap-cache",
        ecosystem: "Laravel",
        markers: &["artisan"],
        redirect: Redirect::Path {
            path: "bootstrap/cache",
            when: Presence::Exists,
            content: Content::Seed,
            drop_from_seed: &[],
        },
    },
    // Symfony: "the var/ directory must be writable both by the web server and the command
    // line user" (https://symfony.com/doc/current/setup/file_permissions.html); the kernel
    // creates var/cache/<env> and var/log at run time
    // (https://symfony.com/doc/current/reference/configuration/kernel.html#kernel-cache-dir).
    // The cache is seeded, so a cache warmed at build stays warm.
    Entry {
        id: "symfony-cache",
        ecosystem: "Symfony",
        markers: &["symfony.lock"],
        redirect: Redirect::Path {
            path: "var/cache",
            when: Presence::Always,
            content: Content::Seed,
            drop_from_seed: &[],
        },
    },
    Entry {
        id: "symfony-log",
        ecosystem: "Symfony",
        markers: &["symfony.lock"],
        redirect: Redirect::Path {
            path: "var/log",
            when: Presence::Always,
            content: Content::Seed,
            drop_from_seed: &[],
        },
    },
];

/// The entry with this id.
#[must_use]
pub fn find(id: &str) -> Option<&'static Entry> {
    CATALOG.iter().find(|entry| entry.id == id)
}

/// Every id, comma-separated, for messages.
#[must_use]
pub fn ids() -> String {
    CATALOG
        .iter()
        .map(|entry| entry.id)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Entry {
    /// What the entry moves, for the build log and the README: a variable or a path.
    #[must_use]
    pub fn what(&self) -> String {
        match &self.redirect {
            Redirect::Env { variable, .. } => format!("${variable}"),
            Redirect::Path { path, .. } => format!("{path}/"),
            Redirect::PhpIni { directive, .. } => (*directive).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use group_writable_launch::contract;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_plain() {
        let mut seen = HashSet::new();
        let mut every = Vec::new();
        for entry in CATALOG {
            assert!(seen.insert(entry.id), "{} twice", entry.id);
            // The one rule for ids, and the helper configuration's rules for the rest:
            // what the catalog holds is what `contract::write` may write unchecked.
            let written = match entry.redirect {
                Redirect::Env {
                    variable,
                    target,
                    unless_home_writable,
                    ..
                } => contract::Entry::Env {
                    id: entry.id,
                    variable,
                    own_directory: target == EnvTarget::OwnDirectory,
                    unless_home_writable,
                },
                Redirect::Path {
                    path,
                    drop_from_seed,
                    ..
                } => {
                    for dropped in drop_from_seed {
                        assert!(is_plain_relative(dropped), "{dropped}");
                    }
                    contract::Entry::Path {
                        id: entry.id,
                        app_path: path,
                        seeded: true,
                    }
                }
                // Written by the build into an ini file, not into the helper's
                // configuration: its directive is a plain name.
                Redirect::PhpIni { directive, .. } => {
                    assert!(
                        directive
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'),
                        "{directive}"
                    );
                    assert!(contract::is_id(entry.id), "{}", entry.id);
                    continue;
                }
            };
            assert!(contract::is_id(entry.id), "{}", entry.id);
            assert!(contract::can_write(&written), "{written:?}");
            every.push(written);
        }
        let tmp_base = contract::TmpBase::new("/tmp").unwrap();
        let text = contract::write(&tmp_base, &every);
        let read_back = contract::Config::parse(&text).unwrap();
        assert_eq!(
            read_back.envs().count() + read_back.paths().count(),
            CATALOG
                .iter()
                .filter(|entry| !matches!(entry.redirect, Redirect::PhpIni { .. }))
                .count()
        );
        assert_eq!(find("rails-tmp").map(|entry| entry.id), Some("rails-tmp"));
        assert!(find("nope").is_none());
        assert!(ids().starts_with("tmpdir, xdg-cache, "));
    }

    #[test]
    fn variables_are_unique_and_plain() {
        let mut seen = HashSet::new();
        for entry in CATALOG {
            if let Redirect::Env { variable, .. } = entry.redirect {
                assert!(seen.insert(variable), "{variable} twice");
                assert!(
                    variable
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                );
            }
        }
    }

    /// A path inside another redirected path would be moved twice.
    #[test]
    fn paths_are_plain_and_never_nested() {
        let paths: Vec<&str> = CATALOG
            .iter()
            .filter_map(|entry| match entry.redirect {
                Redirect::Path { path, .. } => Some(path),
                Redirect::Env { .. } | Redirect::PhpIni { .. } => None,
            })
            .collect();
        for path in &paths {
            assert!(is_plain_relative(path), "{path}");
            for other in &paths {
                assert!(
                    path == other || !path.starts_with(&format!("{other}/")),
                    "{path} is inside {other}"
                );
            }
        }
    }

    fn is_plain_relative(path: &str) -> bool {
        !path.starts_with('/')
            && !path.ends_with('/')
            && path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..")
    }

    #[test]
    fn markers_are_relative_files() {
        for entry in CATALOG {
            for marker in entry.markers {
                assert!(
                    !marker.starts_with('/') && !marker.contains(".."),
                    "{marker}"
                );
            }
        }
    }

    /// The README's redirect table lists exactly the catalog, in order, with what each
    /// entry moves.
    #[test]
    fn readme_table_matches_the_catalog() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md");
        let rows: Vec<(String, String)> = readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                // | `id` | ecosystem | what | how | where |
                let id = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                find(id)?;
                Some((id.to_owned(), (*cells.get(3)?).to_owned()))
            })
            .collect();
        let expected: Vec<(String, String)> = CATALOG
            .iter()
            .map(|entry| (entry.id.to_owned(), format!("`{}`", entry.what())))
            .collect();
        assert_eq!(rows, expected, "the README redirect table is out of date");
    }

    /// The cells of every table row starting with `first` (a cell test), trimmed.
    fn table_rows(text: &str, first: impl Fn(&str) -> bool) -> Vec<Vec<String>> {
        text.lines()
            .filter_map(|line| {
                let cells: Vec<String> = line
                    .trim()
                    .strip_prefix('|')?
                    .strip_suffix('|')?
                    .split('|')
                    .map(|cell| cell.trim().to_owned())
                    .collect();
                first(cells.first()?).then_some(cells)
            })
            .collect()
    }

    /// The README's "Tested frameworks" table says what the real-framework suite tests:
    /// its rows are the rows of `tests/frameworks/apps.md`, which the suite reads, in order.
    #[test]
    fn readme_tested_frameworks_match_the_suite() {
        let root = env!("CARGO_MANIFEST_DIR");
        let apps = std::fs::read_to_string(format!("{root}/tests/frameworks/apps.md")).unwrap();
        let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
        // | `app` | framework and version | buildpacks | writes | does | result |
        let suite: Vec<Vec<String>> = table_rows(&apps, |cell| cell.starts_with('`'))
            .into_iter()
            .map(|cells| {
                vec![
                    cells[1].clone(),
                    cells[3].clone(),
                    cells[4].clone(),
                    cells[5].clone(),
                ]
            })
            .collect();
        assert!(suite.len() >= 5, "apps.md lists {} apps", suite.len());
        let section = readme
            .split("### Tested frameworks")
            .nth(1)
            .and_then(|rest| rest.split("\n### ").next())
            .expect("README.md has a Tested frameworks section");
        let frameworks: Vec<&str> = suite.iter().map(|row| row[0].as_str()).collect();
        let listed = table_rows(section, |cell| frameworks.contains(&cell));
        assert_eq!(
            listed, suite,
            "README.md's Tested frameworks table differs from tests/frameworks/apps.md"
        );
    }
}
