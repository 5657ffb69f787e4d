//! A small hand-built [`Ruleset`], for documentation and tests: it uses every
//! kind of set and both directions, without depending on the compiler.
//!
//! - `ns-a/db`: pods of ns-a labelled `app=db` (10.0.2.1, fd00::2:1) accept
//!   TCP 5432 and 6000-6010 from `app=web` pods (10.0.1.1, 10.0.1.2,
//!   fd00::1:1);
//! - `ns-a/web`: web pods may reach `10.10.0.0/16 except 10.10.1.0/24`, and
//!   the named port `http/TCP` of the db pods (10.0.2.1:8080).
//!
//! [`changes`] lists typical updates to it (a pod added, a label change, a
//! policy change, a policy removed), for delta tests against golden scripts
//! and against the kernel.

use std::net::IpAddr;
use std::sync::Arc;

use palisade_compile::{
    AddrSet, Chain, CounterKind, Family, Match, NamedPortSet, PortSet, Provenance, Rule, Ruleset,
};
use palisade_model::{Direction, PolicyRef, Protocol};

/// Parses an address literal of the examples.
pub fn ip(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|e| panic!("bad example address {text:?}: {e}"))
}

/// An address set of single pod addresses.
pub fn pods(family: Family, addrs: &[&str], origin: &str) -> AddrSet {
    let ranges = addrs.iter().map(|a| (ip(a), ip(a))).collect();
    AddrSet {
        family,
        interval: false,
        ranges,
        origin: origin.into(),
    }
}

/// The example ruleset (see the module documentation).
pub fn ruleset() -> Ruleset {
    let mut rs = Ruleset::default();
    add_sets(&mut rs);
    add_db_ingress(&mut rs);
    add_web_egress(&mut rs);
    rs
}

fn add_sets(rs: &mut Ruleset) {
    let web = pods(
        Family::V4,
        &["10.0.1.1", "10.0.1.2"],
        "pods matching app=web in ns-a",
    );
    let web6 = pods(Family::V6, &["fd00::1:1"], "pods matching app=web in ns-a");
    let block = AddrSet {
        family: Family::V4,
        interval: true,
        ranges: vec![
            (ip("10.10.0.0"), ip("10.10.0.255")),
            (ip("10.10.2.0"), ip("10.10.255.255")),
        ],
        origin: "ipBlock 10.10.0.0/16 except 10.10.1.0/24".into(),
    };
    rs.addr_sets.insert("s_web4".into(), web.into());
    rs.addr_sets.insert("s_web6".into(), web6.into());
    rs.addr_sets.insert("s_block".into(), block.into());
    let ports = vec![(Protocol::Tcp, 5432, 5432), (Protocol::Tcp, 6000, 6010)];
    rs.port_sets.insert(
        "p_db".into(),
        PortSet {
            ranges: ports,
            origin: "TCP 5432, TCP 6000-6010".into(),
        },
    );
    let http = NamedPortSet {
        family: Family::V4,
        elements: vec![(ip("10.0.2.1"), Protocol::Tcp, 8080)],
        origin: "named port http/TCP".into(),
    };
    rs.named_port_sets.insert("n_http4".into(), http.into());
}

fn provenance(
    policy: &PolicyRef,
    direction: Direction,
    rule: usize,
    peer: Option<usize>,
) -> Provenance {
    Provenance {
        policy: policy.clone(),
        direction,
        rule,
        peer,
    }
}

fn add_db_ingress(rs: &mut Ruleset) {
    let policy = PolicyRef::new("ns-a", "db");
    let dir = Direction::Ingress;
    let rule = |family, set: &str| Rule {
        family: Some(family),
        matches: vec![Match::SrcAddr(set.into()), Match::Ports("p_db".into())],
        counter: "k_db_i0".into(),
        provenance: provenance(&policy, dir, 0, Some(0)),
    };
    let rules = vec![rule(Family::V4, "s_web4"), rule(Family::V6, "s_web6")];
    let chain = Chain {
        direction: dir,
        isolated_by: vec![policy.clone()],
        rules,
        deny_counter: "k_deny_i_db".into(),
        audit: false,
    };
    rs.chains.insert("c_i_db".into(), chain.into());
    rs.counters.insert(
        "k_db_i0".into(),
        CounterKind::Rule {
            policy: policy.clone(),
            direction: dir,
            rule: 0,
        },
    );
    let deny = CounterKind::DefaultDeny {
        direction: dir,
        isolated_by: vec![policy],
        audit: false,
    };
    rs.counters.insert("k_deny_i_db".into(), deny);
    let dispatch = rs.dispatch.entry(dir).or_default();
    for addr in ["10.0.2.1", "fd00::2:1"] {
        dispatch.insert(ip(addr), "c_i_db".into());
    }
}

