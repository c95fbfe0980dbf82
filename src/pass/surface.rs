//! The writable surface: what the app and the layers leave group- or other-writable that
//! no pattern names (the platform's, an earlier buildpack's, a checkout's), counted by the
//! walk, and what `BP_GROUP_WRITABLE_READ_ONLY` made read-only. Also the record of each
//! layer's figures, kept in this buildpack's cached layer, so that a layer the next build
//! reuses from the previous image is reported with the figures of the build that made it.

use crate::pass::walk::PatternCounts;
pub use group_writable_policy::label::{SurfaceCounts, WORLD_WRITABLE_NAMES};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one layer's walk found: per pattern (by its text) and its surface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerFigures {
    #[serde(default)]
    pub patterns: BTreeMap<String, PatternCounts>,
    #[serde(default)]
    pub surface: SurfaceCounts,
}

impl LayerFigures {
    /// Whether these are the figures of a layer as `previous` recorded it after the build
    /// that made it, restored from the cache: this build changed no mode in it (no
    /// pattern's `chmod`, nothing made read-only), and found the same entries, matched
    /// and left writable. Its modes are then what that build made them, so the record
    /// keeps what that build changed, and a rebuild gives the same label. (When that
    /// build changed nothing either, the figures are the same anyway: false.)
    #[must_use]
    pub fn is_restored_from(&self, previous: &LayerFigures) -> bool {
        let changed_nothing = |figures: &LayerFigures| {
            figures.surface.made_read_only == 0
                && figures.patterns.values().all(|counts| counts.changed == 0)
        };
        let entries = |figures: &LayerFigures| {
            let patterns: Vec<_> = figures
                .patterns
                .iter()
                .map(|(text, counts)| (text.clone(), counts.directories, counts.files))
                .filter(|(_, directories, files)| directories + files > 0)
                .collect();
            let surface = SurfaceCounts {
                made_read_only: 0,
                ..figures.surface.clone()
            };
            (patterns, surface)
        };
        changed_nothing(self) && !changed_nothing(previous) && entries(self) == entries(previous)
    }
}

/// The figures of every layer of other buildpacks, by `<buildpack dir>/<layer>`: the
/// metadata of this buildpack's cached `surface` layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecords {
    #[serde(default)]
    pub layers: BTreeMap<String, LayerFigures>,
}

/// The metadata of the cached layer that keeps the records: the records as one JSON
/// string. The lifecycle keeps a cached layer's metadata as JSON between builds and writes
/// it back as TOML on restore, which turns every integer into a float (`1.0`); a string
/// comes back as it went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsMetadata {
    pub records: String,
}

impl RecordsMetadata {
    #[must_use]
    pub fn new(records: &LayerRecords) -> RecordsMetadata {
        RecordsMetadata {
            // Serializing maps of strings and numbers cannot fail.
            records: serde_json::to_string(records).unwrap_or_default(),
        }
    }

    /// The records the previous build left in the layer `name` of `layers_dir` (restored
    /// from the cache), or none.
    #[must_use]
    pub fn previous(layers_dir: &std::path::Path, name: &str) -> LayerRecords {
        #[derive(Deserialize)]
        struct LayerToml {
            metadata: Option<RecordsMetadata>,
        }
        libcnb::read_toml_file::<LayerToml>(layers_dir.join(format!("{name}.toml")))
            .ok()
            .and_then(|toml| toml.metadata)
            .map(|metadata| metadata.records())
            .unwrap_or_default()
    }

    /// The records, or none when they cannot be read (a record of another version).
    #[must_use]
    pub fn records(&self) -> LayerRecords {
        serde_json::from_str(&self.records).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_writable_names_are_the_first_by_path_whatever_the_order() {
        let mut forward = SurfaceCounts::default();
        let mut backward = SurfaceCounts::default();
        let names: Vec<String> = (0..50).map(|i| format!("/workspace/f{i:02}")).collect();
        for name in &names {
            forward.add_left(false, 0o666, || name.clone());
        }
        for name in names.iter().rev() {
            backward.add_left(false, 0o666, || name.clone());
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.world_writable, 50);
        assert_eq!(forward.world_writable_paths, names[..WORLD_WRITABLE_NAMES]);
        let mut halves = SurfaceCounts::default();
        let (mut a, mut b) = (SurfaceCounts::default(), SurfaceCounts::default());
        for (i, name) in names.iter().enumerate() {
            let half = if i % 2 == 0 { &mut a } else { &mut b };
            half.add_left(false, 0o666, || name.clone());
        }
        halves += &b;
        halves += &a;
        assert_eq!(halves, forward);
    }

    #[test]
    fn records_survive_the_metadata_round_trip() {
        let mut records = LayerRecords::default();
        let mut figures = LayerFigures::default();
        figures.patterns.insert(
            "/layers/bp/l/data/".to_owned(),
            PatternCounts {
                directories: 1,
                files: 2,
                changed: 3,
            },
        );
        figures
            .surface
            .add_left(false, 0o666, || "/layers/bp/l/x".to_owned());
        records.layers.insert("bp/l".to_owned(), figures);
        assert_eq!(RecordsMetadata::new(&records).records(), records);
        assert_eq!(
            RecordsMetadata {
                records: "not json".to_owned()
            }
            .records(),
            LayerRecords::default()
        );
    }

    /// A layer's figures: one pattern's counts, and what the read-only setting removed.
    fn figures(directories: u64, files: u64, changed: u64, made_read_only: u64) -> LayerFigures {
        let mut figures = LayerFigures::default();
        figures.patterns.insert(
            "/layers/bp/l/data/".to_owned(),
            PatternCounts {
                directories,
                files,
                changed,
            },
        );
        figures.surface.made_read_only = made_read_only;
        figures
    }

    #[test]
    fn a_layer_restored_as_the_previous_build_left_it_keeps_its_record() {
        let made = figures(1, 2, 3, 4);
        // Restored from the cache: the same entries, already changed.
        assert!(figures(1, 2, 0, 0).is_restored_from(&made));
        // The controls: rebuilt by its buildpack (this build changed modes again), or
        // holding other entries, it is recorded as this build found it.
        assert!(!figures(1, 2, 3, 4).is_restored_from(&made));
        assert!(!figures(1, 2, 1, 0).is_restored_from(&made));
        assert!(!figures(1, 2, 0, 1).is_restored_from(&made));
        assert!(!figures(1, 3, 0, 0).is_restored_from(&made));
        let mut left = figures(1, 2, 0, 0);
        left.surface.add_left(false, 0o664, || unreachable!());
        assert!(!left.is_restored_from(&made));
        // Neither build changed anything: nothing to keep, nothing to say.
        assert!(!figures(1, 2, 0, 0).is_restored_from(&figures(1, 2, 0, 0)));
    }

    #[test]
    fn group_writable_entries_are_counted_not_named() {
        let mut counts = SurfaceCounts::default();
        counts.add_left(true, 0o775, || unreachable!());
        counts.add_left(false, 0o664, || unreachable!());
        assert_eq!(
            (counts.directories, counts.files, counts.world_writable),
            (1, 1, 0)
        );
        assert!(counts.world_writable_paths.is_empty());
    }
}
