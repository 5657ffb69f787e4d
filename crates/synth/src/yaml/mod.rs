//! Renders a cluster as a multi-document Kubernetes YAML stream.
//!
//! Block style, two-space indents, every string scalar double-quoted (so
//! label values such as `"y"`, `"1"` or `"1.10"` stay strings for YAML 1.1
//! and 1.2 readers alike), numbers bare.

mod policy;
mod writer;

use palisade_model::{Cluster, ContainerPort, Labels, Namespace, Pod};

use writer::{q, Out};

/// The image every generated container runs; the API requires one.
const IMAGE: &str = "registry.k8s.io/pause:3.9";

/// The cluster as `---`-separated documents: every Namespace, then every
/// Pod (with `spec.containers[].ports`, `spec.nodeName` and
/// `status.podIP`/`podIPs`), then every NetworkPolicy, each in cluster
/// order. `policyTypes` is written only where it differs from what the API
/// server would default it to. Implicit namespaces (not declared) are not
/// written. The result is what a Kubernetes API server accepts, and what
/// `palisade-manifest` reads back into an equal cluster.
pub fn to_yaml(c: &Cluster) -> String {
    let mut out = Out::default();
    for ns in c.namespaces().filter(|ns| ns.declared) {
        namespace(&mut out, ns);
    }
    for p in c.pods() {
        pod(&mut out, p);
    }
    for np in c.policies() {
        policy::policy(&mut out, np);
    }
    out.finish()
}

fn header(out: &mut Out, api_version: &str, kind: &str) {
    out.line(0, "---");
    out.field(0, "apiVersion", &q(api_version));
    out.field(0, "kind", &q(kind));
    out.line(0, "metadata:");
}

fn namespace(out: &mut Out, ns: &Namespace) {
    header(out, "v1", "Namespace");
    out.field(1, "name", &q(&ns.name));
    labels(out, 1, ns.labels());
}

fn pod(out: &mut Out, p: &Pod) {
    header(out, "v1", "Pod");
    out.field(1, "name", &q(&p.name));
    out.field(1, "namespace", &q(&p.namespace));
    labels(out, 1, &p.labels);
    out.line(0, "spec:");
    if let Some(node) = &p.node_name {
        out.field(1, "nodeName", &q(node));
    }
    if p.host_network {
        out.field(1, "hostNetwork", "true");
    }
    out.line(1, "containers:");
    out.item();
    out.field(2, "name", &q("main"));
    out.field(2, "image", &q(IMAGE));
    container_ports(out, 2, &p.ports);
    pod_status(out, p);
}

fn container_ports(out: &mut Out, depth: usize, ports: &[ContainerPort]) {
    if ports.is_empty() {
        return;
    }
    out.line(depth, "ports:");
    for port in ports {
        out.item();
        if let Some(name) = &port.name {
            out.field(depth + 1, "name", &q(name));
        }
        out.field(depth + 1, "containerPort", &port.port.to_string());
        out.field(depth + 1, "protocol", &q(port.protocol.as_str()));
    }
}

fn pod_status(out: &mut Out, p: &Pod) {
    let Some(first) = p.ips.first() else { return };
    out.line(0, "status:");
    out.field(1, "podIP", &q(&first.to_string()));
    out.line(1, "podIPs:");
    for ip in &p.ips {
        out.item();
        out.field(2, "ip", &q(&ip.to_string()));
    }
}

/// `labels:` with one quoted `"key": "value"` per line; nothing when empty.
fn labels(out: &mut Out, depth: usize, labels: &Labels) {
    if labels.is_empty() {
        return;
    }
    out.line(depth, "labels:");
    for (k, v) in labels.iter() {
        out.field(depth + 1, &q(k), &q(v));
    }
}

#[cfg(test)]
mod tests;
