//! Fail-closed mode (`--fail-closed --pod-cidr CIDR`, off by default).
//!
//! # The window it closes
//!
//! A pod is isolated as soon as the agent sees it in the API with an
//! address. Between the container runtime starting the pod's sandbox (the
//! CNI has given it an address, its containers may already send) and the
//! agent seeing the kubelet's status update with that address, the pod has
//! no dispatch element: its traffic passes unfiltered. The window is the
//! kubelet's status update plus the watch delivery plus the coalescing
//! window, typically well under a second, longer when the API server is
//! slow or unreachable.
//!
//! # What fail-closed does
//!
//! It drops forwarded traffic from or to any address of the node's pod
//! CIDR(s) that belongs to no pod known from the API (on any node), so an
//! unknown pod can neither send nor receive until the agent has seen it
//! (and programmed its policies: this table is updated after palisade's
//! table, in the same reconcile). The cost: a new pod's first connections
//! fail until then (clients retry), and while the API server is unreachable
//! new pods stay cut off.
//!
//! # How
//!
//! The nft backend (`palisade-nft`) renders palisade's main table from the
//! compiler's IR, which has no notion of unknown addresses; rather than
//! extend both, fail-closed is a table of the agent's own,
//! `inet TABLE_failclosed` (`palisade_failclosed` by default): sets of known pod addresses and of the pod CIDRs,
//! and a forward chain at priority `filter - 10` (after Service DNAT, before
//! palisade's chains; a drop is final, so the order only saves work)
//! dropping `saddr`/`daddr` in the CIDR and not known. Each update is one
//! transaction: element additions and deletions, or, at startup, on resync
//! and after a failure, the whole table replaced atomically.
//!
//! # Before the first sync
//!
//! The table is armed when the agent starts ([`FailClosed::arm`]), before
//! any list has been read: on a fresh node no pod is known yet, so every
//! forwarded packet from or to the pod CIDR is dropped until the caches
//! have synced and palisade's table is programmed; the first reconcile then
//! replaces the table with the known addresses. An unreachable API server
//! at boot therefore leaves the node closed, not open. On a restart the
//! table left by the previous run is kept as it is (its known addresses
//! still pass), so a restart never opens traffic nor cuts known pods.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use palisade_nft::{ApplyError, Nft, Script, ScriptBuilder};

/// The fail-closed table and what it was last programmed with.
#[derive(Debug)]
pub struct FailClosed {
    nft: Nft,
    cidrs: Vec<IpNet>,
    /// The known addresses the kernel holds; `None`: unknown (reprogram).
    known: Option<BTreeSet<IpAddr>>,
}

impl FailClosed {
    pub fn new(table: &str, netns: Option<&str>, cidrs: Vec<IpNet>) -> Self {
        Self {
            nft: Nft::new(table, netns),
            cidrs,
            known: None,
        }
    }

    /// Arms the table at agent start, before the first list: creates it with
    /// no known address if absent (everything from or to the pod CIDR is
    /// dropped), or keeps the previous run's known addresses if present. In
    /// both cases the pod CIDRs and the drop rules are (re)written, in one
    /// transaction. The next [`FailClosed::sync`] replaces the whole table.
    pub fn arm(&mut self) -> Result<(), ApplyError> {
        self.known = None;
        self.nft.run(&arm(&self.nft.table, &self.cidrs))
    }

    /// Brings the table to `addresses` (all known pod addresses):
    /// a delta when the last state is known and `full` is false, else the
    /// whole table. A rejected delta is retried as the whole table.
    pub fn sync(&mut self, addresses: &BTreeSet<IpAddr>, full: bool) -> Result<(), ApplyError> {
        let delta = match (&self.known, full) {
            (Some(known), false) => Some(delta(&self.nft.table, known, addresses)),
            _ => None,
        };
        let result = match delta {
            Some(None) => Ok(()),
            Some(Some(script)) => self.nft.run(&script).or_else(|_| {
                self.nft
                    .run(&table(&self.nft.table, &self.cidrs, addresses))
            }),
            None => self
                .nft
                .run(&table(&self.nft.table, &self.cidrs, addresses)),
        };
        self.known = result.is_ok().then(|| addresses.clone());
        result
    }
}

/// The whole table, replacing any previous one in one transaction.
pub fn table(name: &str, cidrs: &[IpNet], known: &BTreeSet<IpAddr>) -> Script {
    let mut b = ScriptBuilder::default();
    let label = format!("table inet {name}");
    b.push(
        &label,
        &[
            format!("add table inet {name}"),
            format!("delete table inet {name}"),
            format!("table inet {name} {{"),
        ],
    );
    for v6 in [false, true] {
        let (f, addr) = family(v6);
        let known: Vec<String> = known
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .map(|a| a.to_string())
            .collect();
        let nets: Vec<String> = cidrs
            .iter()
            .filter(|c| c.addr().is_ipv6() == v6)
            .map(|c| c.to_string())
            .collect();
        b.push(
            &format!("set known{f}"),
            &set(&format!("known{f}"), addr, false, &known),
        );
        b.push(
            &format!("set cidr{f}"),
            &set(&format!("cidr{f}"), addr, true, &nets),
        );
    }
    b.push("chain forward", &chain());
    b.push_plain("}");
    b.finish()
}

