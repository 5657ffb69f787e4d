//! PL010 (opt-in): namespaces with pods and no default-deny ingress policy.

use palisade_model::{Direction, Namespace, NetworkPolicy, Pod};

use super::count;
use crate::catalog::NO_DEFAULT_DENY;
use crate::ctx::Ctx;
use crate::Finding;

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for ns in ctx.cluster.namespaces() {
        let pods: Vec<&Pod> = ctx
            .endpoints
            .iter()
            .copied()
            .filter(|e| e.namespace == ns.name)
            .collect();
        if !pods.is_empty() && !ctx.cluster.policies_in(&ns.name).any(is_default_deny) {
            out.push(finding(ns, &pods));
        }
    }
}

/// `podSelector: {}`, Ingress in policyTypes, and no ingress rules.
fn is_default_deny(p: &NetworkPolicy) -> bool {
    p.pod_selector.is_everything() && p.rules(Direction::Ingress).is_some_and(<[_]>::is_empty)
}

fn finding(ns: &Namespace, pods: &[&Pod]) -> Finding {
    let mut message = format!(
        "namespace {} has {} and no default-deny ingress policy: a new pod accepts traffic from everywhere until a policy selects it",
        ns.name,
        count(pods.len(), "pod")
    );
    let mut f = Finding::on_namespace(&NO_DEFAULT_DENY, ns, "").hint(hint(&ns.name));
    // A namespace only implied by its pods is reported at its first pod,
    // so that the finding has a place in the pull request.
    if f.file.is_none() {
        if let Some(s) = pods.iter().find_map(|p| p.source.as_ref()) {
            f.file = Some(s.file.clone());
            f.line = Some(s.line);
            message.push_str(" (no Namespace object in the input: reported at its first pod)");
        }
    }
    f.message = message;
    f
}

fn hint(namespace: &str) -> String {
    format!(
        "add a default-deny ingress policy:\n  apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: default-deny-ingress\n    namespace: {namespace}\n  spec:\n    podSelector: {{}}\n    policyTypes: [Ingress]"
    )
}
