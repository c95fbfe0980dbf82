//! The group-writable pass: from the settings to changed modes and a report.
//!
//! Reads the patterns (file, then `BP_GROUP_WRITABLE_PATHS`), splits them by root, walks
//! the app directory and, when a pattern addresses it, the layers root, and gathers what
//! each pattern matched, the warnings, and the problems that fail the build.

use crate::messages;

pub mod app_patterns;
pub mod code;
pub mod exact_chmod;
pub mod fingerprint;
pub mod mode;
pub mod patterns;
pub mod surface;
pub mod walk;

use self::app_patterns::AppPatterns;
use self::mode::Kind;
use self::patterns::{Pattern, PatternError, PatternFileError, PatternList, Root, RootContext};
use self::surface::{LayerFigures, LayerRecords, SurfaceCounts};
use self::walk::{BuildUser, Change, PatternCounts, Problem, RootWalk, SurfaceScope};
use crate::settings::{self, Settings};
use group_writable_gitignore::matcher::{Matcher, TooComplex};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Names in the layers root that are never walked: the CNB spec reserves `config`, `sbom`
/// and `app` (no buildpack may have these ids) for the lifecycle.
const LIFECYCLE_LAYERS_ENTRIES: [&str; 3] = ["app", "config", "sbom"];

/// What the pass works on.
pub struct PassInput<'a> {
    pub app_dir: &'a Path,
    /// This buildpack's own layers directory (`/layers/cnb-utils_group-writable`); its
    /// parent is the layers root, and it is never walked itself.
    pub layers_dir: &'a Path,
    pub settings: &'a Settings,
    pub user: &'a BuildUser,
    pub threads: usize,
    /// The figures of each layer as the previous build recorded them (this buildpack's
    /// cached layer), for the layers the lifecycle reuses from the previous image.
    pub previous: &'a LayerRecords,
}

/// One pattern and what it matched.
#[derive(Debug)]
pub struct PatternReport {
    pub pattern: Pattern,
    pub counts: PatternCounts,
}

/// One changed entry, for the debug listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPath {
    pub path: PathBuf,
    pub kind: Kind,
    pub old_mode: u32,
    pub new_mode: u32,
}

/// The outcome of a successful pass.
#[derive(Debug, Default)]
pub struct PassReport {
    /// Where the patterns came from, for the log (empty when there were none).
    pub sources: Vec<String>,
    pub patterns: Vec<PatternReport>,
    pub warnings: Vec<String>,
    /// Every changed path, sorted; only collected when the debug listing is on.
    pub changed_paths: Vec<ChangedPath>,
    pub duration: Duration,
    /// What the app leaves group- or other-writable that no pattern names.
    pub app_surface: SurfaceCounts,
    /// The same for the layers of other buildpacks (reused ones with their recorded
    /// figures).
    pub layers_surface: SurfaceCounts,
    /// Layers a pattern addresses that are reused from the previous image, for the log.
    pub reused: Vec<String>,
    /// Every layer's figures, for the next build (this buildpack's cached layer).
    pub records: LayerRecords,
}

impl PassReport {
    /// Totals over all patterns.
    #[must_use]
    pub fn totals(&self) -> PatternCounts {
        let mut totals = PatternCounts::default();
        for report in &self.patterns {
            totals += report.counts;
        }
        totals
    }
}

/// Why the pass failed.
#[derive(Debug)]
pub enum PassError {
    PatternFile(PatternFileError),
    /// `BP_GROUP_WRITABLE_FILE` names a file that does not exist.
    MissingPatternFile {
        path: PathBuf,
    },
    Patterns(Vec<PatternError>),
    /// `BP_GROUP_WRITABLE_PATHS` is larger than a pattern file may be.
    PathsTooLarge {
        size: u64,
    },
    RootUnreadable {
        path: PathBuf,
        error: rustix::io::Errno,
    },
    /// The patterns of one root are too many or too complex to compile.
    TooComplex {
        root: Root,
        error: TooComplex,
    },
    /// Matched paths the build user could not change.
    Problems {
        problems: Vec<(PathBuf, Problem)>,
        user: BuildUser,
    },
}

