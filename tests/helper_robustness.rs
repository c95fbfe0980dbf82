//! Robustness of the exec.d helper: whatever its configuration file holds and whatever
//! the environment is, the configuration reader never panics and never accepts a target
//! outside the helper's own directory, the fd-3 output is always TOML that reads back as
//! exactly what was written, and the helper binary always exits 0 (a non-zero exit would
//! stop the app from starting) with at most one line on stderr and valid TOML on fd 3.
//!
//! Case counts follow `GROUP_WRITABLE_PROPTEST_CASES` (see `bin/fuzz`).

// Integration tests link every dependency of the package but use only a few.
#![allow(unused_crate_dependencies)]

mod support;

use group_writable_launch::contract::{self, Config};
use group_writable_launch::exec_d_toml::{self, Output};
use group_writable_launch::helper::{EnvChoice, exec_d_output};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::fs;
use std::path::Path;

const DEFAULT_CASES: u32 = 400;
/// Running the binary costs a process (and a sandbox) per case.
const DEFAULT_BINARY_CASES: u32 = 48;
const DEFAULT_SEED: u64 = 0x6865_6c70_6572_2d72;

/// A configuration the buildpack could write: the starting point of the mutations.
const VALID: &str = "group-writable-redirects 1
base /tmp
env tmpdir TMPDIR /tmp always
env xdg-cache XDG_CACHE_HOME /tmp/group-writable/xdg-cache unless-home-writable
env bootsnap BOOTSNAP_CACHE_DIR /tmp/group-writable/bootsnap always
path rails-tmp tmp /tmp/group-writable/rails-tmp seeds/rails-tmp
path rails-log log /tmp/group-writable/rails-log -
end
";

fn run<T: std::fmt::Debug>(
    name: &str,
    default_cases: u32,
    strategy: impl Strategy<Value = T>,
    check: impl Fn(T) -> Result<(), TestCaseError>,
) {
    let config = support::proptest_config(default_cases, DEFAULT_SEED);
    let (cases, seed) = (config.cases, config.rng_seed);
    let mut runner = TestRunner::new(config);
    if let Err(error) = runner.run(&strategy, check) {
        panic!("{name} (seed {seed}): {error}");
    }
    println!("helper robustness: {name}: {cases} cases, seed {seed}");
}

/// Configuration text: the valid one with lines dropped, repeated, truncated or edited,
/// words swapped for hostile ones, or arbitrary text.
fn configuration_text() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "..",
        ".",
        "/",
        "//",
        "/etc",
        "/tmp/../etc",
        "/tmp/group-writable/../x",
        "-",
        "",
        " ",
        "env",
        "path",
        "end",
        "base",
        "always",
        "unless-home-writable",
        "TMP DIR",
        "A=B",
        "\"",
        "\\",
        "\u{0}",
        "é",
        "group-writable-redirects 2",
        "seeds/../../x",
    ]);
    let edited = (
        prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
                words,
            ),
            0..4,
        ),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(drops, replacements, cut, truncate)| {
            let mut lines: Vec<String> = VALID.lines().map(str::to_owned).collect();
            for drop in drops {
                if !lines.is_empty() {
                    lines.remove(drop.index(lines.len()));
                }
            }
            for (line, word, replacement) in replacements {
                if lines.is_empty() {
                    break;
                }
                let line = line.index(lines.len());
                let mut fields: Vec<String> = lines[line].split(' ').map(str::to_owned).collect();
                let field = word.index(fields.len());
                replacement.clone_into(&mut fields[field]);
                lines[line] = fields.join(" ");
            }
            let mut text = lines.join("\n") + "\n";
            if truncate {
                let mut end = cut.index(text.len() + 1);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            text
        });
    prop_oneof![4 => edited, 1 => any::<String>()]
}

/// Whether `path` is a plain name directly below `<base>/group-writable/`.
fn is_own_target(base: &str, path: &str) -> bool {
    path.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix("/group-writable/"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && name != "." && name != "..")
}

#[test]
fn the_configuration_reader_never_panics_nor_lets_a_target_escape() {
    run(
        "configuration reader",
        DEFAULT_CASES,
        configuration_text(),
        |text| {
            let Ok(config) = Config::parse(&text) else {
                return Ok(());
            };
            let base = config.tmp_base;
            for env in config.envs() {
                prop_assert!(
                    env.value == base || is_own_target(base, env.value),
                    "{:?} accepted the env target {:?}",
                    text,
                    env.value
                );
            }
            for path in config.paths() {
                prop_assert!(
                    is_own_target(base, path.target),
                    "{:?} accepted the path target {:?}",
                    text,
                    path.target
                );
                if let Some(seed) = path.seed {
                    prop_assert!(
                        !seed.starts_with('/') && !seed.split('/').any(|part| part == ".."),
                        "{:?} accepted the seed {:?}",
                        text,
                        seed
                    );
                }
            }
            Ok(())
        },
    );
}

