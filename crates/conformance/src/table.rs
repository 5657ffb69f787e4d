//! The reachability table notation:
//!
//! ```text
//! -   x/a x/b
//! x/a .   X
//! x/b .   .
//! ```
//!
//! The header starts with `-` and lists destination pods; each row names a
//! source pod, then one cell per column: `.` allowed, `X` denied. Every
//! error is located to the line and column of the offending token.

use std::collections::BTreeSet;

use palisade_manifest::yaml::Pos;
use palisade_model::PodId;

use crate::parse::check_pod_id;

/// One line of a table with the position of its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SrcLine<'a> {
    pub pos: Pos,
    pub text: &'a str,
}

/// A syntax error in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableError {
    pub pos: Pos,
    pub message: String,
}

/// The parsed grid of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grid {
    pub rows: Vec<PodId>,
    pub cols: Vec<PodId>,
    pub cells: Vec<Vec<bool>>,
}

/// A whitespace-separated token and its position.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    pos: Pos,
    text: &'a str,
}

fn err(pos: Pos, message: impl Into<String>) -> TableError {
    TableError {
        pos,
        message: message.into(),
    }
}

/// Maps the lines of a block scalar back to the source. `pos` is where the
/// reader says the scalar starts (its first non-blank line); a literal block
/// (`table: |`) keeps every line, so line `i` of `content` must appear in
/// the source at the same column. Anything else (quoted or folded) is refused.
pub(crate) fn locate<'a>(
    content: &'a str,
    pos: Pos,
    source: &[&str],
) -> Result<Vec<SrcLine<'a>>, TableError> {
    let leading = content.len() - content.trim_start_matches('\n').len();
    let first = pos.line.checked_sub(leading).filter(|l| *l > 0);
    let not_literal = || {
        err(
            pos,
            "a table must be a literal block scalar (`table: |` followed by indented lines)",
        )
    };
    let first = first.ok_or_else(not_literal)?;
    let mut out = Vec::new();
    for (i, text) in content.lines().enumerate() {
        let line = first + i;
        let at = Pos { line, col: pos.col };
        let in_source = source
            .get(line - 1)
            .map(|s| s.chars().skip(pos.col - 1).collect::<String>());
        if !text.trim().is_empty() && in_source.as_deref() != Some(text) {
            return Err(not_literal());
        }
        out.push(SrcLine { pos: at, text });
    }
    Ok(out)
}

fn tokens(line: SrcLine<'_>) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    let chars = line
        .text
        .char_indices()
        .chain(std::iter::once((line.text.len(), ' ')));
    for (col, (byte, c)) in chars.enumerate() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some((col, byte)),
            (true, Some((col0, byte0))) => {
                let pos = Pos {
                    line: line.pos.line,
                    col: line.pos.col + col0,
                };
                out.push(Token {
                    pos,
                    text: &line.text[byte0..byte],
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Parses the lines of a table. `at` locates an empty table.
pub(crate) fn parse_grid(lines: &[SrcLine<'_>], at: Pos) -> Result<Grid, Vec<TableError>> {
    let mut lines = lines.iter().map(|l| tokens(*l)).filter(|t| !t.is_empty());
    let Some(header) = lines.next() else {
        return Err(vec![err(
            at,
            "empty table: expected a header row starting with `-`",
        )]);
    };
    let mut errors = Vec::new();
    let cols = header_pods(&header, &mut errors);
    let mut grid = Grid {
        rows: Vec::new(),
        cols: cols.iter().flatten().cloned().collect(),
        cells: Vec::new(),
    };
    let mut seen = BTreeSet::new();
    for row in lines {
        if let Some((id, cells)) = parse_row(&row, &cols, &mut errors) {
            if !seen.insert(id.clone()) {
                errors.push(err(row[0].pos, format!("row {id} is listed twice")));
            }
            grid.rows.push(id);
            grid.cells.push(cells);
        }
    }
    if errors.is_empty() {
        Ok(grid)
    } else {
        Err(errors)
    }
}

fn pod(token: Token<'_>, errors: &mut Vec<TableError>) -> Option<PodId> {
    check_pod_id(token.text)
        .map_err(|e| errors.push(err(token.pos, e)))
        .ok()
}

/// The header's pods; `None` for a token that is not a pod id (already
/// reported), so rows still line up with the columns.
fn header_pods(header: &[Token<'_>], errors: &mut Vec<TableError>) -> Vec<Option<PodId>> {
    if header[0].text != "-" {
        let message = format!(
            "the header row must start with `-`, found {:?}",
            header[0].text
        );
        errors.push(err(header[0].pos, message));
    }
    let mut cols: Vec<Option<PodId>> = Vec::new();
    for token in &header[1..] {
        let id = pod(*token, errors);
        if id.is_some() && cols.contains(&id) {
            errors.push(err(
                token.pos,
                format!("column {} is listed twice", token.text),
            ));
        }
        cols.push(id);
    }
    cols
}

fn parse_row(
    row: &[Token<'_>],
    cols: &[Option<PodId>],
    errors: &mut Vec<TableError>,
) -> Option<(PodId, Vec<bool>)> {
    let id = pod(row[0], errors)?;
    let cells = &row[1..];
    if cells.len() != cols.len() {
        let at = cells.get(cols.len()).unwrap_or(&row[row.len() - 1]).pos;
        let message = format!(
            "row {id} has {} cells, the header has {} columns",
            cells.len(),
            cols.len()
        );
        errors.push(err(at, message));
        return None;
    }
    let before = errors.len();
    let values: Vec<bool> = cells
        .iter()
        .zip(cols)
        .map(|(t, col)| cell(*t, &id, col, errors))
        .collect();
    (errors.len() == before).then_some((id, values))
}

fn cell(token: Token<'_>, row: &PodId, col: &Option<PodId>, errors: &mut Vec<TableError>) -> bool {
    let allowed = match token.text {
        "." => true,
        "X" => false,
        other => {
            let message = format!("unknown cell {other:?} (expected `.` allowed or `X` denied)");
            errors.push(err(token.pos, message));
            return false;
        }
    };
    if !allowed && col.as_ref() == Some(row) {
        let message = format!("a pod always reaches itself: cell {row} -> {row} must be `.`");
        errors.push(err(token.pos, message));
    }
    allowed
}

#[cfg(test)]
mod tests;
