//! The build log's report of what the image leaves writable: the pass (what each pattern
//! matched) and the redirects (what each did, or why not). The image label
//! ([`super::label`]) records the same, for machines.

use crate::messages;
use crate::pass::PassReport;
use crate::pass::mode::Kind;
use crate::pass::surface::SurfaceCounts;
use crate::policy::label::SurfaceRecord;
use crate::redirects::{self, Applied, BuildContent, Outcome, Skip};
use crate::settings::{self, RedirectSetting, Settings};
use bullet_stream::{Print, style};
use group_writable_launch::contract;
use std::io::{Stdout, Write};
use std::time::Duration;

/// The build log, inside the buildpack's section: standard output in a build, a buffer in
/// the snapshot tests.
pub type Log<W = Stdout> = Print<bullet_stream::state::Bullet<W>>;

/// The pass section: the pattern sources, what each pattern matched (and, with
/// `BP_LOG_LEVEL=DEBUG`, every change), the totals and the warnings.
#[must_use]
pub fn pass<W: Write + Send + Sync + 'static>(
    log: Log<W>,
    report: &PassReport,
    settings: &Settings,
) -> Log<W> {
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
                Kind::Directory => "directory",
                Kind::File => "file",
            };
            section = section.sub_bullet(format!(
                "{} ({kind}): {:04o} -> {:04o}",
                change.path.display(),
                change.old_mode,
                change.new_mode
            ));
        }
    }
    let totals = report.totals();
    section = section.sub_bullet(format!(
        "Group-writable: {}, {} changed, in {}",
        directories_and_files(totals.directories, totals.files),
        totals.changed,
        seconds(report.duration)
    ));
    for note in &report.reused {
        section = section.sub_bullet(note);
    }
    for warning in &report.warnings {
        section = section.warning(warning);
    }
    section.done()
}

/// The writable surface section: the three classes of what the image leaves group- or
/// other-writable in the app and the layers, and what the read-only setting removed.
#[must_use]
pub fn surface<W: Write + Send + Sync + 'static>(
    log: Log<W>,
    surface: &SurfaceRecord,
    settings: &Settings,
) -> Log<W> {
    let mut section =
        log.bullet("Writable surface (group- or other-writable in the app and the layers)");
    section = section.sub_bullet(format!(
        "Named by the patterns: {}",
        directories_and_files(surface.named.directories, surface.named.files)
    ));
    for (place, counts) in [("the app", &surface.app), ("the layers", &surface.layers)] {
        section = section.sub_bullet(format!(
            "Left writable in {place} by the platform or an earlier buildpack, named by no pattern: {}",
            left(counts)
        ));
        for path in &counts.world_writable_paths {
            section = section.sub_bullet(format!("World-writable: {path}"));
        }
        let unnamed = counts.world_writable - counts.world_writable_paths.len() as u64;
        if unnamed > 0 {
            section = section.sub_bullet(format!("World-writable: {unnamed} more in {place}"));
        }
    }
    section = section.sub_bullet(if surface.redirected.is_empty() {
        "Redirected to the tmp base: no app path".to_owned()
    } else {
        let moved = match surface.app.redirected {
            0 => String::new(),
            1 => "; the 1 group- or other-writable entry there leaves the app with them".to_owned(),
            entries => format!(
                "; the {entries} group- or other-writable entries there leave the app with them"
            ),
        };
        format!(
            "Redirected to the tmp base (symlinks, writable at launch): {}{moved}",
            surface.redirected.join(", ")
        )
    });
    let removed = surface.app.made_read_only + surface.layers.made_read_only;
    let remaining = surface.app.directories
        + surface.app.files
        + surface.layers.directories
        + surface.layers.files;
    section = section.sub_bullet(if settings.read_only {
        format!(
            "Made read-only for group and other ({}=true): {removed} {}",
            settings::READ_ONLY,
            if removed == 1 { "entry" } else { "entries" }
        )
    } else if remaining > 0 {
        format!(
            "{}=true would make the entries left writable read-only for group and other",
            settings::READ_ONLY
        )
    } else {
        format!("Nothing else is writable ({} is off)", settings::READ_ONLY)
    });
    section.done()
}

/// "1 directory and 3 files (1 world-writable)", or "nothing".
fn left(counts: &SurfaceCounts) -> String {
    let entries = directories_and_files(counts.directories, counts.files);
    if counts.world_writable == 0 {
        entries
    } else {
        format!("{entries} ({} world-writable)", counts.world_writable)
    }
}