#[test]
fn toml_pairs_read_back_as_written() {
    run(
        "fd-3 pairs",
        DEFAULT_CASES,
        prop::collection::vec((any::<String>(), any::<String>()), 0..40),
        |pairs| {
            let mut output = Output::new();
            let mut expected = toml::Table::new();
            for (name, value) in &pairs {
                if expected.contains_key(name) {
                    continue; // TOML refuses a key twice; the helper never writes one twice
                }
                exec_d_toml::push_pair(&mut output, name, value);
                expected.insert(name.clone(), toml::Value::String(value.clone()));
            }
            let read: toml::Table = output
                .as_str()
                .parse()
                .map_err(|error| TestCaseError::fail(format!("{:?}: {error}", output.as_str())))?;
            prop_assert_eq!(read, expected);
            Ok(())
        },
    );
}

#[test]
fn the_env_output_is_valid_toml_of_exactly_the_variables_set() {
    let config = Config::parse(VALID).expect("the valid configuration");
    let variables: Vec<&str> = config.envs().map(|env| env.variable).collect();
    run(
        "env output",
        DEFAULT_CASES,
        (
            prop::collection::vec(any::<bool>(), variables.len()),
            any::<bool>(),
            prop::collection::vec(any::<bool>(), variables.len()),
        ),
        |(already_set, home_writable, ready)| {
            let is_set = |name: &str| {
                variables
                    .iter()
                    .position(|variable| *variable == name)
                    .is_some_and(|index| already_set[index])
            };
            let output = exec_d_output(
                &config,
                is_set,
                || home_writable,
                |choice| match choice {
                    EnvChoice::Set(redirect) => variables
                        .iter()
                        .position(|variable| *variable == redirect.variable)
                        .is_some_and(|index| ready[index]),
                    EnvChoice::AlreadySet(_) | EnvChoice::HomeWritable(_) => true,
                },
            );
            let read: toml::Table = output
                .as_str()
                .parse()
                .map_err(|error| TestCaseError::fail(format!("{:?}: {error}", output.as_str())))?;
            for (index, env) in config.envs().enumerate() {
                let skipped = already_set[index] || (env.unless_home_writable && home_writable);
                let expected = !skipped && ready[index];
                prop_assert_eq!(
                    read.get(env.variable).and_then(toml::Value::as_str),
                    expected.then_some(env.value),
                    "{}",
                    env.variable
                );
            }
            prop_assert_eq!(
                read.len(),
                read.keys()
                    .filter(|key| variables.contains(&key.as_str()))
                    .count()
            );
            Ok(())
        },
    );
}

/// The packaged helper, run on a configuration: as the run user when the tests run as
/// root, in a sandbox whose `/tmp` is a fresh tmpfs (a mutated configuration may name any
/// tmp base), with fd 3 on a pipe.
fn run_helper(layer: &Path) -> (Option<i32>, String, String) {
    let helper = layer
        .join("exec.d")
        .join(group_writable_launch::contract::PROGRAM);
    let mut command = support::as_user(support::RUN_UID, Path::new("bwrap"));
    let output = command
        .args(["--bind", "/", "/", "--tmpfs", "/tmp", "--chdir", "/"])
        .args(["--", "/bin/sh", "-c"])
        .arg(support::exec_packaged_script("exec", "3>&1 1>&2"))
        .arg(&helper)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .output()
        .expect("run the helper");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_helper_binary_exits_0_with_valid_output_on_any_configuration() {
    packaged_or_skip!();
    let packaged = support::buildpack_dir()
        .join(".libcnb-cargo/additional-bin")
        .join(group_writable_launch::contract::PROGRAM);
    let layer = tempfile::Builder::new()
        .prefix("group-writable-helper-robustness-")
        .tempdir_in(support::scratch_parent())
        .expect("temporary layer");
    // The sandboxed run user must reach the layer.
    fs::set_permissions(
        layer.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    fs::create_dir_all(layer.path().join("exec.d")).unwrap();
    fs::create_dir_all(layer.path().join("seeds/rails-tmp/pids")).unwrap();
    fs::copy(
        &packaged,
        layer
            .path()
            .join("exec.d")
            .join(group_writable_launch::contract::PROGRAM),
    )
    .unwrap();
    let config_path = layer.path().join(contract::FILE_NAME);
    run(
        "helper binary",
        DEFAULT_BINARY_CASES,
        prop_oneof![
            4 => configuration_text().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..600),
        ],
        |bytes| {
            fs::write(&config_path, &bytes).unwrap();
            let (code, output, stderr) = run_helper(layer.path());
            prop_assert_eq!(
                code,
                Some(0),
                "{:?}: {}",
                String::from_utf8_lossy(&bytes),
                stderr
            );
            prop_assert!(
                stderr.lines().count() <= 1,
                "{:?}: {}",
                String::from_utf8_lossy(&bytes),
                stderr
            );
            output
                .parse::<toml::Table>()
                .map_err(|error| TestCaseError::fail(format!("{output:?}: {error}")))?;
            Ok(())
        },
    );
}
