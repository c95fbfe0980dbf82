//! Executable code: what the launcher runs or sources at every start (exec.d programs,
//! profile.d scripts, executables in a layer's `bin/`, on `PATH` at launch, and the app's
//! `.profile`). The buildpack warns when a pattern makes such a file group-writable, and
//! `group-writable-audit` marks it: one definition, so "writable code" means the same to
//! both.

/// Why an entry of the layers root is code the launcher runs, by its components below
/// `/layers` (`[buildpack, layer, ...]`), whether it is a directory, and its mode.
#[must_use]
pub fn layer_code(components: &[&str], is_dir: bool, mode: u32) -> Option<&'static str> {
    match (components, is_dir) {
        ([_buildpack], true) => Some(
            "a buildpack's layers directory: a layer created here with exec.d/ or profile.d/ runs at every start",
        ),
        ([_, _layer], true) => {
            Some("a layer: exec.d/ or profile.d/ created here run at every start")
        }
        ([_, _, "exec.d", ..], true) => {
            Some("an exec.d directory: a program added here runs at every start")
        }
        ([_, _, "exec.d", ..], false) => {
            Some("an exec.d program: the launcher runs it at every start")
        }
        ([_, _, "profile.d", ..], true) => {
            Some("a profile.d directory: a script added here is sourced at every start")
        }
        ([_, _, "profile.d", ..], false) => Some("a profile.d script: sourced at every start"),
        ([_, _, "bin", ..], true) => Some(
            "a layer's bin/ directory, on PATH at launch: a program added here can shadow a command",
        ),
        ([_, _, "bin", ..], false) if mode & 0o111 != 0 => {
            Some("an executable in a layer's bin/, on PATH at launch")
        }
        _ => None,
    }
}

/// Why an entry of the app directory is code the launcher runs, by its path relative to
/// the app (`""` is the app directory itself).
#[must_use]
pub fn app_code(relative: &str, is_dir: bool) -> Option<&'static str> {
    match (relative, is_dir) {
        ("", true) => {
            Some("the app directory: a `.profile` created here is sourced at every start")
        }
        (".profile", false) => Some("the app's .profile, sourced at every start"),
        _ => None,
    }
}
