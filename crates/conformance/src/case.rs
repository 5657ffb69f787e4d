//! A conformance case, as read from its file: a starting state, the
//! reachability it must produce, and steps that change the state.

use std::collections::BTreeMap;
use std::fmt;

use palisade_eval::{Endpoint, PortRef};
use palisade_manifest::{Diagnostic, Object};
use palisade_model::{NetworkPolicy, PodId, Protocol};

/// One case file, parsed and validated.
#[derive(Debug, Clone)]
pub struct Case {
    /// The `name` slug.
    pub name: String,
    /// What the case pins down, and its upstream source.
    pub description: String,
    /// The file the case was read from, as given.
    pub file: String,
    /// `world: standard`: start from the standard world (see [`crate::world`]).
    pub world_standard: bool,
    /// Extra namespaces and pods, created in order after the world.
    pub objects: Vec<Object>,
    /// Policies created after the objects.
    pub policies: Vec<NetworkPolicy>,
    /// Reachability before any step.
    pub expect: Vec<Expectation>,
    pub steps: Vec<Step>,
    /// Findings that did not reject the case (e.g. manifest warnings).
    pub warnings: Vec<Diagnostic>,
}

/// One mutation and the reachability that must follow it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The line of the step in the case file.
    pub line: usize,
    /// The change made to the state.
    pub mutation: Mutation,
    /// Reachability after the change.
    pub expect: Vec<Expectation>,
}

/// A pod or a namespace whose labels a step changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `pod: ns/name`
    Pod(PodId),
    /// `namespace: name`
    Namespace(String),
}

/// `pod x/b` or `namespace y`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Pod(id) => write!(f, "pod {id}"),
            Target::Namespace(name) => write!(f, "namespace {name}"),
        }
    }
}

/// The one change a step makes.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Merge labels into the target's labels.
    Label {
        target: Target,
        set: BTreeMap<String, String>,
    },
    /// Remove label keys from the target (absent keys are ignored).
    Unlabel { target: Target, keys: Vec<String> },
    /// Create an object that does not exist yet.
    Add(Object),
    /// Delete an existing object (a namespace takes its pods and policies along).
    Delete {
        kind: Kind,
        namespace: Option<String>,
        name: String,
    },
}

/// The kinds a case can create or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Pod,
    NetworkPolicy,
}

impl Kind {
    /// Parses the `kind` of a `delete`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Namespace" => Some(Self::Namespace),
            "Pod" => Some(Self::Pod),
            "NetworkPolicy" => Some(Self::NetworkPolicy),
            _ => None,
        }
    }

    /// The Kubernetes kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Namespace => "Namespace",
            Self::Pod => "Pod",
            Self::NetworkPolicy => "NetworkPolicy",
        }
    }
}

/// A one-line summary for failure messages: `add NetworkPolicy x/foo`,
/// `label pod x/b app=busybox`, `delete Namespace y2`.
impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Label { target, set } => {
                let pairs: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "label {target} {}", pairs.join(","))
            }
            Mutation::Unlabel { target, keys } => write!(f, "unlabel {target} {}", keys.join(",")),
            Mutation::Add(object) => write!(f, "add {}", object.key()),
            Mutation::Delete {
                kind,
                namespace: Some(ns),
                name,
            } => {
                write!(f, "delete {} {ns}/{name}", kind.as_str())
            }
            Mutation::Delete {
                kind,
                namespace: None,
                name,
            } => write!(f, "delete {} {name}", kind.as_str()),
        }
    }
}

/// One entry of an `expect` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// A reachability table: every pod to every pod on one port.
    Table(Table),
    /// Probes between pods and non-pod addresses.
    External(Vec<ExternalProbe>),
}

/// A reachability table: `cells[r][c]` is whether `rows[r]` may reach `cols[c]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The line of the entry in the case file.
    pub line: usize,
    /// A number, or a container port name resolved on each destination pod.
    pub port: PortRef,
    pub protocol: Protocol,
    /// Source pods, top to bottom.
    pub rows: Vec<PodId>,
    /// Destination pods, left to right.
    pub cols: Vec<PodId>,
    /// `true` for `.` (allowed), `false` for `X` (denied).
    pub cells: Vec<Vec<bool>>,
}

/// One `external` probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalProbe {
    /// The line of the probe in the case file.
    pub line: usize,
    /// A pod (`ns/name`) or an address.
    pub from: Endpoint,
    /// A pod (`ns/name`) or an address.
    pub to: Endpoint,
    pub port: u16,
    pub protocol: Protocol,
    /// The expected verdict.
    pub allowed: bool,
}

/// The table notation of a verdict: `.` allowed, `X` denied.
pub fn cell_char(allowed: bool) -> char {
    if allowed {
        '.'
    } else {
        'X'
    }
}