/// The layers root (`/layers`), above the buildpack's own layers directory
/// (`CNB_LAYERS_DIR`, `/layers/<buildpack id>`).
#[must_use]
pub fn layers_root(layers_dir: &Path) -> &Path {
    layers_dir.parent().unwrap_or(layers_dir)
}

/// The patterns of a pass, read and compiled for both roots, before anything is walked:
/// the redirect plan asks the app's patterns which paths they protect, and the walk then
/// knows which app paths the redirects replace.
pub struct Prepared {
    started: Instant,
    list: PatternList,
    sources: Vec<String>,
    app_patterns: AppPatterns,
    layers_matcher: Matcher,
}

impl Prepared {
    /// The app's patterns, as the walk will match them.
    #[must_use]
    pub fn app_patterns(&self) -> &AppPatterns {
        &self.app_patterns
    }
}

/// Reads the patterns and compiles them for both roots. Changes nothing: too complex
/// patterns of either root fail the pass before any root is walked.
pub fn prepare(input: &PassInput<'_>) -> Result<Prepared, PassError> {
    let started = Instant::now();
    let (list, sources) = read_patterns(input, layers_root(input.layers_dir))?;
    let too_complex = |root| move |error| PassError::TooComplex { root, error };
    let app_patterns = AppPatterns::compile(&list.patterns).map_err(too_complex(Root::App))?;
    let layers_matcher =
        patterns::matcher_for(&list.patterns, Root::Layers).map_err(too_complex(Root::Layers))?;
    Ok(Prepared {
        started,
        list,
        sources,
        app_patterns,
        layers_matcher,
    })
}

/// Runs the pass: its report. `redirected` are the app paths (app-relative) the redirects will
/// replace: their writable entries are reported as redirected, not as left writable.
pub fn run(
    input: &PassInput<'_>,
    prepared: Prepared,
    redirected: &[&str],
) -> Result<PassReport, PassError> {
    let Prepared {
        started,
        list,
        sources,
        app_patterns,
        layers_matcher,
    } = prepared;
    let layers_root = layers_root(input.layers_dir);
    let mut report = PassReport {
        sources,
        ..PassReport::default()
    };
    for inert in &list.inert {
        report.warnings.push(messages::never_matches(inert));
    }
    let walked = walk_roots(
        input,
        &list,
        layers_root,
        [app_patterns.matcher(), &layers_matcher],
        redirected,
    )?;
    let (fatal, harmless): (Vec<_>, Vec<_>) = walked
        .problems
        .into_iter()
        .partition(|(_, problem)| problem.is_fatal());
    for (root, problem) in &harmless {
        match problem {
            Problem::Unreadable { path, error, .. } => report
                .warnings
                .push(messages::unreadable_directory(&root.join(path), *error)),
            Problem::NotMadeReadOnly { path, error } => report
                .warnings
                .push(messages::not_made_read_only(&root.join(path), *error)),
            _ => {}
        }
    }
    if !fatal.is_empty() {
        return Err(PassError::Problems {
            problems: fatal,
            user: input.user.clone(),
        });
    }

    for (pattern, counts) in list.patterns.into_iter().zip(walked.counts) {
        if !pattern.is_negated() && counts.directories + counts.files == 0 {
            report.warnings.push(messages::nothing_matched(
                &pattern,
                input.app_dir,
                layers_root,
            ));
        }
        report.patterns.push(PatternReport { pattern, counts });
    }
    report.changed_paths = walked.changed_paths;
    report.app_surface = walked.app_surface;
    report.layers_surface = walked.layers_surface;
    report.reused = walked.reused;
    report.records = walked.records;
    report.warnings.extend(code::warnings(
        input.app_dir,
        layers_root,
        &layers_skips(input),
        &report.patterns,
    ));
    report.duration = started.elapsed();
    Ok(report)
}

