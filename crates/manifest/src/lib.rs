//! Reads Kubernetes manifests into validated `palisade-model` types.
//!
//! Start with [`yaml::parse`] (a position-keeping YAML/JSON reader) and
//! [`diag::Diagnostic`] (file:line:column + field path findings).

pub mod diag;
pub mod yaml;

pub use diag::{Diagnostic, Severity};
