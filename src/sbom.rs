//! The exec.d helper's CycloneDX SBOM. `bin/package` writes it for each target from cargo's
//! resolution (`crates/sbom`) into the buildpack, at [`HELPER_SBOM`]; the build attaches it
//! to the helper's launch layer, and the lifecycle exports it to
//! `/layers/sbom/launch/cnb-utils_group-writable/redirects/sbom.cdx.json`.

use crate::error::GroupWritableError;
use libcnb::data::sbom::SbomFormat;
use libcnb::sbom::Sbom;
use std::path::Path;

/// Where the SBOM is, relative to the buildpack's directory (one per target).
pub const HELPER_SBOM: &str = "sbom/group-writable-redirects.cdx.json";

/// The SBOM of the buildpack in `buildpack_dir`.
pub fn helper_sbom(buildpack_dir: &Path) -> Result<Sbom, GroupWritableError> {
    let path = buildpack_dir.join(HELPER_SBOM);
    Sbom::from_path(SbomFormat::CycloneDxJson, &path)
        .map_err(|error| GroupWritableError::HelperSbom { path, error })
}
