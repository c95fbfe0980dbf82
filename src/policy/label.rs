//! The image label that records the applied policy, built from one build's pass and
//! redirects. Its JSON types and key are the contract with `group-writable-audit`, owned
//! by the crate `group-writable-policy` (`crates/policy`) and re-exported here.

use crate::pass::PassReport;
use crate::pass::walk::BuildUser;
use crate::redirects::{Applied, BuildContent, Outcome};
use group_writable_launch::contract::TmpBase;
pub use group_writable_policy::label::{
    BuildIds, KEY, NamedCounts, PatternRecord, Policy, RedirectRecord, SurfaceRecord,
};

/// The ids of the build user, as the label records them.
#[must_use]
pub fn build_ids(user: &BuildUser) -> BuildIds {
    BuildIds {
        uid: user.uid,
        gid: user.gid,
    }
}

/// The surface of one build: the pass's figures, and the redirects it applied.
#[must_use]
pub fn surface_record(
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

/// The policy of one build.
#[must_use]
pub fn policy(
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
                    let (build_content, seeded_files, seeded_bytes) = match content {
                        BuildContent::Seeded { files, bytes, .. } => ("seeded", *files, *bytes),
                        BuildContent::Dropped => ("dropped", 0, 0),
                        BuildContent::None | BuildContent::Linked => ("none", 0, 0),
                    };
                    Some(RedirectRecord::Path {
                        id,
                        path: (*path).to_owned(),
                        target: target.clone(),
                        build_content: build_content.to_owned(),
                        seeded_files,
                        seeded_bytes,
                    })
                }
                Outcome::PhpIni { directive, value } => Some(RedirectRecord::PhpIni {
                    id,
                    directive: (*directive).to_owned(),
                    value: value.clone(),
                }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::examples::applied;

    #[test]
    fn json_shape() {
        let redirects = applied();
        let policy = policy(
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
                r#"{"kind":"path","id":"rails-tmp","path":"tmp","target":"/tmp/group-writable/rails-tmp","build_content":"seeded","seeded_files":2,"seeded_bytes":10},"#,
                r#"{"kind":"path","id":"rails-log","path":"log","target":"/tmp/group-writable/rails-log","build_content":"dropped","seeded_files":0,"seeded_bytes":0},"#,
                r#"{"kind":"php_ini","id":"php-sessions","directive":"session.save_path","value":"/tmp"}],"#,
                r#""surface":{"read_only":false,"named":{"directories":0,"files":0},"#,
                r#""app":{"directories":0,"files":0,"world_writable":0,"world_writable_paths":[],"made_read_only":0,"redirected":0},"#,
                r#""layers":{"directories":0,"files":0,"world_writable":0,"world_writable_paths":[],"made_read_only":0,"redirected":0},"#,
                r#""redirected":[]}}"#
            )
        );
    }
}
