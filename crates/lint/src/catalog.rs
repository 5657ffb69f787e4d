//! The catalogue of checks: stable codes, names, default severities and help.
//!
//! Codes are stable: a code is never reused for another meaning, so CI
//! configurations and SARIF baselines that name one keep working.

use crate::Severity;

/// What one check reports, as listed in the crate docs and in SARIF `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// `PL001`...
    pub code: &'static str,
    /// kebab-case name, e.g. `policy-selects-nothing`.
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what is wrong (SARIF `shortDescription`).
    pub summary: &'static str,
    /// Why it matters and how to fix it (SARIF `help`).
    pub help: &'static str,
    /// The default hint of a finding.
    pub hint: &'static str,
}

pub const SELECTS_NOTHING: Check = Check {
    code: "PL001",
    name: "policy-selects-nothing",
    severity: Severity::Warning,
    summary: "The policy's podSelector matches no pod in its namespace.",
    help: "A policy that selects no pod neither isolates nor allows anything. Check the podSelector labels against the pods' labels (a typo, or labels of another namespace).",
    hint: "fix spec.podSelector to match the pods' labels, or remove the policy; the input may be partial (the pods may be missing from these manifests)",
};

pub const NAMESPACE_SELECTOR_EMPTY: Check = Check {
    code: "PL002",
    name: "namespace-selector-matches-nothing",
    severity: Severity::Warning,
    summary: "A peer's namespaceSelector matches no namespace.",
    help: "The peer can never match, so the rule allows less than it seems. Namespaces always carry kubernetes.io/metadata.name; other labels must be set on the Namespace object.",
    hint: "fix the labels (every namespace has kubernetes.io/metadata.name: <its name>) or label the Namespace; the input may be partial: if the namespace exists outside these manifests, add it (kubectl get ns -o yaml) or ignore this finding",
};

pub const POD_SELECTOR_EMPTY: Check = Check {
    code: "PL003",
    name: "pod-selector-matches-nothing",
    severity: Severity::Warning,
    summary: "A peer's podSelector matches no pod in the namespaces it selects.",
    help: "The peer can never match, so the rule allows less than it seems. A peer without namespaceSelector only looks in the policy's own namespace; add a namespaceSelector to reach pods elsewhere.",
    hint: "fix the labels, or add a namespaceSelector if the pods live in another namespace; the input may be partial: if the pods exist outside these manifests, add them (kubectl get pods -o yaml) or ignore this finding",
};

pub const NAMED_PORT_UNDEFINED: Check = Check {
    code: "PL004",
    name: "named-port-undefined",
    severity: Severity::Warning,
    summary: "A named port is defined by no destination pod of the rule.",
    help: "Named ports are resolved on each destination pod (ingress: the selected pods; egress: the peers); a pod that does not define the name is not matched, so the entry allows nothing.",
    hint: "use the container port name the destination pods define (spec.containers[].ports[].name), or a port number",
};

pub const NAMED_PORT_PROTOCOL: Check = Check {
    code: "PL005",
    name: "named-port-wrong-protocol",
    severity: Severity::Warning,
    summary: "A named port is defined by the destination pods only for another protocol.",
    help: "Named ports resolve by name AND protocol; a missing protocol means TCP. A port named `dns` defined for UDP does not match a TCP entry.",
    hint: "set the entry's protocol to the one the container port declares, or add a port entry per protocol",
};

pub const IGNORED_RULES: Check = Check {
    code: "PL006",
    name: "rules-ignored-by-policy-types",
    severity: Severity::Warning,
    summary: "Rules of a direction missing from policyTypes are ignored.",
    help: "Kubernetes ignores ingress rules unless policyTypes lists Ingress, and egress rules unless it lists Egress. The pods are then not isolated for that direction: everything is allowed there. This is a warning, not an error: the object is valid and accepted by the API server, and parking rules this way can be deliberate.",
    hint: "add the direction to spec.policyTypes, or delete the rules",
};

