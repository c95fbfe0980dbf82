//! The buildpack binary (`bin/detect` and `bin/build`): libcnb picks the phase from
//! argv[0]. Everything else lives in the library.

// The library uses the dependencies; this thin binary only needs two of them.
#![allow(unused_crate_dependencies)]

use group_writable::buildpack::GroupWritableBuildpack;
use libcnb::buildpack_main;

buildpack_main!(GroupWritableBuildpack);