/// What walking both roots found.
struct Walked {
    /// Per pattern, summed over both roots.
    counts: Vec<PatternCounts>,
    /// With the root each problem's path is relative to.
    problems: Vec<(PathBuf, Problem)>,
    /// Sorted; empty unless the debug listing is on.
    changed_paths: Vec<ChangedPath>,
    app_surface: SurfaceCounts,
    layers_surface: SurfaceCounts,
    reused: Vec<String>,
    records: LayerRecords,
}

/// Walks the app directory and the layers root, each with the patterns addressing it.
/// `matchers` are the app's and the layers'.
fn walk_roots(
    input: &PassInput<'_>,
    list: &PatternList,
    layers_root: &Path,
    matchers: [&Matcher; 2],
    redirected: &[&str],
) -> Result<Walked, PassError> {
    raise_open_file_limit();
    let layers_skips = layers_skips(input);
    let changes = Mutex::new(Vec::new());
    let mut counts = vec![PatternCounts::default(); list.patterns.len()];
    let mut problems = Vec::new();
    let mut app_surface = SurfaceCounts::default();
    let mut layers_surface = SurfaceCounts::default();
    let mut reused = Vec::new();
    let mut records = LayerRecords::default();
    let roots = [
        (
            Root::App,
            input.app_dir,
            &[][..],
            false,
            SurfaceScope::App,
            redirected,
        ),
        (
            Root::Layers,
            layers_root,
            &layers_skips[..],
            true,
            SurfaceScope::Layers,
            &[][..],
        ),
    ];
    for ((root, directory, skips, directories_only, surface, redirected), matcher) in
        roots.into_iter().zip(matchers)
    {
        let record = |change: &Change<'_>| {
            changes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(ChangedPath {
                    path: directory.join(change.path),
                    kind: change.kind,
                    old_mode: change.old_mode,
                    new_mode: change.new_mode,
                });
        };
        let outcome = walk::walk_root(
            &RootWalk {
                root,
                directory,
                matcher,
                skip_top_level: skips,
                directories_only_at_top: directories_only,
                surface,
                read_only: input.settings.read_only,
                redirected,
            },
            list.patterns.len(),
            input.user,
            input.threads,
            input.settings.debug.then_some(&record),
        )
        .map_err(|error| PassError::RootUnreadable {
            path: directory.to_owned(),
            error,
        })?;
        for (total, root_counts) in counts.iter_mut().zip(&outcome.counts) {
            *total += *root_counts;
        }
        match root {
            Root::App => app_surface = outcome.surface,
            Root::Layers => {
                (records, layers_surface, reused) = layers_figures(
                    input,
                    directory,
                    &layers_skips,
                    &list.patterns,
                    &outcome.layers,
                    &mut counts,
                );
            }
        }
        problems.extend(
            outcome
                .problems
                .into_iter()
                .map(|problem| (directory.to_owned(), problem)),
        );
    }

    let mut changed_paths = changes
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    changed_paths.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Walked {
        counts,
        problems,
        changed_paths,
        app_surface,
        layers_surface,
        reused,
        records,
    })
}

/// What the layers' walk gives the report: every layer's record (a layer found as the
/// previous build left it with what earlier builds changed in it, and a layer reused from
/// the previous image with its recorded figures, which `counts` then include), the launch
/// layers' surface, and the log notes on restored and reused layers.
fn layers_figures(
    input: &PassInput<'_>,
    layers_root: &Path,
    skips: &[&OsStr],
    patterns: &[Pattern],
    walked: &std::collections::BTreeMap<String, walk::Figures>,
    counts: &mut [PatternCounts],
) -> (LayerRecords, SurfaceCounts, Vec<String>) {
    let mut notes = Vec::new();
    let mut records = record_layers(patterns, walked);
    for (layer, record) in &mut records.layers {
        let (Some(previous), Some(found)) = (input.previous.layers.get(layer), walked.get(layer))
        else {
            continue;
        };
        if LayerFigures::is_as_left_by(found.fingerprint.found, previous) {
            if previous.changed_any() {
                notes.push(messages::restored_layer(&layers_root.join(layer)));
            }
            for (text, changed) in record.add_earlier_changes(previous) {
                if let Some(index) = credited_pattern(patterns, &text) {
                    counts[index].changed += changed;
                }
            }
        }
    }
    // Only launch layers are in the image: the surface counts those (a build- or
    // cache-only layer is walked, and changed, but not exported).
    let layers = launch_layers(layers_root, skips);
    let mut surface = SurfaceCounts::default();
    for (layer, record) in &records.layers {
        if layers.on_disk.contains(layer) {
            surface += &record.surface;
        }
    }
    for layer in layers.reused {
        let Some(figures) = input.previous.layers.get(&layer).cloned() else {
            notes.extend(reuse_notes(layers_root, &layer, patterns, false));
            continue;
        };
        notes.extend(reuse_notes(layers_root, &layer, patterns, true));
        carry(patterns, &figures, counts, &mut surface);
        records.layers.insert(layer, figures);
    }
    (records, surface, notes)
}

