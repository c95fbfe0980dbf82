//! Who the run user is: the config's `User` resolved in the image's own `/etc/passwd` and
//! `/etc/group`, the way container runtimes resolve it, or the user given on the command
//! line. Pure.

use crate::Error;
use crate::access::User;
use crate::tree::Tree;

/// The user given with `--user`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserArgument {
    Ids {
        uid: u32,
        gid: u32,
    },
    /// `random:GID`: a uid the image knows nothing of (`OpenShift`'s arbitrary uid).
    Random {
        gid: u32,
    },
}

impl std::str::FromStr for UserArgument {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}` is not UID:GID or random:GID (both numbers)");
        let (uid, gid) = text.split_once(':').ok_or_else(usage)?;
        let gid = gid.parse().map_err(|_| usage())?;
        if uid == "random" {
            Ok(UserArgument::Random { gid })
        } else {
            Ok(UserArgument::Ids {
                uid: uid.parse().map_err(|_| usage())?,
                gid,
            })
        }
    }
}

/// The user the audit answers for, and how it was found (for the report).
#[derive(Clone, Debug)]
pub struct ResolvedUser {
    pub user: User,
    pub name: Option<String>,
    /// `config` (the image's `User`), `argument` or `random`.
    pub source: &'static str,
    /// The config's `User` as written.
    pub configured: Option<String>,
}

/// The first uid that `OpenShift`'s default range starts at; `random` takes the first one
/// from here that owns nothing in the image.
const RANDOM_UID_START: u32 = 1_000_650_000;

/// Resolves the user: the argument when given, else the config's `User` (empty means root,
/// as for every runtime).
pub fn resolve(
    configured: Option<&str>,
    argument: Option<&UserArgument>,
    extra_groups: &[u32],
    tree: &Tree,
) -> Result<ResolvedUser, Error> {
    let configured_owned = configured.map(str::to_owned);
    match argument {
        Some(UserArgument::Ids { uid, gid }) => Ok(ResolvedUser {
            user: User::new(*uid, *gid, extra_groups.iter().copied()),
            name: None,
            source: "argument",
            configured: configured_owned,
        }),
        Some(UserArgument::Random { gid }) => {
            let uid = (RANDOM_UID_START..=u32::MAX)
                .find(|uid| tree.iter().all(|(_, node)| node.uid != *uid))
                .unwrap_or(RANDOM_UID_START);
            Ok(ResolvedUser {
                user: User::new(uid, *gid, extra_groups.iter().copied()),
                name: None,
                source: "random",
                configured: configured_owned,
            })
        }
        None => {
            let passwd = text(tree, "etc/passwd");
            let group = text(tree, "etc/group");
            let (user, name) = from_config(configured.unwrap_or(""), &passwd, &group)?;
            let user = User::new(
                user.uid,
                user.gid,
                user.groups
                    .iter()
                    .copied()
                    .chain(extra_groups.iter().copied()),
            );
            Ok(ResolvedUser {
                user,
                name,
                source: "config",
                configured: configured_owned,
            })
        }
    }
}

fn text(tree: &Tree, path: &str) -> String {
    tree.get(path)
        .and_then(|node| node.content.as_deref())
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .unwrap_or_default()
}

/// `User` of an image config (`name`, `uid`, `name:group`, `uid:gid`, ...) resolved in the
/// image's passwd and group files: a name must be there; a uid that is not there gets
/// group 0, as Docker gives it; without a group in `User`, the supplementary groups are
/// the groups that list the user's name.
pub fn from_config(spec: &str, passwd: &str, group: &str) -> Result<(User, Option<String>), Error> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let accounts: Vec<Vec<&str>> = passwd
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 4)
        .collect();
    let groups: Vec<Vec<&str>> = group
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 3)
        .collect();
    let (uid, mut gid, name) = if user_part.is_empty() {
        (0, 0, Some("root".to_owned()))
    } else if let Ok(uid) = user_part.parse::<u32>() {
        match accounts.iter().find(|fields| fields[2].parse() == Ok(uid)) {
            Some(fields) => (
                uid,
                fields[3].parse().unwrap_or(0),
                Some(fields[0].to_owned()),
            ),
            None => (uid, 0, None),
        }
    } else {
        let fields = accounts.iter().find(|fields| fields[0] == user_part).ok_or_else(|| {
            Error::input(format!(
                "the image's User is `{spec}`, but its /etc/passwd has no user `{user_part}`; give the user with --user UID:GID"
            ))
        })?;
        let uid = fields[2].parse().map_err(|_| {
            Error::input(format!(
                "/etc/passwd of the image has a bad uid for `{user_part}`"
            ))
        })?;
        (
            uid,
            fields[3].parse().unwrap_or(0),
            Some(user_part.to_owned()),
        )
    };
    if let Some(group_part) = group_part {
        gid = if let Ok(gid) = group_part.parse::<u32>() {
            gid
        } else {
            let fields = groups.iter().find(|fields| fields[0] == group_part).ok_or_else(|| {
                Error::input(format!(
                    "the image's User is `{spec}`, but its /etc/group has no group `{group_part}`; give the user with --user UID:GID"
                ))
            })?;
            fields[2].parse().map_err(|_| {
                Error::input(format!(
                    "/etc/group of the image has a bad gid for `{group_part}`"
                ))
            })?
        };
    }
    // A group given in `User` is the only group, as runc's lookup (Docker's, containerd's)
    // makes it; otherwise the groups that list the user's name are added.
    let supplementary: Vec<u32> = match (&name, group_part) {
        (Some(name), None) => groups
            .iter()
            .filter(|fields| {
                fields
                    .get(3)
                    .is_some_and(|members| members.split(',').any(|member| member == name))
            })
            .filter_map(|fields| fields[2].parse().ok())
            .collect(),
        _ => Vec::new(),
    };
    Ok((User::new(uid, gid, supplementary), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\ncnb:x:1002:1000:cnb:/home/cnb:/bin/sh\n";
    const GROUP: &str = "root:x:0:\ncnb:x:1000:\nlogs:x:4:cnb,other\nstaff:x:50:other\n";

    fn ids(spec: &str) -> (u32, u32, Vec<u32>) {
        let (user, _) = from_config(spec, PASSWD, GROUP).unwrap();
        (user.uid, user.gid, user.groups.into_iter().collect())
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(ids(""), (0, 0, vec![0]));
        assert_eq!(ids("cnb"), (1002, 1000, vec![4, 1000]));
        assert_eq!(ids("1002"), (1002, 1000, vec![4, 1000]));
        // A group in `User` is the only one.
        assert_eq!(ids("1002:1000"), (1002, 1000, vec![1000]));
        assert_eq!(ids("cnb:staff"), (1002, 50, vec![50]));
        // A uid the image does not know gets group 0, as Docker gives it.
        assert_eq!(ids("4242"), (4242, 0, vec![0]));
        assert_eq!(ids("4242:7"), (4242, 7, vec![7]));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(
            from_config("nobody", PASSWD, GROUP)
                .unwrap_err()
                .to_string()
                .contains("no user `nobody`")
        );
        assert!(
            from_config("cnb:wheel", PASSWD, GROUP)
                .unwrap_err()
                .to_string()
                .contains("no group `wheel`")
        );
    }

    #[test]
    fn user_arguments() {
        assert_eq!(
            "1002:0".parse(),
            Ok(UserArgument::Ids { uid: 1002, gid: 0 })
        );
        assert_eq!("random:0".parse(), Ok(UserArgument::Random { gid: 0 }));
        assert!("cnb".parse::<UserArgument>().is_err());
    }
}
