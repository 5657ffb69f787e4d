//! `status.podIP` and `status.podIPs`.

use std::net::IpAddr;

use super::super::cursor::Fields;
use super::super::cx::{At, Cx};
use super::super::scalar::{list, string};

/// The pod's IPs: `podIPs` if present, else `podIP`. When both are given
/// and `podIP` differs from `podIPs[0]`, the API server keeps `podIP` only.
pub(super) fn ips(cx: &mut Cx<'_>, at: &At<'_>) -> Vec<IpAddr> {
    let Some(mut f) = Fields::open(cx, at) else {
        return Vec::new();
    };
    let pod_ip = f.get("podIP").and_then(|a| ip(cx, &a).map(|ip| (ip, a)));
    let list_at = f.get("podIPs");
    let pod_ips = list_at.as_ref().map(|a| pod_ips(cx, a)).unwrap_or_default();
    match (pod_ip, pod_ips.first()) {
        (Some((ip, a)), Some(first)) if ip != *first => {
            let message = format!(
                "podIP {ip} differs from podIPs[0] {first}: the API server keeps podIP and drops podIPs"
            );
            cx.warn(&a, message);
            vec![ip]
        }
        (_, Some(_)) => pod_ips,
        (Some((ip, _)), None) => vec![ip],
        (None, None) => Vec::new(),
    }
}

/// `podIPs[].ip`: at most one address per family (dual-stack).
fn pod_ips(cx: &mut Cx<'_>, at: &At<'_>) -> Vec<IpAddr> {
    let items = list(cx, at);
    if items.len() > 2 {
        let n = items.len();
        cx.error(
            at,
            format!("at most two pod IPs (one IPv4, one IPv6) are allowed, found {n}"),
        );
    }
    let mut ips: Vec<IpAddr> = Vec::new();
    for item in &items {
        let Some(mut f) = Fields::open(cx, item) else {
            continue;
        };
        let Some(ip_at) = f.require(cx, "ip") else {
            continue;
        };
        let Some(ip) = ip(cx, &ip_at) else { continue };
        if ips.iter().any(|other| other.is_ipv4() == ip.is_ipv4()) {
            let message = format!(
                "{ip}: pod IPs must be one IPv4 and one IPv6 address, not two of one family"
            );
            cx.error(&ip_at, message);
        }
        ips.push(ip);
    }
    ips
}

fn ip(cx: &mut Cx<'_>, at: &At<'_>) -> Option<IpAddr> {
    let text = string(cx, at)?;
    // As the API server validates pod IPs (`ParseIPSloppy`, see
    // `palisade_model::parse_ip_sloppy`).
    match palisade_model::parse_ip_sloppy(&text) {
        Some(ip) => Some(ip),
        None => {
            cx.error(at, format!("invalid IP address {text:?}"));
            None
        }
    }
}