/// Each layer's figures, with its pattern counts by pattern text (pattern indices change
/// when the pattern file does).
fn record_layers(
    patterns: &[Pattern],
    layers: &std::collections::BTreeMap<String, walk::Figures>,
) -> LayerRecords {
    let mut records = LayerRecords::default();
    for (layer, figures) in layers {
        let mut record = LayerFigures {
            surface: figures.surface.clone(),
            fingerprint: figures.fingerprint.left,
            ..LayerFigures::default()
        };
        for (pattern, counts) in patterns.iter().zip(&figures.counts) {
            if *counts != PatternCounts::default() {
                *record.patterns.entry(pattern.text.clone()).or_default() += *counts;
            }
        }
        records.layers.insert(layer.clone(), record);
    }
    records
}

/// Adds a reused layer's recorded figures to this build's: its counts to the last pattern
/// with the recorded text (the one the walk would have credited), its surface.
fn carry(
    patterns: &[Pattern],
    figures: &LayerFigures,
    counts: &mut [PatternCounts],
    surface: &mut SurfaceCounts,
) {
    for (text, recorded) in &figures.patterns {
        if let Some(index) = credited_pattern(patterns, text) {
            counts[index] += *recorded;
        }
    }
    *surface += &figures.surface;
}

/// The pattern a recorded layer figure by pattern text is credited to: the last layers
/// pattern with that text, the one the walk would have credited.
fn credited_pattern(patterns: &[Pattern], text: &str) -> Option<usize> {
    patterns
        .iter()
        .rposition(|pattern| pattern.root == Root::Layers && pattern.text == text)
}

/// The launch layers of other buildpacks, as `<buildpack dir>/<layer>`: their
/// `<layer>.toml` says `launch = true`.
struct LaunchLayers {
    /// Their directory is there.
    on_disk: std::collections::BTreeSet<String>,
    /// Their directory is not: the lifecycle reuses them from the previous image (what
    /// libpak-based buildpacks leave for a launch layer they keep). Sorted.
    reused: Vec<String>,
}

