//! Any names and values through the fd-3 writer: the output must always be TOML that
//! reads back as exactly the pairs written (the launcher aborts the app on bad TOML).
#![no_main]

use group_writable_launch::exec_d_toml::{self, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|pairs: Vec<(String, String)>| {
    let mut output = Output::new();
    let mut expected = toml::Table::new();
    for (name, value) in &pairs {
        if expected.contains_key(name) {
            continue;
        }
        exec_d_toml::push_pair(&mut output, name, value);
        expected.insert(name.clone(), toml::Value::String(value.clone()));
    }
    let read: toml::Table = output.as_str().parse().expect("valid TOML");
    assert_eq!(read, expected);
});
