//! The CNB entry points: detect and build, as libcnb calls them. Each step's logic lives
//! in its own module; this file wires them together and writes the build log.

use crate::error::{self, GroupWritableError};
use crate::pass::mode::EntryKind;
use crate::pass::patterns::Pattern;
use crate::pass::walk::BuildUser;
use crate::pass::{self, PassInput, PassReport};
use crate::policy::label::{self, BuildIds, Policy};
use crate::redirects::catalog::Redirect;
use crate::redirects::install::{self, PathReport};
use crate::redirects::plan::{self, Decision, Existing, Outcome, Skip};
use crate::redirects::probe::AppDirectory;
use crate::settings::{self, RedirectSetting, Settings};
use bullet_stream::{Print, style};
use group_writable_launch::contract;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{Label, LaunchBuilder};
use libcnb::data::layer_name;
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::layer::UncachedLayerDefinition;
use libcnb::{Buildpack, Env, Platform, additional_buildpack_binary_path};
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
        let report = pass::run(&PassInput {
            app_dir: &context.app_dir,
            layers_dir: &context.layers_dir,
            settings: &settings,
            user: &BuildUser::current(),
            threads: walk_threads(),
        })
        .map_err(GroupWritableError::Pass)?;
        let log = log_permissions(log, &report, &settings);

        // Checked by the settings: plain, without whitespace or control characters.
        let tmp_base = settings.tmp_base.to_string_lossy().into_owned();
        let patterns: Vec<&Pattern> = report.patterns.iter().map(|r| &r.pattern).collect();
        let app = AppDirectory::new(&context.app_dir, &patterns, report.app_matcher.as_ref());
        let decisions = plan::plan(&settings.redirects, &tmp_base, &app)
            .map_err(GroupWritableError::UnknownRedirects)?;
        let mut paths = Vec::new();
        if decisions
            .iter()
            .any(|decision| !matches!(decision.outcome, Outcome::Skipped(_)))
        {
            let layer = context.uncached_layer(
                layer_name!("redirects"),
                UncachedLayerDefinition {
                    build: false,
                    launch: true,
                },
            )?;
            paths = install::install(&context.app_dir, &layer.path(), &tmp_base, &decisions)
                .map_err(GroupWritableError::Redirect)?;
            layer.write_exec_d_programs([(
                contract::PROGRAM,
                additional_buildpack_binary_path!("group-writable-redirects"),
            )])?;
        }
        let log = log_redirects(log, &settings, &decisions, &paths);

        let policy = Policy::new(BuildIds::current(), &tmp_base, &report, &decisions, &paths);
        log.bullet(format!(
            "Policy recorded in the image label {}",
            style::value(label::KEY)
        ))
        .done()
        .done();
        BuildResultBuilder::new()
            .launch(
                LaunchBuilder::new()
                    .label(Label {
                        key: label::KEY.to_owned(),
                        value: policy.to_json(),
                    })
                    .build(),
            )
            .build()
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

fn log_redirects(
    log: Log,
    settings: &Settings,
    decisions: &[Decision],
    paths: &[PathReport],
) -> Log {
    let base = settings.tmp_base.display().to_string();
    let heading = match &settings.redirects {
        RedirectSetting::Off => {
            return log
                .bullet(format!(
                    "Redirects to {base}: off ({}=off)",
                    settings::REDIRECTS
                ))
                .done();
        }
        RedirectSetting::Auto => format!("Redirects to {}", style::value(&base)),
        RedirectSetting::Only(_) => format!(
            "Redirects to {}, only those named in {}",
            style::value(&base),
            style::value(settings::REDIRECTS)
        ),
    };
    let mut section = log.bullet(heading);
    for decision in decisions {
        let entry = decision.entry;
        let id = style::value(entry.id);
        let line = match (&decision.outcome, &entry.redirect) {
            (Outcome::Skipped(Skip::EcosystemAbsent), _) if !decision.requested => continue,
            (Outcome::Skipped(skip), _) => format!("{id}: {} not redirected: {skip}", entry.what()),
            (
                Outcome::Env { value },
                Redirect::Env {
                    variable,
                    unless_home_writable,
                    ..
                },
            ) => format!(
                "{id}: {variable}={value} at launch, unless set{}",
                if *unless_home_writable {
                    " or $HOME is writable"
                } else {
                    ""
                }
            ),
            (Outcome::Path { target, existing }, Redirect::Path { path, .. }) => {
                let report = paths.iter().find(|report| report.id == entry.id);
                let content = match (existing, report) {
                    (_, Some(report)) if report.seeded_files > 0 => format!(
                        ", seeded at launch with the build's {} ({} bytes)",
                        if report.seeded_files == 1 {
                            "1 file".to_owned()
                        } else {
                            format!("{} files", report.seeded_files)
                        },
                        report.seeded_bytes
                    ),
                    (Existing::Drop, Some(report)) if report.dropped => {
                        ", the build's cache dropped".to_owned()
                    }
                    (Existing::Linked, _) => ", already linked".to_owned(),
                    _ => String::new(),
                };
                format!("{id}: {path}/ -> {target}{content}")
            }
            _ => continue,
        };
        section = section.sub_bullet(line);
    }
    if !paths.is_empty()
        || decisions
            .iter()
            .any(|d| matches!(d.outcome, Outcome::Env { .. }))
    {
        section = section.sub_bullet(format!(
            "The exec.d helper {} applies them at every launch ({}=off turns it off)",
            style::value(contract::PROGRAM),
            contract::SWITCH
        ));
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
