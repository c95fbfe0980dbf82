//! The writes that `tests/fixtures/apps/writable-paths/.group-writable` allows and the
//! ones it does not, for the tests that build that app (end-to-end and libcnb-test).
//! The `/layers/test_layer-maker/...` paths are in the launch layer that
//! `tests/fixtures/buildpacks/layer-maker` creates.

use crate::probe::Write;

/// Writes that `.group-writable` of the fixture app allows: the run user must be able to
/// make every one of them in an image built with the buildpack.
pub(crate) const MATCHED: &[Write] = &[
    // `log/`: a new file, and an existing one, in a matched directory.
    Write::CreateFile("/workspace/log/new.log"),
    Write::AppendTo("/workspace/log/production.log"),
    // `tmp/`: a new directory, and a file in a directory below the matched one.
    Write::MakeDirectory("/workspace/tmp/cache"),
    Write::CreateFile("/workspace/tmp/pids/server.pid"),
    // `/data/state.json`: one file.
    Write::AppendTo("/workspace/data/state.json"),
    // `/layers/test_layer-maker/store/uploads/` and `.../store/*.db`: in a launch layer.
    Write::CreateFile("/layers/test_layer-maker/store/uploads/new.bin"),
    Write::AppendTo("/layers/test_layer-maker/store/uploads/README"),
    Write::AppendTo("/layers/test_layer-maker/store/index.db"),
];

/// Writes to paths no pattern matches, next to matched ones: they must stay impossible.
pub(crate) const NOT_MATCHED: &[Write] = &[
    // Siblings of the matched /data/state.json.
    Write::CreateFile("/workspace/data/new.json"),
    Write::AppendTo("/workspace/data/seed.json"),
    Write::AppendTo("/workspace/config/app.toml"),
    Write::AppendTo("/workspace/.group-writable"),
    // The layer's own directory and its other contents.
    Write::CreateFile("/layers/test_layer-maker/store/new.bin"),
    Write::AppendTo("/layers/test_layer-maker/store/bin/tool"),
    Write::CreateFile("/layers/test_layer-maker/store/bin/new"),
    Write::CreateFile("/layers/test_layer-maker/new"),
];

/// Writes directly in `/workspace`, which no pattern matches: they succeed for every user,
/// with or without the buildpack, because `pack` (0.40.6) makes `/workspace` itself mode
/// 0777 (the root entry of the app archive it writes), and the daemonless platform does
/// the same. group-writable neither adds nor removes that (see the README, "What stays as
/// the platform made it"). Both suites check the mode, so a `pack` that changes it fails
/// the pack suite.
pub(crate) const IN_WORKSPACE_ROOT: &[Write] = &[
    Write::CreateFile("/workspace/new.txt"),
    Write::MakeDirectory("/workspace/uploads"),
];

/// The mode `pack` gives `/workspace`, as `stat -c %A` prints it.
pub(crate) const WORKSPACE_MODE: &str = "drwxrwxrwx";
