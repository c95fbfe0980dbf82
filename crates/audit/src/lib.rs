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
use std::path::PathBuf;

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
    let tree = apply_layers(&image)?;
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

/// Reads every layer in order, each verified against its digest, into the merged tree.
pub fn apply_layers(image: &image::Image) -> Result<tree::Tree, Error> {
    let mut tree = tree::Tree::default();
    let count = image.layers.len();
    for (index, blob) in image.layers.iter().enumerate() {
        let what = format!("layer {} of {count} ({})", index + 1, blob.digest);
        let mut stream = image.open_blob(blob)?;
        let read = layer::read_layer(&mut stream);
        let verified = stream.finish(&blob.digest, blob.size, &what);
        let (_, entries) = match (read, verified) {
            (Ok(read), Ok(())) => read,
            // A damaged blob is first of all a blob that is not what the manifest says.
            (Err(error), Err(digest)) => {
                return Err(Error::input(format!("{digest}; reading it: {error}")));
            }
            (Err(error), Ok(())) => return Err(Error::input(format!("{what}: {error}"))),
            (Ok(_), Err(digest)) => return Err(digest),
        };
        tree.apply_layer(&entries).map_err(|(entry, error)| {
            Error::input(format!("{what}: entry `{}` {error}", entries[entry].path))
        })?;
    }
    Ok(tree)
}
