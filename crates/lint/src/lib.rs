//! `palisade lint`: findings on NetworkPolicies, for platform teams
//! reviewing policies in pull requests.
//!
//! Start with [`lint`]: it takes a [`Cluster`] (policies plus, ideally, the
//! namespaces and pods or workloads they apply to) and [`Options`], and
//! returns [`Finding`]s sorted by file, line and code. Print them with
//! [`render_text`] or hand them to code scanning with [`to_sarif`].
//!
//! Lint works on the validated model: objects that failed validation (bad
//! CIDR, `except` outside `cidr`, ...) were already reported by
//! `palisade-manifest` and never reach it. Semantics are the evaluator's
//! (`palisade-eval`), re-stated where a check needs them.
//!
//! # Checks
//!
//! | Code  | Name                                 | Severity | Reports |
//! |-------|--------------------------------------|----------|---------|
//! | PL001 | `policy-selects-nothing`             | warning  | a policy whose podSelector matches no pod in its namespace |
//! | PL002 | `namespace-selector-matches-nothing` | warning  | a peer whose namespaceSelector matches no namespace |
//! | PL003 | `pod-selector-matches-nothing`       | warning  | a peer whose podSelector matches no pod in the namespaces it selects |
//! | PL004 | `named-port-undefined`               | warning  | a named port no destination pod of the rule defines (ingress: the selected pods; egress: the rule's peers), or one only ipBlock peers could match |
//! | PL005 | `named-port-wrong-protocol`          | warning  | a named port the destination pods define only for another protocol (`dns` for UDP, the entry says TCP) |
//! | PL006 | `rules-ignored-by-policy-types`      | warning  | ingress (egress) rules while policyTypes lacks Ingress (Egress): Kubernetes ignores them |
//! | PL007 | `redundant-policy`                   | info     | a policy whose removal changes no verdict: others allow all it allows and isolate the same pods |
//! | PL008 | `egress-blocks-dns`                  | warning  | pods isolated for egress whose egress rules allow port 53 over neither UDP nor TCP |
//! | PL009 | `ipblock-overlaps-pod-network`       | warning  | an ipBlock (cidr minus except) that names part of the pod network |
//! | PL010 | `namespace-without-default-deny`     | warning  | opt-in ([`Options::require_default_deny`]): a namespace with pods and no `{podSelector: {}, policyTypes: [Ingress]}` policy without ingress rules |
//! | PL011 | `allow-all-rule-shadows-rules`       | warning  | a rule with no peers and no ports beside other rules of its direction, which it makes pointless |
//! | PL012 | `policy-in-audit-mode`               | info     | a policy in audit mode (`palisade.dev/mode: audit` on it or its namespace): its would-be denials are logged and accepted |
//!
//! The same catalogue, with help texts, is [`CHECKS`]. Codes are stable.
//!
//! Choices worth knowing:
//!
//! - Only rules in force are checked by PL002-PL005, PL009 and PL011;
//!   rules of a direction missing from policyTypes get PL006 instead.
//!   PL006 is a warning, not an error: the object is valid, the API server
//!   accepts it, and parking rules that way can be deliberate. The message
//!   says what it means: the policy neither isolates nor allows that
//!   direction, so the traffic is open.
//! - An input without pods or workloads says nothing about what exists, so
//!   PL001, PL003-PL005, PL007, PL008 and PL010 stay quiet on it; PL002
//!   runs when pods or Namespace objects are given. "Matches nothing" means
//!   "in this input": the hints say the input may be partial.
//! - PL007 is exact on the current cluster, by enumeration, not by a
//!   structural proof (see the module docs of `checks::redundant`). Of
//!   several policies that subsume each other only the first in
//!   (namespace, name) order is reported, so removing every PL007 policy
//!   together changes no verdict.
//! - PL008 ignores peers (a rule allowing port 53 anywhere counts) and
//!   gives named ports that no pod in the input defines the benefit of the
//!   doubt. It is reported on each policy that isolates the pods.
//! - PL009 uses [`Options::pod_cidrs`], or [`derive_pod_cidrs`] (the /16
//!   or /64 around each pod IP). Blocks containing the whole pod network
//!   of their family (0.0.0.0/0) mean "everywhere" and are not reported,
//!   nor are blocks whose `except` carves the pod network out.
//! - Lines are the line where the object starts: the model keeps one
//!   source position per object; the field path says where inside it.

mod catalog;
mod checks;
mod ctx;
mod field;
mod finding;
mod options;
mod sarif;
mod text;

pub use catalog::{check, Check, CHECKS};
pub use finding::{Finding, Severity};
pub use options::{derive_pod_cidrs, Options};
pub use sarif::to_sarif;
pub use text::render_text;

use palisade_model::Cluster;

/// Runs every check on `cluster` and returns the findings sorted by file,
/// line and code. Deterministic: the same input gives the same output.
pub fn lint(cluster: &Cluster, opts: &Options) -> Vec<Finding> {
    let ctx = ctx::Ctx::new(cluster, opts);
    let mut findings = checks::run(&ctx);
    finding::sort(&mut findings);
    findings
}
