//! The release artifacts that `bin/package` writes: one version everywhere, both targets'
//! static, stripped binaries in the platform roots pack reads, one buildpackage file per
//! target (checked with `pack buildpack inspect` and by reading the file), and the exec.d
//! helper's CycloneDX SBOM (the crates compiled into the helper, checked against
//! `cargo tree`, and against the CycloneDX schema by a real validator).
//!
//! The version test always runs; the others run when `GROUP_WRITABLE_BUILDPACK_DIR` names
//! the packaged buildpack, as `bin/test` sets it.

// The dependencies belong to the library; this test crate uses only a few of them.
#![allow(unused_crate_dependencies)]

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// What bin/package builds: Rust target, CNB architecture, ELF `e_machine`.
const TARGETS: [(&str, &str, u16); 2] = [
    ("x86_64-unknown-linux-musl", "amd64", 62),
    ("aarch64-unknown-linux-musl", "arm64", 183),
];
const BUILDPACK_ID: &str = "cnb-utils/group-writable";
/// The helper's SBOM in a platform root (the buildpack's own constant).
const HELPER_SBOM: &str = group_writable::sbom::HELPER_SBOM;

fn read(relative: &str) -> String {
    let path = Path::new(ROOT).join(relative);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn toml_file(relative: &str) -> toml::Table {
    read(relative)
        .parse()
        .unwrap_or_else(|error| panic!("{relative}: {error}"))
}

/// The version Cargo.toml gives every crate of the workspace.
fn cargo_version() -> String {
    toml_file("Cargo.toml")["workspace"]["package"]["version"]
        .as_str()
        .expect("workspace.package.version")
        .to_owned()
}

/// The first release heading of CHANGELOG.md (`## [X.Y.Z] - DATE`; not `[Unreleased]`).
fn changelog_release(changelog: &str) -> Option<&str> {
    changelog
        .lines()
        .filter_map(|line| line.strip_prefix("## ["))
        .filter_map(|rest| rest.split_once(']'))
        .map(|(version, _)| version)
        .find(|version| !version.eq_ignore_ascii_case("unreleased"))
}

#[test]
fn one_version_in_cargo_toml_buildpack_toml_and_the_changelog() {
    let version = cargo_version();
    assert_eq!(
        env!("CARGO_PKG_VERSION"),
        version,
        "the buildpack crate's version"
    );
    let buildpack = toml_file("buildpack.toml");
    assert_eq!(
        buildpack["buildpack"]["version"].as_str(),
        Some(version.as_str()),
        "buildpack.toml's [buildpack] version must be Cargo.toml's workspace.package.version"
    );
    assert_eq!(
        changelog_release(&read("CHANGELOG.md")),
        Some(version.as_str()),
        "CHANGELOG.md's newest release heading (## [{version}] - DATE) must be Cargo.toml's version"
    );
}

#[test]
fn the_changelog_release_heading_is_found_below_unreleased() {
    let changelog =
        "# Changelog\n\n## [Unreleased]\n\n- x\n\n## [1.2.3] - 2026-01-01\n\n## [1.2.2]\n";
    assert_eq!(changelog_release(changelog), Some("1.2.3"));
    assert_eq!(changelog_release("## [Unreleased]\n"), None);
}

/// The multi-target buildpack bin/package wrote, when the packaged suites run.
fn packaged_root() -> Option<PathBuf> {
    support::packaged_buildpack()?;
    Some(Path::new(ROOT).join("packaged/cnb-utils_group-writable"))
}

/// What the ELF header and tables say of a binary.
#[derive(Debug, PartialEq, Eq)]
struct Elf {
    machine: u16,
    /// `ET_EXEC`, no `PT_INTERP`, no `PT_DYNAMIC`: static, non-PIE.
    is_static: bool,
    /// No `.symtab`.
    is_stripped: bool,
}

fn elf(path: &Path) -> Elf {
    const ET_EXEC: u16 = 2;
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    const SHT_SYMTAB: u32 = 2;
    let bytes = fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    assert!(
        bytes.starts_with(b"\x7fELF\x02\x01"),
        "{} is not a 64-bit little-endian ELF file",
        path.display()
    );
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| {
        usize::try_from(u64::from_le_bytes(
            bytes[at..at + 8].try_into().expect("8 bytes"),
        ))
        .expect("an offset")
    };
    let (phoff, shoff) = (u64_at(0x20), u64_at(0x28));
    let (phentsize, phnum) = (usize::from(u16_at(0x36)), usize::from(u16_at(0x38)));
    let (shentsize, shnum) = (usize::from(u16_at(0x3a)), usize::from(u16_at(0x3c)));
    let segment_types: Vec<u32> = (0..phnum).map(|i| u32_at(phoff + i * phentsize)).collect();
    let section_types: Vec<u32> = (0..shnum)
        .map(|i| u32_at(shoff + i * shentsize + 4))
        .collect();
    Elf {
        machine: u16_at(0x12),
        is_static: u16_at(0x10) == ET_EXEC
            && !segment_types.contains(&PT_INTERP)
            && !segment_types.contains(&PT_DYNAMIC),
        is_stripped: !section_types.contains(&SHT_SYMTAB),
    }
}

/// The binaries of a platform root: the buildpack's and the exec.d helper.
fn binaries(platform_root: &Path) -> [PathBuf; 2] {
    [
        platform_root.join("bin/build"),
        platform_root
            .join(".libcnb-cargo/additional-bin")
            .join(group_writable_launch::contract::PROGRAM),
    ]
}

#[test]
fn both_targets_have_static_stripped_binaries_in_their_platform_roots() {
    let Some(root) = packaged_root() else { return };
    let version = cargo_version();
    for (triple, arch, machine) in TARGETS {
        let platform_root = root.join("linux").join(arch);
        for binary in binaries(&platform_root) {
            assert_eq!(
                elf(&binary),
                Elf {
                    machine,
                    is_static: true,
                    is_stripped: true
                },
                "{} must be a static, stripped {triple} binary",
                binary.display()
            );
        }
        assert_eq!(
            fs::read_link(platform_root.join("bin/detect")).ok(),
            Some(PathBuf::from("build")),
            "bin/detect of {arch} must link to build"
        );
        // Each platform root declares its own target alone.
        let descriptor: toml::Table = fs::read_to_string(platform_root.join("buildpack.toml"))
            .expect("buildpack.toml")
            .parse()
            .expect("buildpack.toml is TOML");
        let targets: Vec<(&str, &str)> = descriptor["targets"]
            .as_array()
            .expect("[[targets]]")
            .iter()
            .map(|t| {
                (
                    t["os"].as_str().unwrap_or(""),
                    t["arch"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            targets,
            [("linux", arch)],
            "{arch}'s buildpack.toml targets"
        );
        assert_eq!(
            descriptor["buildpack"]["version"].as_str(),
            Some(version.as_str())
        );
    }
    // The control: the ELF reader tells the targets apart.
    let [amd64, _] = binaries(&root.join("linux/amd64"));
    let [arm64, _] = binaries(&root.join("linux/arm64"));
    assert_ne!(elf(&amd64).machine, elf(&arm64).machine);
    // ... and sees a dynamic, unstripped binary: the test build of the buildpack.
    let test_build = elf(Path::new(env!("CARGO_BIN_EXE_group-writable")));
    assert!(
        !test_build.is_static && !test_build.is_stripped,
        "{test_build:?}"
    );
}

/// The pack binary: `GROUP_WRITABLE_PACK` (bin/test sets it), else `pack` on PATH.
fn pack() -> PathBuf {
    std::env::var_os("GROUP_WRITABLE_PACK").map_or_else(|| PathBuf::from("pack"), PathBuf::from)
}

fn run(command: &mut Command) -> Vec<u8> {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A file of an OCI layout that is a tar file (a `.cnb`; pack writes absolute names).
fn member(cnb: &Path, name: &str) -> Vec<u8> {
    run(Command::new("tar")
        .args(["--absolute-names", "-xOf"])
        .arg(cnb)
        .arg(format!("/{name}")))
}

fn blob(cnb: &Path, digest: &str) -> Vec<u8> {
    member(
        cnb,
        &format!("blobs/sha256/{}", digest.trim_start_matches("sha256:")),
    )
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

#[test]
fn one_buildpackage_per_target_holds_that_targets_binaries() {
    let Some(root) = packaged_root() else { return };
    let version = cargo_version();
    for (_, arch, _) in TARGETS {
        let cnb = root.with_file_name(format!("cnb-utils_group-writable-linux-{arch}.cnb"));
        let inspect = String::from_utf8(run(Command::new(pack())
            .args(["buildpack", "inspect"])
            .arg(&cnb)))
        .expect("UTF-8");
        assert!(
            inspect.contains(BUILDPACK_ID) && inspect.contains(&version),
            "pack buildpack inspect {} does not show {BUILDPACK_ID} {version}:\n{inspect}",
            cnb.display()
        );
        let index = json(&member(&cnb, "index.json"));
        let manifest = json(&blob(
            &cnb,
            index["manifests"][0]["digest"].as_str().expect("digest"),
        ));
        let config = json(&blob(
            &cnb,
            manifest["config"]["digest"].as_str().expect("config"),
        ));
        assert_eq!(
            (config["os"].as_str(), config["architecture"].as_str()),
            (Some("linux"), Some(arch))
        );
        let labels = &config["config"]["Labels"];
        let package: Value = serde_json::from_str(
            labels["io.buildpacks.buildpackage.metadata"]
                .as_str()
                .expect("label"),
        )
        .expect("label JSON");
        assert_eq!(package["id"], BUILDPACK_ID);
        assert_eq!(
            package["version"].as_str(),
            Some(version.as_str()),
            "the buildpackage label's version"
        );
        let layers: Value = serde_json::from_str(
            labels["io.buildpacks.buildpack.layers"]
                .as_str()
                .expect("label"),
        )
        .expect("label JSON");
        assert_eq!(
            layers[BUILDPACK_ID][&version]["targets"],
            serde_json::json!([{ "os": "linux", "arch": arch }])
        );
        // The layer holds this target's binaries, byte for byte.
        let layer = manifest["layers"][0]["digest"].as_str().expect("layer");
        let inside = format!("cnb/buildpacks/cnb-utils_group-writable/{version}");
        for (packaged, relative) in [
            (root.join("linux").join(arch).join("bin/build"), "bin/build"),
            (root.join("linux").join(arch).join(HELPER_SBOM), HELPER_SBOM),
        ] {
            let script = format!(
                "tar --absolute-names -xOf \"$0\" /blobs/sha256/{} | tar -xzO --absolute-names -f - /{inside}/{relative}",
                layer.trim_start_matches("sha256:")
            );
            let bytes = run(Command::new("sh").arg("-c").arg(script).arg(&cnb));
            assert!(
                bytes == fs::read(&packaged).expect("packaged file"),
                "{relative} in {} is not {}",
                cnb.display(),
                packaged.display()
            );
        }
    }
}

/// `cargo tree`'s crates (name, version, licence) of the launch crate for `triple`: the
/// crates compiled into the helper, whose binary uses the launch crate alone.
fn helper_crates(triple: &str) -> BTreeSet<(String, String, String)> {
    let tree = run(Command::new(env!("CARGO"))
        .current_dir(ROOT)
        .args(["tree", "--locked", "--edges", "normal", "--target", triple])
        .args(["--package", "group-writable-launch", "--prefix", "none"])
        .args(["--format", "{p}|{l}"]));
    String::from_utf8(tree)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let (package, licence) = line.split_once('|').expect("{p}|{l}");
            let mut words = package.split(' ');
            let name = words.next().expect("name").to_owned();
            let version = words
                .next()
                .expect("version")
                .trim_start_matches('v')
                .to_owned();
            (name, version, licence.to_owned())
        })
        .collect()
}

fn sbom(platform_root: &Path) -> Value {
    json(&fs::read(platform_root.join(HELPER_SBOM)).expect("the helper's SBOM"))
}

#[test]
fn the_helper_sbom_lists_exactly_the_crates_compiled_into_the_helper() {
    let Some(root) = packaged_root() else { return };
    let version = cargo_version();
    for (triple, arch, _) in TARGETS {
        let document = sbom(&root.join("linux").join(arch));
        assert_eq!(document["bomFormat"], "CycloneDX");
        let subject = &document["metadata"]["component"];
        assert_eq!(
            subject["purl"].as_str(),
            Some(format!("pkg:cargo/group-writable@{version}").as_str())
        );
        let listed: BTreeSet<(String, String, String)> = document["components"]
            .as_array()
            .expect("components")
            .iter()
            .map(|component| {
                let text = |key: &str| component[key].as_str().unwrap_or_default().to_owned();
                let (name, version) = (text("name"), text("version"));
                assert_eq!(text("purl"), format!("pkg:cargo/{name}@{version}"));
                let licence = component["licenses"][0]["expression"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                (name, version, licence)
            })
            .collect();
        let expected = helper_crates(triple);
        assert!(
            expected.len() >= 2,
            "cargo tree shows the launch crate and rustix at least: {expected:?}"
        );
        assert_eq!(
            listed, expected,
            "the {arch} helper's SBOM against cargo tree"
        );
    }
}

/// `GROUP_WRITABLE_CYCLONEDX_PYTHONPATH`: where bin/test installed cyclonedx-python-lib
/// (with its JSON validator), for `tests/fixtures/cyclonedx/validate.py`.
const VALIDATOR_VARIABLE: &str = "GROUP_WRITABLE_CYCLONEDX_PYTHONPATH";

fn validate(document: &Path) -> (bool, String) {
    let pythonpath = std::env::var_os(VALIDATOR_VARIABLE).expect("checked");
    let output = Command::new("python3")
        .arg(Path::new(ROOT).join("tests/fixtures/cyclonedx/validate.py"))
        .arg(document)
        .env("PYTHONPATH", pythonpath)
        .output()
        .expect("run python3");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn the_helper_sbom_is_valid_cyclonedx() {
    let Some(root) = packaged_root() else { return };
    if std::env::var_os(VALIDATOR_VARIABLE).is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{VALIDATOR_VARIABLE} is not set: bin/test installs the CycloneDX validator and sets it"
        );
        eprintln!(
            "skipped: the CycloneDX schema check; {VALIDATOR_VARIABLE} is not set (bin/test sets it)"
        );
        return;
    }
    for (_, arch, _) in TARGETS {
        let path = root.join("linux").join(arch).join(HELPER_SBOM);
        let (valid, log) = validate(&path);
        assert!(valid, "{} is not valid CycloneDX:\n{log}", path.display());
        // The control: the validator rejects a component of a type the schema lacks.
        let mut broken = sbom(&root.join("linux").join(arch));
        broken["components"][0]["type"] = Value::from("not-a-component-type");
        let scratch = tempfile::NamedTempFile::new().expect("temporary file");
        fs::write(scratch.path(), broken.to_string()).expect("write");
        let (valid, log) = validate(scratch.path());
        assert!(!valid, "the validator accepted an invalid document:\n{log}");
    }
}
