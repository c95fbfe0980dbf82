//! The image label that records the applied policy, so a platform can audit what an image
//! leaves writable without running it: the build user, each pattern with what it matched,
//! and each redirect. JSON, under [`KEY`].

use crate::pass::PassReport;
use crate::pass::surface::SurfaceCounts;
use crate::pass::walk::BuildUser;
use crate::redirects::{Applied, BuildContent, Outcome};
use group_writable_launch::contract::TmpBase;
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

impl SurfaceRecord {
    /// The surface of one build: the pass's figures, and the redirects it applied.
    #[must_use]
    pub fn new(
        pass: &PassReport,
        redirects: &[Applied],
        app_dir: &std::path::Path,
        read_only: bool,
    ) -> SurfaceRecord {
        let totals = pass.totals();
        SurfaceRecord {
            read_only,
            named: NamedCounts {
                directories: totals.directories,
                files: totals.files,
            },
            app: pass.app_surface.clone(),
            layers: pass.layers_surface.clone(),
            redirected: redirects
                .iter()
                .filter_map(|redirect| match &redirect.outcome {
                    Outcome::Path { path, .. } => {
                        Some(app_dir.join(path).to_string_lossy().into_owned())
                    }
                    _ => None,
                })
                .collect(),
        }
    }
}

/// The uid and gid the build ran as: the owner of every app and layer file in the image.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct BuildIds {
    pub uid: u32,
    pub gid: u32,
}

impl BuildIds {
    /// The ids of the build user, as the label records them.
    #[must_use]
    pub fn of(user: &BuildUser) -> BuildIds {
        BuildIds {
            uid: user.uid,
            gid: user.gid,
        }
    }
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
    },
}

impl Policy {
    /// The policy of one build.
    #[must_use]
    pub fn new(
        build_user: BuildIds,
        tmp_base: &TmpBase,
        pass: &PassReport,
        redirects: &[Applied],
        surface: SurfaceRecord,
    ) -> Policy {
        let patterns = pass
            .patterns
            .iter()
            .map(|report| PatternRecord {
                pattern: report.pattern.text.clone(),
                source: report.pattern.location.to_string(),
                root: report.pattern.root.to_string(),
                negated: report.pattern.is_negated(),
                directories: report.counts.directories,
                files: report.counts.files,
                changed: report.counts.changed,
            })
            .collect();
        let redirects = redirects
            .iter()
            .filter_map(|redirect| {
                let id = redirect.entry.id.to_owned();
                match &redirect.outcome {
                    Outcome::Env {
                        variable,
                        value,
                        unless_home_writable,
                    } => Some(RedirectRecord::Env {
                        id,
                        variable: (*variable).to_owned(),
                        value: value.clone(),
                        when: if *unless_home_writable {
                            "unset_and_home_not_writable"
                        } else {
                            "unset"
                        }
                        .to_owned(),
                    }),
                    Outcome::Path {
                        path,
                        target,
                        content,
                    } => {
                        let (build_content, seeded_files) = match content {
                            BuildContent::Seeded { files, .. } => ("seeded", *files),
                            BuildContent::Dropped => ("dropped", 0),
                            BuildContent::None | BuildContent::Linked => ("none", 0),
                        };
                        Some(RedirectRecord::Path {
                            id,
                            path: (*path).to_owned(),
                            target: target.clone(),
                            build_content: build_content.to_owned(),
                            seeded_files,
                        })
                    }
                    Outcome::Skipped(_) => None,
                }
            })
            .collect();
        Policy {
            version: 1,
            build_user,
            tmp_base: tmp_base.to_string(),
            patterns,
            redirects,
            surface,
        }
    }

    /// The label value.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redirects::{Redirection, Skip, catalog};

    #[test]
    fn json_shape() {
        let redirect = |id, outcome| Redirection {
            entry: catalog::find(id).unwrap(),
            requested: false,
            outcome,
        };
        let redirects = vec![
            redirect(
                "tmpdir",
                Outcome::Env {
                    variable: "TMPDIR",
                    value: "/tmp".into(),
                    unless_home_writable: false,
                },
            ),
            redirect(
                "xdg-cache",
                Outcome::Env {
                    variable: "XDG_CACHE_HOME",
                    value: "/tmp/group-writable/xdg-cache".into(),
                    unless_home_writable: true,
                },
            ),
            redirect(
                "rails-tmp",
                Outcome::Path {
                    path: "tmp",
                    target: "/tmp/group-writable/rails-tmp".into(),
                    content: BuildContent::Seeded {
                        files: 2,
                        directories: 0,
                        bytes: 10,
                        copied_hard_links: 0,
                    },
                },
            ),
            redirect("rails-log", Outcome::Skipped(Skip::Missing)),
        ];
        let policy = Policy::new(
            BuildIds {
                uid: 1001,
                gid: 1000,
            },
            &TmpBase::new("/tmp").unwrap(),
            &PassReport::default(),
            &redirects,
            SurfaceRecord::default(),
        );
        assert_eq!(
            policy.to_json(),
            concat!(
                r#"{"version":1,"build_user":{"uid":1001,"gid":1000},"tmp_base":"/tmp","patterns":[],"#,
                r#""redirects":[{"kind":"env","id":"tmpdir","variable":"TMPDIR","value":"/tmp","when":"unset"},"#,
                r#"{"kind":"env","id":"xdg-cache","variable":"XDG_CACHE_HOME","value":"/tmp/group-writable/xdg-cache","when":"unset_and_home_not_writable"},"#,
                r#"{"kind":"path","id":"rails-tmp","path":"tmp","target":"/tmp/group-writable/rails-tmp","build_content":"seeded","seeded_files":2}],"#,
                r#""surface":{"read_only":false,"named":{"directories":0,"files":0},"#,
                r#""app":{"directories":0,"files":0,"world_writable":0,"world_writable_paths":[],"made_read_only":0},"#,
                r#""layers":{"directories":0,"files":0,"world_writable":0,"world_writable_paths":[],"made_read_only":0},"#,
                r#""redirected":[]}}"#
            )
        );
    }
}
