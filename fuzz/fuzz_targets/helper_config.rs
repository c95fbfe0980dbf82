//! Any bytes as the exec.d helper's configuration: reading it must not panic, and a
//! configuration it accepts must keep every target a plain name directly below the
//! helper's own directory (the helper creates them relative to that directory's
//! descriptor) and every seed inside the layer.
#![no_main]

use group_writable_launch::contract::Config;
use libfuzzer_sys::fuzz_target;

fn is_own_target(base: &str, path: &str) -> bool {
    path.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix("/group-writable/"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && name != "." && name != "..")
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(config) = Config::parse(text) else {
        return;
    };
    let base = config.tmp_base;
    for env in config.envs() {
        assert!(
            env.value == base || is_own_target(base, env.value),
            "{text:?}"
        );
    }
    for path in config.paths() {
        assert!(is_own_target(base, path.target), "{text:?}");
        if let Some(seed) = path.seed {
            assert!(
                !seed.starts_with('/') && !seed.split('/').any(|part| part == ".."),
                "{text:?}"
            );
        }
    }
});
