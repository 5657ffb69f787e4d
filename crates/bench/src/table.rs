//! A plain text table with aligned columns (first column left, others right).

/// Renders `rows` under `header`.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| match i {
                0 => format!("{c:<w$}", w = width[i]),
                _ => format!("{c:>w$}", w = width[i]),
            })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns() {
        let t = super::render(
            &["what", "n"],
            &[
                vec!["a".into(), "1000".into()],
                vec!["bbbbbb".into(), "2".into()],
            ],
        );
        assert_eq!(t, "what       n\na       1000\nbbbbbb     2\n");
    }
}
