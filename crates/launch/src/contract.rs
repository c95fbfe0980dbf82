//! The build-to-launch contract: the names both sides agree on, and the build's
//! decisions as the exec.d helper reads them at every launch, a tiny, versioned,
//! line-oriented text file in the helper's layer, written at build and parsed at launch
//! by this one module. The buildpack imports it to write; the helper, to read.
//!
//! Why not TOML or JSON: the helper runs before every app start and must stay small and
//! quick, so it links neither `toml` nor `serde`. The format needs no escaping: every
//! value is a plain path or name without whitespace (the tmp base is checked when it is
//! read, the rest comes from the catalog), and the parser refuses anything else.
//!
//! ```text
//! group-writable-redirects 1
//! base /tmp
//! env tmpdir TMPDIR /tmp always
//! env xdg-cache XDG_CACHE_HOME /tmp/group-writable/xdg-cache unless-home-writable
//! path rails-tmp tmp /tmp/group-writable/rails-tmp seeds/rails-tmp
//! path rails-log log /tmp/group-writable/rails-log -
//! end
//! ```
//!
//! Fields are separated by one space. `env` lines: id, variable, value (the tmp base or a
//! directory below `<base>/group-writable/`), and `always` or `unless-home-writable`.
//! `path` lines: id, the app-relative path that is now a symlink, its target below
//! `<base>/group-writable/`, and the seed directory relative to the layer (or `-`). The
//! final `end` line tells a complete file from a truncated one.

use std::fmt;
use std::fmt::Write as _;

/// The helper's name: its bin target, its file in `exec.d/`, the prefix of its messages.
pub const PROGRAM: &str = "group-writable-redirects";
/// `BPL_GROUP_WRITABLE_REDIRECTS=off` turns the helper off at run time.
pub const SWITCH: &str = "BPL_GROUP_WRITABLE_REDIRECTS";
/// `BPL_GROUP_WRITABLE_DEBUG=true` prints what the helper did to stderr.
pub const DEBUG: &str = "BPL_GROUP_WRITABLE_DEBUG";
/// The directory under the tmp base that holds every target of our own:
/// `<tmp base>/group-writable/<id>` (see [`TmpBase::target`]).
pub const OWN_DIRECTORY: &str = "group-writable";
/// The directory of seeds in the helper layer: `seeds/<id>` (see [`seed`]).
pub const SEEDS: &str = "seeds";

/// A tmp base: a plain absolute directory path (`/tmp`), the one rule for
/// `BP_GROUP_WRITABLE_TMP`. It is written into symlinks and into the configuration, and
/// the configuration has no escaping, so each segment is a plain name: printable ASCII,
/// no `"` or `\`, not `.` or `..`, not empty (so no trailing `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmpBase(String);

