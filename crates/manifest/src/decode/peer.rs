//! Rule peers: pod/namespace selectors and `ipBlock`.

use ipnet::IpNet;
use palisade_model::{has_host_bits, is_standard_cidr, parse_cidr, IpBlock, Peer};

use super::cursor::Fields;
use super::cx::{At, Cx};
use super::scalar::{list, string};
use super::selector::selector;

/// Decodes one element of `from` / `to`.
pub(crate) fn peer(cx: &mut Cx<'_>, at: &At<'_>) -> Option<Peer> {
    let before = cx.error_count();
    let mut f = Fields::open(cx, at)?;
    let pods_at = f.get("podSelector");
    let namespaces_at = f.get("namespaceSelector");
    let block_at = f.get("ipBlock");
    let pods = pods_at.as_ref().map(|a| selector(cx, a));
    let namespaces = namespaces_at.as_ref().map(|a| selector(cx, a));
    let block = block_at.as_ref().map(|a| ip_block(cx, a));
    f.finish(cx);
    let has_selector = pods_at.is_some() || namespaces_at.is_some();
    match &block_at {
        None if !has_selector => {
            cx.error(at, "must specify a peer: podSelector, namespaceSelector (or both), or ipBlock")
        }
        Some(b) if has_selector => cx.error(
            b,
            "ipBlock may not be combined with podSelector or namespaceSelector in one peer; use separate peers",
        ),
        _ => {}
    }
    if cx.error_count() > before {
        return None;
    }
    match block {
        Some(b) => b.map(Peer::IpBlock),
        None => Some(Peer::Pods {
            namespaces: namespaces.flatten(),
            pods: pods.flatten().unwrap_or_default(),
        }),
    }
}

/// Decodes `ipBlock`: `cidr` and each `except` entry must be valid CIDRs,
/// and each `except` a strict subset of `cidr`.
fn ip_block(cx: &mut Cx<'_>, at: &At<'_>) -> Option<IpBlock> {
    let before = cx.error_count();
    let mut f = Fields::open(cx, at)?;
    let net = f.require(cx, "cidr").and_then(|a| cidr(cx, &a));
    let except: Vec<(At<'_>, Option<IpNet>)> = match f.get("except") {
        Some(a) => list(cx, &a)
            .into_iter()
            .map(|e| {
                let net = cidr(cx, &e);
                (e, net)
            })
            .collect(),
        None => Vec::new(),
    };
    f.finish(cx);
    let net = net?;
    for (e_at, e) in &except {
        if let Some(Err(err)) = e.map(|e| IpBlock::new(net, vec![e])) {
            cx.error(e_at, err.to_string());
        }
    }
    if cx.error_count() > before {
        return None;
    }
    let except = except.into_iter().filter_map(|(_, e)| e).collect();
    IpBlock::new(net, except)
        .map_err(|e| cx.error(at, e.to_string()))
        .ok()
}

/// A CIDR, accepted as the API server accepts it (`parse_cidr`); host bits
/// set after the prefix and non-standard forms (leading zeros, IPv4-mapped
/// IPv6) are accepted with a warning, as the API server warns.
fn cidr(cx: &mut Cx<'_>, at: &At<'_>) -> Option<IpNet> {
    let text = string(cx, at)?;
    let net = parse_cidr(&text)
        .map_err(|e| cx.error(at, e.to_string()))
        .ok()?;
    if !is_standard_cidr(&text) {
        cx.warn(
            at,
            format!("non-standard CIDR {text:?} is read as {}, as the API server reads it (leading zeros are decimal); Kubernetes' strict IP/CIDR validation rejects this form", net.trunc()),
        );
    } else if has_host_bits(&net) {
        cx.warn(
            at,
            format!("{text:?} has host bits set; it is read as {}", net.trunc()),
        );
    }
    Some(net)
}

#[cfg(test)]
mod tests;
