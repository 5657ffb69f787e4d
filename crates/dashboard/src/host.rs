//! Which `Host` a request may name: the defence against DNS rebinding. A
//! web page of `http://attacker.example:9465/` whose name the attacker
//! then points at 127.0.0.1 makes the browser send its requests to the
//! dashboard (or through a `kubectl port-forward` to it) as the page's
//! own origin, with `Host: attacker.example:9465`, and read the answers.
//! Such a request names a host that is neither an address nor localhost,
//! nor a name the operator configured, and gets a `421`.
//!
//! Accepted: IP address literals (`127.0.0.1`, `[::1]`, the node's address:
//! a page can only be served from one of those by whoever runs that address),
//! `localhost`, and the configured names; with any port, since a
//! port-forward may use another local port (`8080:9465`).

use hyper::{Request, StatusCode};

use crate::http::{text, Body};

/// Whether a request naming `host` (a `Host` header or the authority of an
/// absolute URI) is answered; `allowed` are names configured besides
/// addresses and localhost (`name`, or `name:port` for that port only).
pub fn allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim_end_matches('.');
    let (name, _port) = split_port(host);
    if name.starts_with('[') && name.ends_with(']') {
        return name[1..name.len() - 1]
            .parse::<std::net::Ipv6Addr>()
            .is_ok();
    }
    let name = name.trim_end_matches('.');
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| {
            let a = a.trim();
            match a.contains(':') && !a.starts_with('[') {
                true => a.eq_ignore_ascii_case(host),
                false => a.trim_end_matches('.').eq_ignore_ascii_case(name),
            }
        })
}

/// `name:port` to (`name`, `Some(port)`); `[v6]:port` keeps its brackets.
fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rfind(':') {
        Some(i)
            if !host[i + 1..].contains(']')
                && (host.starts_with('[') || !host[..i].contains(':')) =>
        {
            (&host[..i], Some(&host[i + 1..]))
        }
        _ => (host, None),
    }
}

/// `None` when `req` names an allowed host (see [`allowed`]), else the
/// `421 Misdirected Request` to answer (also for a request naming none).
pub fn check<B>(req: &Request<B>, names: &[String]) -> Option<hyper::Response<Body>> {
    let header = req
        .headers()
        .get(hyper::header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}"));
    let authority = req.uri().authority().map(|a| a.as_str());
    let named: Vec<&str> = header.into_iter().chain(authority).collect();
    if !named.is_empty() && named.iter().all(|h| allowed(h, names)) {
        return None;
    }
    let shown = named.first().copied().unwrap_or("(none)");
    Some(text(
        StatusCode::MISDIRECTED_REQUEST,
        format!(
            "host {shown:?} is not served here: use an IP address or localhost, or allow the name \
             (palisade agent --allowed-hosts NAME; docs/dashboard.md)\n"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_localhost_and_configured_names_only() {
        let names = ["dash.example.org".to_string(), "other.example:8443".into()];
        for ok in [
            "127.0.0.1:9465",
            "127.0.0.1",
            "[::1]:9465",
            "[::1]",
            "10.1.2.3:8080",
            "localhost:8080",
            "LOCALHOST",
            "localhost.:9465",
            "dash.example.org",
            "Dash.Example.Org:443",
            "other.example:8443",
        ] {
            assert!(allowed(ok, &names), "{ok} refused");
        }
        for bad in [
            "attacker.example:9465",
            "attacker.example",
            "localhost.attacker.example",
            "127.0.0.1.nip.io:9465",
            "other.example:9465",
            "dash.example.org.evil",
            "[::1",
            "[not-an-address]:80",
            "",
        ] {
            assert!(!allowed(bad, &names), "{bad} accepted");
        }
    }
}
