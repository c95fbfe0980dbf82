//! The output of an exec.d program: TOML on file descriptor 3, top-level
//! `NAME = "value"` pairs only (Buildpack API, "exec.d"). Written by hand, with TOML's
//! basic-string escaping, so the helper links no TOML or serde code.

use std::fmt::{self, Write};

/// Appends `name = "value"` and a newline to `out`.
///
/// Names that are not bare TOML keys (letters, digits, `_`, `-`) are written as quoted
/// keys. Values are basic strings: `"` and `\` are escaped, and so is every control
/// character (TOML allows none of them raw in a basic string).
pub fn push_pair(out: &mut impl Write, name: &str, value: &str) {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        let _ = out.write_str(name);
    } else {
        push_basic_string(out, name);
    }
    let _ = out.write_str(" = ");
    push_basic_string(out, value);
    let _ = out.write_char('\n');
}

/// Appends `text` as a TOML basic string, quotes included.
pub fn push_basic_string(out: &mut impl Write, text: &str) {
    let _ = out.write_char('"');
    for c in text.chars() {
        let _ = match c {
            '"' => out.write_str("\\\""),
            '\\' => out.write_str("\\\\"),
            '\u{8}' => out.write_str("\\b"),
            '\t' => out.write_str("\\t"),
            '\n' => out.write_str("\\n"),
            '\u{c}' => out.write_str("\\f"),
            '\r' => out.write_str("\\r"),
            c if c.is_control() => write!(out, "\\u{:04X}", u32::from(c)),
            c => out.write_char(c),
        };
    }
    let _ = out.write_char('"');
}

/// Room for the usual output (a few variables) without touching the heap.
const STACK_OUTPUT: usize = 1024;

/// The text for fd 3, kept on the stack while it is small. The helper runs at every
/// container start, and its first heap allocation would cost the allocator's set-up
/// (system calls and page faults) more than all its other work; a large output, which
/// no real configuration makes, moves to the heap.
pub struct Output {
    stack: [u8; STACK_OUTPUT],
    length: usize,
    heap: Option<String>,
}

impl Output {
    #[must_use]
    pub fn new() -> Output {
        Output {
            stack: [0; STACK_OUTPUT],
            length: 0,
            heap: None,
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.heap {
            Some(heap) => heap,
            // Only whole `&str`s are ever copied in, so the bytes are UTF-8.
            None => std::str::from_utf8(&self.stack[..self.length]).unwrap_or_default(),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }
}

impl Default for Output {
    fn default() -> Self {
        Output::new()
    }
}

impl Write for Output {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if let Some(heap) = &mut self.heap {
            heap.push_str(text);
        } else if let Some(room) = self.stack.get_mut(self.length..self.length + text.len()) {
            room.copy_from_slice(text.as_bytes());
            self.length += text.len();
        } else {
            let mut heap = String::with_capacity(2 * STACK_OUTPUT);
            heap.push_str(self.as_str());
            heap.push_str(text);
            self.heap = Some(heap);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_moves_to_the_heap_when_large_and_keeps_everything() {
        let mut output = Output::new();
        let mut expected = String::new();
        for index in 0..100 {
            let value = format!("/tmp/group-writable/entry-{index}");
            push_pair(&mut output, "NAME", &value);
            push_pair(&mut expected, "NAME", &value);
        }
        assert!(expected.len() > STACK_OUTPUT);
        assert_eq!(output.as_str(), expected);
        assert!(Output::new().is_empty());
    }

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