impl TmpBase {
    /// The tmp base `value`, when it follows the rule.
    #[must_use]
    pub fn new(value: &str) -> Option<TmpBase> {
        is_plain_absolute(value).then(|| TmpBase(value.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the tmp base is `directory` or lies below it (a tmp base inside the app
    /// would make the app's redirect symlinks point into the app itself: a loop on a
    /// read-only root).
    #[must_use]
    pub fn is_within(&self, directory: &std::path::Path) -> bool {
        std::path::Path::new(&self.0).starts_with(directory)
    }

    /// The target of the redirect `id`: `<tmp base>/group-writable/<id>`.
    #[must_use]
    pub fn target(&self, id: &str) -> String {
        format!("{}/{OWN_DIRECTORY}/{id}", self.0)
    }
}

impl fmt::Display for TmpBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The seed directory of the redirect `id`, relative to the helper layer: `seeds/<id>`.
#[must_use]
pub fn seed(id: &str) -> String {
    format!("{SEEDS}/{id}")
}

/// The file name, in the helper's layer (beside `exec.d/`, which may hold only programs).
pub const FILE_NAME: &str = "redirects.conf";
/// The first line. The number changes with any change the parser of an older helper
/// would misread.
pub const HEADER: &str = "group-writable-redirects 1";
const END: &str = "end";
const ALWAYS: &str = "always";
const UNLESS_HOME_WRITABLE: &str = "unless-home-writable";
const NO_SEED: &str = "-";

/// The helper's configuration: the text, checked whole, read entry by entry on demand
/// (the helper keeps no lists: it allocates as little as it can on its hot path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config<'a> {
    /// The tmp base (`/tmp`), fixed at build.
    pub tmp_base: &'a str,
    /// The entry lines, between the `base` line and the `end` line.
    entries: &'a str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvRedirect<'a> {
    pub id: &'a str,
    pub variable: &'a str,
    /// A directory: the tmp base itself, or one to create below our own directory.
    pub value: &'a str,
    pub unless_home_writable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathRedirect<'a> {
    pub id: &'a str,
    /// The app-relative path replaced by a symlink (for messages).
    pub app_path: &'a str,
    /// The directory the symlink points to.
    pub target: &'a str,
    /// The seed directory, relative to the layer, when the build left content.
    pub seed: Option<&'a str>,
}

/// Why a configuration could not be read (shown as the helper's `messages` show it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based; 0 for the file as a whole.
    pub line: usize,
    pub problem: &'static str,
}

/// One entry line.
enum Line<'a> {
    Env(EnvRedirect<'a>),
    Path(PathRedirect<'a>),
    End,
}

/// One redirect as the build records it. The values the helper reads (an env value, a
/// path's target and seed) are derived from the id here, so they cannot disagree with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    Env {
        id: &'a str,
        variable: &'a str,
        /// The value is the redirect's own directory under the tmp base (rather than the
        /// tmp base itself).
        own_directory: bool,
        unless_home_writable: bool,
    },
    Path {
        id: &'a str,
        /// App-relative, without a trailing `/`.
        app_path: &'a str,
        /// Whether the build left content, kept as the seed.
        seeded: bool,
    },
}

/// The file's text for these redirects: env redirects first, then path redirects, each
/// in the given order. The ids, variables and app paths come from the catalog, whose unit
/// tests check them against this format's rules ([`is_id`], ...), and the tmp base is a
/// [`TmpBase`], so every line reads back as written (a unit test checks that too).
#[must_use]
pub fn write(tmp_base: &TmpBase, entries: &[Entry<'_>]) -> String {
    let mut text = format!("{HEADER}\nbase {tmp_base}\n");
    for entry in entries {
        if let Entry::Env {
            id,
            variable,
            own_directory,
            unless_home_writable,
        } = *entry
        {
            let condition = if unless_home_writable {
                UNLESS_HOME_WRITABLE
            } else {
                ALWAYS
            };
            let value = if own_directory {
                tmp_base.target(id)
            } else {
                tmp_base.as_str().to_owned()
            };
            let _ = writeln!(text, "env {id} {variable} {value} {condition}");
        }
    }
    for entry in entries {
        if let Entry::Path {
            id,
            app_path,
            seeded,
        } = *entry
        {
            let target = tmp_base.target(id);
            let seed = if seeded { seed(id) } else { NO_SEED.to_owned() };
            let _ = writeln!(text, "path {id} {app_path} {target} {seed}");
        }
    }
    text.push_str(END);
    text.push('\n');
    text
}

/// Whether `entry` follows this format's rules, so that [`write()`] writes it as a line
/// the helper reads back: for the catalog's unit test.
#[must_use]
pub fn can_write(entry: &Entry<'_>) -> bool {
    match *entry {
        Entry::Env { id, variable, .. } => is_id(id) && is_variable(variable),
        Entry::Path { id, app_path, .. } => is_id(id) && is_plain_relative(app_path),
    }
}

impl<'a> Config<'a> {
    /// Parses the file's text, refusing anything it does not fully understand.
    ///
    /// # Errors
    ///
    /// A wrong header or version, an unknown or malformed line, a value that is not a
    /// plain path or name, or a missing `end` line.
    pub fn parse(text: &'a str) -> Result<Config<'a>, ConfigError> {
        let error = |line, problem| ConfigError { line, problem };
        let body = text.strip_suffix('\n').unwrap_or(text);
        let (header, rest) = body.split_once('\n').unwrap_or((body, ""));
        if header != HEADER {
            return Err(if header.starts_with("group-writable-redirects ") {
                error(
                    1,
                    "written by another version of group-writable (the version number differs)",
                )
            } else {
                error(1, "not a group-writable redirects file")
            });
        }
        let (base_line, entries) = rest.split_once('\n').unwrap_or((rest, ""));
        let tmp_base = match base_line.strip_prefix("base ") {
            Some(base) if is_plain_absolute(base) => base,
            Some(_) => return Err(error(2, "the tmp base is not a plain absolute path")),
            None if base_line.is_empty() && entries.is_empty() => {
                return Err(error(0, "the file is incomplete (no `end` line)"));
            }
            None => return Err(error(2, "the second line must name the tmp base")),
        };
        if entries.is_empty() {
            return Err(error(0, "the file is incomplete (no `end` line)"));
        }
        let mut ended = false;
        for (index, line) in entries.split('\n').enumerate() {
            let number = index + 3;
            if ended {
                return Err(error(number, "text after the `end` line"));
            }
            match parse_line(tmp_base, line) {
                Ok(Line::End) => ended = true,
                Ok(_) => {}
                Err(problem) => return Err(error(number, problem)),
            }
        }
        if !ended {
            return Err(error(0, "the file is incomplete (no `end` line)"));
        }
        Ok(Config { tmp_base, entries })
    }

    /// The env redirects, in order.
    pub fn envs(&self) -> impl Iterator<Item = EnvRedirect<'a>> + use<'a> {
        self.lines().filter_map(|line| match line {
            Line::Env(env) => Some(env),
            _ => None,
        })
    }

    /// The path redirects, in order.
    pub fn paths(&self) -> impl Iterator<Item = PathRedirect<'a>> + use<'a> {
        self.lines().filter_map(|line| match line {
            Line::Path(path) => Some(path),
            _ => None,
        })
    }

    /// Every entry line, read again (`parse` checked them all; nothing is kept, so the
    /// helper allocates nothing for them).
    fn lines(&self) -> impl Iterator<Item = Line<'a>> + use<'a> {
        let tmp_base = self.tmp_base;
        self.entries
            .split('\n')
            .filter_map(move |line| parse_line(tmp_base, line).ok())
    }
}

/// Reads one entry line.
fn parse_line<'a>(tmp_base: &str, line: &'a str) -> Result<Line<'a>, &'static str> {
    let mut fields = line.split(' ');
    let keyword = fields.next().unwrap_or_default();
    let mut next = || fields.next();
    let fields = [next(), next(), next(), next(), next()];
    match (keyword, fields) {
        (END, [None, ..]) => Ok(Line::End),
        ("env", [Some(id), Some(variable), Some(value), Some(condition), None]) => {
            let unless_home_writable = match condition {
                ALWAYS => false,
                UNLESS_HOME_WRITABLE => true,
                _ => return Err("unknown env condition"),
            };
            if !is_id(id) || !is_variable(variable) {
                return Err("malformed id or variable name");
            }
            if value != tmp_base && !is_target_of(tmp_base, id, value) {
                return Err("env value outside the tmp base");
            }
            Ok(Line::Env(EnvRedirect {
                id,
                variable,
                value,
                unless_home_writable,
            }))
        }
        ("path", [Some(id), Some(app_path), Some(target), Some(seed), None]) => {
            if !is_id(id) || !is_plain_relative(app_path) {
                return Err("malformed id or app path");
            }
            if !is_target_of(tmp_base, id, target) {
                return Err("path target outside the tmp base");
            }
            let seed = match seed {
                NO_SEED => None,
                seed if seed
                    .strip_prefix(SEEDS)
                    .and_then(|rest| rest.strip_prefix('/'))
                    == Some(id) =>
                {
                    Some(seed)
                }
                _ => return Err("malformed seed path"),
            };
            Ok(Line::Path(PathRedirect {
                id,
                app_path,
                target,
                seed,
            }))
        }
        _ => Err("unknown or malformed line"),
    }
}

/// Whether `path` is `<tmp base>/group-writable/<id>`, the target of the redirect `id`.
fn is_target_of(tmp_base: &str, id: &str, path: &str) -> bool {
    path.strip_prefix(tmp_base)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_prefix(OWN_DIRECTORY))
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| name == id)
}

/// `/a/b`: absolute, no empty, `.` or `..` segments, no trailing `/`, printable.
fn is_plain_absolute(path: &str) -> bool {
    path.strip_prefix('/')
        .is_some_and(|rest| rest.split('/').all(is_plain_name))
}

/// `a/b`: relative, no empty, `.` or `..` segments, printable.
fn is_plain_relative(path: &str) -> bool {
    path.split('/').all(is_plain_name)
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

/// Whether `id` is a redirect id: lowercase ASCII letters, digits and `-`. The one rule,
/// for the catalog (a unit test), `BP_GROUP_WRITABLE_REDIRECTS` and this configuration.
#[must_use]
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_variable(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| !b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> Vec<EnvRedirect<'static>> {
        vec![
            EnvRedirect {
                id: "tmpdir",
                variable: "TMPDIR",
                value: "/tmp",
                unless_home_writable: false,
            },
            EnvRedirect {
                id: "xdg-cache",
                variable: "XDG_CACHE_HOME",
                value: "/tmp/group-writable/xdg-cache",
                unless_home_writable: true,
            },
        ]
    }

    fn paths() -> Vec<PathRedirect<'static>> {
        vec![
            PathRedirect {
                id: "rails-tmp",
                app_path: "tmp",
                target: "/tmp/group-writable/rails-tmp",
                seed: Some("seeds/rails-tmp"),
            },
            PathRedirect {
                id: "next-cache",
                app_path: ".next/cache",
                target: "/tmp/group-writable/next-cache",
                seed: None,
            },
        ]
    }