fn add_web_egress(rs: &mut Ruleset) {
    let policy = PolicyRef::new("ns-a", "web");
    let dir = Direction::Egress;
    let block = Rule {
        family: Some(Family::V4),
        matches: vec![Match::DstAddr("s_block".into())],
        counter: "k_web_e0".into(),
        provenance: provenance(&policy, dir, 0, Some(0)),
    };
    let http = Rule {
        family: Some(Family::V4),
        matches: vec![Match::NamedPort("n_http4".into())],
        counter: "k_web_e1".into(),
        provenance: provenance(&policy, dir, 1, None),
    };
    let chain = Chain {
        direction: dir,
        isolated_by: vec![policy.clone()],
        rules: vec![block, http],
        deny_counter: "k_deny_e_web".into(),
        audit: false,
    };
    rs.chains.insert("c_e_web".into(), chain.into());
    for (name, rule) in [("k_web_e0", 0), ("k_web_e1", 1)] {
        rs.counters.insert(
            name.into(),
            CounterKind::Rule {
                policy: policy.clone(),
                direction: dir,
                rule,
            },
        );
    }
    let deny = CounterKind::DefaultDeny {
        direction: dir,
        isolated_by: vec![policy],
        audit: false,
    };
    rs.counters.insert("k_deny_e_web".into(), deny);
    let dispatch = rs.dispatch.entry(dir).or_default();
    for addr in ["10.0.1.1", "10.0.1.2"] {
        dispatch.insert(ip(addr), "c_e_web".into());
    }
}

/// One change to the example, as a controller would see it.
pub type Change = fn(&mut Ruleset);

/// Changes to apply in sequence to [`ruleset`], each a typical update:
/// (name, change).
pub fn changes() -> Vec<(&'static str, Change)> {
    vec![
        ("a pod added", add_web_pod),
        ("a label change moves a pod to another chain", move_web_pod),
        ("a policy change rewrites its chain", change_db_ports),
        ("an ipBlock shrinks", shrink_block),
        ("a policy removed", remove_web_policy),
    ]
}

