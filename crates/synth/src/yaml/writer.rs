//! A line-by-line block-YAML writer and string quoting.

use std::fmt::Write;

/// Accumulates YAML lines. Depth is in steps of two spaces.
#[derive(Debug, Default)]
pub(crate) struct Out {
    text: String,
    /// The next line starts a list item: `- ` replaces its last indent step.
    dash: bool,
}

impl Out {
    /// Writes `text` at `depth`, or as the first line of a pending item.
    pub(crate) fn line(&mut self, depth: usize, text: &str) {
        if self.dash {
            let indent = depth.checked_sub(1).expect("a list item is nested");
            self.indent(indent);
            self.text.push_str("- ");
            self.dash = false;
        } else {
            self.indent(depth);
        }
        self.text.push_str(text);
        self.text.push('\n');
    }

    /// Writes `key: value` at `depth`; `value` is already rendered.
    pub(crate) fn field(&mut self, depth: usize, key: &str, value: &str) {
        let mut s = String::with_capacity(key.len() + value.len() + 2);
        let _ = write!(s, "{key}: {value}");
        self.line(depth, &s);
    }

    /// Starts a list item: the next line, one step deeper than the list's
    /// key, begins with `- `.
    pub(crate) fn item(&mut self) {
        self.dash = true;
    }

    pub(crate) fn finish(self) -> String {
        self.text
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.text.push_str("  ");
        }
    }
}

/// A YAML double-quoted scalar: `"` and `\` escaped, control characters as `\uXXXX`.
pub(crate) fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
