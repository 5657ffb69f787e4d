//! The classic baseline: a linear rule list, as iptables-based add-ons built.
//!
//! Built from palisade's own compiled IR, so it holds exactly the same
//! policies: for each policy in creation order, each pod it selects (in
//! address order), each rule and peer, each peer address or range, and each
//! port range, one rule
//!
//! ```text
//! ip saddr PEER ip daddr POD meta l4proto tcp th dport 80 accept   (ingress)
//! ip saddr POD ip daddr PEER meta l4proto tcp th dport 80 accept   (egress)
//! ```
//!
//! in one chain per direction (egress at the forward hook's priority 0,
//! ingress at 10, like palisade's), after `ct state established,related
//! accept`, and then one `drop` per isolated pod. A named port becomes one
//! rule per pod that defines it. A packet walks the list until a rule
//! matches, so its cost grows with the rules before its own.
//!
//! The full cross product can be far too large to load (hundreds of millions
//! of rules at 10,000 policies): [`build`] keeps every rule of the probe
//! policies (so the list is exact for the probe pods), then the first rules of
//! the other policies up to `cap`, and reports the uncapped count.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use palisade_compile::{Match, Packet, Rule, Ruleset};
use palisade_model::{Direction, PolicyRef, Protocol};

/// One rule of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinearRule {
    pub src: Option<(IpAddr, IpAddr)>,
    pub dst: Option<(IpAddr, IpAddr)>,
    pub ports: Option<(Protocol, u16, u16)>,
    pub accept: bool,
}

/// The two chains and their counts.
#[derive(Debug, Clone, Default)]
pub struct LinearList {
    pub egress: Vec<LinearRule>,
    pub ingress: Vec<LinearRule>,
    /// Accept rules of the full cross product, before the cap.
    pub uncapped_accepts: u64,
    /// Accept rules kept.
    pub accepts: usize,
    /// `drop` rules (one per isolated pod and direction).
    pub drops: usize,
}

impl LinearList {
    /// Rules loaded, accepts and drops.
    pub fn rules(&self) -> usize {
        self.accepts + self.drops
    }
    /// True when the cap cut rules of non-probe policies.
    pub fn capped(&self) -> bool {
        self.uncapped_accepts > self.accepts as u64
    }
}

/// One (policy, selected pod, IR rule) of a direction, before expansion.
struct Item<'a> {
    rank: usize,
    pod: IpAddr,
    rule: &'a Rule,
}

/// Builds the list from `rs` (compiled for the same local pods as palisade's
/// ruleset). `order` gives the creation order of policies; rules of `keep`
/// policies are never capped and come after the others.
pub fn build(
    rs: &Ruleset,
    order: &[PolicyRef],
    keep: &BTreeSet<PolicyRef>,
    cap: usize,
) -> LinearList {
    let rank: BTreeMap<&PolicyRef, usize> = order.iter().enumerate().map(|(i, p)| (p, i)).collect();
    let mut out = LinearList::default();
    let mut budget = cap;
    for dir in [Direction::Egress, Direction::Ingress] {
        let (items, drops) = items(rs, dir, &rank);
        let (kept, other): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|i| keep.contains(&i.rule.provenance.policy));
        let mut rules = Vec::new();
        for item in &other {
            out.uncapped_accepts += expand(rs, dir, item, &mut rules, &mut budget);
        }
        let mut unlimited = usize::MAX;
        for item in &kept {
            out.uncapped_accepts += expand(rs, dir, item, &mut rules, &mut unlimited);
        }
        out.accepts += rules.len();
        out.drops += drops.len();
        rules.extend(drops.into_iter().map(|pod| drop_rule(dir, pod)));
        match dir {
            Direction::Egress => out.egress = rules,
            Direction::Ingress => out.ingress = rules,
        }
    }
    out
}

