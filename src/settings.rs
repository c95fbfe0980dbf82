//! The build-time configuration: every `BP_*` variable this buildpack reads, parsed and
//! checked in one place.
//!
//! Values come from the platform (`/platform/env`, what `pack build --env` sets) and, for
//! defaults a builder bakes into its image, from the process environment; the platform
//! wins.

use group_writable_launch::contract::{self, TmpBase};
use std::path::{Component, Path, PathBuf};

pub const ENABLED: &str = "BP_GROUP_WRITABLE_ENABLED";
pub const FILE: &str = "BP_GROUP_WRITABLE_FILE";
pub const PATHS: &str = "BP_GROUP_WRITABLE_PATHS";
pub const REDIRECTS: &str = "BP_GROUP_WRITABLE_REDIRECTS";
pub const TMP: &str = "BP_GROUP_WRITABLE_TMP";
pub const READ_ONLY: &str = "BP_GROUP_WRITABLE_READ_ONLY";
pub const LOG_LEVEL: &str = "BP_LOG_LEVEL";

pub const DEFAULT_FILE: &str = ".group-writable";
pub const DEFAULT_TMP: &str = "/tmp";
/// What `BP_GROUP_WRITABLE_TMP` must be: the rule of [`TmpBase::new`].
const TMP_EXPECTED: &str = "an absolute, normalized directory path such as /tmp (no `.` or `..`, no trailing `/`; printable ASCII without spaces, `\"` or `\\`)";

/// The parsed configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The pattern file, relative to the app directory.
    pub pattern_file: PathBuf,
    /// Whether the pattern file was named explicitly (then it must exist).
    pub pattern_file_explicit: bool,
    /// `BP_GROUP_WRITABLE_PATHS`, as given.
    pub extra_patterns: Option<String>,
    pub redirects: RedirectSetting,
    /// Where launch-time redirect targets live. Fixed at build: the symlinks left in the
    /// read-only app directory point into it.
    pub tmp_base: TmpBase,
    /// `BP_GROUP_WRITABLE_READ_ONLY`: remove `g+w` and `o+w` from every app and layer
    /// entry no pattern names (off by default: it changes files the buildpack did not
    /// create, and an app may rely on them being writable; the log counts them either way).
    pub read_only: bool,
    /// `BP_LOG_LEVEL=DEBUG`: list every changed path.
    pub debug: bool,
}

/// `BP_GROUP_WRITABLE_REDIRECTS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectSetting {
    /// Every catalog entry whose ecosystem is present (the default).
    Auto,
    Off,
    /// Only these catalog entries (still only where their ecosystem is present).
    Only(Vec<String>),
}

/// A variable with a value this buildpack cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingError {
    pub variable: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Whether the buildpack is enabled. Lenient on purpose: detect must never fail on a
/// strange value, so anything but an explicit "off" keeps it on, and `Settings::read`
/// reports a value it cannot read during the build.
#[must_use]
pub fn is_enabled(lookup: impl Fn(&str) -> Option<String>) -> bool {
    lookup(ENABLED).is_none_or(|value| parse_bool(&value) != Some(false))
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl Settings {
    /// Reads every setting through `lookup` (variable name to value), for the app in
    /// `app_dir`. Every check is made here, before anything is changed.
    pub fn read(
        lookup: impl Fn(&str) -> Option<String>,
        app_dir: &Path,
    ) -> Result<Settings, SettingError> {
        if let Some(value) = lookup(ENABLED)
            && parse_bool(&value).is_none()
        {
            return Err(SettingError {
                variable: ENABLED,
                value,
                expected: "`true` or `false`",
            });
        }

        let file = lookup(FILE).filter(|value| !value.trim().is_empty());
        let pattern_file_explicit = file.is_some();
        let pattern_file = match file {
            None => PathBuf::from(DEFAULT_FILE),
            Some(value) => relative_file(&value).ok_or(SettingError {
                variable: FILE,
                value,
                expected: "a path relative to the app directory without `..` (or an absolute path inside it, such as /workspace/config/group-writable)",
            })?,
        };

        let redirects = match lookup(REDIRECTS) {
            None => RedirectSetting::Auto,
            Some(value) => parse_redirects(&value).ok_or(SettingError {
                variable: REDIRECTS,
                value,
                expected: "`auto`, `off`, or a comma-separated list of catalog entry ids (see the README)",
            })?,
        };

        let tmp_base = tmp_base(
            lookup(TMP).unwrap_or_else(|| DEFAULT_TMP.to_owned()),
            app_dir,
        )?;

        let read_only = match lookup(READ_ONLY).filter(|value| !value.trim().is_empty()) {
            None => false,
            Some(value) => parse_bool(&value).ok_or(SettingError {
                variable: READ_ONLY,
                value,
                expected: "`true` or `false`",
            })?,
        };

        Ok(Settings {
            pattern_file,
            read_only,
            pattern_file_explicit,
            extra_patterns: lookup(PATHS).filter(|value| !value.trim().is_empty()),
            redirects,
            tmp_base,
            debug: lookup(LOG_LEVEL)
                .is_some_and(|level| level.trim().eq_ignore_ascii_case("debug")),
        })
    }
}

/// `BP_GROUP_WRITABLE_TMP`: the one rule of [`TmpBase::new`] (what the symlinks and the
/// helper's configuration can hold), and outside the app.
fn tmp_base(value: String, app_dir: &Path) -> Result<TmpBase, SettingError> {
    match TmpBase::new(&value) {
        None => Err(SettingError {
            variable: TMP,
            value,
            expected: TMP_EXPECTED,
        }),
        Some(base) if base.is_within(app_dir) => Err(SettingError {
            variable: TMP,
            value,
            expected: "a directory outside the app directory (the app's redirected paths become symlinks into it, so inside the app they would point at themselves); the default /tmp is one",
        }),
        Some(base) => Ok(base),
    }
}

/// `BP_GROUP_WRITABLE_FILE` relative to the app: `/workspace/x` is accepted as `x` by the
/// caller (which knows the app directory); here only relative paths without `..`.
fn relative_file(value: &str) -> Option<PathBuf> {
    let path = Path::new(value.trim());
    if path.is_absolute() {
        // Resolved against the app directory by the caller.
        return Some(path.to_owned());
    }
    path.components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir))
        .then(|| path.to_owned())
}

