//! The CNB entry points: detect and build, as libcnb calls them. Each step's logic lives
//! in its own module; this file wires them together and writes the build log.

use crate::error::{self, GroupWritableError};
use crate::mode::EntryKind;
use crate::permissions::{self, PassInput, PassReport};
use crate::settings::{self, Settings};
use crate::walk::BuildUser;
use bullet_stream::{Print, style};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::{Buildpack, Env, Platform};
use std::io::{Stdout, stdout};
use std::time::Duration;

/// The group-writable buildpack.
pub struct GroupWritableBuildpack;

impl Buildpack for GroupWritableBuildpack {
    type Platform = GenericPlatform;
    type Metadata = GenericMetadata;
    type Error = GroupWritableError;

    /// Passes unless disabled: the buildpack is a utility that someone put in the order
    /// on purpose. Reads nothing from the app, so no app can make it fail.
    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        if settings::is_enabled(lookup(context.platform.env())) {
            DetectResultBuilder::pass().build()
        } else {
            DetectResultBuilder::fail().build()
        }
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let log = Print::new(stdout()).h2("Group Writable");
        let settings =
            Settings::read(lookup(context.platform.env())).map_err(GroupWritableError::Settings)?;
        let report = permissions::run(&PassInput {
            app_dir: &context.app_dir,
            layers_dir: &context.layers_dir,
            settings: &settings,
            user: &BuildUser::current(),
            threads: walk_threads(),
        })
        .map_err(GroupWritableError::Pass)?;
        log_permissions(log, &report, &settings).done();
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        error::print(&error);
    }
}

/// A settings lookup: the platform's variables first, then the process environment.
fn lookup(platform_env: &Env) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        platform_env
            .get_string_lossy(name)
            .or_else(|| std::env::var(name).ok())
    }
}

/// Threads for the walk: the available cores, at most 8.
fn walk_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

type Log = Print<bullet_stream::state::Bullet<Stdout>>;

fn log_permissions(log: Log, report: &PassReport, settings: &Settings) -> Log {
    if report.sources.is_empty() {
        return log
            .bullet(format!(
                "No {} file and no {}: no paths to make group-writable",
                style::value(settings.pattern_file.display().to_string()),
                style::value(settings::PATHS)
            ))
            .done();
    }
    let sources: Vec<String> = report.sources.iter().map(style::value).collect();
    let mut section = log.bullet(format!("Patterns from {}", sources.join(" and ")));
    for pattern_report in &report.patterns {
        let pattern = &pattern_report.pattern;
        let counts = &pattern_report.counts;
        let what = if pattern.is_negated() {
            "re-includes what earlier patterns matched".to_owned()
        } else {
            format!(
                "{} ({} changed)",
                directories_and_files(counts.directories, counts.files),
                counts.changed
            )
        };
        section = section.sub_bullet(format!(
            "{} ({}): {what}",
            style::value(&pattern.text),
            pattern.location
        ));
    }
    if settings.debug {
        for change in &report.changed_paths {
            let kind = match change.kind {
                EntryKind::Directory => "directory",
                EntryKind::File => "file",
            };
            section = section.sub_bullet(format!(
                "{} ({kind}): {:04o} -> {:04o}",
                change.path.display(),
                change.old_mode,
                change.new_mode
            ));
        }
    }
    let (directories, files, changed) = report.totals();
    section = section.sub_bullet(format!(
        "Group-writable: {}, {changed} changed, in {}",
        directories_and_files(directories, files),
        seconds(report.duration)
    ));
    for warning in &report.warnings {
        section = section.warning(warning);
    }
    section.done()
}

/// "2 directories and 1 file", leaving out a zero count ("3 files"), or "nothing".
fn directories_and_files(directories: u64, files: u64) -> String {
    let plural = |count: u64, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    match (directories, files) {
        (0, 0) => "nothing".to_owned(),
        (0, files) => plural(files, "file", "files"),
        (directories, 0) => plural(directories, "directory", "directories"),
        (directories, files) => format!(
            "{} and {}",
            plural(directories, "directory", "directories"),
            plural(files, "file", "files")
        ),
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}s", duration.as_secs_f64())
}
