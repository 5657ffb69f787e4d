//! A set of Kubernetes labels.

use std::collections::BTreeMap;
use std::fmt;

use crate::names;

/// Why a label was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("invalid label key {key:?}: {reason}")]
    Key { key: String, reason: String },
    #[error("invalid label value {value:?} for key {key:?}: {reason}")]
    Value {
        key: String,
        value: String,
        reason: String,
    },
}

/// Labels of a pod or namespace. Ordered, so output is deterministic.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks one key/value pair with the API server's rules.
    pub fn validate(key: &str, value: &str) -> Result<(), LabelError> {
        names::qualified_name(key).map_err(|reason| LabelError::Key {
            key: key.into(),
            reason,
        })?;
        names::label_value(value).map_err(|reason| LabelError::Value {
            key: key.into(),
            value: value.into(),
            reason,
        })
    }

    /// Inserts a validated pair, replacing any previous value of `key`.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), LabelError> {
        Self::validate(key, value)?;
        self.0.insert(key.into(), value.into());
        Ok(())
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, String)> for Labels {
    /// Builds labels without validation; for tests and trusted input.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Labels(iter.into_iter().collect())
    }
}

impl<const N: usize> From<[(&str, &str); N]> for Labels {
    fn from(pairs: [(&str, &str); N]) -> Self {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// `k1=v1,k2=v2`, or `<none>` when empty (as kubectl prints them).
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<none>");
        }
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}