/// The redirects section: each applied redirect, and each skipped one that was asked for
/// or whose ecosystem is present, with the reason.
#[must_use]
pub fn redirects<W: Write + Send + Sync + 'static>(
    log: Log<W>,
    settings: &Settings,
    redirects: &[Applied],
) -> Log<W> {
    let base = settings.tmp_base.to_string();
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
    let mut warnings = Vec::new();
    for redirect in redirects {
        let entry = redirect.entry;
        let id = style::value(entry.id);
        let line = match &redirect.outcome {
            Outcome::Skipped(Skip::EcosystemAbsent) if !redirect.requested => continue,
            Outcome::Skipped(skip) => format!("{id}: {} not redirected: {skip}", entry.what()),
            Outcome::Env {
                variable,
                value,
                unless_home_writable,
            } => format!(
                "{id}: {variable}={value} at launch, unless set{}",
                if *unless_home_writable {
                    " or $HOME is writable"
                } else {
                    ""
                }
            ),
            Outcome::PhpIni { directive, value } => format!(
                "{id}: {directive} = \"{value}\" in an ini file PHP reads first (PHP_INI_SCAN_DIR), so any later ini file overrides it"
            ),
            Outcome::Path {
                path,
                target,
                content,
            } => {
                let content = match content {
                    BuildContent::Seeded {
                        files,
                        directories,
                        bytes,
                        copied_hard_links,
                    } => {
                        if *copied_hard_links > 0 {
                            warnings.push(messages::copied_hard_links(path, *copied_hard_links));
                        }
                        format!(
                            ", seeded at launch with the build's {} ({bytes} bytes)",
                            directories_and_files(*directories, *files),
                        )
                    }
                    BuildContent::Dropped => ", the build's cache dropped".to_owned(),
                    BuildContent::Linked => ", already linked".to_owned(),
                    BuildContent::None => String::new(),
                };
                format!("{id}: {path}/ -> {target}{content}")
            }
        };
        section = section.sub_bullet(line);
    }
    for warning in &warnings {
        section = section.warning(warning);
    }
    if let Some(seeds) = redirects::oversized_seeds(redirects) {
        section = section.warning(messages::oversized_seeds(&seeds));
    }
    if redirects
        .iter()
        .any(|redirect| redirect.outcome.is_applied())
    {
        section = section.sub_bullet(format!(
            "The exec.d helper {} applies them at every launch ({}=off turns it off)",
            style::value(contract::PROGRAM),
            contract::SWITCH
        ));
    }
    section.done()
}

/// The hint for the database files the app holds, when there are any.
#[must_use]
pub fn data_files(log: Log, files: &[String]) -> Log {
    if files.is_empty() {
        log
    } else {
        log.warning(messages::data_files(files))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::examples::{self, applied, pass_report};
    use crate::policy::label::SurfaceRecord;
    use std::path::Path;

    /// What a section prints, without the colours and without the log's closing line
    /// (its time varies).
    fn printed(section: impl FnOnce(Log<Vec<u8>>) -> Log<Vec<u8>>) -> String {
        let log = Print::new(Vec::new()).without_header();
        let bytes = section(log).done();
        let text = bullet_stream::strip_ansi(String::from_utf8_lossy(&bytes));
        let closing = text.rfind("- Done (finished in").unwrap_or(text.len());
        text[..closing].to_owned()
    }

    fn settings(variables: &[(&str, &str)]) -> Settings {
        let lookup = |name: &str| {
            variables
                .iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| (*value).to_owned())
        };
        Settings::read(lookup, Path::new("/workspace")).unwrap()
    }

    #[test]
    fn every_build_log_section_reads_exactly_as_its_snapshot() {
        let sections = [
            (
                "log_pass",
                printed(|log| pass(log, &pass_report(), &settings(&[]))),
            ),
            (
                "log_pass_debug",
                printed(|log| pass(log, &pass_report(), &settings(&[("BP_LOG_LEVEL", "DEBUG")]))),
            ),
            (
                "log_pass_no_patterns",
                printed(|log| pass(log, &PassReport::default(), &settings(&[]))),
            ),
            (
                "log_surface",
                printed(|log| surface(log, &examples::surface(), &settings(&[]))),
            ),
            (
                "log_surface_read_only",
                printed(|log| {
                    surface(
                        log,
                        &examples::surface(),
                        &settings(&[("BP_GROUP_WRITABLE_READ_ONLY", "true")]),
                    )
                }),
            ),
            (
                "log_surface_nothing",
                printed(|log| surface(log, &SurfaceRecord::default(), &settings(&[]))),
            ),
            (
                "log_redirects",
                printed(|log| redirects(log, &settings(&[]), &applied())),
            ),
            (
                "log_redirects_only",
                printed(|log| {
                    redirects(
                        log,
                        &settings(&[("BP_GROUP_WRITABLE_REDIRECTS", "rails-tmp,laravel-logs")]),
                        &applied(),
                    )
                }),
            ),
            (
                "log_redirects_off",
                printed(|log| {
                    redirects(
                        log,
                        &settings(&[("BP_GROUP_WRITABLE_REDIRECTS", "off")]),
                        &[],
                    )
                }),
            ),
        ];
        for (name, text) in sections {
            insta::assert_snapshot!(name, text);
        }
    }
}
