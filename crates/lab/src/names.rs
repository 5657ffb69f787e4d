//! Names of everything the lab creates, derived from the lab prefix and a key.
//!
//! Every name starts with the prefix (so `lab down` finds leftovers), except
//! veth interfaces: they live only inside the lab's node and pod namespaces and
//! must fit 15 characters, so they carry a short hash of prefix and key.

use std::fmt::Write as _;

/// The MAC address of every host-side veth: the pods' gateway (as Calico does).
pub const GATEWAY_MAC: &str = "ee:ee:ee:ee:ee:ee";
/// The IPv4 gateway pods route through (a link-local address nobody owns).
pub const GATEWAY_V4: &str = "169.254.1.1";
/// The IPv6 gateway pods route through.
pub const GATEWAY_V6: &str = "fe80::1";
/// The name of the interface inside a pod (and the external host).
pub const POD_IF: &str = "eth0";

/// A prefix or key the lab refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Prefixes are 1-24 characters of `[a-z0-9-]`, starting with a letter.
    #[error("invalid lab prefix {0:?}: use 1-24 characters of [a-z0-9-], starting with a letter")]
    Prefix(String),
    /// Pod keys are 1-200 characters of `[A-Za-z0-9._/-]`.
    #[error("invalid pod key {0:?}: use 1-200 characters of [A-Za-z0-9._/-]")]
    Key(String),
}

/// Checks a lab prefix: it is part of netns, nft table and file names.
pub fn validate_prefix(prefix: &str) -> Result<(), NameError> {
    let ok = (1..=24).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(())
        .ok_or_else(|| NameError::Prefix(prefix.to_owned()))
}

/// Checks a pod key such as `x/a`.
pub fn validate_key(key: &str) -> Result<(), NameError> {
    let ok = (1..=200).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    ok.then_some(())
        .ok_or_else(|| NameError::Key(key.to_owned()))
}

/// The node's netns: `<prefix>node`.
pub fn node_netns(prefix: &str) -> String {
    format!("{prefix}node")
}

/// The external host's netns: `<prefix>ext`.
pub fn ext_netns(prefix: &str) -> String {
    format!("{prefix}ext")
}

/// A pod's netns: `<prefix>pod-<key>` with `/` written as `_` (`x/a` => `…pod-x_a`).
pub fn pod_netns(prefix: &str, key: &str) -> String {
    format!("{prefix}pod-{}", key.replace('/', "_"))
}

/// The host-side veth of a pod (or of the external host, key `:ext`): `pv` + 12 hex.
pub fn host_veth(prefix: &str, key: &str) -> String {
    format!("pv{:012x}", fnv1a(prefix, key) >> 16)
}

/// The pod-side MAC: locally administered, unicast, derived from the same hash.
pub fn pod_mac(prefix: &str, key: &str) -> String {
    let bytes = fnv1a(prefix, key).to_be_bytes();
    let mut mac = String::from("02");
    for b in &bytes[..5] {
        let _ = write!(mac, ":{b:02x}");
    }
    mac
}

/// The key the external host is wired under (no pod key contains `:`).
pub(crate) const EXT_KEY: &str = ":ext";

/// FNV-1a over `prefix`, a separator and `key`.
fn fnv1a(prefix: &str, key: &str) -> u64 {
    let bytes = prefix.bytes().chain([0]).chain(key.bytes());
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_names_fit_and_differ() {
        let a = host_veth("plt1-", "x/a");
        assert_eq!(a.len(), 14);
        assert_ne!(a, host_veth("plt1-", "x/b"));
        assert_ne!(a, host_veth("plt2-", "x/a"));
    }

    #[test]
    fn pod_names_are_readable() {
        assert_eq!(pod_netns("lab-", "x/a"), "lab-pod-x_a");
        assert_eq!(node_netns("lab-"), "lab-node");
        assert!(pod_mac("lab-", "x/a").starts_with("02:"));
        assert_eq!(pod_mac("lab-", "x/a").len(), 17);
    }

    #[test]
    fn prefixes_and_keys_are_checked() {
        assert!(validate_prefix("plt123-").is_ok());
        for bad in [
            "",
            "1abc",
            "Abc",
            "a b",
            "a/b",
            "abcdefghijklmnopqrstuvwxyz",
        ] {
            assert!(validate_prefix(bad).is_err(), "{bad}");
        }
        assert!(validate_key("x/a").is_ok());
        assert!(validate_key("a:b").is_err());
        assert!(validate_key("").is_err());
    }
}
