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
/// The directory under the tmp base that holds every target of our own.
pub const OWN_DIRECTORY: &str = "group-writable";

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

/// Why a configuration could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based; 0 for the file as a whole.
    pub line: usize,
    pub problem: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(self.problem)
        } else {
            write!(f, "line {}: {}", self.line, self.problem)
        }
    }
}

/// One entry line.
enum Line<'a> {
    Env(EnvRedirect<'a>),
    Path(PathRedirect<'a>),
    End,
}

/// The file's text for these redirects.
///
/// # Errors
///
/// When a value would not read back the same (whitespace, a relative or non-normalized
/// path, a target outside our own directory): a bug in the caller, reported rather than
/// written.
pub fn write(
    tmp_base: &str,
    envs: &[EnvRedirect<'_>],
    paths: &[PathRedirect<'_>],
) -> Result<String, ConfigError> {
    let mut text = format!("{HEADER}\nbase {tmp_base}\n");
    for env in envs {
        let condition = if env.unless_home_writable {
            UNLESS_HOME_WRITABLE
        } else {
            ALWAYS
        };
        let _ = writeln!(
            text,
            "env {} {} {} {condition}",
            env.id, env.variable, env.value
        );
    }
    for path in paths {
        let _ = writeln!(
            text,
            "path {} {} {} {}",
            path.id,
            path.app_path,
            path.target,
            path.seed.unwrap_or(NO_SEED)
        );
    }
    text.push_str(END);
    text.push('\n');
    let read_back = Config::parse(&text)?;
    if read_back.tmp_base == tmp_base
        && read_back.envs().eq(envs.iter().copied())
        && read_back.paths().eq(paths.iter().copied())
    {
        Ok(text)
    } else {
        Err(ConfigError {
            line: 0,
            problem: "a value does not read back the same",
        })
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
            if value != tmp_base && !is_own_target(tmp_base, value) {
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
            if !is_own_target(tmp_base, target) {
                return Err("path target outside the tmp base");
            }
            let seed = match seed {
                NO_SEED => None,
                seed if is_plain_relative(seed) => Some(seed),
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

/// Whether `path` is a plain directory directly below `<tmp base>/group-writable`.
fn is_own_target(tmp_base: &str, path: &str) -> bool {
    path.strip_prefix(tmp_base)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_prefix(OWN_DIRECTORY))
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(is_plain_name)
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

fn is_id(id: &str) -> bool {
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
        assert_eq!(write("/tmp", &envs(), &paths()).unwrap(), EXAMPLE);
    }

    #[test]
    fn parses_what_it_writes() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert_eq!(config.tmp_base, "/tmp");
        assert_eq!(config.envs().collect::<Vec<_>>(), envs());
        assert_eq!(config.paths().collect::<Vec<_>>(), paths());
        let empty = write("/run/tmp", &[], &[]).unwrap();
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
    fn write_refuses_values_that_would_not_read_back() {
        let mut bad_envs = envs();
        bad_envs[0].value = "/tmp/with space";
        assert!(write("/tmp", &bad_envs, &paths()).is_err());
        let mut bad_paths = paths();
        bad_paths[0].target = "/elsewhere/x";
        assert!(write("/tmp", &envs(), &bad_paths).is_err());
        assert!(write("/tmp/", &envs(), &paths()).is_err());
    }
}
