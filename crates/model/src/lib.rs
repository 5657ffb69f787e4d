//! The pure core of palisade: validated Kubernetes objects.
//!
//! Everything here is free of I/O, async and Kubernetes client code. Raw
//! manifests are converted once, at the edge (see `palisade-manifest`), into
//! these types; after that nothing downstream sees raw YAML: named ports,
//! `endPort`, `except`, empty selectors and `policyTypes` defaulting are all
//! normalised here.
//!
//! Start with [`Cluster`], which holds [`Namespace`]s, [`Pod`]s and
//! [`NetworkPolicy`]s, and with the matching primitives
//! [`LabelSelector::matches`], [`IpBlock::contains`] and [`PolicyPort`].

mod cluster;
mod ipblock;
mod labels;
mod mode;
pub mod names;
mod namespace;
mod pod;
mod policy;
mod port;
mod selector;

pub use cluster::{Cluster, PodId};
pub use ipblock::{
    has_host_bits, is_standard_cidr, parse_cidr, parse_ip_sloppy, IpBlock, IpBlockError,
};
pub use labels::{LabelError, Labels};
pub use mode::{PolicyMode, MODE_ANNOTATION};
pub use namespace::{Namespace, METADATA_NAME_LABEL};
pub use pod::{ContainerPort, Pod};
pub use policy::{
    Direction, NetworkPolicy, ObjectRef, Peer, PolicyRef, PolicyTypes, Rule, Source, Unenforceable,
};
pub use port::{port_number, PolicyPort, PortError, PortSpec, PortValue, Protocol};
pub use selector::{LabelSelector, Operator, Requirement, SelectorError};
