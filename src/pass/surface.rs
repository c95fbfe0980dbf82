//! The writable surface: what the app and the layers leave group- or other-writable that
//! no pattern names (the platform's, an earlier buildpack's, a checkout's), counted by the
//! walk, and what `BP_GROUP_WRITABLE_READ_ONLY` made read-only. Also the record of each
//! layer's figures, kept in this buildpack's cached layer, so that a layer the next build
//! reuses from the previous image is reported with the figures of the build that made it.

use crate::pass::walk::PatternCounts;
pub use group_writable_policy::label::{SurfaceCounts, WORLD_WRITABLE_NAMES};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one layer's walk found: per pattern (by its text) and its surface, and the
/// fingerprint of the layer as the walk left it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerFigures {
    #[serde(default)]
    pub patterns: BTreeMap<String, PatternCounts>,
    #[serde(default)]
    pub surface: SurfaceCounts,
    /// [`Fingerprint::left`](crate::pass::fingerprint::Fingerprint); 0 in a record of a
    /// version that kept none, which then matches no layer.
    #[serde(default)]
    pub fingerprint: u64,
}

impl LayerFigures {
    /// Whether the walk found this layer just as `previous` recorded it after the build
    /// before this one: the same entries with the same modes (restored from the build
    /// cache, with the modes that build gave them). `found` is its fingerprint as the walk
    /// found it.
    #[must_use]
    pub fn is_as_left_by(found: u64, previous: &LayerFigures) -> bool {
        previous.fingerprint != 0 && previous.fingerprint == found
    }

    /// Whether the build that recorded these figures changed any mode.
    #[must_use]
    pub fn changed_any(&self) -> bool {
        self.surface.made_read_only > 0 || self.patterns.values().any(|counts| counts.changed > 0)
    }

    /// Adds what the builds before this one changed in the layer, which the walk found as
    /// they left it, to this build's figures: each pattern's `changed` (for the patterns
    /// that still match there) and what was made read-only. The modes are theirs, so the
    /// record says they were changed, and a rebuild gives the same label. Returns what it
    /// added to each pattern's `changed`, by pattern text, for the build's totals.
    pub fn add_earlier_changes(&mut self, previous: &LayerFigures) -> Vec<(String, u64)> {
        let mut added = Vec::new();
        for (text, counts) in &mut self.patterns {
            if let Some(recorded) = previous.patterns.get(text) {
                counts.changed += recorded.changed;
                added.push((text.clone(), recorded.changed));
            }
        }
        self.surface.made_read_only += previous.surface.made_read_only;
        added
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
        // Above 2^53: JSON numbers that a float would round.
        figures.fingerprint = u64::MAX - 1;
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
        figures.fingerprint = 42;
        figures
    }

    #[test]
    fn a_layer_found_as_the_previous_build_left_it_keeps_what_that_build_changed() {
        let made = figures(1, 2, 3, 4);
        assert!(LayerFigures::is_as_left_by(42, &made));
        // The control: another layer, or a record without a fingerprint.
        assert!(!LayerFigures::is_as_left_by(41, &made));
        assert!(!LayerFigures::is_as_left_by(0, &LayerFigures::default()));

        let mut restored = figures(1, 2, 0, 0);
        assert_eq!(
            restored.add_earlier_changes(&made),
            [("/layers/bp/l/data/".to_owned(), 3)]
        );
        assert_eq!(restored, made);
        // And again on the next rebuild: the same record.
        let mut again = figures(1, 2, 0, 0);
        again.add_earlier_changes(&restored);
        assert_eq!(again, made);
        // This build changed more (a new pattern, entries that failed before): both.
        let mut more = figures(1, 2, 1, 1);
        more.add_earlier_changes(&made);
        assert_eq!(more, figures(1, 2, 4, 5));
        assert!(made.changed_any() && !figures(1, 2, 0, 0).changed_any());
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
