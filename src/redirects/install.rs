//! Carries out the redirect plan at build: moves what the build left at each path
//! redirect into the helper layer as a seed (group-readable, since the run user is not
//! its owner) or drops it, replaces the app path by a symlink to its target under the
//! tmp base, and writes the helper's configuration beside it.

use crate::redirects::seed;
use crate::redirects::{Applied, BuildContent, Existing, Outcome, Planned, Redirection, catalog};
use group_writable_launch::contract::{self, Entry, TmpBase};
use group_writable_launch::tree_copy::{self, Kind};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// A step that failed, with the path and the system's reason.
#[derive(Debug)]
pub struct InstallError {
    pub id: &'static str,
    pub path: PathBuf,
    pub action: &'static str,
    pub error: io::Error,
}

/// Applies every path redirect of the plan and writes the helper configuration into
/// `layer_dir`. Returns every redirect of the plan, in plan order, as applied.
pub fn install(
    app_dir: &Path,
    layer_dir: &Path,
    tmp_base: &TmpBase,
    plan: Vec<Planned>,
) -> Result<Vec<Applied>, InstallError> {
    let applied = plan
        .into_iter()
        .map(|redirect| {
            let entry = redirect.entry;
            Ok(Redirection {
                entry,
                requested: redirect.requested,
                outcome: redirect.outcome.try_map_content(|path, target, existing| {
                    redirect_path(app_dir, layer_dir, entry, path, target, existing)
                })?,
            })
        })
        .collect::<Result<Vec<Applied>, InstallError>>()?;
    write_php_ini(layer_dir, &applied)?;
    let entries: Vec<Entry<'_>> = applied
        .iter()
        .filter_map(|redirect| {
            let id = redirect.entry.id;
            match &redirect.outcome {
                Outcome::Env {
                    variable,
                    value,
                    unless_home_writable,
                } => Some(Entry::Env {
                    id,
                    variable,
                    own_directory: value != tmp_base.as_str(),
                    unless_home_writable: *unless_home_writable,
                }),
                Outcome::Path { path, content, .. } => Some(Entry::Path {
                    id,
                    app_path: path,
                    seeded: matches!(content, BuildContent::Seeded { .. }),
                }),
                Outcome::PhpIni { .. } | Outcome::Skipped(_) => None,
            }
        })
        .collect();
    let config_path = layer_dir.join(contract::FILE_NAME);
    fs::write(&config_path, contract::write(tmp_base, &entries))
        .and_then(|()| fs::set_permissions(&config_path, fs::Permissions::from_mode(0o644)))
        .map_err(|error| InstallError {
            id: "(configuration)",
            path: config_path,
            action: "write",
            error,
        })?;
    Ok(applied)
}

/// The directory of the helper layer that holds the PHP ini file.
pub const PHP_INI_DIRECTORY: &str = "php.ini.d";
/// The ini file in it, named to sort first among files of the same directory.
const PHP_INI_FILE: &str = "00-group-writable.ini";

/// `PHP_INI_SCAN_DIR` at launch, to prepend to what the image or another buildpack sets
/// (no delimiter: the value ends with `:`): the helper layer's ini directory, then a
/// blank element (PHP's compiled-in scan directory) when the variable is unset, or the
/// directories already set, which PHP reads later, so their settings win.
#[must_use]
pub fn php_ini_scan_dir_prefix(layer_dir: &Path) -> String {
    format!("{}:", layer_dir.join(PHP_INI_DIRECTORY).display())
}

/// Writes the ini file of every applied PHP ini redirect, when there is any.
fn write_php_ini(layer_dir: &Path, applied: &[Applied]) -> Result<(), InstallError> {
    let mut text = String::from(
        "; Written by the group-writable buildpack: PHP's run-time writes, moved to the tmp base.\n; Any ini file PHP reads later (its conf.d, PHP_INI_SCAN_DIR) overrides these.\n",
    );
    let mut any = false;
    for redirect in applied {
        if let Outcome::PhpIni { directive, value } = &redirect.outcome {
            let _ = writeln!(text, "{directive} = \"{value}\"");
            any = true;
        }
    }
    if !any {
        return Ok(());
    }
    let directory = layer_dir.join(PHP_INI_DIRECTORY);
    let file = directory.join(PHP_INI_FILE);
    fs::create_dir_all(&directory)
        .and_then(|()| fs::write(&file, text))
        .and_then(|()| fs::set_permissions(&file, fs::Permissions::from_mode(0o644)))
        .map_err(|error| InstallError {
            id: "(php ini)",
            path: file,
            action: "write",
            error,
        })
}

