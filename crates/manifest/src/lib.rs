//! Reads Kubernetes manifests into validated `palisade-model` types.
//!
//! Start with [`load_paths`] (files, directories, stdin) or [`parse_str`]
//! (one text); both return a [`Loaded`]: the valid objects plus every
//! [`Diagnostic`] found, each located by file, line, column and field path.
//! An object with an error is left out; one bad object never hides the others.
//!
//! Decoded kinds: Namespace, Pod, NetworkPolicy, and the workload kinds
//! (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
//! Job, CronJob), each read as one [`Object::Pod`] endpoint standing for its
//! pods. Other kinds are skipped with a notice.
//!
//! What the reader accepts is bounded by [`Limits`] (input size, nesting
//! depth, nodes copied by aliases, keys per mapping): see [`set_limits`].
//!
//! Underneath: [`yaml::parse`] (a position-keeping YAML/JSON reader) and
//! [`decode_document`], which turns one parsed document into model objects.

mod decode;
pub mod diag;
mod load;
mod loaded;
mod object;
mod parallel;
pub mod yaml;

pub use decode::decode_document;
pub use diag::{Diagnostic, Severity};
pub use load::{load_paths, load_paths_with, parse_str, parse_str_with};
pub use loaded::Loaded;
pub use object::Object;
pub use yaml::{limits, set_limits, Limits};
