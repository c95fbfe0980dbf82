//! The CycloneDX SBOM of the exec.d helper (`group-writable-redirects`): the crates
//! compiled into it, each with its version, licence, package URL and, for crates from a
//! registry, Cargo.lock's SHA-256, and who depends on whom.
//!
//! The crate set comes from `cargo tree` for the package that holds the helper's binary, on
//! the helper's target, normal edges only: that is cargo's feature resolution of the real
//! build (`cargo metadata` unifies features with dev-dependencies and would list crates
//! that are never compiled in). The helper's binary uses the launch crate alone, so the
//! helper's crates are the launch crate and everything below it.
//!
//! The document holds no time, serial number or path: it depends on the sources alone, so
//! two packagings of one commit write the same bytes.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The crate whose dependency closure is compiled into the helper.
pub const LAUNCH_CRATE: &str = "group-writable-launch";
/// The package that holds the helper's binary (`src/bin/group-writable-redirects.rs`).
pub const HELPER_PACKAGE: &str = "group-writable";
/// The helper's program name.
pub const HELPER_PROGRAM: &str = "group-writable-redirects";
/// The CycloneDX version written.
pub const SPEC_VERSION: &str = "1.5";

/// A crate by name and version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CrateId {
    pub name: String,
    pub version: String,
}

impl CrateId {
    /// Its package URL (`pkg:cargo/name@version`), also its `bom-ref`.
    #[must_use]
    pub fn purl(&self) -> String {
        format!("pkg:cargo/{}@{}", self.name, self.version)
    }
}

impl fmt::Display for CrateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// Why no SBOM could be written.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// A line of `cargo tree` that is not `<depth><name> v<version>...`.
    TreeLine(String),
    /// `cargo tree` does not show the crate.
    NotInTree(String),
    /// `cargo metadata` has no package of this name and version.
    NotInMetadata(CrateId),
    /// The crate's manifest names no licence (SPDX `license` field).
    NoLicence(CrateId),
    /// `cargo metadata` or Cargo.lock is not what cargo writes.
    Malformed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TreeLine(line) => write!(f, "unexpected line of cargo tree: {line:?}"),
            Error::NotInTree(name) => write!(f, "cargo tree does not show the crate {name}"),
            Error::NotInMetadata(id) => write!(f, "cargo metadata has no package {id}"),
            Error::NoLicence(id) => write!(
                f,
                "the crate {id} names no licence (no SPDX `license` in its Cargo.toml), so the SBOM cannot list it"
            ),
            Error::Malformed(what) => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for Error {}

/// The dependency graph `cargo tree --prefix depth --no-dedupe --format '{p}'` prints:
/// each crate with the crates it depends on directly.
pub type Graph = BTreeMap<CrateId, BTreeSet<CrateId>>;

/// Reads `cargo tree --prefix depth --no-dedupe --format '{p}'` (lines such as
/// `2bitflags v2.13.2` or `0group-writable v0.1.0 (/path)`; a path is dropped).
pub fn parse_tree(text: &str) -> Result<Graph, Error> {
    let mut graph = Graph::new();
    let mut parents: Vec<CrateId> = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let depth: usize = line[..digits]
            .parse()
            .map_err(|_| Error::TreeLine(line.to_owned()))?;
        let mut words = line[digits..].split(' ');
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            return Err(Error::TreeLine(line.to_owned()));
        };
        let Some(version) = version.strip_prefix('v') else {
            return Err(Error::TreeLine(line.to_owned()));
        };
        if depth > parents.len() || name.is_empty() {
            return Err(Error::TreeLine(line.to_owned()));
        }
        let id = CrateId {
            name: name.to_owned(),
            version: version.to_owned(),
        };
        parents.truncate(depth);
        if let Some(parent) = parents.last() {
            graph.entry(parent.clone()).or_default().insert(id.clone());
        }
        graph.entry(id.clone()).or_default();
        parents.push(id);
    }
    Ok(graph)
}

/// `root` and every crate below it, with their edges.
pub fn closure(graph: &Graph, root: &str) -> Result<Graph, Error> {
    let start = graph
        .keys()
        .find(|id| id.name == root)
        .ok_or_else(|| Error::NotInTree(root.to_owned()))?;
    let mut found = Graph::new();
    let mut pending = vec![start.clone()];
    while let Some(id) = pending.pop() {
        if found.contains_key(&id) {
            continue;
        }
        let deps = graph.get(&id).cloned().unwrap_or_default();
        pending.extend(deps.iter().cloned());
        found.insert(id, deps);
    }
    Ok(found)
}

