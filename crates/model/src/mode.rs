//! Audit mode: `palisade.dev/mode: audit` on a NetworkPolicy or a Namespace.
//!
//! Semantics (docs/flows.md): a side (egress of the source, ingress of the
//! destination) is decided exactly as if every policy were enforced. When
//! that decision is a denial and EVERY policy isolating the pod for that
//! direction is in audit mode, the packet is accepted and the would-be
//! denial is logged with mode "audit". If any enforcing policy isolates the
//! pod, the denial is enforced. Audit therefore never denies more than
//! enforce, and an audit policy's allow rules count like any other.

use std::fmt;
use std::str::FromStr;

/// The annotation key, on a NetworkPolicy or on a Namespace.
pub const MODE_ANNOTATION: &str = "palisade.dev/mode";

/// How a policy's denials are handled.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PolicyMode {
    /// Denials are dropped (the default).
    #[default]
    Enforce,
    /// Denials are logged as "audit" and accepted.
    Audit,
}

impl PolicyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Audit => "audit",
        }
    }
}

impl fmt::Display for PolicyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "enforce" => Ok(Self::Enforce),
            "audit" => Ok(Self::Audit),
            _ => Err(format!(
                "invalid {MODE_ANNOTATION} {s:?}: expected \"audit\" or \"enforce\""
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_two_values_only() {
        assert_eq!("audit".parse(), Ok(PolicyMode::Audit));
        assert_eq!("enforce".parse(), Ok(PolicyMode::Enforce));
        assert!("Audit".parse::<PolicyMode>().is_err());
        assert!("".parse::<PolicyMode>().is_err());
    }
}
