//! The denied-flow log on the final deny path of every subject chain.
//!
//! A subject chain ends, after its accept rules, with (per address family)
//!
//! ```text
//! ct state new meta nfproto ipv4 update @flowlog4 { ip saddr limit rate 10/second burst 20 packets } log prefix "palisade deny ce_..." group 3117
//! counter name "d_..." drop
//! ```
//!
//! The drop there is final (netfilter never lets a later chain undo it), so
//! nothing is logged for traffic that another stage allows in the end. Only
//! the first packet of a connection attempt (`ct state new`) is logged, at
//! most [`LOG_RATE`] per source address (a dynamic set keyed by `saddr`,
//! so one noisy pod cannot hide the others); the drop itself is not limited.
//! An audit chain (every isolating policy in audit mode) logs with mode
//! `audit` and ends in `counter ... accept` instead.
//!
//! The prefix names the mode and the subject chain, which the reader maps
//! back to direction and isolating policies through the compiled IR.

use palisade_compile::{Chain, Family};

use crate::desired::DesiredSet;
use crate::fingerprint::RenderedRule;
use crate::state::SetState;

/// The NFLOG group palisade logs denied connection attempts to.
pub const FLOW_LOG_GROUP: u16 = 3117;

/// The per-source rate of logged connection attempts.
pub const LOG_RATE: &str = "limit rate 10/second burst 20 packets";

/// Every log prefix starts with this.
pub const PREFIX_TAG: &str = "palisade";

/// The dynamic set that rate-limits the log per source address.
pub fn rate_set(family: Family) -> &'static str {
    match family {
        Family::V4 => "flowlog4",
        Family::V6 => "flowlog6",
    }
}

/// `palisade deny CHAIN` or `palisade audit CHAIN` (at most 127 bytes in
/// nft; chain names are short hashes).
pub fn prefix(chain_name: &str, audit: bool) -> String {
    let mode = if audit { "audit" } else { "deny" };
    format!("{PREFIX_TAG} {mode} {chain_name}")
}

/// Parses a prefix written by [`prefix`]: `(audit, chain name)`.
pub fn parse_prefix(prefix: &str) -> Option<(bool, &str)> {
    let mut parts = prefix.trim_end_matches('\0').split(' ');
    if parts.next()? != PREFIX_TAG {
        return None;
    }
    let audit = match parts.next()? {
        "deny" => false,
        "audit" => true,
        _ => return None,
    };
    let chain = parts.next().filter(|c| !c.is_empty())?;
    parts.next().is_none().then_some((audit, chain))
}

/// The log lines of subject chain `name` (one per family), placed before
/// its final counted drop (or audit accept).
pub fn log_rules(name: &str, chain: &Chain) -> [RenderedRule; 2] {
    let prefix = prefix(name, chain.audit);
    [(Family::V4, "ip", "ipv4"), (Family::V6, "ip6", "ipv6")].map(|(family, ip, nfproto)| {
        let set = rate_set(family);
        let text = format!(
            "ct state new meta nfproto {nfproto} update @{set} {{ {ip} saddr {LOG_RATE} }} log prefix \"{prefix}\" group {FLOW_LOG_GROUP}"
        );
        let why = format!(
            "flow log: {} of pods isolated by {}",
            chain.direction,
            chain
                .isolated_by
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        RenderedRule::new(text, &why)
    })
}

/// The rate-limit sets, empty and dynamic (their elements are the kernel's
/// business and are never compared on read-back).
pub fn rate_sets() -> [(String, DesiredSet); 2] {
    [Family::V4, Family::V6].map(|family| {
        let key_type = match family {
            Family::V4 => "ipv4_addr",
            Family::V6 => "ipv6_addr",
        };
        let name = rate_set(family);
        let state = SetState {
            key_type: key_type.into(),
            interval: false,
            dynamic: true,
            elements: Default::default(),
        };
        let set = DesiredSet {
            state,
            comment: "palisade: per-source rate limit of the denied-flow log".into(),
            label: format!("set {name} (flow log rate limit, {family:?})"),
        };
        (name.to_string(), set)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trips_and_fits() {
        let p = prefix("ce_0123456789ab", true);
        assert_eq!(p, "palisade audit ce_0123456789ab");
        assert!(p.len() < 128);
        assert_eq!(parse_prefix(&p), Some((true, "ce_0123456789ab")));
        assert_eq!(parse_prefix("palisade deny ci_1\0"), Some((false, "ci_1")));
        assert_eq!(parse_prefix("other deny ci_1"), None);
        assert_eq!(parse_prefix("palisade drop ci_1"), None);
        assert_eq!(parse_prefix("palisade deny"), None);
    }
}
