//! Deciding one side (egress of the source, ingress of the destination).

use palisade_model::{Cluster, Direction, NetworkPolicy, Peer, PolicyRef, Rule};

use crate::endpoint::{End, Resolved};
use crate::verdict::{Denial, Miss, RuleMatch, Side, SideVerdict, Verdict};

pub(crate) fn decide(cluster: &Cluster, c: &Resolved<'_>) -> Verdict {
    let egress = side(cluster, c, Direction::Egress);
    let ingress = side(cluster, c, Direction::Ingress);
    let allowed = c.same_pod || (egress.verdict.allows() && ingress.verdict.allows());
    Verdict {
        from: c.src.label.clone(),
        to: c.dst.label.clone(),
        protocol: c.protocol,
        port: c.port,
        allowed,
        same_pod: c.same_pod,
        egress,
        ingress,
    }
}

/// The subject is the end whose policies apply; the peer is the other end.
fn ends<'r, 'a>(c: &'r Resolved<'a>, d: Direction) -> (&'r End<'a>, &'r End<'a>) {
    match d {
        Direction::Egress => (&c.src, &c.dst),
        Direction::Ingress => (&c.dst, &c.src),
    }
}

fn side(cluster: &Cluster, c: &Resolved<'_>, d: Direction) -> Side {
    let (subject, peer) = ends(c, d);
    let role = match d {
        Direction::Egress => "destination",
        Direction::Ingress => "source",
    };
    Side {
        direction: d,
        subject: subject.label.clone(),
        peer: format!("{role} {}", peer.describe()),
        verdict: side_verdict(cluster, c, d),
    }
}

fn side_verdict(cluster: &Cluster, c: &Resolved<'_>, d: Direction) -> SideVerdict {
    let (subject, peer) = ends(c, d);
    let Some(pod) = subject.pod else {
        let reason = subject
            .unselectable
            .unwrap_or("no policy applies")
            .to_string();
        return SideVerdict::NotApplicable { reason };
    };
    let isolating = isolating_policies(cluster, &pod.namespace, &pod.labels, d);
    if isolating.is_empty() {
        return SideVerdict::NotIsolated;
    }
    let isolated_by: Vec<PolicyRef> = isolating.iter().map(|p| p.reference()).collect();
    let matcher = Matcher {
        cluster,
        c,
        peer,
        d,
    };
    let matches: Vec<RuleMatch> = isolating
        .iter()
        .flat_map(|p| matcher.policy_matches(p))
        .collect();
    if !matches.is_empty() {
        return SideVerdict::Allowed {
            isolated_by,
            matches,
        };
    }
    let misses = isolating
        .iter()
        .flat_map(|p| matcher.policy_misses(p))
        .collect();
    let denial = Denial {
        isolated_by,
        misses,
    };
    match cluster.audit_only(isolating.iter().copied()) {
        true => SideVerdict::Audited(denial),
        false => SideVerdict::Denied(denial),
    }
}

/// Policies of `namespace` that select a pod with `labels` for direction `d`.
pub(crate) fn isolating_policies<'c>(
    cluster: &'c Cluster,
    namespace: &'c str,
    labels: &'c palisade_model::Labels,
    d: Direction,
) -> Vec<&'c NetworkPolicy> {
    cluster.isolating(namespace, labels, d).collect()
}

/// The fast path of [`decide`] for one side, given the policies isolating
/// the subject (from [`isolating_policies`]): same matching, no explanation.
pub(crate) fn side_allows(
    cluster: &Cluster,
    c: &Resolved<'_>,
    d: Direction,
    isolating: &[&NetworkPolicy],
) -> bool {
    let (subject, peer) = ends(c, d);
    if subject.pod.is_none() || isolating.is_empty() {
        return true;
    }
    let matcher = Matcher {
        cluster,
        c,
        peer,
        d,
    };
    isolating.iter().any(|p| matcher.admits(p)) || cluster.audit_only(isolating.iter().copied())
}

struct Matcher<'m, 'a> {
    cluster: &'m Cluster,
    c: &'m Resolved<'a>,
    peer: &'m End<'a>,
    d: Direction,
}

