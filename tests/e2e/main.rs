//! End-to-end tests: real CNB builds with the lifecycle's phases as the build user
//! (1001:1000), then the exported images run as the run user (1002:1000), as on Paketo's
//! jammy stacks, on a writable root or on a read-only one with a tmpfs /tmp.
//!
//! The builds and runs go through `tests/e2e/cnb`, a small platform without Docker
//! (bubblewrap, runc, umoci; see its header). One concern per module:
//! - `group_writable_paths`: the paths `.group-writable` names become writable for the run
//!   user, and nothing else does;
//! - `audit`: `group-writable-audit` on the exported images agrees with what the run user
//!   can write in them;
//! - `redirects`: on a read-only root, the well-known run-time writes of Rails-, Node- and
//!   Python-shaped apps land in /tmp, through the exec.d helper the launcher runs;
//! - `surface`: the report of what the image leaves writable, the read-only setting, and
//!   a label that stays the same across rebuilds that reuse a layer.
//!
//! Every check runs against a control build too, without the buildpack, where it must
//! fail: otherwise it would prove nothing.
//!
//! `bin/test` runs it. By hand, as root (setpriv and runc switch users), naming the
//! packaged buildpack (without it, the suite is skipped, so that `cargo test` passes on a
//! bare clone): `GROUP_WRITABLE_BUILDPACK_DIR=$PWD/$(bin/package) cargo test --test e2e`.

// Test crates see every dependency of the package; this one uses few of them.
#![allow(unused_crate_dependencies)]

/// The trials of these test functions, each named after its function.
macro_rules! trials {
    ($($test:ident),* $(,)?) => {
        vec![$(crate::trial(stringify!($test), $test)),*]
    };
}

mod audit;
#[path = "../support/audit_tool.rs"]
mod audit_tool;
mod group_writable_paths;
mod platform;
#[path = "../support/probe.rs"]
mod probe;
mod redirects;
#[path = "../support/mod.rs"]
mod support;
mod surface;
#[path = "../support/writable_paths.rs"]
mod writable_paths;

use libtest_mimic::{Arguments, Trial};
use platform::{Build, Image, Platform};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;
use support::{BUILD_UID, RUN_UID};

fn main() -> ExitCode {
    let mut arguments = Arguments::from_args();
    let tests: Vec<Trial> = group_writable_paths::trials()
        .into_iter()
        .chain(redirects::trials())
        .chain(audit::trials())
        .chain(surface::trials())
        .collect();

    // Checked only when a test will run: `cargo test -- --ignored` (the libcnb-test
    // integration tests) or a filter that selects none of these must not fail here.
    let any_selected = tests
        .iter()
        .any(|test| !arguments.is_filtered_out(test) && !arguments.is_ignored(test));
    if !arguments.list
        && any_selected
        && std::env::var_os(support::BUILDPACK_DIR_VARIABLE).is_none()
    {
        eprintln!(
            "The end-to-end suite is skipped: it needs the packaged buildpack, the CNB \
             lifecycle and root. Run it with: GROUP_WRITABLE_BUILDPACK_DIR=$PWD/$(bin/package) \
             sudo -E cargo test --test e2e (bin/test does)."
        );
        return ExitCode::SUCCESS;
    }
    if !arguments.list && any_selected && !rustix::process::geteuid().is_root() {
        eprintln!(
            "The end-to-end tests must run as root: they run the build phases as uid \
             {BUILD_UID} (setpriv in bubblewrap) and the images as uid {RUN_UID} (runc). \
             Run them with: sudo -E cargo test --test e2e"
        );
        return ExitCode::FAILURE;
    }

    // One at a time: the builds share two cores with everything else on the machine,
    // and the timing summary stays meaningful.
    arguments.test_threads = Some(1);
    let started = Instant::now();
    let conclusion = libtest_mimic::run(&arguments, tests);
    if !arguments.list && any_selected {
        eprintln!("\nTime spent:");
        for (step, elapsed) in platform::timings() {
            eprintln!("  {step:<40} {:>6.1}s", elapsed.as_secs_f64());
        }
        eprintln!(
            "The end-to-end suite took {:.1}s.",
            started.elapsed().as_secs_f64()
        );
    }
    conclusion.exit_code()
}

/// A test of the suite: `test` fails by panicking, as `#[test]` functions do.
fn trial(name: &str, test: fn()) -> Trial {
    Trial::test(name, move || {
        test();
        Ok(())
    })
}

/// Builds once per suite run, on first use, and hands every test the same image.
fn shared_build(
    cell: &'static OnceLock<Result<Image, String>>,
    name: &str,
    build: impl FnOnce() -> Build,
) -> &'static Image {
    let image = cell.get_or_init(|| Platform::get().build(name, &build()));
    image
        .as_ref()
        .unwrap_or_else(|message| panic!("the {name} build failed: {message}"))
}
