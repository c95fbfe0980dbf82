//! The buildpack's failures (their messages are in [`crate::messages`]).

use crate::messages;
use crate::pass::PassError;
use crate::redirects::install::InstallError;
use crate::redirects::plan::UnknownIds;
use crate::settings::SettingError;
use bullet_stream::Print;

/// Every way the build can fail.
#[derive(Debug)]
pub enum GroupWritableError {
    Settings(SettingError),
    Pass(PassError),
    UnknownRedirects(UnknownIds),
    Redirect(InstallError),
    /// The helper's SBOM, which bin/package writes into the buildpack, cannot be read.
    HelperSbom {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
}

impl From<GroupWritableError> for libcnb::Error<GroupWritableError> {
    fn from(error: GroupWritableError) -> Self {
        Self::BuildpackError(error)
    }
}

/// Prints a failure to the build log.
pub fn print(error: &libcnb::Error<GroupWritableError>) {
    let text = match error {
        libcnb::Error::BuildpackError(error) => messages::failure(error),
        other => messages::libcnb_failure(other),
    };
    let _ = Print::new(std::io::stdout()).without_header().error(text);
}
