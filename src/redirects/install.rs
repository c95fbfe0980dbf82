//! Carries out the redirect plan at build: moves what the build left at each path
//! redirect into the helper layer as a seed (group-readable, since the run user is not
//! its owner) or drops it, replaces the app path by a symlink to its target under the
//! tmp base, and writes the helper's configuration beside it.

use crate::redirects::seed;
use crate::redirects::{Applied, BuildContent, Existing, Outcome, Planned, Redirection};
use group_writable_launch::contract::{self, Entry, TmpBase};
use group_writable_launch::tree_copy::{self, Kind};
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
            let id = redirect.entry.id;
            Ok(Redirection {
                entry: redirect.entry,
                requested: redirect.requested,
                outcome: redirect.outcome.try_map_content(|path, target, existing| {
                    redirect_path(app_dir, layer_dir, id, path, target, existing)
                })?,
            })
        })
        .collect::<Result<Vec<Applied>, InstallError>>()?;
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
                Outcome::Skipped(_) => None,
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

/// Replaces the app path by a symlink to `target`, first moving what the build left there
/// into the seed (or dropping it).
fn redirect_path(
    app_dir: &Path,
    layer_dir: &Path,
    id: &'static str,
    relative: &str,
    target: &str,
    existing: Existing,
) -> Result<BuildContent, InstallError> {
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
    let content = match existing {
        Existing::Linked => return Ok(BuildContent::Linked),
        Existing::Seed if !is_empty_directory(&app_path) => {
            let seed = layer_dir.join(contract::seed(id));
            let seeds = layer_dir.join(contract::SEEDS);
            fs::create_dir_all(&seeds).map_err(failed("create", &seeds))?;
            move_tree(&app_path, &seed, &|from, to| fs::rename(from, to))
                .map_err(failed("move the build's content out of", &app_path))?;
            let modes = seed::make_readable(&seed, &group_readable).map_err(|(path, error)| {
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

/// The run user shares the build user's group: seeds become readable (and directories
/// searchable) for the group; executables stay executable for it.
fn group_readable(kind: Kind, bits: u32) -> u32 {
    match kind {
        Kind::Directory => bits | 0o050,
        Kind::File => bits | 0o040 | if bits & 0o100 == 0 { 0 } else { 0o010 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    #[test]
    fn group_readable_modes() {
        assert_eq!(group_readable(Kind::Directory, 0o700), 0o750);
        assert_eq!(group_readable(Kind::File, 0o600), 0o640);
        assert_eq!(group_readable(Kind::File, 0o755), 0o755);
        assert_eq!(group_readable(Kind::File, 0o700), 0o750);
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
