//! The result of an evaluation, with its provenance.

use palisade_model::{Direction, PolicyRef, Protocol};
use serde::Serialize;

/// Which rule, peer and port entry admitted a connection. `peer` is `None`
/// when the rule has no `from`/`to` (every peer); `port` is `None` when it
/// has no `ports` (every port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    pub policy: PolicyRef,
    pub direction: Direction,
    pub rule: usize,
    pub peer: Option<usize>,
    pub port: Option<usize>,
    /// The peer as written, e.g. `pods matching app=busybox in the policy's namespace`.
    pub peer_text: String,
    /// The port entry as written, e.g. `80/TCP`.
    pub port_text: String,
}

/// Why one rule of an isolating policy did not admit the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miss {
    pub policy: PolicyRef,
    /// `None` when the policy has no rules at all for the direction.
    pub rule: Option<usize>,
    pub reason: String,
}

/// Why a side denied: who isolates the pod and why no rule matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    pub isolated_by: Vec<PolicyRef>,
    pub misses: Vec<Miss>,
}

/// The verdict of one side of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SideVerdict {
    /// No policy can apply to this end (an external address, a host-network pod).
    NotApplicable { reason: String },
    /// No policy selects the pod for this direction: everything is allowed.
    NotIsolated,
    /// Isolated, and at least one rule admits the connection.
    Allowed {
        isolated_by: Vec<PolicyRef>,
        matches: Vec<RuleMatch>,
    },
    /// Isolated, and no rule admits the connection.
    Denied(Denial),
    /// Isolated only by policies in audit mode (`palisade.dev/mode: audit`)
    /// and no rule admits the connection: it would be denied, but it is
    /// accepted and logged as an audit record.
    Audited(Denial),
}

impl SideVerdict {
    pub fn allows(&self) -> bool {
        !matches!(self, SideVerdict::Denied(_))
    }

    /// The would-be denial of an audit-only side.
    pub fn audited(&self) -> Option<&Denial> {
        match self {
            SideVerdict::Audited(d) => Some(d),
            _ => None,
        }
    }
}

/// One side of a connection: the source's egress or the destination's ingress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub direction: Direction,
    /// The endpoint whose policies apply (`ns/pod` or an address).
    pub subject: String,
    /// The other end as policies see it: `source ns-1/busybox (labels run=busybox)`.
    pub peer: String,
    pub verdict: SideVerdict,
}

/// The full answer for one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub from: String,
    pub to: String,
    pub protocol: Protocol,
    pub port: u16,
    pub allowed: bool,
    /// A pod reaching itself: always allowed, whatever the policies say.
    pub same_pod: bool,
    pub egress: Side,
    pub ingress: Side,
}

impl Verdict {
    /// Whether the connection is allowed only because audit mode turned a
    /// denial into a logged accept (it would be denied if enforced).
    pub fn audited(&self) -> bool {
        self.allowed
            && !self.same_pod
            && (self.egress.verdict.audited().is_some() || self.ingress.verdict.audited().is_some())
    }
}