pub const REDUNDANT_POLICY: Check = Check {
    code: "PL007",
    name: "redundant-policy",
    severity: Severity::Info,
    summary: "Everything the policy does is already done by other policies.",
    help: "Removing the policy changes no verdict on the current cluster: every (pod, direction, peer, port) it allows is allowed by other policies, and the pods it isolates are isolated by them too. Removing every policy reported together changes nothing either.",
    hint: "remove it or merge it",
};

pub const DNS_BLOCKED: Check = Check {
    code: "PL008",
    name: "egress-blocks-dns",
    severity: Severity::Warning,
    summary: "Pods isolated for egress can reach no DNS server (port 53).",
    help: "Once a pod is isolated for egress, DNS lookups need an explicit egress rule allowing UDP (and TCP) port 53; without one, name resolution fails and most applications break.",
    hint: DNS_HINT,
};

const DNS_HINT: &str = "\
allow DNS, e.g. with this egress rule:
  - to:
      - namespaceSelector:
          matchLabels:
            kubernetes.io/metadata.name: kube-system
        podSelector:
          matchLabels:
            k8s-app: kube-dns
    ports:
      - protocol: UDP
        port: 53
      - protocol: TCP
        port: 53";

pub const IPBLOCK_POD_NETWORK: Check = Check {
    code: "PL009",
    name: "ipblock-overlaps-pod-network",
    severity: Severity::Warning,
    summary: "An ipBlock names part of the pod network.",
    help: "Pod IPs change whenever pods are rescheduled, so an ipBlock that picks out pod addresses breaks silently; selectors are the stable way to name pods. Blocks that contain the whole pod network (0.0.0.0/0, or 10.0.0.0/8 over 10.244.0.0/16) mean 'everywhere' and are not reported.",
    hint: "name the pods with podSelector/namespaceSelector, or carve the pod network out with except",
};

pub const NO_DEFAULT_DENY: Check = Check {
    code: "PL010",
    name: "namespace-without-default-deny",
    severity: Severity::Warning,
    summary: "A namespace with pods has no default-deny ingress policy (opt-in check).",
    help: "Without a policy selecting every pod ({}) for ingress with no rules, any new pod of the namespace accepts traffic from everywhere until someone writes a policy for it.",
    hint: "add: {podSelector: {}, policyTypes: [Ingress]} (a default-deny ingress policy)",
};

pub const ALLOW_ALL_RULE: Check = Check {
    code: "PL011",
    name: "allow-all-rule-shadows-rules",
    severity: Severity::Warning,
    summary: "A rule with no peers and no ports allows everything, making the policy's other rules of that direction pointless.",
    help: "An empty `from`/`to` means every peer and an empty `ports` every port, so the rule admits all traffic and the other rules of the same direction add nothing. This is often a YAML slip: `- from:` and `- ports:` written as two list items instead of one.",
    hint: "put the rule's from/to and ports in the same list item, or remove the other rules if allowing everything is intended",
};

pub const AUDIT_MODE: Check = Check {
    code: "PL012",
    name: "policy-in-audit-mode",
    severity: Severity::Info,
    summary: "The policy is in audit mode (palisade.dev/mode: audit): its would-be denials are logged and accepted.",
    help: "A pod isolated only by audit-mode policies is not isolated in the kernel: connections no rule allows are accepted and logged with mode \"audit\" (palisade lab events, the agent's /flows). One enforcing policy isolating the pod enforces the denial. Audit is meant for rolling a default deny out safely.",
    hint: "watch the audit records, then remove the annotation (or set palisade.dev/mode: enforce) to enforce the policy",
};

/// Every check, in code order.
pub const CHECKS: &[Check] = &[
    SELECTS_NOTHING,
    NAMESPACE_SELECTOR_EMPTY,
    POD_SELECTOR_EMPTY,
    NAMED_PORT_UNDEFINED,
    NAMED_PORT_PROTOCOL,
    IGNORED_RULES,
    REDUNDANT_POLICY,
    DNS_BLOCKED,
    IPBLOCK_POD_NETWORK,
    NO_DEFAULT_DENY,
    ALLOW_ALL_RULE,
    AUDIT_MODE,
];

/// The check with `code`, if any.
pub fn check(code: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.code == code)
}
