//! group-writable-audit: which paths can the run user write in this image? It reads an
//! OCI image layout or a `docker save` tarball without running or extracting it, and
//! answers against the group-writable policy label.
//!
//! One concern per module; all but [`image`] and [`layer`] (which read files) are pure:
//! - [`image`]: the layout or tarball, its manifest, config and blobs, digests verified;
//! - [`layer`]: one layer's archive (gzip or tar) read into entries;
//! - [`tree`]: the layers applied in order, with whiteouts and opaque directories;
//! - [`users`]: the run user, from the config's `User` or the command line;
//! - [`access`]: which paths that user can write (POSIX rules);
//! - [`policy`]: the policy label and what it explains;
//! - [`code`]: executable code the launcher runs;
//! - [`report`] and [`table`]: the answer, as JSON (the schema) and as text.

#![forbid(unsafe_code)]

// Dev-dependencies of the integration tests (tests/), which the unit-test build sees too.
#[cfg(test)]
use proptest as _;
#[cfg(test)]
use tempfile as _;

pub mod access;
pub mod code;
pub mod image;
pub mod layer;
pub mod policy;
pub mod report;
pub mod table;
pub mod tree;
pub mod users;

use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Bad input: what is wrong and where, ready to print (the tool exits 2).
#[derive(Debug)]
pub struct Error {
    message: String,
}

impl Error {
    #[must_use]
    pub fn input(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// What to audit, and as whom.
#[derive(Debug, Default)]
pub struct Options {
    pub input: PathBuf,
    pub reference: Option<String>,
    pub user: Option<users::UserArgument>,
    pub groups: Vec<u32>,
    /// List every writable path, not only the top of each writable subtree.
    pub every_path: bool,
}

/// Reads the image and answers.
pub fn audit(options: &Options) -> Result<report::Report, Error> {
    let image = image::open(&options.input, options.reference.as_deref())?;
    let (tree, notes) = apply_layers(&image)?;
    let runtime = &image.config.config;
    let resolved = users::resolve(
        runtime.user.as_deref(),
        options.user.as_ref(),
        &options.groups,
        &tree,
    )?;
    let writable = access::writable_paths(&tree, &resolved.user);
    let labels = runtime.labels.clone().unwrap_or_default();
    let (policy, mut warnings) = match labels.get(policy::LABEL) {
        Some(value) => match policy::Policy::read(value, &tree) {
            Ok(policy) => (Some(policy), Vec::new()),
            Err(warning) => (None, vec![warning]),
        },
        None => (None, Vec::new()),
    };
    if let Some(policy) = &policy {
        warnings.extend(policy.warnings.iter().cloned());
    }
    let commands = code::Commands::find(
        &tree,
        labels.get(code::BUILD_METADATA_LABEL).map(String::as_str),
        runtime.entrypoint.as_deref(),
        runtime.env.as_deref().unwrap_or_default(),
        runtime.working_dir.as_deref(),
    );
    Ok(report::build(report::Inputs {
        image: report::ImageSummary {
            source: image.source.clone(),
            config_digest: image.config_digest.clone(),
            layers: image.layers.len(),
            entries: tree.len(),
            notes,
        },
        user: report::user_summary(
            &resolved.user,
            resolved.name,
            resolved.source,
            resolved.configured,
        ),
        tree: &tree,
        writable: &writable,
        policy: policy.as_ref(),
        policy_warnings: warnings,
        commands: &commands,
        every_path: options.every_path,
    }))
}

/// Reads every layer, each verified against its digest, and applies them in order into
/// the merged tree. The layers are read (decompressed, hashed, parsed) in parallel, one
/// per available CPU; only their entries' metadata is kept until they are applied, so
/// memory still follows the number of entries.
pub fn apply_layers(image: &image::Image) -> Result<(tree::Tree, Vec<String>), Error> {
    let count = image.layers.len();
    let next = AtomicUsize::new(0);
    let read: Mutex<Vec<Option<LayerEntries>>> = Mutex::new((0..count).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(count.max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        break;
                    }
                    let result = read_verified_layer(image, index);
                    read.lock().unwrap_or_else(PoisonError::into_inner)[index] = Some(result);
                }
            });
        }
    });
    let mut tree = tree::Tree::default();
    let mut notes = Vec::new();
    let layers = read.into_inner().unwrap_or_else(PoisonError::into_inner);
    for (index, contents) in layers.into_iter().enumerate() {
        let blob = &image.layers[index];
        let contents = contents
            .unwrap_or_else(|| Err(Error::input(format!("layer {} was not read", index + 1))))?;
        if contents.devices_under_dev > 0 {
            notes.push(format!(
                "layer {} of {count} has {} device files under /dev, left out: the runtime mounts its own /dev over them",
                index + 1,
                contents.devices_under_dev
            ));
        }
        let entries = contents.entries;
        tree.apply_layer(&entries).map_err(|(entry, error)| {
            Error::input(format!(
                "layer {} of {count} ({}): entry `{}` {error}",
                index + 1,
                blob.digest,
                entries[entry].path
            ))
        })?;
    }
    Ok((tree, notes))
}

/// What reading one layer gave.
type LayerEntries = Result<layer::LayerContents, Error>;

/// One layer's entries, its blob verified against its digest.
fn read_verified_layer(image: &image::Image, index: usize) -> LayerEntries {
    let blob = &image.layers[index];
    let what = format!(
        "layer {} of {} ({})",
        index + 1,
        image.layers.len(),
        blob.digest
    );
    let mut stream = image.open_blob(blob)?;
    let read = layer::read_layer(&mut stream);
    let verified = stream.finish(&blob.digest, blob.size, &what);
    match (read, verified) {
        (Ok(contents), Ok(())) => Ok(contents),
        // A damaged blob is first of all a blob that is not what the manifest says.
        (Err(error), Err(digest)) => Err(Error::input(format!("{digest}; reading it: {error}"))),
        (Err(error), Ok(())) => Err(Error::input(format!("{what}: {error}"))),
        (Ok(_), Err(digest)) => Err(digest),
    }
}
