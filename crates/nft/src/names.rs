//! Identifiers and quoted strings as nftables accepts them.
//!
//! nft's scanner reads an unquoted identifier as one token only when no
//! keyword spells the whole of it; no nft keyword contains an underscore, so
//! we require one in every name the IR supplies (`s_ab12`, `c_e_1f2`). Names
//! we choose ourselves (`egress4`, `base_fwd_egress`) are fixed in
//! [`crate::layout`] and checked against a real kernel in the tests.

/// nft limits names to 255 bytes; we stay well below.
pub(crate) const MAX_NAME: usize = 200;

/// nft stores a comment of at most 128 bytes including its terminating NUL.
pub const MAX_COMMENT: usize = 127;

/// Whether `name` is safe as an unquoted nft identifier: an ASCII letter,
/// then letters, digits and underscores, with at least one underscore.
pub fn is_safe_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    starts_with_letter
        && name.len() <= MAX_NAME
        && name.contains('_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Makes `text` safe inside nft double quotes (which cannot escape a quote)
/// and at most `max` bytes long, ending in `...` when it had to be cut.
pub fn quotable(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    truncate(clean, max)
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut cut = max.saturating_sub(3);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str("...");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_safe_identifier("s_ab12"));
        assert!(is_safe_identifier("c_e_1f2"));
        for bad in [
            "ingress", "fwd", "", "_x", "1_a", "s-ab", "s ab", "s_\u{e9}",
        ] {
            assert!(!is_safe_identifier(bad), "{bad:?}");
        }
        assert!(!is_safe_identifier(&format!("s_{}", "a".repeat(MAX_NAME))));
    }

    #[test]
    fn quotable_strips_quotes_and_cuts_on_char_boundary() {
        assert_eq!(quotable("a \"b\"\nc", 50), "a 'b' c");
        let cut = quotable(&"\u{e9}".repeat(100), 10);
        assert!(cut.len() <= 10 && cut.ends_with("..."), "{cut}");
    }
}
