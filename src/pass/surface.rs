//! The writable surface: what the app and the layers leave group- or other-writable that
//! no pattern names (the platform's, an earlier buildpack's, a checkout's), counted by the
//! walk, and what `BP_GROUP_WRITABLE_READ_ONLY` made read-only. Also the record of each
//! layer's figures, kept in this buildpack's cached layer, so that a layer the next build
//! reuses from the previous image is reported with the figures of the build that made it.

use crate::pass::walk::PatternCounts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many world-writable entries are named, per build (the first ones by path); the
/// rest are counted.
pub const WORLD_WRITABLE_NAMES: usize = 20;

/// Entries no pattern names that are group- or other-writable after the pass.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurfaceCounts {
    pub directories: u64,
    pub files: u64,
    /// Of those, how many are writable by others (`o+w`): by any user of the image.
    pub world_writable: u64,
    /// The first [`WORLD_WRITABLE_NAMES`] of them by path, absolute, sorted.
    pub world_writable_paths: Vec<String>,
    /// Entries `BP_GROUP_WRITABLE_READ_ONLY` removed `g+w`/`o+w` from (they are not
    /// counted above: they are no longer writable).
    pub made_read_only: u64,
}

impl SurfaceCounts {
    /// Counts one entry left writable (`mode` has `g+w` or `o+w`).
    pub fn add_left(&mut self, is_directory: bool, mode: u32, path: impl FnOnce() -> String) {
        if is_directory {
            self.directories += 1;
        } else {
            self.files += 1;
        }
        if mode & 0o002 != 0 {
            self.world_writable += 1;
            self.add_world_writable_path(path());
        }
    }

    fn add_world_writable_path(&mut self, path: String) {
        let paths = &mut self.world_writable_paths;
        if paths.len() == WORLD_WRITABLE_NAMES && paths.last().is_some_and(|last| *last <= path) {
            return;
        }
        let at = paths.binary_search(&path).unwrap_or_else(|at| at);
        paths.insert(at, path);
        paths.truncate(WORLD_WRITABLE_NAMES);
    }

    /// Whether anything is left writable.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.directories + self.files == 0
    }
}

impl std::ops::AddAssign<&SurfaceCounts> for SurfaceCounts {
    fn add_assign(&mut self, other: &SurfaceCounts) {
        self.directories += other.directories;
        self.files += other.files;
        self.world_writable += other.world_writable;
        self.made_read_only += other.made_read_only;
        for path in &other.world_writable_paths {
            self.add_world_writable_path(path.clone());
        }
    }
}

/// What one layer's walk found: per pattern (by its text) and its surface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerFigures {
    #[serde(default)]
    pub patterns: BTreeMap<String, PatternCounts>,
    #[serde(default)]
    pub surface: SurfaceCounts,
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
