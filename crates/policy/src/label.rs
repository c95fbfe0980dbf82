//! The image label that records the applied policy, so a platform can audit what an image
//! leaves writable without running it: the build user, each pattern with what it matched,
//! each redirect, and the writable surface. JSON, under [`KEY`].

use serde::{Deserialize, Serialize};

/// The label key (reverse DNS of the project's home, cnb-utils.github.io).
pub const KEY: &str = "io.github.cnb-utils.group-writable.policy";

/// The label's JSON document. `version` changes with any incompatible change of shape.
/// `group-writable-audit` reads it back with these same types.
#[derive(Debug, Serialize, Deserialize)]
pub struct Policy {
    pub version: u32,
    pub build_user: BuildIds,
    pub tmp_base: String,
    pub patterns: Vec<PatternRecord>,
    pub redirects: Vec<RedirectRecord>,
    /// What the image leaves group- or other-writable, in three classes (absent from the
    /// labels of builds before it existed).
    #[serde(default)]
    pub surface: SurfaceRecord,
}

/// The writable surface: named by a pattern, left by the platform or an earlier
/// buildpack, and this buildpack's own redirects.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SurfaceRecord {
    /// Whether `BP_GROUP_WRITABLE_READ_ONLY` was on.
    pub read_only: bool,
    /// Entries the patterns name (all group-writable): the sums of `patterns`.
    pub named: NamedCounts,
    /// In the app (the app directory itself included), entries no pattern names that are
    /// group- or other-writable, with the world-writable ones by name (up to 20).
    pub app: SurfaceCounts,
    /// The same in the layers of other buildpacks.
    pub layers: SurfaceCounts,
    /// The app paths the path redirects replaced with a symlink into the tmp base
    /// (writable at launch there); the env redirects point into the tmp base too.
    pub redirected: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct NamedCounts {
    pub directories: u64,
    pub files: u64,
}

/// The uid and gid the build ran as: the owner of every app and layer file in the image.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct BuildIds {
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PatternRecord {
    pub pattern: String,
    /// `file:line`, or `BP_GROUP_WRITABLE_PATHS:item`.
    pub source: String,
    /// `app` or `layers`.
    pub root: String,
    pub negated: bool,
    pub directories: u64,
    pub files: u64,
    pub changed: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RedirectRecord {
    Env {
        id: String,
        variable: String,
        value: String,
        /// When the helper sets it: `unset`, or `unset_and_home_not_writable`.
        when: String,
    },
    Path {
        id: String,
        /// App-relative, now a symlink to `target`.
        path: String,
        target: String,
        /// What the build left there: `seeded`, `dropped` or `none`.
        build_content: String,
        seeded_files: u64,
        /// The bytes of the seed, copied into `target` at every launch (0 in labels
        /// written before it was recorded).
        #[serde(default)]
        seeded_bytes: u64,
    },
    /// A PHP ini directive set in an ini file of the helper layer (`PHP_INI_SCAN_DIR`).
    PhpIni {
        id: String,
        directive: String,
        value: String,
    },
}

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
    /// Entries group- or other-writable under an app path a redirect replaces (not
    /// counted above: the redirect moves them out of the app, into its seed, or drops
    /// them; what is writable there at launch is the redirect's target). Always 0 for the
    /// layers; absent from labels written before it was counted.
    #[serde(default)]
    pub redirected: u64,
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
        self.redirected += other.redirected;
        for path in &other.world_writable_paths {
            self.add_world_writable_path(path.clone());
        }
    }
}

impl Policy {
    /// The label value.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