/// Replaces the app path by a symlink to `target`, first moving what the build left there
/// into the seed (less the entry's build caches) or dropping it.
fn redirect_path(
    app_dir: &Path,
    layer_dir: &Path,
    entry: &'static catalog::Entry,
    relative: &str,
    target: &str,
    existing: Existing,
) -> Result<BuildContent, InstallError> {
    let id = entry.id;
    let app_path = app_dir.join(relative);
    let failed = |action, path: &Path| {
        let path = path.to_owned();
        move |error| InstallError {
            id,
            path,
            action,
            error,
        }
    };
    if existing == Existing::Seed
        && let catalog::Redirect::Path { drop_from_seed, .. } = entry.redirect
    {
        for dropped in drop_from_seed {
            let cache = app_path.join(dropped);
            // Only a directory of the app's own: every step a directory, never a symlink.
            let mut step = app_path.clone();
            let own = dropped.split('/').all(|part| {
                step.push(part);
                fs::symlink_metadata(&step).is_ok_and(|metadata| metadata.is_dir())
            });
            if own {
                fs::remove_dir_all(&cache).map_err(failed("remove the build cache", &cache))?;
            }
        }
    }
    let content = match existing {
        Existing::Linked => return Ok(BuildContent::Linked),
        Existing::Seed if !is_empty_directory(&app_path) => {
            let seed = layer_dir.join(contract::seed(id));
            let seeds = layer_dir.join(contract::SEEDS);
            fs::create_dir_all(&seeds).map_err(failed("create", &seeds))?;
            move_tree(&app_path, &seed, &|from, to| fs::rename(from, to))
                .map_err(failed("move the build's content out of", &app_path))?;
            let modes =
                seed::make_readable(&seed, &seed::group_readable).map_err(|(path, error)| {
                    InstallError {
                        id,
                        path: seed.join(path),
                        action: "make group-readable (for the run user) the seed",
                        error,
                    }
                })?;
            // Directories and symlinks are build content too (`tmp/pids/` alone must be
            // there at launch for `tmp/pids/server.pid`).
            if modes.files + modes.directories + modes.symlinks > 0 {
                BuildContent::Seeded {
                    files: modes.files,
                    directories: modes.directories,
                    bytes: modes.bytes,
                    copied_hard_links: modes.copied_hard_links.len() as u64,
                }
            } else {
                BuildContent::None
            }
        }
        Existing::Seed => {
            fs::remove_dir(&app_path).map_err(failed("remove the empty directory", &app_path))?;
            BuildContent::None
        }
        Existing::Drop => {
            let content = if is_empty_directory(&app_path) {
                BuildContent::None
            } else {
                BuildContent::Dropped
            };
            fs::remove_dir_all(&app_path).map_err(failed("remove the build cache", &app_path))?;
            content
        }
        Existing::Nothing => {
            if let Some(parent) = app_path.parent()
                && !parent.is_dir()
            {
                fs::create_dir_all(parent).map_err(failed("create", parent))?;
            }
            BuildContent::None
        }
    };
    std::os::unix::fs::symlink(target, &app_path)
        .map_err(failed("replace by a symlink to the tmp base", &app_path))?;
    Ok(content)
}

