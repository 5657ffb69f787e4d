//! Scalars with a meaning: pod ids, namespace names, ports, protocols, endpoints.

use std::str::FromStr;

use palisade_eval::{Endpoint, PortRef};
use palisade_manifest::yaml::{Node, Value};
use palisade_model::{names, port_number, PodId, Protocol};

use super::ctx::Ctx;

/// Checks `ns/name` the way the API server checks namespace and pod names.
pub(crate) fn check_pod_id(s: &str) -> Result<PodId, String> {
    let id = PodId::from_str(s)?;
    names::dns1123_label(&id.namespace).map_err(|e| format!("invalid namespace in {s:?}: {e}"))?;
    names::dns1123_subdomain(&id.name).map_err(|e| format!("invalid pod name in {s:?}: {e}"))?;
    Ok(id)
}

impl Ctx<'_> {
    /// A pod given as `namespace/name`.
    pub fn pod_id(&mut self, node: &Node, field: &str) -> Option<PodId> {
        let s = self.string(node, field)?;
        self.check(check_pod_id(&s), node.pos, field)
    }

    /// A namespace name.
    pub fn namespace_name(&mut self, node: &Node, field: &str) -> Option<String> {
        let s = self.string(node, field)?;
        match names::dns1123_label(&s) {
            Ok(()) => Some(s),
            Err(e) => self.error(
                node.pos,
                field,
                format!("invalid namespace name {s:?}: {e}"),
            ),
        }
    }

    /// `TCP`, `UDP` or `SCTP`.
    pub fn protocol(&mut self, node: &Node, field: &str) -> Option<Protocol> {
        let s = self.string(node, field)?;
        self.check(Protocol::from_str(&s), node.pos, field)
    }

    /// A port number, 1-65535.
    pub fn port_number(&mut self, node: &Node, field: &str) -> Option<u16> {
        match node.value {
            Value::Int(n) => self.check(port_number(n), node.pos, field),
            _ => self.error(
                node.pos,
                field,
                format!("expected a port number, found {}", node.kind()),
            ),
        }
    }

    /// A port number, or a container port name (resolved on each destination pod).
    pub fn port_ref(&mut self, node: &Node, field: &str) -> Option<PortRef> {
        let Some(name) = node.as_str() else {
            return self.port_number(node, field).map(PortRef::Number);
        };
        match names::iana_svc_name(name) {
            Ok(()) => Some(PortRef::Named(name.to_string())),
            Err(e) => self.error(node.pos, field, format!("invalid port name {name:?}: {e}")),
        }
    }

    /// `namespace/pod` or an IP address.
    pub fn endpoint(&mut self, node: &Node, field: &str) -> Option<Endpoint> {
        let s = self.string(node, field)?;
        match Endpoint::from_str(&s) {
            Ok(Endpoint::Pod(_)) => {
                self.check(check_pod_id(&s).map(Endpoint::Pod), node.pos, field)
            }
            Ok(addr) => Some(addr),
            Err(e) => self.error(node.pos, field, e),
        }
    }
}
