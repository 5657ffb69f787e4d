//! "Did you mean ...?" suggestions for misspelt field names.

/// The candidate closest to `word` by edit distance (case-insensitive, a
/// swap of two adjacent letters counting as one edit), if close enough.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let allowed = if word.chars().count() <= 4 { 1 } else { 2 };
    // The distance is at least the difference in length: skip the table
    // (length × length) for candidates that cannot be close, e.g. for a
    // key a megabyte long.
    let words = word.chars().count();
    let word = word.to_ascii_lowercase();
    let best = candidates
        .iter()
        .filter(|c| c.chars().count().abs_diff(words) <= allowed)
        .map(|c| (distance(&word, &c.to_ascii_lowercase()), *c))
        .min_by_key(|(d, _)| *d)?;
    (best.0 <= allowed).then_some(best.1)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_and_case_slips() {
        let known = ["podSelector", "ingress", "egress", "policyTypes"];
        assert_eq!(closest("ingres", &known), Some("ingress"));
        assert_eq!(closest("podselector", &known), Some("podSelector"));
        assert_eq!(closest("form", &["from", "ports"]), Some("from"));
        assert_eq!(closest("banana", &known), None);
        assert_eq!(closest("x", &[]), None);
    }
}
