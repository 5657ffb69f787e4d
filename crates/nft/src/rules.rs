//! Subject-chain rules: one nft line per IR rule, then the counted drop.
//!
//! `ip saddr @s` / `ip daddr @s` for address sets (`ip6` for IPv6 sets),
//! `meta l4proto . th dport @p` for port sets, `ip daddr . meta l4proto .
//! th dport @n` for named ports; then `counter name "C" accept` with the
//! rule's provenance in the comment.

use std::collections::BTreeSet;

use palisade_compile::{Chain, Family, Match, Rule, Ruleset};

use crate::desired::RenderError;
use crate::fingerprint::RenderedRule;

/// The rules of subject chain `name`, and the sets they reference.
pub fn subject_chain(
    name: &str,
    chain: &Chain,
    rs: &Ruleset,
) -> Result<(Vec<RenderedRule>, BTreeSet<String>), RenderError> {
    let mut refs = BTreeSet::new();
    let mut rules = Vec::with_capacity(chain.rules.len() + 1);
    for rule in &chain.rules {
        rules.push(accept(name, rule, rs, &mut refs)?);
    }
    rules.extend(crate::flowlog::log_rules(name, chain));
    refs.extend([Family::V4, Family::V6].map(|f| crate::flowlog::rate_set(f).to_string()));
    rules.push(deny(name, chain, rs)?);
    Ok((rules, refs))
}

fn accept(
    chain: &str,
    rule: &Rule,
    rs: &Ruleset,
    refs: &mut BTreeSet<String>,
) -> Result<RenderedRule, RenderError> {
    let mut families: BTreeSet<Family> = rule.family.into_iter().collect();
    let mut parts = Vec::with_capacity(rule.matches.len() + 1);
    for m in &rule.matches {
        let (text, family) = condition(chain, m, rs)?;
        families.extend(family);
        parts.push(text);
        refs.insert(set_name(m).to_string());
    }
    let has_family_condition = rule.matches.iter().any(|m| !matches!(m, Match::Ports(_)));
    match families.len() {
        0 | 1 => {}
        _ => {
            return Err(RenderError::MixedFamilies {
                chain: chain.into(),
                rule: rule.provenance.to_string(),
            })
        }
    }
    if let (Some(family), false) = (families.first(), has_family_condition) {
        parts.insert(0, format!("meta nfproto {}", nfproto(*family)));
    }
    let counter = counter_ref(chain, &rule.counter, rs)?;
    parts.push(format!("{counter} accept"));
    Ok(RenderedRule::new(
        parts.join(" "),
        &rule.provenance.to_string(),
    ))
}

fn deny(name: &str, chain: &Chain, rs: &Ruleset) -> Result<RenderedRule, RenderError> {
    let counter = counter_ref(name, &chain.deny_counter, rs)?;
    let by: Vec<String> = chain.isolated_by.iter().map(ToString::to_string).collect();
    let (verdict, why) = match chain.audit {
        true => (
            "accept",
            "audit (would deny): isolated only by audit policies",
        ),
        false => ("drop", "default deny: isolated by"),
    };
    let why = format!("{why} {}", by.join(", "));
    Ok(RenderedRule::new(format!("{counter} {verdict}"), &why))
}

/// The nft text of one condition, and its address family if it has one.
fn condition(
    chain: &str,
    m: &Match,
    rs: &Ruleset,
) -> Result<(String, Option<Family>), RenderError> {
    let dangling = |kind: &'static str, name: &str| RenderError::Dangling {
        from: format!("chain {chain}"),
        kind,
        name: name.into(),
    };
    Ok(match m {
        Match::SrcAddr(s) | Match::DstAddr(s) => {
            let family = rs
                .addr_sets
                .get(s)
                .ok_or_else(|| dangling("address set", s))?
                .family;
            let field = if matches!(m, Match::SrcAddr(_)) {
                "saddr"
            } else {
                "daddr"
            };
            (format!("{} {field} @{s}", ip(family)), Some(family))
        }
        Match::Ports(p) => {
            rs.port_sets.get(p).ok_or_else(|| dangling("port set", p))?;
            (format!("meta l4proto . th dport @{p}"), None)
        }
        Match::NamedPort(n) => {
            let family = rs
                .named_port_sets
                .get(n)
                .ok_or_else(|| dangling("named-port set", n))?
                .family;
            (
                format!("{} daddr . meta l4proto . th dport @{n}", ip(family)),
                Some(family),
            )
        }
    })
}

fn counter_ref(chain: &str, counter: &str, rs: &Ruleset) -> Result<String, RenderError> {
    match rs.counters.contains_key(counter) {
        true => Ok(format!("counter name \"{counter}\"")),
        false => Err(RenderError::Dangling {
            from: format!("chain {chain}"),
            kind: "counter",
            name: counter.into(),
        }),
    }
}

fn set_name(m: &Match) -> &str {
    match m {
        Match::SrcAddr(s) | Match::DstAddr(s) | Match::Ports(s) | Match::NamedPort(s) => s,
    }
}

fn ip(family: Family) -> &'static str {
    match family {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    }
}

fn nfproto(family: Family) -> &'static str {
    match family {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}