/// What the SBOM says of a crate besides its name and version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrateFacts {
    /// The SPDX licence expression of its manifest.
    pub licence: String,
    /// Cargo.lock's checksum (SHA-256 of the `.crate` file), for crates from a registry.
    pub sha256: Option<String>,
}

/// The licence of each crate of `cargo metadata --format-version 1`, by name and version.
pub fn licences(metadata: &Value) -> Result<BTreeMap<CrateId, Option<String>>, Error> {
    let packages = metadata["packages"]
        .as_array()
        .ok_or_else(|| Error::Malformed("cargo metadata has no packages".to_owned()))?;
    packages
        .iter()
        .map(|package| {
            let field = |key: &str| {
                package[key].as_str().map(str::to_owned).ok_or_else(|| {
                    Error::Malformed(format!("a package of cargo metadata has no {key}"))
                })
            };
            let id = CrateId {
                name: field("name")?,
                version: field("version")?,
            };
            Ok((id, package["license"].as_str().map(str::to_owned)))
        })
        .collect()
}

/// Cargo.lock's checksum of each registry crate, by name and version.
pub fn checksums(lock: &toml::Table) -> BTreeMap<CrateId, String> {
    let packages = lock.get("package").and_then(toml::Value::as_array);
    packages
        .into_iter()
        .flatten()
        .filter_map(|package| {
            let text = |key: &str| package.get(key)?.as_str().map(str::to_owned);
            Some((
                CrateId {
                    name: text("name")?,
                    version: text("version")?,
                },
                text("checksum")?,
            ))
        })
        .collect()
}

/// The facts of every crate of `graph`.
pub fn facts(
    graph: &Graph,
    licences: &BTreeMap<CrateId, Option<String>>,
    checksums: &BTreeMap<CrateId, String>,
) -> Result<BTreeMap<CrateId, CrateFacts>, Error> {
    graph
        .keys()
        .map(|id| {
            let licence = licences
                .get(id)
                .ok_or_else(|| Error::NotInMetadata(id.clone()))?
                .clone()
                .ok_or_else(|| Error::NoLicence(id.clone()))?;
            let sha256 = checksums.get(id).cloned();
            Ok((id.clone(), CrateFacts { licence, sha256 }))
        })
        .collect()
}