/// The items of a direction in list order, and the isolated pods.
fn items<'a>(
    rs: &'a Ruleset,
    dir: Direction,
    rank: &BTreeMap<&PolicyRef, usize>,
) -> (Vec<Item<'a>>, Vec<IpAddr>) {
    let Some(dispatch) = rs.dispatch.get(&dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut items = Vec::new();
    for (pod, chain) in dispatch {
        for rule in rs
            .chains
            .get(chain)
            .map(|c| c.rules.as_slice())
            .unwrap_or(&[])
        {
            let rank = rank
                .get(&rule.provenance.policy)
                .copied()
                .unwrap_or(usize::MAX);
            items.push(Item {
                rank,
                pod: *pod,
                rule,
            });
        }
    }
    items.sort_by(|a, b| {
        let key = |i: &Item| {
            (
                i.rank,
                i.pod,
                i.rule.provenance.rule,
                i.rule.provenance.peer,
            )
        };
        key(a).cmp(&key(b))
    });
    (items, dispatch.keys().copied().collect())
}

fn drop_rule(dir: Direction, pod: IpAddr) -> LinearRule {
    let own = Some((pod, pod));
    let (src, dst) = match dir {
        Direction::Egress => (own, None),
        Direction::Ingress => (None, own),
    };
    LinearRule {
        src,
        dst,
        ports: None,
        accept: false,
    }
}

/// Appends the rules of one item while `budget` lasts; returns how many the
/// full cross product has.
fn expand(
    rs: &Ruleset,
    dir: Direction,
    item: &Item,
    out: &mut Vec<LinearRule>,
    budget: &mut usize,
) -> u64 {
    let mut peers: Option<Vec<(IpAddr, IpAddr)>> = None;
    let mut ports: Vec<Option<(Protocol, u16, u16)>> = vec![None];
    let mut named: Option<Vec<(IpAddr, Protocol, u16)>> = None;
    for m in &item.rule.matches {
        match m {
            Match::SrcAddr(s) | Match::DstAddr(s) => {
                peers = rs.addr_sets.get(s).map(|a| a.ranges.clone());
            }
            Match::Ports(s) => {
                ports = rs
                    .port_sets
                    .get(s)
                    .map_or_else(Vec::new, |p| p.ranges.iter().map(|r| Some(*r)).collect());
            }
            Match::NamedPort(s) => {
                named = Some(
                    rs.named_port_sets
                        .get(s)
                        .map_or_else(Vec::new, |n| n.elements.clone()),
                );
            }
        }
    }
    let peers: Vec<Option<(IpAddr, IpAddr)>> = match peers {
        Some(p) => p.into_iter().map(Some).collect(),
        None => vec![None],
    };
    if *budget == 0 && named.is_none() {
        // Out of budget: count without building (the cross product can
        // reach hundreds of millions).
        return (peers.len() * ports.len()) as u64;
    }
    let own = (item.pod, item.pod);
    let mut total = 0u64;
    let mut push = |peer: Option<(IpAddr, IpAddr)>, port: Option<(Protocol, u16, u16)>| {
        total += 1;
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let (src, dst) = match dir {
            Direction::Ingress => (peer, Some(own)),
            Direction::Egress => (Some(own), peer),
        };
        out.push(LinearRule {
            src,
            dst,
            ports: port,
            accept: true,
        });
    };
    match named {
        // A named port is resolved on the destination: the pod itself for
        // ingress, each peer pod defining it for egress.
        Some(elements) => {
            for (addr, proto, port) in elements {
                let port = Some((proto, port, port));
                match dir {
                    Direction::Ingress if addr == item.pod => {
                        peers.iter().for_each(|p| push(*p, port))
                    }
                    Direction::Ingress => {}
                    Direction::Egress => {
                        if peers
                            .iter()
                            .any(|p| p.is_none_or(|(lo, hi)| lo <= addr && addr <= hi))
                        {
                            push(Some((addr, addr)), port);
                        }
                    }
                }
            }
        }
        None => {
            for peer in &peers {
                for port in &ports {
                    push(*peer, *port);
                }
            }
        }
    }
    total
}

/// Where the list's table lives.
pub const TABLE: &str = "palisade_linear";

/// The list as one `nft -f` transaction creating table `inet` [`TABLE`].
pub fn render(list: &LinearList) -> String {
    let mut s = String::with_capacity(list.rules() * 80);
    let _ = writeln!(
        s,
        "add table inet {TABLE}\ndelete table inet {TABLE}\ntable inet {TABLE} {{"
    );
    for (name, prio, rules) in [("egress", 0, &list.egress), ("ingress", 10, &list.ingress)] {
        let _ = writeln!(
            s,
            "\tchain {name} {{\n\t\ttype filter hook forward priority {prio}; policy accept;\n\t\tct state established,related accept"
        );
        for r in rules {
            s.push_str("\t\t");
            line(&mut s, r);
            s.push('\n');
        }
        s.push_str("\t}\n");
    }
    s.push_str("}\n");
    s
}

fn line(s: &mut String, r: &LinearRule) {
    for (dir, range) in [("saddr", r.src), ("daddr", r.dst)] {
        if let Some((lo, hi)) = range {
            let fam = if lo.is_ipv4() { "ip" } else { "ip6" };
            match lo == hi {
                true => {
                    let _ = write!(s, "{fam} {dir} {lo} ");
                }
                false => {
                    let _ = write!(s, "{fam} {dir} {lo}-{hi} ");
                }
            }
        }
    }
    if let Some((proto, lo, hi)) = r.ports {
        let p = proto.to_string().to_ascii_lowercase();
        let _ = write!(s, "meta l4proto {p} ");
        if (lo, hi) != (0, 65535) {
            match lo == hi {
                true => {
                    let _ = write!(s, "th dport {lo} ");
                }
                false => {
                    let _ = write!(s, "th dport {lo}-{hi} ");
                }
            }
        }
    }
    s.push_str(if r.accept { "accept" } else { "drop" });
}

/// What the list does with the first packet of a connection: the egress
/// chain, then the ingress chain, each first match wins, no match accepts.
pub fn interpret(list: &LinearList, p: &Packet) -> bool {
    let hit = |rules: &[LinearRule]| {
        rules
            .iter()
            .find(|r| matches(r, p))
            .is_none_or(|r| r.accept)
    };
    hit(&list.egress) && hit(&list.ingress)
}

fn matches(r: &LinearRule, p: &Packet) -> bool {
    let within = |range: Option<(IpAddr, IpAddr)>, a: IpAddr| {
        range.is_none_or(|(lo, hi)| lo.is_ipv4() == a.is_ipv4() && lo <= a && a <= hi)
    };
    let port = r
        .ports
        .is_none_or(|(proto, lo, hi)| proto == p.protocol && lo <= p.port && p.port <= hi);
    within(r.src, p.src) && within(r.dst, p.dst) && port
}

#[cfg(test)]
mod tests;
