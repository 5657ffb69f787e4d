//! The `ports` entries of policy rules: protocol, port (number or name), endPort.

use palisade_model::{port_number, PolicyPort, PortError, PortValue, Protocol};

use super::cursor::Fields;
use super::cx::{describe, At, Cx};
use super::scalar::{int, string};
use crate::yaml::Value;

/// Decodes one `ports` entry of a rule.
pub(crate) fn policy_port(cx: &mut Cx<'_>, at: &At<'_>) -> Option<PolicyPort> {
    let before = cx.error_count();
    let mut f = Fields::open(cx, at)?;
    let protocol = f.get("protocol").and_then(|a| protocol(cx, &a));
    let port_at = f.get("port");
    let port = port_at.as_ref().and_then(|a| port_value(cx, a));
    let end_at = f.get("endPort");
    let end = end_at.as_ref().and_then(|a| int(cx, a));
    f.finish(cx);
    if let (Some(p), Some(a)) = (&port, &port_at) {
        check(cx, a, PolicyPort::new(protocol, Some(p.clone()), None));
    }
    if let (Some(e), Some(a)) = (end, &end_at) {
        check(cx, a, port_number(e).map(|_| ()));
    }
    if cx.error_count() > before {
        return None;
    }
    let result = PolicyPort::new(protocol, port, end);
    check(cx, end_at.as_ref().unwrap_or(at), result.clone());
    result.ok()
}

/// Reports `result`'s error at `at`, adding a hint for quoted numbers.
fn check<T>(cx: &mut Cx<'_>, at: &At<'_>, result: Result<T, PortError>) {
    let Err(e) = result else { return };
    let mut message = e.to_string();
    if let PortError::BadName { name, .. } = &e {
        if name.parse::<u16>().is_ok() {
            message.push_str(&format!("; for a port number write {name} without quotes"));
        }
    }
    cx.error(at, message);
}

/// `TCP`, `UDP` or `SCTP`, exactly.
pub(crate) fn protocol(cx: &mut Cx<'_>, at: &At<'_>) -> Option<Protocol> {
    let text = string(cx, at)?;
    text.parse()
        .map_err(|e: PortError| cx.error(at, e.to_string()))
        .ok()
}

/// An int-or-string: a number, or a (named port) string.
fn port_value(cx: &mut Cx<'_>, at: &At<'_>) -> Option<PortValue> {
    match &at.node.value {
        Value::Int(n) => Some(PortValue::Number(*n)),
        Value::Str(_) => string(cx, at).map(PortValue::Name),
        _ => {
            cx.error(
                at,
                format!(
                    "expected a port number or name, found {}",
                    describe(at.node)
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests;
