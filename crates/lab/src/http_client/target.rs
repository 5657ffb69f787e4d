//! `http://host[:port][/path]` URLs: parsing, resolving, and the request to send.

use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::HttpError;

/// The parts of an `http://` URL the client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) path: String,
}

impl Target {
    pub(super) fn parse(url: &str) -> Result<Self, HttpError> {
        let bad = || HttpError::Url(url.to_owned());
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = rest
            .find('/')
            .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let (host, port) = split_port(authority).ok_or_else(bad)?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Target {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    pub(super) fn resolve(&self) -> Result<SocketAddr, HttpError> {
        let resolve_err = |source| HttpError::Resolve {
            host: self.host.clone(),
            source,
        };
        let mut addrs = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(resolve_err)?;
        addrs
            .next()
            .ok_or_else(|| resolve_err(io::Error::new(io::ErrorKind::NotFound, "no address")))
    }

    pub(super) fn request(&self, post_data: Option<&str>) -> Vec<u8> {
        let method = if post_data.is_some() { "POST" } else { "GET" };
        let host = match self.port {
            80 => self.host_for_header(),
            port => format!("{}:{port}", self.host_for_header()),
        };
        let mut head = format!(
            "{method} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: palisade-lab\r\nAccept: */*\r\nConnection: close\r\n",
            self.path
        );
        if let Some(data) = post_data {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            let _ = write!(head, "Content-Length: {}\r\n", data.len());
        }
        head.push_str("\r\n");
        [head.as_bytes(), post_data.unwrap_or_default().as_bytes()].concat()
    }

    fn host_for_header(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]", self.host),
            false => self.host.clone(),
        }
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_port(authority: &str) -> Option<(&str, u16)> {
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 80,
            None => return None,
        };
        return Some((host, port));
    }
    match authority.split_once(':') {
        Some((host, port)) => Some((host, port.parse().ok()?)),
        None => Some((authority, 80)),
    }
}
