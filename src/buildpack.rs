//! The CNB entry points: detect and build, as libcnb calls them. Each step's logic lives
//! in its own module; this file wires them together (the build log is `policy::report`).

use crate::error::{self, GroupWritableError};
use crate::pass::surface::RecordsMetadata;
use crate::pass::walk::BuildUser;
use crate::pass::{self, PassInput};
use crate::policy::label;
use crate::policy::report;
use crate::redirects::probe::AppDirectory;
use crate::redirects::{Outcome, Planned, install, plan};
use crate::sbom;
use crate::settings::{self, Settings};
use bullet_stream::{Print, style};
use group_writable_launch::contract;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{Label, LaunchBuilder};
use libcnb::data::layer_name;
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::layer::{
    CachedLayerDefinition, InvalidMetadataAction, RestoredLayerAction, UncachedLayerDefinition,
};
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libcnb::{Buildpack, Env, Platform, additional_buildpack_binary_path};
use std::io::stdout;

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
        let settings = Settings::read(lookup(context.platform.env()), &context.app_dir)
            .map_err(GroupWritableError::Settings)?;
        let user = BuildUser::current();
        // The figures of each layer, kept from build to build (cache only, never in the
        // image), for the layers the lifecycle reuses from the previous image. Read before
        // the pass, and the layer written only after it succeeded: a failed build leaves
        // nothing behind.
        let previous = RecordsMetadata::previous(&context.layers_dir, RECORDS_LAYER);
        let input = PassInput {
            app_dir: &context.app_dir,
            layers_dir: &context.layers_dir,
            settings: &settings,
            user: &user,
            threads: walk_threads(),
            previous: &previous,
        };
        let prepared = pass::prepare(&input).map_err(GroupWritableError::Pass)?;
        // The redirects are planned before the walk (nothing they ask about changes with
        // it), so that the walk reports the writable entries of a redirected path as
        // the redirect's, not as left writable in the app.
        let (plan, data_files) = plan_redirects(&context, &settings, &prepared)?;
        let redirected: Vec<&str> = plan
            .iter()
            .filter_map(|redirect| redirect.outcome.replaced_path())
            .collect();
        let report = pass::run(&input, prepared, &redirected).map_err(GroupWritableError::Pass)?;
        let records_layer = context.cached_layer(
            layer_name!("surface"),
            CachedLayerDefinition {
                build: false,
                launch: false,
                invalid_metadata_action: &|_| InvalidMetadataAction::DeleteLayer,
                restored_layer_action: &|_: &RecordsMetadata, _| RestoredLayerAction::KeepLayer,
            },
        )?;
        records_layer.write_metadata(RecordsMetadata::new(&report.records))?;
        let log = report::pass(log, &report, &settings);

        let redirects = if plan.iter().any(|redirect| redirect.outcome.is_applied()) {
            let layer = context.uncached_layer(
                layer_name!("redirects"),
                UncachedLayerDefinition {
                    build: false,
                    launch: true,
                },
            )?;
            let applied =
                install::install(&context.app_dir, &layer.path(), &settings.tmp_base, plan)
                    .map_err(GroupWritableError::Redirect)?;
            layer.write_exec_d_programs([(
                contract::PROGRAM,
                additional_buildpack_binary_path!("group-writable-redirects"),
            )])?;
            layer.write_sboms(&[sbom::helper_sbom(&context.buildpack_dir)?])?;
            if applied
                .iter()
                .any(|redirect| matches!(redirect.outcome, Outcome::PhpIni { .. }))
            {
                layer.write_env(LayerEnv::new().chainable_insert(
                    Scope::Launch,
                    ModificationBehavior::Prepend,
                    "PHP_INI_SCAN_DIR",
                    install::php_ini_scan_dir_prefix(&layer.path()),
                ))?;
            }
            applied
        } else {
            plan.into_iter().map(Planned::not_installed).collect()
        };
        let log = report::redirects(log, &settings, &redirects);
        let log = report::data_files(log, &data_files);

        let surface =
            label::surface_record(&report, &redirects, &context.app_dir, settings.read_only);
        let log = report::surface(log, &surface, &settings);
        let policy = label::policy(
            label::build_ids(&user),
            &settings.tmp_base,
            &report,
            &redirects,
            surface,
        );
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

/// The redirect plan, from what the app holds and the app's patterns, and the app's data
/// files (for the log's hint).
fn plan_redirects(
    context: &BuildContext<GroupWritableBuildpack>,
    settings: &Settings,
    prepared: &pass::Prepared,
) -> Result<(Vec<Planned>, Vec<String>), GroupWritableError> {
    let app = AppDirectory::new(
        &context.app_dir,
        pass::layers_root(&context.layers_dir),
        prepared.app_patterns(),
    );
    let plan = plan::plan(&settings.redirects, &settings.tmp_base, &app)
        .map_err(GroupWritableError::UnknownRedirects)?;
    Ok((plan, plan::data_files(&app)))
}

/// This buildpack's cache-only layer that keeps each layer's figures (`layer_name!` needs
/// a literal, so the name is written twice; a unit test keeps them equal).
const RECORDS_LAYER: &str = "surface";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_records_layer_is_read_where_it_is_written() {
        assert_eq!(layer_name!("surface").as_str(), RECORDS_LAYER);
    }
}
