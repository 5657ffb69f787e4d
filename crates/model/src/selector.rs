//! Label selectors (`matchLabels` and `matchExpressions`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::labels::{LabelError, Labels};

/// A `matchExpressions` operator.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        match s {
            "In" => Ok(Self::In),
            "NotIn" => Ok(Self::NotIn),
            "Exists" => Ok(Self::Exists),
            "DoesNotExist" => Ok(Self::DoesNotExist),
            other => Err(SelectorError::UnknownOperator(other.into())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "In",
            Self::NotIn => "NotIn",
            Self::Exists => "Exists",
            Self::DoesNotExist => "DoesNotExist",
        }
    }
}

/// Why a selector was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("unknown operator {0:?} (expected In, NotIn, Exists or DoesNotExist)")]
    UnknownOperator(String),
    #[error("operator {0} requires a non-empty values list")]
    MissingValues(&'static str),
    #[error("operator {0} must not have values")]
    UnexpectedValues(&'static str),
    #[error(transparent)]
    Label(#[from] LabelError),
}

/// One `matchExpressions` entry, validated.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: BTreeSet<String>,
}

impl Requirement {
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Self, SelectorError> {
        Labels::validate(key, "")?;
        let needs_values = matches!(operator, Operator::In | Operator::NotIn);
        if needs_values && values.is_empty() {
            return Err(SelectorError::MissingValues(operator.as_str()));
        }
        if !needs_values && !values.is_empty() {
            return Err(SelectorError::UnexpectedValues(operator.as_str()));
        }
        for v in &values {
            Labels::validate(key, v)?;
        }
        let values = values.into_iter().collect();
        Ok(Self {
            key: key.into(),
            operator,
            values,
        })
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            // NotIn matches objects that lack the key, as in Kubernetes.
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = || self.values.iter().cloned().collect::<Vec<_>>().join(",");
        match self.operator {
            Operator::In => write!(f, "{} in ({})", self.key, values()),
            Operator::NotIn => write!(f, "{} notin ({})", self.key, values()),
            Operator::Exists => write!(f, "{}", self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
        }
    }
}

/// A validated label selector. The empty selector matches everything.
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
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    /// The selector `{}`, which matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    pub fn new(
        match_labels: BTreeMap<String, String>,
        match_expressions: Vec<Requirement>,
    ) -> Result<Self, SelectorError> {
        for (k, v) in &match_labels {
            Labels::validate(k, v)?;
        }
        Ok(Self {
            match_labels,
            match_expressions,
        })
    }

    /// Builds `matchLabels` only, from literal pairs (tests, generators).
    pub fn from_labels<const N: usize>(pairs: [(&str, &str); N]) -> Self {
        let match_labels = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self {
            match_labels,
            match_expressions: Vec::new(),
        }
    }

    pub fn is_everything(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v.as_str()))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

/// Kubernetes' selector string syntax: `app=web,tier in (a,b)`; `{}` for everything.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_everything() {
            return f.write_str("{} (everything)");
        }
        let labels = self.match_labels.iter().map(|(k, v)| format!("{k}={v}"));
        let exprs = self.match_expressions.iter().map(ToString::to_string);
        let parts: Vec<String> = labels.chain(exprs).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests;
