//! The fixed part of the table: dispatch maps and base chains.
//!
//! Packets reach palisade's chains on two hooks:
//!
//! - `forward`, for pod-to-pod and pod-to-outside traffic: egress at priority
//!   `filter`, then ingress at `filter + 10` (an accept in the egress base
//!   chain only ends that chain, so an allowed packet still meets the
//!   destination's ingress chain);
//! - `input`, egress only, for a pod reaching the node itself.
//!
//! Node-to-pod traffic (the `output` hook) is deliberately not filtered: it
//! carries kubelet probes, and the common expectation is that the node can
//! always reach its pods.
//!
//! Each base chain accepts established and related packets first (only the
//! first packet of a connection is evaluated), then dispatches on the pod
//! address through a verdict map to the pod's subject chain. Pods without a
//! map element are not isolated for that direction, and pass.

use palisade_compile::Family;
use palisade_model::Direction;

use crate::fingerprint::RenderedRule;
use crate::state::Hook;

/// The verdict map that dispatches `direction` for addresses of `family`.
pub fn map_name(direction: Direction, family: Family) -> &'static str {
    match (direction, family) {
        (Direction::Egress, Family::V4) => "egress4",
        (Direction::Egress, Family::V6) => "egress6",
        (Direction::Ingress, Family::V4) => "ingress4",
        (Direction::Ingress, Family::V6) => "ingress6",
    }
}

/// Every dispatch map, as (direction, family); see [`map_name`].
pub const MAPS: [(Direction, Family); 4] = [
    (Direction::Egress, Family::V4),
    (Direction::Egress, Family::V6),
    (Direction::Ingress, Family::V4),
    (Direction::Ingress, Family::V6),
];

/// The set of `addr . addr` pairs (each dispatched pod address with itself)
/// that lets a pod reach itself through a Service (hairpin): such a packet
/// crosses the forward hook with source == destination, and a pod reaching
/// itself is always allowed.
pub fn hairpin_set(family: Family) -> &'static str {
    match family {
        Family::V4 => "hairpin4",
        Family::V6 => "hairpin6",
    }
}

/// A base chain of the layout.
#[derive(Debug, Clone, Copy)]
pub struct BaseChain {
    pub name: &'static str,
    pub hook: &'static str,
    /// Offset from the `filter` priority.
    pub priority: i64,
    pub direction: Direction,
}

/// Chain names starting with this prefix are reserved for base chains.
pub const BASE_PREFIX: &str = "base_";

/// The base chains, in the order they are written.
pub const BASE_CHAINS: [BaseChain; 3] = [
    BaseChain {
        name: "base_fwd_egress",
        hook: "forward",
        priority: 0,
        direction: Direction::Egress,
    },
    BaseChain {
        name: "base_fwd_ingress",
        hook: "forward",
        priority: 10,
        direction: Direction::Ingress,
    },
    BaseChain {
        name: "base_in_egress",
        hook: "input",
        priority: 0,
        direction: Direction::Egress,
    },
];

impl BaseChain {
    /// The hook as read-back reports it.
    pub fn hook(&self) -> Hook {
        Hook {
            kind: "filter".into(),
            hook: self.hook.into(),
            priority: self.priority,
            policy: "accept".into(),
        }
    }

    /// What the span of this chain says, e.g. `forward hook, egress`.
    pub fn describe(&self) -> String {
        format!("{} hook, {}", self.hook, self.direction)
    }

    /// The base chain's rules: established first, then (forward hook) a
    /// pod's hairpin traffic to itself, then dispatch per family.
    pub fn rules(&self) -> Vec<RenderedRule> {
        let established = RenderedRule::new(
            "ct state established,related accept".into(),
            "palisade: replies and related packets of allowed connections",
        );
        let hairpin = self.hairpin().into_iter().flatten();
        let dispatch = [Family::V4, Family::V6].map(|family| self.dispatch(family));
        std::iter::once(established)
            .chain(hairpin)
            .chain(dispatch)
            .collect()
    }

    /// Whether this chain accepts hairpin traffic (the forward hook only).
    pub fn has_hairpin(&self) -> bool {
        self.hook == "forward"
    }

    fn hairpin(&self) -> Option<[RenderedRule; 2]> {
        self.has_hairpin().then(|| {
            [(Family::V4, "ip"), (Family::V6, "ip6")].map(|(family, proto)| {
                let set = hairpin_set(family);
                RenderedRule::new(
                    format!("{proto} saddr . {proto} daddr @{set} accept"),
                    "palisade: a pod reaching itself (hairpin through a Service)",
                )
            })
        })
    }

    fn dispatch(&self, family: Family) -> RenderedRule {
        let (proto, field) = match (family, self.direction) {
            (Family::V4, Direction::Egress) => ("ip", "saddr"),
            (Family::V4, Direction::Ingress) => ("ip", "daddr"),
            (Family::V6, Direction::Egress) => ("ip6", "saddr"),
            (Family::V6, Direction::Ingress) => ("ip6", "daddr"),
        };
        let map = map_name(self.direction, family);
        let why = format!("palisade: {} dispatch by pod address", self.direction);
        RenderedRule::new(format!("{proto} {field} vmap @{map}"), &why)
    }
}

/// The chain header of a base chain, as nft reads it.
pub fn hook_spec(hook: &Hook) -> String {
    let priority = match hook.priority {
        0 => "filter".to_string(),
        p if p > 0 => format!("filter + {p}"),
        p => format!("filter - {}", -p),
    };
    format!(
        "type {} hook {} priority {priority}; policy {};",
        hook.kind, hook.hook, hook.policy
    )
}