/// Interval sets at the edges of their fields: IPv4 and IPv6 ranges from
/// the bottom and to the top of the address space (`0.0.0.0/0 except ...`),
/// and a port set holding every port of a protocol.
pub fn interval_edges() -> Ruleset {
    let mut rs = Ruleset::default();
    let set = |family, ranges: &[(&str, &str)], origin: &str| AddrSet {
        family,
        interval: true,
        ranges: ranges.iter().map(|(a, b)| (ip(a), ip(b))).collect(),
        origin: origin.into(),
    };
    let v4 = set(
        Family::V4,
        &[
            ("0.0.0.0", "10.0.0.255"),
            ("192.168.0.0", "255.255.255.255"),
        ],
        "ipBlock 0.0.0.0/0 except 10.0.1.0-192.167.255.255",
    );
    let v6 = set(
        Family::V6,
        &[
            ("::", "fd00::ffff"),
            ("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ],
        "ipBlock ::/0 except ...",
    );
    rs.addr_sets.insert("s_all4".into(), v4.into());
    rs.addr_sets.insert("s_all6".into(), v6.into());
    let ports = vec![(Protocol::Tcp, 0, 65535), (Protocol::Udp, 53, 53)];
    rs.port_sets.insert(
        "p_all".into(),
        PortSet {
            ranges: ports,
            origin: "every TCP port, UDP 53".into(),
        },
    );
    rs
}

/// The example with every rule form the renderer writes in chain
/// `c_i_db`: ports only (with and without a family), no condition (with
/// and without a family), an interval address set with ports.
pub fn every_rule_form() -> Ruleset {
    let mut rs = ruleset();
    let chain = std::sync::Arc::make_mut(rs.chains.get_mut("c_i_db").expect("c_i_db"));
    let base = chain.rules[0].clone();
    let ports = || vec![Match::Ports("p_db".into())];
    let forms = [
        (Some(Family::V6), ports()),
        (None, ports()),
        (Some(Family::V4), vec![]),
        (None, vec![]),
        (
            Some(Family::V4),
            vec![
                Match::SrcAddr("s_block".into()),
                Match::Ports("p_db".into()),
            ],
        ),
    ];
    for (family, matches) in forms {
        chain.rules.push(Rule {
            family,
            matches,
            ..base.clone()
        });
    }
    rs
}

/// Every change of [`changes`] at once: counters and a chain added, a
/// chain rewritten, an interval set flushed and refilled, map elements
/// moved, a policy's chain, counters and sets deleted. Returns (before,
/// after).
pub fn everything_changed() -> (Ruleset, Ruleset) {
    let before = ruleset();
    let mut after = before.clone();
    for (_, change) in changes() {
        change(&mut after);
    }
    (before, after)
}

/// A new web pod, 10.0.1.3: one set element and one map element.
pub fn add_web_pod(rs: &mut Ruleset) {
    let pod = ip("10.0.1.3");
    if let Some(set) = rs.addr_sets.get_mut("s_web4") {
        Arc::make_mut(set).ranges.push((pod, pod));
    }
    rs.dispatch
        .entry(Direction::Egress)
        .or_default()
        .insert(pod, "c_e_web".into());
}

/// 10.0.1.2 loses `app=web` and is now isolated by `ns-a/other`, which
/// allows nothing: a new chain and counter, a moved map element.
pub fn move_web_pod(rs: &mut Ruleset) {
    let pod = ip("10.0.1.2");
    if let Some(set) = rs.addr_sets.get_mut("s_web4") {
        Arc::make_mut(set).ranges.retain(|r| r.0 != pod);
    }
    let other = PolicyRef::new("ns-a", "other");
    let deny = CounterKind::DefaultDeny {
        direction: Direction::Egress,
        isolated_by: vec![other.clone()],
        audit: false,
    };
    rs.counters.insert("k_deny_e_other".into(), deny);
    let chain = Chain {
        direction: Direction::Egress,
        isolated_by: vec![other],
        rules: vec![],
        deny_counter: "k_deny_e_other".into(),
        audit: false,
    };
    rs.chains.insert("c_e_other".into(), chain.into());
    rs.dispatch
        .entry(Direction::Egress)
        .or_default()
        .insert(pod, "c_e_other".into());
}

/// `ns-a/db` now allows TCP 5433 instead: a new port set replaces `p_db`.
pub fn change_db_ports(rs: &mut Ruleset) {
    let ports = PortSet {
        ranges: vec![(Protocol::Tcp, 5433, 5433)],
        origin: "TCP 5433".into(),
    };
    rs.port_sets.insert("p_db2".into(), ports);
    rs.port_sets.remove("p_db");
    for rule in rs
        .chains
        .get_mut("c_i_db")
        .map(|c| Arc::make_mut(c).rules.iter_mut())
        .into_iter()
        .flatten()
    {
        for m in &mut rule.matches {
            if *m == Match::Ports("p_db".into()) {
                *m = Match::Ports("p_db2".into());
            }
        }
    }
}

/// The ipBlock loses its upper range: the interval set is refilled.
pub fn shrink_block(rs: &mut Ruleset) {
    if let Some(set) = rs.addr_sets.get_mut("s_block") {
        Arc::make_mut(set).ranges.truncate(1);
    }
}

/// `ns-a/web` is deleted: its chain, sets, counters and map elements go.
pub fn remove_web_policy(rs: &mut Ruleset) {
    rs.chains.remove("c_e_web");
    if let Some(egress) = rs.dispatch.get_mut(&Direction::Egress) {
        egress.retain(|_, chain| chain != "c_e_web");
    }
    rs.addr_sets.remove("s_block");
    rs.named_port_sets.remove("n_http4");
    for counter in ["k_web_e0", "k_web_e1", "k_deny_e_web"] {
        rs.counters.remove(counter);
    }
}