impl Matcher<'_, '_> {
    fn rules<'p>(&self, p: &'p NetworkPolicy) -> &'p [Rule] {
        p.rules(self.d).unwrap_or_default()
    }

    fn admits(&self, p: &NetworkPolicy) -> bool {
        self.rules(p)
            .iter()
            .any(|r| self.peer_index(p, r).is_some() && self.port_index(r).is_some())
    }

    fn policy_matches(&self, p: &NetworkPolicy) -> Vec<RuleMatch> {
        let rules = self.rules(p).iter().enumerate();
        rules
            .filter_map(|(i, r)| self.rule_match(p, i, r))
            .collect()
    }

    fn rule_match(&self, p: &NetworkPolicy, i: usize, r: &Rule) -> Option<RuleMatch> {
        let peer = self.peer_index(p, r)?;
        let port = self.port_index(r)?;
        Some(RuleMatch {
            policy: p.reference(),
            direction: self.d,
            rule: i,
            peer,
            port,
            peer_text: peer.map_or("every peer".into(), |j| r.peers[j].to_string()),
            port_text: port.map_or("every port".into(), |k| r.ports[k].to_string()),
        })
    }

    /// `Some(None)`: the rule admits every peer; `Some(Some(j))`: peer j matches.
    fn peer_index(&self, p: &NetworkPolicy, r: &Rule) -> Option<Option<usize>> {
        if r.peers.is_empty() {
            return Some(None);
        }
        r.peers
            .iter()
            .position(|peer| peer_matches(self.cluster, peer, self.peer, &p.namespace))
            .map(Some)
    }

    fn port_index(&self, r: &Rule) -> Option<Option<usize>> {
        if r.ports.is_empty() {
            return Some(None);
        }
        let dst_ports = self.c.dst.ports();
        r.ports
            .iter()
            .position(|pp| pp.matches(self.c.protocol, self.c.port, dst_ports))
            .map(Some)
    }

    fn policy_misses(&self, p: &NetworkPolicy) -> Vec<Miss> {
        let rules = self.rules(p);
        if let Some(why) = &p.unenforceable {
            let reason = format!(
                "isolated by {}, which palisade cannot enforce ({why}): nothing allowed",
                p.reference()
            );
            return vec![Miss {
                policy: p.reference(),
                rule: None,
                reason,
            }];
        }
        if rules.is_empty() {
            let reason = format!("it has no {} rules: it allows nothing", self.d);
            return vec![Miss {
                policy: p.reference(),
                rule: None,
                reason,
            }];
        }
        let misses = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (i, self.miss_reason(p, r)));
        misses
            .map(|(i, reason)| Miss {
                policy: p.reference(),
                rule: Some(i),
                reason,
            })
            .collect()
    }

    fn role(&self) -> &'static str {
        match self.d {
            Direction::Ingress => "source",
            Direction::Egress => "destination",
        }
    }

    fn miss_reason(&self, p: &NetworkPolicy, r: &Rule) -> String {
        let peer_ok = self.peer_index(p, r).is_some();
        let port_ok = self.port_index(r).is_some();
        let peers = || {
            r.peers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        let ports = || {
            r.ports
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let conn_port = format!("{}/{}", self.c.port, self.c.protocol);
        match (peer_ok, port_ok) {
            (false, true) => format!("no peer matches the {} (peers: {})", self.role(), peers()),
            (true, false) => format!("port {conn_port} is not among its ports ({})", ports()),
            _ => format!(
                "no peer matches the {} (peers: {}), and port {conn_port} is not among its ports ({})",
                self.role(),
                peers(),
                ports()
            ),
        }
    }
}

/// Does `peer` (as written in a policy of `policy_ns`) match endpoint `e`?
pub(crate) fn peer_matches(cluster: &Cluster, peer: &Peer, e: &End<'_>, policy_ns: &str) -> bool {
    match peer {
        Peer::IpBlock(b) => e.ip.is_some_and(|ip| b.contains(ip)),
        Peer::Pods { namespaces, pods } => {
            let Some(pod) = e.pod else { return false };
            let ns_ok = match namespaces {
                None => pod.namespace == policy_ns,
                Some(sel) => sel.matches(&cluster.namespace_labels(&pod.namespace)),
            };
            ns_ok && pods.matches(&pod.labels)
        }
    }
}
