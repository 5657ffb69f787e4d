//! Namespaces and their labels.

use crate::policy::Source;
use crate::{Labels, PolicyMode};

/// The label every namespace carries with its own name.
pub const METADATA_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A namespace. Its labels always include `kubernetes.io/metadata.name`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Namespace {
    pub name: String,
    labels: Labels,
    /// False for a namespace only implied by the objects in it.
    pub declared: bool,
    pub source: Option<Source>,
    /// `palisade.dev/mode` of the namespace: the default mode of its policies.
    #[serde(default)]
    pub mode: Option<PolicyMode>,
}

impl Namespace {
    /// Sets `kubernetes.io/metadata.name` to `name`, as the API server does.
    pub fn new(name: &str, mut labels: Labels) -> Self {
        labels
            .insert(METADATA_NAME_LABEL, name)
            .expect("a validated namespace name is a valid label value");
        Self {
            name: name.into(),
            labels,
            declared: true,
            source: None,
            mode: None,
        }
    }

    /// A namespace that exists only because objects live in it.
    pub fn implicit(name: &str) -> Self {
        Self {
            declared: false,
            ..Self::new(name, Labels::new())
        }
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Replaces the labels, keeping `kubernetes.io/metadata.name`.
    pub fn set_labels(&mut self, labels: Labels) {
        *self = Self {
            declared: self.declared,
            source: self.source.clone(),
            mode: self.mode,
            ..Self::new(&self.name, labels)
        };
    }
}