fn launch_layers(layers_root: &Path, skips: &[&OsStr]) -> LaunchLayers {
    #[derive(serde::Deserialize)]
    struct LayerToml {
        #[serde(default)]
        types: Option<Types>,
    }
    #[derive(serde::Deserialize)]
    struct Types {
        #[serde(default)]
        launch: bool,
    }
    let mut layers = LaunchLayers {
        on_disk: std::collections::BTreeSet::new(),
        reused: Vec::new(),
    };
    let Ok(buildpacks) = std::fs::read_dir(layers_root) else {
        return layers;
    };
    for buildpack in buildpacks.flatten() {
        let name = buildpack.file_name();
        if skips.contains(&name.as_os_str())
            || !buildpack.file_type().is_ok_and(|kind| kind.is_dir())
        {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(buildpack.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(layer) = path
                .file_name()
                .and_then(OsStr::to_str)
                .and_then(|file| file.strip_suffix(".toml"))
            else {
                continue;
            };
            let launch = libcnb::read_toml_file::<LayerToml>(&path)
                .ok()
                .and_then(|toml| toml.types)
                .is_some_and(|types| types.launch);
            if !launch {
                continue;
            }
            let key = format!("{}/{layer}", name.to_string_lossy());
            if buildpack.path().join(layer).symlink_metadata().is_err() {
                layers.reused.push(key);
            } else {
                layers.on_disk.insert(key);
            }
        }
    }
    layers.reused.sort();
    layers
}

/// The launch layers on disk below `layers_root` (but the lifecycle's entries), as
/// `<buildpack dir>/<layer>`: what of the layers goes into the image. The redirect plan's
/// bytecode probe reads these, as the surface counts them.
#[must_use]
pub fn image_layers(layers_root: &Path) -> Vec<String> {
    let skips: Vec<&OsStr> = LIFECYCLE_LAYERS_ENTRIES.iter().map(OsStr::new).collect();
    launch_layers(layers_root, &skips)
        .on_disk
        .into_iter()
        .collect()
}

/// The log notes for a reused layer: one per pattern that addresses it.
fn reuse_notes(
    layers_root: &Path,
    layer: &str,
    patterns: &[Pattern],
    recorded: bool,
) -> Vec<String> {
    patterns
        .iter()
        .filter(|pattern| pattern.root == Root::Layers && !pattern.is_negated())
        .filter(|pattern| {
            patterns::matcher_for(std::slice::from_ref(*pattern), Root::Layers).is_ok_and(
                |matcher| {
                    matches!(
                        matcher.decide(Path::new(layer), true),
                        group_writable_gitignore::matcher::Decision::Matched(_)
                    ) || matcher.may_match_below(layer.as_bytes())
                },
            )
        })
        .map(|pattern| messages::reused_layer(&layers_root.join(layer), pattern, recorded))
        .collect()
}

/// The names in the layers root the pass never walks: the lifecycle's and our own.
fn layers_skips<'a>(input: &PassInput<'a>) -> Vec<&'a OsStr> {
    let mut skips: Vec<&OsStr> = LIFECYCLE_LAYERS_ENTRIES.iter().map(OsStr::new).collect();
    skips.push(input.layers_dir.file_name().unwrap_or_default());
    skips
}

/// Reads and parses the pattern file and `BP_GROUP_WRITABLE_PATHS`, in that order.
fn read_patterns(
    input: &PassInput<'_>,
    layers_root: &Path,
) -> Result<(PatternList, Vec<String>), PassError> {
    let settings = input.settings;
    let app_has_entry = |name: &str| input.app_dir.join(name).symlink_metadata().is_ok();
    let context = RootContext {
        app_dir: input.app_dir,
        layers_root,
        app_has_entry: &app_has_entry,
    };
    let file = if settings.pattern_file.is_absolute() {
        settings.pattern_file.clone()
    } else {
        input.app_dir.join(&settings.pattern_file)
    };
    let display_name = file
        .strip_prefix(input.app_dir)
        .unwrap_or(&file)
        .display()
        .to_string();

    let mut list = PatternList::default();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    match patterns::read_pattern_file(input.app_dir, &file).map_err(PassError::PatternFile)? {
        Some(text) => {
            sources.push(display_name.clone());
            match patterns::parse_pattern_text(&display_name, &text, &context) {
                Ok(parsed) => list = parsed,
                Err(found) => errors.extend(found),
            }
        }
        None if settings.pattern_file_explicit => {
            return Err(PassError::MissingPatternFile { path: file });
        }
        None => {}
    }
    if let Some(value) = &settings.extra_patterns {
        // Bounded as the pattern file is: `project.toml`'s `[[build.env]]` puts it in
        // the app's hands, and parsing megabytes of patterns takes minutes.
        if value.len() as u64 > patterns::MAX_PATTERN_FILE_BYTES {
            return Err(PassError::PathsTooLarge {
                size: value.len() as u64,
            });
        }
        sources.push(settings::PATHS.to_owned());
        match patterns::parse_pattern_list(settings::PATHS, value, &context) {
            Ok(parsed) => {
                list.patterns.extend(parsed.patterns);
                list.inert.extend(parsed.inert);
            }
            Err(found) => errors.extend(found),
        }
    }
    if errors.is_empty() {
        Ok((list, sources))
    } else {
        Err(PassError::Patterns(errors))
    }
}

