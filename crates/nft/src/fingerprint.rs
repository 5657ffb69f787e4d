//! Rule fingerprints: how read-back compares rules without parsing nft's
//! JSON expression trees.
//!
//! Every rule palisade writes ends its comment with ` #` and 12 hex digits,
//! a hash (FNV-1a 64, low 48 bits) of the rule's rendered text and of the
//! full human part of its comment. Reading the comment back yields the
//! fingerprint; a rule without one gets a fingerprint that never matches.

use crate::names::{quotable, MAX_COMMENT};

const HASH_DIGITS: usize = 12;

/// A rule as written: its nft text (without the comment), its comment, and
/// the fingerprint the comment carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedRule {
    pub text: String,
    pub comment: String,
    pub fingerprint: String,
}

impl RenderedRule {
    /// Renders `text` with the human explanation `why`, which is truncated to
    /// fit nft's comment limit (the hash never is).
    pub fn new(text: String, why: &str) -> Self {
        let fingerprint = hash_hex(&format!("{text}\u{0}{why}"));
        let room = MAX_COMMENT - HASH_DIGITS - 2;
        let comment = format!("{} #{fingerprint}", quotable(why, room));
        Self {
            text,
            comment,
            fingerprint,
        }
    }

    /// The full rule line: `TEXT comment "WHY #HASH"`.
    pub fn line(&self) -> String {
        format!("{} comment \"{}\"", self.text, self.comment)
    }
}

/// The fingerprint a rule comment carries, if it is one of ours.
pub fn from_comment(comment: &str) -> Option<&str> {
    let (_, tail) = comment.rsplit_once(" #")?;
    let ours = tail.len() == HASH_DIGITS && tail.bytes().all(|b| b.is_ascii_hexdigit());
    ours.then_some(tail)
}

/// FNV-1a 64 of `text`, low 48 bits as 12 lowercase hex digits.
fn hash_hex(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_round_trips_the_fingerprint() {
        let rule = RenderedRule::new("counter name \"k_1\" accept".into(), "ns/p ingress rule 0");
        assert_eq!(from_comment(&rule.comment), Some(rule.fingerprint.as_str()));
        assert!(rule.comment.starts_with("ns/p ingress rule 0 #"));
    }

    #[test]
    fn long_explanations_keep_the_hash() {
        let rule = RenderedRule::new("drop".into(), &"isolated by ns/p, ".repeat(20));
        assert!(rule.comment.len() <= MAX_COMMENT, "{}", rule.comment.len());
        assert_eq!(from_comment(&rule.comment), Some(rule.fingerprint.as_str()));
    }

    #[test]
    fn the_explanation_is_part_of_the_fingerprint() {
        let a = RenderedRule::new("accept".into(), "ns/a ingress rule 0");
        let b = RenderedRule::new("accept".into(), "ns/b ingress rule 0");
        assert_ne!(a.fingerprint, b.fingerprint);
    }

    #[test]
    fn foreign_comments_have_no_fingerprint() {
        assert_eq!(from_comment("allow ssh"), None);
        assert_eq!(from_comment("x #12345"), None);
        assert_eq!(from_comment("x #zzzzzzzzzzzz"), None);
    }
}