/// The arming script: `add` keeps what exists (the known sets of a previous
/// run), the CIDRs are added and the chain's rules rewritten (flush, then
/// add) in the same transaction, so there is no moment without them.
pub fn arm(name: &str, cidrs: &[IpNet]) -> Script {
    let mut b = ScriptBuilder::default();
    let table = format!("inet {name}");
    b.push(&format!("table {table}"), &[format!("add table {table}")]);
    for v6 in [false, true] {
        let (f, addr) = family(v6);
        let nets: Vec<String> = cidrs
            .iter()
            .filter(|c| c.addr().is_ipv6() == v6)
            .map(|c| c.trunc().to_string())
            .collect();
        let mut lines = vec![
            format!("add set {table} known{f} {{ type {addr}; }}"),
            format!("add set {table} cidr{f} {{ type {addr}; flags interval; }}"),
        ];
        if !nets.is_empty() {
            lines.push(format!(
                "add element {table} cidr{f} {{ {} }}",
                nets.join(", ")
            ));
        }
        b.push(&format!("sets {f}"), &lines);
    }
    let mut lines = vec![
        format!("add chain {table} forward {{ type filter hook forward priority filter - 10; policy accept; }}"),
        format!("flush chain {table} forward"),
    ];
    for (f, ip) in [("4", "ip"), ("6", "ip6")] {
        for dir in ["saddr", "daddr"] {
            lines.push(format!(
                "add rule {table} forward {ip} {dir} @cidr{f} {ip} {dir} != @known{f} counter drop comment \"unknown pod {dir}\""
            ));
        }
    }
    b.push("chain forward", &lines);
    b.finish()
}

fn family(v6: bool) -> (&'static str, &'static str) {
    match v6 {
        false => ("4", "ipv4_addr"),
        true => ("6", "ipv6_addr"),
    }
}

fn set(name: &str, key: &str, interval: bool, elements: &[String]) -> Vec<String> {
    let mut lines = vec![format!("\tset {name} {{"), format!("\t\ttype {key}")];
    if interval {
        lines.push("\t\tflags interval".into());
    }
    if !elements.is_empty() {
        lines.push(format!("\t\telements = {{ {} }}", elements.join(", ")));
    }
    lines.push("\t}".into());
    lines
}

fn chain() -> Vec<String> {
    let mut lines = vec![
        "\tchain forward {".to_string(),
        "\t\ttype filter hook forward priority filter - 10; policy accept;".to_string(),
    ];
    for (f, ip) in [("4", "ip"), ("6", "ip6")] {
        for dir in ["saddr", "daddr"] {
            lines.push(format!(
                "\t\t{ip} {dir} @cidr{f} {ip} {dir} != @known{f} counter drop comment \"unknown pod {dir}\""
            ));
        }
    }
    lines.push("\t}".into());
    lines
}

/// Element changes from `old` to `new`; `None` when equal.
pub fn delta(table: &str, old: &BTreeSet<IpAddr>, new: &BTreeSet<IpAddr>) -> Option<Script> {
    let mut b = ScriptBuilder::default();
    for v6 in [false, true] {
        let (f, _) = family(v6);
        let set = format!("set known{f}");
        let pick = |a: &BTreeSet<IpAddr>, b: &BTreeSet<IpAddr>| -> Vec<String> {
            a.difference(b)
                .filter(|x| x.is_ipv6() == v6)
                .map(|x| x.to_string())
                .collect()
        };
        let (added, removed) = (pick(new, old), pick(old, new));
        if !removed.is_empty() {
            let line = format!(
                "delete element inet {table} known{f} {{ {} }}",
                removed.join(", ")
            );
            b.push(&set, &[line]);
        }
        if !added.is_empty() {
            let line = format!(
                "add element inet {table} known{f} {{ {} }}",
                added.join(", ")
            );
            b.push(&set, &[line]);
        }
    }
    let script = b.finish();
    (!script.text.is_empty()).then_some(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> BTreeSet<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn the_table_drops_unknown_addresses_of_the_cidr() {
        let cidrs = vec!["10.244.1.0/24".parse().unwrap()];
        let text = table("pf", &cidrs, &ips(&["10.244.1.5", "fd00::5"])).text;
        assert!(text.starts_with("add table inet pf\ndelete table inet pf\n"));
        assert!(text.contains("elements = { 10.244.1.0/24 }"));
        assert!(text.contains("elements = { 10.244.1.5 }"));
        assert!(text.contains("elements = { fd00::5 }"));
        assert!(text.contains("ip saddr @cidr4 ip saddr != @known4 counter drop"));
        assert!(text.contains("priority filter - 10"));
    }

    #[test]
    fn arming_keeps_known_sets_and_rewrites_the_rules() {
        let cidrs = vec![
            "10.244.1.0/24".parse().unwrap(),
            "fd00:1::/64".parse().unwrap(),
        ];
        let text = arm("pf", &cidrs).text;
        assert!(!text.contains("delete table"), "{text}");
        assert!(text.contains("add set inet pf known4 { type ipv4_addr; }"));
        assert!(text.contains("add element inet pf cidr4 { 10.244.1.0/24 }"));
        assert!(text.contains("add element inet pf cidr6 { fd00:1::/64 }"));
        let flush = text.find("flush chain inet pf forward").unwrap();
        let rule = text
            .find("add rule inet pf forward ip saddr @cidr4")
            .unwrap();
        assert!(flush < rule, "{text}");
    }

    #[test]
    fn a_delta_adds_and_deletes_elements_only() {
        let old = ips(&["10.0.0.1", "10.0.0.2"]);
        let new = ips(&["10.0.0.2", "10.0.0.3"]);
        let text = delta("pf", &old, &new).unwrap().text;
        assert_eq!(
            text,
            "delete element inet pf known4 { 10.0.0.1 }\nadd element inet pf known4 { 10.0.0.3 }\n"
        );
        assert!(delta("pf", &new, &new).is_none());
    }
}