fn parse_redirects(value: &str) -> Option<RedirectSetting> {
    let value = value.trim();
    match value.to_ascii_lowercase().as_str() {
        "auto" | "" => return Some(RedirectSetting::Auto),
        "off" | "false" | "none" => return Some(RedirectSetting::Off),
        _ => {}
    }
    let ids: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    ids.iter()
        .all(|id| contract::is_id(id))
        .then_some(RedirectSetting::Only(ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Settings, SettingError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::read(|name| map.get(name).cloned(), Path::new("/workspace"))
    }

    #[test]
    fn defaults() {
        let settings = read(&[]).unwrap();
        assert_eq!(settings.pattern_file, PathBuf::from(".group-writable"));
        assert!(!settings.pattern_file_explicit);
        assert_eq!(settings.extra_patterns, None);
        assert_eq!(settings.redirects, RedirectSetting::Auto);
        assert_eq!(settings.tmp_base.as_str(), "/tmp");
        assert!(!settings.debug);
        assert!(!settings.read_only);
    }

    #[test]
    fn enabled_is_lenient_in_detect_and_strict_in_build() {
        let lookup = |value: &'static str| move |_: &str| Some(value.to_owned());
        assert!(is_enabled(|_| None));
        assert!(!is_enabled(lookup("false")));
        assert!(!is_enabled(lookup(" FALSE ")));
        assert!(!is_enabled(lookup("0")));
        assert!(is_enabled(lookup("true")));
        assert!(is_enabled(lookup("maybe")));
        let error = read(&[(ENABLED, "maybe")]).unwrap_err();
        assert_eq!(error.variable, ENABLED);
        assert!(error.to_string().contains("`maybe`"));
    }

    #[test]
    fn pattern_file_must_stay_in_the_app() {
        assert_eq!(
            read(&[(FILE, "config/writable")]).unwrap().pattern_file,
            PathBuf::from("config/writable")
        );
        assert!(
            read(&[(FILE, "config/writable")])
                .unwrap()
                .pattern_file_explicit
        );
        assert!(read(&[(FILE, "../outside")]).is_err());
        assert!(read(&[(FILE, "a/../../b")]).is_err());
        assert_eq!(
            read(&[(FILE, "/workspace/x")]).unwrap().pattern_file,
            PathBuf::from("/workspace/x")
        );
    }

    #[test]
    fn redirects() {
        assert_eq!(
            read(&[(REDIRECTS, "OFF")]).unwrap().redirects,
            RedirectSetting::Off
        );
        assert_eq!(
            read(&[(REDIRECTS, "auto")]).unwrap().redirects,
            RedirectSetting::Auto
        );
        assert_eq!(
            read(&[(REDIRECTS, "rails-tmp, tmpdir")]).unwrap().redirects,
            RedirectSetting::Only(vec!["rails-tmp".into(), "tmpdir".into()])
        );
        assert!(read(&[(REDIRECTS, "rails tmp")]).is_err());
    }

    #[test]
    fn tmp_base_must_be_plain_and_absolute() {
        assert_eq!(
            read(&[(TMP, "/run/tmp")]).unwrap().tmp_base.as_str(),
            "/run/tmp"
        );
        for bad in [
            "tmp",
            "/tmp/",
            "/tmp/../etc",
            "/tmp/./x",
            "/tmp x",
            "/tmp\n",
            "/t\"mp",
            "/tmp/caf\u{e9}",
            "/workspace",
            "/workspace/tmp",
        ] {
            assert!(read(&[(TMP, bad)]).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn read_only_is_a_boolean() {
        assert!(read(&[(READ_ONLY, "true")]).unwrap().read_only);
        assert!(!read(&[(READ_ONLY, "false")]).unwrap().read_only);
        assert!(!read(&[(READ_ONLY, " ")]).unwrap().read_only);
        assert_eq!(
            read(&[(READ_ONLY, "sometimes")]).unwrap_err().variable,
            READ_ONLY
        );
    }

    #[test]
    fn debug_log_level() {
        assert!(read(&[(LOG_LEVEL, "DEBUG")]).unwrap().debug);
        assert!(read(&[(LOG_LEVEL, "debug")]).unwrap().debug);
        assert!(!read(&[(LOG_LEVEL, "INFO")]).unwrap().debug);
    }
}