/// The helper's SBOM: `subject` (the helper's package) is the document's component and
/// depends on `launch`, the root of `graph`; `graph`'s crates are the components.
#[must_use]
pub fn cyclonedx(
    subject: &CrateId,
    subject_licence: &str,
    launch: &CrateId,
    graph: &Graph,
    facts: &BTreeMap<CrateId, CrateFacts>,
) -> Value {
    let licences = |expression: &str| json!([{ "expression": expression }]);
    let components: Vec<Value> = graph
        .keys()
        .map(|id| {
            let mut component = json!({
                "type": "library",
                "bom-ref": id.purl(),
                "name": id.name,
                "version": id.version,
                "purl": id.purl(),
            });
            if let Some(facts) = facts.get(id) {
                component["licenses"] = licences(&facts.licence);
                if let Some(sha256) = &facts.sha256 {
                    component["hashes"] = json!([{ "alg": "SHA-256", "content": sha256 }]);
                }
            }
            component
        })
        .collect();
    let mut dependencies = vec![json!({ "ref": subject.purl(), "dependsOn": [launch.purl()] })];
    dependencies.extend(graph.iter().map(|(id, deps)| {
        json!({
            "ref": id.purl(),
            "dependsOn": deps.iter().map(CrateId::purl).collect::<Vec<_>>(),
        })
    }));
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": {
                "components": [{
                    "type": "application",
                    "name": env!("CARGO_PKG_NAME"),
                    "version": env!("CARGO_PKG_VERSION"),
                }],
            },
            "component": {
                "type": "application",
                "bom-ref": subject.purl(),
                "name": subject.name,
                "version": subject.version,
                "description": format!("{HELPER_PROGRAM}, the exec.d helper of the {} buildpack", subject.name),
                "purl": subject.purl(),
                "licenses": licences(subject_licence),
            },
        },
        "components": components,
        "dependencies": dependencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str, version: &str) -> CrateId {
        CrateId {
            name: name.to_owned(),
            version: version.to_owned(),
        }
    }

    const TREE: &str = "\
0group-writable v0.1.0 (/work/checkout)
1bullet_stream v0.11.0
2bitflags v2.13.2
1group-writable-launch v0.1.0 (/work/checkout/crates/launch)
2rustix v1.1.6
3bitflags v2.13.2
3linux-raw-sys v0.12.1
1libcnb v0.30.4
";

    #[test]
    fn the_closure_is_the_launch_crate_and_what_is_below_it() {
        let graph = parse_tree(TREE).unwrap();
        let launch = closure(&graph, LAUNCH_CRATE).unwrap();
        let names: Vec<&str> = launch.keys().map(|id| id.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bitflags",
                "group-writable-launch",
                "linux-raw-sys",
                "rustix"
            ]
        );
        assert_eq!(
            launch[&id("rustix", "1.1.6")],
            BTreeSet::from([id("bitflags", "2.13.2"), id("linux-raw-sys", "0.12.1")])
        );
        assert!(launch[&id("bitflags", "2.13.2")].is_empty());
    }

    #[test]
    fn bad_tree_lines_are_errors() {
        assert_eq!(
            parse_tree("0a v1\n2b v2\n"),
            Err(Error::TreeLine("2b v2".to_owned()))
        );
        assert_eq!(
            parse_tree("x v1\n"),
            Err(Error::TreeLine("x v1".to_owned()))
        );
        assert_eq!(
            parse_tree("0a 1.0\n"),
            Err(Error::TreeLine("0a 1.0".to_owned()))
        );
        assert_eq!(
            closure(&parse_tree("0a v1\n").unwrap(), "b"),
            Err(Error::NotInTree("b".to_owned()))
        );
    }

    #[test]
    fn a_crate_without_licence_is_an_error() {
        let graph = parse_tree("0a v1\n1b v2\n").unwrap();
        let licences =
            BTreeMap::from([(id("a", "1"), Some("MIT".to_owned())), (id("b", "2"), None)]);
        assert_eq!(
            facts(&graph, &licences, &BTreeMap::new()),
            Err(Error::NoLicence(id("b", "2")))
        );
        let licences = BTreeMap::from([(id("a", "1"), Some("MIT".to_owned()))]);
        assert_eq!(
            facts(&graph, &licences, &BTreeMap::new()),
            Err(Error::NotInMetadata(id("b", "2")))
        );
    }

    #[test]
    fn the_document_lists_every_crate_with_licence_purl_and_hash() {
        let graph = closure(&parse_tree(TREE).unwrap(), LAUNCH_CRATE).unwrap();
        let metadata = json!({ "packages": [
            { "name": "group-writable-launch", "version": "0.1.0", "license": "Apache-2.0" },
            { "name": "rustix", "version": "1.1.6", "license": "Apache-2.0 OR MIT" },
            { "name": "bitflags", "version": "2.13.2", "license": "MIT OR Apache-2.0" },
            { "name": "linux-raw-sys", "version": "0.12.1", "license": "MIT" },
        ]});
        let lock: toml::Table = r#"
            [[package]]
            name = "rustix"
            version = "1.1.6"
            checksum = "abc"
            [[package]]
            name = "group-writable-launch"
            version = "0.1.0"
        "#
        .parse()
        .unwrap();
        let facts = facts(&graph, &licences(&metadata).unwrap(), &checksums(&lock)).unwrap();
        let subject = id(HELPER_PACKAGE, "0.1.0");
        let launch = id(LAUNCH_CRATE, "0.1.0");
        let document = cyclonedx(&subject, "Apache-2.0", &launch, &graph, &facts);
        assert_eq!(document["bomFormat"], "CycloneDX");
        assert_eq!(
            document["metadata"]["component"]["purl"],
            "pkg:cargo/group-writable@0.1.0"
        );
        let components = document["components"].as_array().unwrap();
        assert_eq!(components.len(), 4);
        let rustix = components.iter().find(|c| c["name"] == "rustix").unwrap();
        assert_eq!(rustix["purl"], "pkg:cargo/rustix@1.1.6");
        assert_eq!(rustix["licenses"][0]["expression"], "Apache-2.0 OR MIT");
        assert_eq!(rustix["hashes"][0]["content"], "abc");
        let launch_component = components
            .iter()
            .find(|c| c["name"] == LAUNCH_CRATE)
            .unwrap();
        assert!(
            launch_component.get("hashes").is_none(),
            "a path crate has no registry hash"
        );
        let dependencies = document["dependencies"].as_array().unwrap();
        assert_eq!(
            dependencies[0]["dependsOn"],
            json!(["pkg:cargo/group-writable-launch@0.1.0"])
        );
        assert_eq!(dependencies.len(), 5);
    }
}