    fn tmp() -> TmpBase {
        TmpBase::new("/tmp").unwrap()
    }

    fn entries() -> Vec<Entry<'static>> {
        vec![
            Entry::Env {
                id: "tmpdir",
                variable: "TMPDIR",
                own_directory: false,
                unless_home_writable: false,
            },
            Entry::Path {
                id: "rails-tmp",
                app_path: "tmp",
                seeded: true,
            },
            Entry::Env {
                id: "xdg-cache",
                variable: "XDG_CACHE_HOME",
                own_directory: true,
                unless_home_writable: true,
            },
            Entry::Path {
                id: "next-cache",
                app_path: ".next/cache",
                seeded: false,
            },
        ]
    }

    const EXAMPLE: &str = "group-writable-redirects 1
base /tmp
env tmpdir TMPDIR /tmp always
env xdg-cache XDG_CACHE_HOME /tmp/group-writable/xdg-cache unless-home-writable
path rails-tmp tmp /tmp/group-writable/rails-tmp seeds/rails-tmp
path next-cache .next/cache /tmp/group-writable/next-cache -
end
";

    #[test]
    fn writes_the_documented_format() {
        assert_eq!(write(&tmp(), &entries()), EXAMPLE);
    }

    #[test]
    fn parses_what_it_writes() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert_eq!(config.tmp_base, "/tmp");
        assert_eq!(config.envs().collect::<Vec<_>>(), envs());
        assert_eq!(config.paths().collect::<Vec<_>>(), paths());
        let empty = write(&TmpBase::new("/run/tmp").unwrap(), &[]);
        assert_eq!(empty, "group-writable-redirects 1\nbase /run/tmp\nend\n");
        let config = Config::parse(&empty).unwrap();
        assert_eq!(config.tmp_base, "/run/tmp");
        assert_eq!(config.envs().count() + config.paths().count(), 0);
    }

    #[test]
    fn refuses_anything_else() {
        let cases: &[(&str, usize)] = &[
            ("", 1),
            ("something else\nend\n", 1),
            ("group-writable-redirects 2\nbase /tmp\nend\n", 1),
            ("group-writable-redirects 1\nbase /tmp\n", 0),
            (
                "group-writable-redirects 1\nbase /tmp\nenv tmpdir TMPDIR /tmp always\n",
                0,
            ),
            ("group-writable-redirects 1\nbase tmp\nend\n", 2),
            ("group-writable-redirects 1\nbase /tmp/../etc\nend\n", 2),
            ("group-writable-redirects 1\nbase /tmp\nbase /x\nend\n", 3),
            ("group-writable-redirects 1\nend\n", 2),
            (
                "group-writable-redirects 1\nenv tmpdir TMPDIR /tmp always\nend\n",
                2,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\nenv tmpdir TMPDIR /etc always\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\nenv tmpdir TMPDIR /tmp sometimes\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\nenv tmpdir lower /tmp always\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\nenv x 1X /tmp always\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\npath a tmp /tmp/group-writable/a/b -\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\npath a tmp /tmp/elsewhere -\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\npath a ../x /tmp/group-writable/a -\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\npath a tmp /tmp/group-writable/a /abs\nend\n",
                3,
            ),
            (
                "group-writable-redirects 1\nbase /tmp\npath a tmp  /tmp/group-writable/a -\nend\n",
                3,
            ),
            ("group-writable-redirects 1\nbase /tmp\nend\nmore\n", 4),
            ("group-writable-redirects 1\nbase /tmp\r\nend\n", 2),
        ];
        for (text, line) in cases {
            let error = Config::parse(text).unwrap_err();
            assert_eq!(error.line, *line, "{text:?}: {error}");
        }
    }

    #[test]
    fn errors_say_where() {
        let error =
            Config::parse("group-writable-redirects 1\nbase /tmp\nbogus\nend\n").unwrap_err();
        assert_eq!(error.to_string(), "line 3: unknown or malformed line");
        let truncated = Config::parse("group-writable-redirects 1\nbase /tmp\n").unwrap_err();
        assert_eq!(
            truncated.to_string(),
            "the file is incomplete (no `end` line)"
        );
    }

    #[test]
    fn only_plain_absolute_paths_are_tmp_bases() {
        for good in ["/tmp", "/run/tmp", "/a-b/c_d.e"] {
            assert_eq!(
                TmpBase::new(good).map(|base| base.to_string()),
                Some(good.to_owned())
            );
        }
        for bad in [
            "",
            "/",
            "tmp",
            "/tmp/",
            "/tmp//x",
            "/tmp/../etc",
            "/tmp/./x",
            "/tmp x",
            "/tmp\n",
            "/t\"mp",
            "/t\\mp",
            "/tmp/caf\u{e9}",
            "/tmp\t",
        ] {
            assert_eq!(TmpBase::new(bad), None, "{bad:?} accepted");
        }
    }

    #[test]
    fn writable_entries() {
        assert!(entries().iter().all(can_write));
        for bad in [
            Entry::Env {
                id: "Tmp",
                variable: "TMPDIR",
                own_directory: false,
                unless_home_writable: false,
            },
            Entry::Env {
                id: "tmp",
                variable: "tmp dir",
                own_directory: false,
                unless_home_writable: false,
            },
            Entry::Path {
                id: "x",
                app_path: "../x",
                seeded: false,
            },
            Entry::Path {
                id: "x",
                app_path: "a b",
                seeded: false,
            },
        ] {
            assert!(!can_write(&bad), "{bad:?}");
        }
    }

    #[test]
    fn targets_and_seeds_belong_to_their_id() {
        for other in [
            "path rails-tmp tmp /tmp/group-writable/other seeds/rails-tmp",
            "path rails-tmp tmp /tmp/group-writable/rails-tmp seeds/other",
            "env xdg-cache XDG_CACHE_HOME /tmp/group-writable/other always",
        ] {
            let text = format!("{HEADER}\nbase /tmp\n{other}\nend\n");
            assert_eq!(
                Config::parse(&text).map(|_| ()).unwrap_err().line,
                3,
                "{other}"
            );
        }
    }
}