fn is_empty_directory(path: &Path) -> bool {
    fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// Moves the directory `from` to `to` (which must not exist) with `rename`, or, when they
/// are on different filesystems (the app directory and the layers are separate volumes
/// in most platforms), by copying and then removing the original.
fn move_tree(
    from: &Path,
    to: &Path,
    rename: &dyn Fn(&Path, &Path) -> io::Result<()>,
) -> io::Result<()> {
    match rename(from, to) {
        Err(error) if error.raw_os_error() == Some(rustix::io::Errno::XDEV.raw_os_error()) => {
            fs::create_dir(to)?;
            let copy = tree_copy::copy_contents(from, to, &|_, bits| bits);
            if let Some((path, error)) = copy.failures.into_iter().next() {
                return Err(io::Error::new(
                    error.kind(),
                    format!("copying {}: {error}", path.display()),
                ));
            }
            let bits = fs::metadata(from)?.permissions().mode() & 0o7777;
            fs::set_permissions(to, fs::Permissions::from_mode(bits))?;
            remove_tree(from)
        }
        other => other,
    }
}

/// Removes the tree at `from` (already copied). A directory without owner write (a 0555
/// directory the app shipped) cannot have its entries removed, so when the removal is
/// refused, every directory below is first made owner-writable through its descriptor
/// (the tree is going away anyway), and the removal tried again.
fn remove_tree(from: &Path) -> io::Result<()> {
    match fs::remove_dir_all(from) {
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            seed::make_readable(from, &|kind, bits| match kind {
                Kind::Directory => bits | 0o700,
                Kind::File => bits,
            })
            .map_err(|(path, error)| {
                io::Error::new(
                    error.kind(),
                    format!("making {} writable to remove it: {error}", path.display()),
                )
            })?;
            fs::remove_dir_all(from)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    fn planned(id: &str, path: &'static str, content: Existing) -> Planned {
        Redirection {
            entry: catalog::find(id).unwrap(),
            requested: false,
            outcome: Outcome::Path {
                path,
                target: format!("/tmp/group-writable/{id}"),
                content,
            },
        }
    }

    /// Sprockets' cache leaves the seed; the rest of `tmp/` stays in it, Bootsnap's cache
    /// included (Bootsnap reads it at every boot).
    #[test]
    fn build_caches_are_dropped_from_the_seed() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        let layer = dir.path().join("layer");
        for directory in [
            "tmp/cache/bootsnap/compile-cache-iseq",
            "tmp/cache/assets/sprockets",
            "tmp/cache/bootsnap-compile-cache",
            "tmp/pids",
        ] {
            fs::create_dir_all(app.join(directory)).unwrap();
        }
        fs::write(app.join("tmp/cache/bootsnap/compile-cache-iseq/a"), "x").unwrap();
        fs::write(app.join("tmp/cache/assets/sprockets/b"), "y").unwrap();
        fs::write(app.join("tmp/cache/store-entry"), "kept").unwrap();
        fs::create_dir_all(&layer).unwrap();
        let tmp_base = TmpBase::new("/tmp").unwrap();
        let applied = install(
            &app,
            &layer,
            &tmp_base,
            vec![planned("rails-tmp", "tmp", Existing::Seed)],
        )
        .unwrap();
        let seed = layer.join("seeds/rails-tmp");
        assert_eq!(
            fs::read_to_string(seed.join("cache/store-entry")).unwrap(),
            "kept"
        );
        assert!(seed.join("pids").is_dir());
        assert_eq!(
            fs::read_to_string(seed.join("cache/bootsnap/compile-cache-iseq/a")).unwrap(),
            "x"
        );
        assert!(seed.join("cache/bootsnap-compile-cache").is_dir());
        assert!(!seed.join("cache/assets").exists());
        assert!(matches!(
            applied[0].outcome,
            Outcome::Path {
                content: BuildContent::Seeded {
                    files: 2,
                    bytes: 5,
                    ..
                },
                ..
            }
        ));
        assert!(!layer.join(PHP_INI_DIRECTORY).exists());
    }

    /// A build cache path that leads through a symlink is not the app's: left alone.
    #[test]
    fn dropping_never_follows_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        let outside = dir.path().join("outside");
        fs::create_dir_all(outside.join("bootsnap")).unwrap();
        fs::create_dir_all(app.join("tmp")).unwrap();
        std::os::unix::fs::symlink(&outside, app.join("tmp/cache")).unwrap();
        let layer = dir.path().join("layer");
        fs::create_dir_all(&layer).unwrap();
        install(
            &app,
            &layer,
            &TmpBase::new("/tmp").unwrap(),
            vec![planned("rails-tmp", "tmp", Existing::Seed)],
        )
        .unwrap();
        assert!(outside.join("bootsnap").is_dir());
    }

    #[test]
    fn php_ini_directives_go_into_the_layer() {
        let dir = tempfile::tempdir().unwrap();
        let redirect = Redirection {
            entry: catalog::find("php-sessions").unwrap(),
            requested: false,
            outcome: Outcome::PhpIni {
                directive: "session.save_path",
                value: "/tmp".into(),
            },
        };
        install(
            dir.path(),
            dir.path(),
            &TmpBase::new("/tmp").unwrap(),
            vec![redirect],
        )
        .unwrap();
        let ini = fs::read_to_string(dir.path().join("php.ini.d/00-group-writable.ini")).unwrap();
        assert!(ini.ends_with("\nsession.save_path = \"/tmp\"\n"), "{ini}");
        assert_eq!(
            php_ini_scan_dir_prefix(Path::new("/layers/gw/redirects")),
            "/layers/gw/redirects/php.ini.d:"
        );
        // The helper configuration has no line for it.
        let config = fs::read_to_string(dir.path().join(contract::FILE_NAME)).unwrap();
        assert!(!config.contains("php-sessions"), "{config}");
    }

    #[test]
    fn moves_by_copying_across_filesystems() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        fs::create_dir_all(from.join("sub")).unwrap();
        fs::write(from.join("sub/file"), "content").unwrap();
        fs::set_permissions(&from, fs::Permissions::from_mode(0o711)).unwrap();
        let to = dir.path().join("to");
        let cross_device = |_: &Path, _: &Path| {
            Err(io::Error::from_raw_os_error(
                rustix::io::Errno::XDEV.raw_os_error(),
            ))
        };
        move_tree(&from, &to, &cross_device).unwrap();
        assert!(!from.exists());
        assert_eq!(fs::read_to_string(to.join("sub/file")).unwrap(), "content");
        assert_eq!(fs::metadata(&to).unwrap().mode() & 0o7777, 0o711);

        let other_error = |_: &Path, _: &Path| Err(io::Error::other("no"));
        fs::create_dir(&from).unwrap();
        assert!(move_tree(&from, &dir.path().join("again"), &other_error).is_err());
        assert!(from.exists());
    }
}
