//! An nft transaction as text, with the object each line belongs to, so
//! that nft's `/dev/stdin:LINE:COL: Error: ...` can be attributed.

use std::fmt::Write as _;
use std::ops::Range;

/// One `nft -f -` transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub text: String,
    /// 1-based line ranges (end exclusive) and the object they create or
    /// change, e.g. `set s_ab12 (pods matching app=web in ns-1)`.
    pub spans: Vec<(Range<usize>, String)>,
}

impl Script {
    /// Number of lines in the script.
    pub fn lines(&self) -> usize {
        self.text.lines().count()
    }

    /// The objects whose span contains 1-based `line`, innermost first.
    pub fn objects_at(&self, line: usize) -> Vec<&str> {
        let mut hits: Vec<&(Range<usize>, String)> = self
            .spans
            .iter()
            .filter(|(range, _)| range.contains(&line))
            .collect();
        hits.sort_by_key(|(range, _)| range.len());
        hits.into_iter().map(|(_, label)| label.as_str()).collect()
    }
}

/// Builds a [`Script`] line by line, recording spans.
#[derive(Debug, Default)]
pub struct ScriptBuilder {
    script: Script,
    lines: usize,
}

impl ScriptBuilder {
    /// Appends the lines of `object` (each without its newline); the span
    /// covers them all. An empty `lines` adds nothing.
    pub fn push(&mut self, object: &str, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        let start = self.lines + 1;
        for line in lines {
            self.push_plain(line);
        }
        self.script
            .spans
            .push((start..self.lines + 1, object.to_string()));
    }

    /// Appends a line that belongs to no particular object.
    pub fn push_plain(&mut self, line: &str) {
        let _ = writeln!(self.script.text, "{line}");
        self.lines += 1 + line.matches('\n').count();
    }

    /// Records that lines `range` belong to `object` (for enclosing spans).
    pub fn span(&mut self, range: Range<usize>, object: &str) {
        self.script.spans.push((range, object.to_string()));
    }

    /// Number of lines written so far.
    pub fn line_count(&self) -> usize {
        self.lines
    }

    /// The script built so far.
    pub fn finish(self) -> Script {
        self.script
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_one_based_and_innermost_first() {
        let mut b = ScriptBuilder::default();
        b.push_plain("table inet t {");
        b.push("set s_a (a)", &["set s_a {".into(), "}".into()]);
        b.push("chain c_b (b)", &["chain c_b {".into(), "}".into()]);
        b.push_plain("}");
        b.span(1..7, "table inet t");
        let s = b.finish();
        assert_eq!(s.objects_at(2), ["set s_a (a)", "table inet t"]);
        assert_eq!(s.objects_at(4), ["chain c_b (b)", "table inet t"]);
        assert_eq!(s.objects_at(1), ["table inet t"]);
        assert!(s.objects_at(9).is_empty());
        assert_eq!(s.lines(), 6);
    }
}