/// A deep tree needs one descriptor per level being read; allow as many as the hard limit.
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::fs;
    use std::os::unix::fs::PermissionsExt as _;

    /// The mode of the app's `log` after a pass over `patterns` (and the pass's outcome).
    fn log_mode_after(patterns: &str) -> (Result<(), PassError>, u32) {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("workspace");
        let layers_dir = root.path().join("layers/cnb-utils_group-writable");
        fs::create_dir_all(app.join("log")).unwrap();
        fs::create_dir_all(&layers_dir).unwrap();
        fs::set_permissions(app.join("log"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(app.join(".group-writable"), patterns).unwrap();
        let settings = Settings::read(|_| None, &app).unwrap();
        let input = PassInput {
            app_dir: &app,
            layers_dir: &layers_dir,
            settings: &settings,
            user: &BuildUser::current(),
            threads: 1,
            previous: &LayerRecords::default(),
        };
        let outcome = prepare(&input).and_then(|prepared| run(&input, prepared, &[]));
        let mode = fs::metadata(app.join("log")).unwrap().permissions().mode() & 0o777;
        (outcome.map(|_| ()), mode)
    }

    /// Builds over a cached launch layer `bp/cached` (`data/one` and `data/two`, and
    /// entries no pattern names: a world-writable `notes`, a nested `lib/`, a symlink),
    /// with a pattern naming its `data/`.
    struct LayerBuild {
        root: tempfile::TempDir,
    }

    impl LayerBuild {
        fn new() -> LayerBuild {
            let build = LayerBuild {
                root: tempfile::tempdir().unwrap(),
            };
            fs::create_dir_all(build.app()).unwrap();
            fs::create_dir_all(build.layers_dir()).unwrap();
            let layers_root = build.root.path().join("layers");
            fs::create_dir_all(layers_root.join("bp")).unwrap();
            fs::write(
                layers_root.join("bp/cached.toml"),
                "[types]\nlaunch = true\ncache = true\n",
            )
            .unwrap();
            fs::write(
                build.app().join(".group-writable"),
                format!("{}/bp/cached/data/\n", layers_root.display()),
            )
            .unwrap();
            build
        }

        fn app(&self) -> PathBuf {
            self.root.path().join("workspace")
        }

        fn layers_dir(&self) -> PathBuf {
            self.root.path().join("layers/cnb-utils_group-writable")
        }

        /// The layer as its buildpack makes it (again): `data/` with these modes and
        /// contents, the rest as always.
        fn make_layer(&self, directory_mode: u32, file_mode: u32, content: &str) {
            let layer = self.root.path().join("layers/bp/cached");
            let data = layer.join("data");
            let _ = fs::remove_dir_all(&layer);
            fs::create_dir_all(&data).unwrap();
            fs::create_dir_all(layer.join("lib/nested/deep")).unwrap();
            fs::write(layer.join("lib/nested/deep/file"), "deep\n").unwrap();
            fs::write(layer.join("notes"), "notes\n").unwrap();
            fs::set_permissions(layer.join("notes"), fs::Permissions::from_mode(0o666)).unwrap();
            std::os::unix::fs::symlink("data/one", layer.join("link")).unwrap();
            for name in ["one", "two"] {
                fs::write(data.join(name), content).unwrap();
                fs::set_permissions(data.join(name), fs::Permissions::from_mode(file_mode))
                    .unwrap();
            }
            fs::set_permissions(&data, fs::Permissions::from_mode(directory_mode)).unwrap();
        }

        /// A pass (with `BP_GROUP_WRITABLE_READ_ONLY` set to `read_only`): the pattern's
        /// counts, the layer's record, and the log notes on layers.
        fn build(
            &self,
            previous: &LayerRecords,
            read_only: bool,
        ) -> (PatternCounts, LayerFigures, Vec<String>) {
            let (app, layers_dir) = (self.app(), self.layers_dir());
            let lookup = |name: &str| (name == settings::READ_ONLY).then(|| read_only.to_string());
            let settings = Settings::read(lookup, &app).unwrap();
            let input = PassInput {
                app_dir: &app,
                layers_dir: &layers_dir,
                settings: &settings,
                user: &BuildUser::current(),
                threads: 2,
                previous,
            };
            let report = prepare(&input)
                .and_then(|prepared| run(&input, prepared, &[]))
                .unwrap();
            (
                report.totals(),
                report.records.layers["bp/cached"].clone(),
                report.reused,
            )
        }
    }

    /// The records holding one layer's.
    fn records(record: &LayerFigures) -> LayerRecords {
        LayerRecords {
            layers: [("bp/cached".to_owned(), record.clone())].into(),
        }
    }

    #[test]
    fn a_layer_keeps_its_record_only_when_found_as_the_previous_build_left_it() {
        let layer = LayerBuild::new();
        layer.make_layer(0o755, 0o644, "one\n");
        let (first, record, notes) = layer.build(&LayerRecords::default(), false);
        assert_eq!((first.directories, first.files, first.changed), (1, 2, 3));
        assert!(notes.is_empty(), "{notes:?}");

        // Restored from the cache with the modes the first build gave it: this build
        // changes nothing, and keeps the first build's figures, on every rebuild.
        let (second, again, notes) = layer.build(&records(&record), false);
        assert_eq!(second, first);
        assert_eq!(again, record);
        assert!(
            notes[0].contains("is as the previous build left it"),
            "{notes:?}"
        );
        let (third, _, _) = layer.build(&records(&again), false);
        assert_eq!(third, first);

        // The control: the buildpack rebuilds the same entries, with other content and
        // modes already group-writable. The counts are the record's, but the layer is
        // not the one the previous build left: nothing was changed, and nothing is said.
        layer.make_layer(0o2775, 0o664, "one, rebuilt\n");
        let (rebuilt, _, notes) = layer.build(&records(&record), false);
        assert_eq!(
            (rebuilt.directories, rebuilt.files, rebuilt.changed),
            (1, 2, 0)
        );
        assert!(notes.is_empty(), "{notes:?}");
    }

    /// Every change the walk makes is in the fingerprint it leaves: bits added to what a
    /// pattern names, bits removed by the read-only setting, in nested directories, with
    /// a symlink, by two threads. The next build finds the layer as it was left.
    #[test]
    fn the_next_build_finds_a_layer_as_the_walk_left_it() {
        let layer = LayerBuild::new();
        layer.make_layer(0o755, 0o644, "one\n");
        let (first, record, _) = layer.build(&LayerRecords::default(), true);
        assert_eq!((first.changed, record.surface.made_read_only), (3, 1));
        let (second, again, notes) = layer.build(&records(&record), true);
        assert!(
            notes
                .iter()
                .any(|note| note.contains("is as the previous build left it")),
            "{notes:?}"
        );
        assert_eq!((second, again), (first, record));
    }

    #[test]
    fn too_complex_layers_patterns_change_nothing_in_the_app() {
        // The control: the app pattern alone makes `log` group-writable.
        let (outcome, mode) = log_mode_after("log/\n");
        assert!(outcome.is_ok());
        assert_eq!(mode, 0o775);

        // Some ten thousand wildcard patterns are more than the matcher compiles.
        let mut patterns = "log/\n".to_owned();
        for index in 0..12_000 {
            writeln!(patterns, "/layers/x/*a*b{index}*c*d*").unwrap();
        }
        let (outcome, mode) = log_mode_after(&patterns);
        assert!(
            matches!(
                outcome,
                Err(PassError::TooComplex {
                    root: Root::Layers,
                    ..
                })
            ),
            "{outcome:?}"
        );
        assert_eq!(
            mode, 0o755,
            "the app was walked before the layers' patterns failed"
        );
    }
}
