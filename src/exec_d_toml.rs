//! The output of an exec.d program: TOML on file descriptor 3, top-level
//! `NAME = "value"` pairs only (Buildpack API, "exec.d"). Written by hand, with TOML's
//! basic-string escaping, so the helper links no TOML or serde code.

use std::fmt::Write as _;

/// Appends `name = "value"` and a newline to `out`.
///
/// Names that are not bare TOML keys (letters, digits, `_`, `-`) are written as quoted
/// keys. Values are basic strings: `"` and `\` are escaped, and so is every control
/// character (TOML allows none of them raw in a basic string).
pub fn push_pair(out: &mut String, name: &str, value: &str) {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        out.push_str(name);
    } else {
        push_basic_string(out, name);
    }
    out.push_str(" = ");
    push_basic_string(out, value);
    out.push('\n');
}

/// Appends `text` as a TOML basic string, quotes included.
pub fn push_basic_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> String {
        let mut out = String::new();
        push_pair(&mut out, name, value);
        out
    }

    #[test]
    fn plain_pairs() {
        assert_eq!(pair("TMPDIR", "/tmp"), "TMPDIR = \"/tmp\"\n");
        assert_eq!(pair("a-b_c9", ""), "a-b_c9 = \"\"\n");
    }

    #[test]
    fn escapes_what_a_basic_string_cannot_hold() {
        assert_eq!(
            pair("X", "a\"b\\c\td\ne\rf\u{8}g\u{c}h\u{1}i\u{7f}j\u{9f}k é"),
            "X = \"a\\\"b\\\\c\\td\\ne\\rf\\bg\\fh\\u0001i\\u007Fj\\u009Fk é\"\n"
        );
    }

    /// What a TOML parser reads back is exactly what was written.
    #[test]
    fn a_toml_parser_reads_back_the_same() {
        let values = [
            "/tmp",
            "",
            "quote\"back\\slash",
            "ctl\u{0}\u{1f}\u{7f}",
            "tab\tnl\n",
            "ünï €",
        ];
        let mut out = String::new();
        for (index, value) in values.iter().enumerate() {
            push_pair(&mut out, &format!("V{index}"), value);
        }
        push_pair(&mut out, "odd key", "x");
        let table: toml::Table = out.parse().expect("valid TOML");
        for (index, value) in values.iter().enumerate() {
            assert_eq!(table[&format!("V{index}")].as_str(), Some(*value));
        }
        assert_eq!(table["odd key"].as_str(), Some("x"));
    }

    #[test]
    fn quotes_names_that_are_not_bare_keys() {
        assert_eq!(pair("A B", "v"), "\"A B\" = \"v\"\n");
        assert_eq!(pair("", "v"), "\"\" = \"v\"\n");
        assert_eq!(pair("a.b", "v"), "\"a.b\" = \"v\"\n");
    }
}
