use super::*;

fn at(line: usize, col: usize) -> Pos {
    Pos { line, col }
}

/// Lines as a literal block would give them, starting at line 10, column 7.
fn lines(text: &str) -> Vec<SrcLine<'_>> {
    text.lines()
        .enumerate()
        .map(|(i, text)| SrcLine {
            pos: at(10 + i, 7),
            text,
        })
        .collect()
}

fn grid(text: &str) -> Result<Grid, Vec<TableError>> {
    parse_grid(&lines(text), at(10, 7))
}

fn messages(text: &str) -> Vec<(Pos, String)> {
    grid(text)
        .unwrap_err()
        .into_iter()
        .map(|e| (e.pos, e.message))
        .collect()
}

#[test]
fn a_table_reads_rows_columns_and_cells() {
    let g = grid("-   x/a y/b\nx/a .   X\n\ny/b .   .\n").unwrap();
    assert_eq!(g.cols, [PodId::new("x", "a"), PodId::new("y", "b")]);
    assert_eq!(g.rows, g.cols);
    assert_eq!(g.cells, [[true, false], [true, true]]);
}

#[test]
fn unknown_cell_is_located_at_the_cell() {
    let errors = messages("-   x/a y/b\nx/a .   x\ny/b .   .");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, at(11, 15));
    assert!(
        errors[0].1.contains("unknown cell \"x\""),
        "{}",
        errors[0].1
    );
}

#[test]
fn ragged_rows_are_reported_each() {
    let errors = messages("-   x/a y/b\nx/a .   .   .\ny/b .");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].0, at(11, 19), "the first extra cell");
    assert!(errors[0]
        .1
        .contains("row x/a has 3 cells, the header has 2 columns"));
    assert_eq!(errors[1].0, at(12, 11), "the last cell of a short row");
}

#[test]
fn header_must_start_with_a_dash() {
    let errors = messages("x/a y/b\nx/a . .");
    assert!(errors[0].1.contains("must start with `-`"), "{:?}", errors);
    assert_eq!(errors[0].0, at(10, 7));
}

#[test]
fn bad_pod_ids_and_duplicates_are_errors() {
    let errors = messages("- x/a xa x/a\nx/a . . .");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, at(10, 13));
    assert!(errors[1].1.contains("column x/a is listed twice"));
    let errors = messages("- x/a\nx/a .\nx/a .");
    assert!(errors[0].1.contains("row x/a is listed twice"));
}

#[test]
fn the_diagonal_is_always_allowed() {
    let errors = messages("- x/a\nx/a X");
    assert!(errors[0].1.contains("always reaches itself"), "{errors:?}");
}

#[test]
fn an_empty_table_is_an_error() {
    let errors = messages("\n  \n");
    assert_eq!(errors[0].0, at(10, 7));
    assert!(errors[0].1.contains("empty table"));
}

#[test]
fn locate_maps_literal_lines_back_to_the_source() {
    let source = ["expect:", "  - table: |", "", "      - x/a", "      x/a ."];
    let content = "\n- x/a\nx/a .\n";
    let located = locate(content, at(4, 7), &source).unwrap();
    let lines: Vec<(usize, &str)> = located.iter().map(|l| (l.pos.line, l.text)).collect();
    assert_eq!(lines, [(3, ""), (4, "- x/a"), (5, "x/a .")]);
}

#[test]
fn locate_refuses_quoted_tables() {
    let source = ["  - table: \"- x/a\\nx/a .\""];
    let e = locate("- x/a\nx/a .", at(1, 12), &source).unwrap_err();
    assert!(e.message.contains("literal block scalar"));
}
