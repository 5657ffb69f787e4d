//! A tiny HTTP/1.1 client for lab checks (`wget -S -O- URL` without wget).
//!
//! Names resolve through the system resolver (`ToSocketAddrs`), which honours
//! the `/etc/hosts` that `ip netns exec` bind-mounts for a pod.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::http_wire;

mod target;
use target::Target;

/// An HTTP exchange that failed; the message says where and why.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Only `http://host[:port][/path]` URLs are supported.
    #[error("unsupported URL {0:?} (expected http://host[:port]/path)")]
    Url(String),
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// The connection or the response did not come in time.
    #[error("timed out after {after} {phase} {addr}")]
    TimedOut {
        /// The timeout, e.g. `2s`.
        after: String,
        /// `connecting to` or `waiting for a response from`.
        phase: &'static str,
        /// The address.
        addr: SocketAddr,
    },
    /// Any other I/O error (refused, reset, ...).
    #[error("{phase} {addr}: {source}")]
    Io {
        /// `connecting to`, `sending to` or `reading from`.
        phase: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: io::Error,
    },
    /// The server's answer is not an HTTP response.
    #[error("bad response from {addr}: {reason}")]
    BadResponse {
        /// The address.
        addr: SocketAddr,
        /// What was wrong.
        reason: String,
    },
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// `200`.
    pub status: u16,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The address that answered.
    pub peer: SocketAddr,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GETs `url` (or POSTs `post_data` as a form, like `wget --post-data`), within `timeout`
/// for the connection and again for the response.
pub fn probe(url: &str, post_data: Option<&str>, timeout: Duration) -> Result<Response, HttpError> {
    let target = Target::parse(url)?;
    let addr = target.resolve()?;
    let mut stream = connect(addr, timeout)?;
    let io_err = |phase, source| HttpError::Io {
        phase,
        addr,
        source,
    };
    stream
        .write_all(&target.request(post_data))
        .map_err(|e| io_err("sending to", e))?;
    read_response(&mut stream, addr, timeout)
}

/// The status line and headers, each indented by two spaces, as `wget -S` prints them.
pub fn format_like_wget_s(response: &Response) -> String {
    let mut out = format!("  {}\n", response.status_line);
    for (name, value) in &response.headers {
        let _ = writeln!(out, "  {name}: {value}");
    }
    out
}

/// `2s`, `500ms` or `1.5s`.
pub fn human_duration(d: Duration) -> String {
    match (d.subsec_millis(), d.as_secs()) {
        (0, s) => format!("{s}s"),
        (ms, 0) => format!("{ms}ms"),
        _ => format!("{:.1}s", d.as_secs_f64()),
    }
}

fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, HttpError> {
    let stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|source| match source.kind() {
            io::ErrorKind::TimedOut => timed_out(timeout, "connecting to", addr),
            _ => HttpError::Io {
                phase: "connecting to",
                addr,
                source,
            },
        })?;
    let set = stream
        .set_read_timeout(Some(timeout))
        .and(stream.set_write_timeout(Some(timeout)));
    set.map_err(|source| HttpError::Io {
        phase: "connecting to",
        addr,
        source,
    })?;
    Ok(stream)
}

fn read_response(
    stream: &mut TcpStream,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<Response, HttpError> {
    let read_err = |source: io::Error| match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            timed_out(timeout, "waiting for a response from", addr)
        }
        io::ErrorKind::InvalidData => HttpError::BadResponse {
            addr,
            reason: source.to_string(),
        },
        _ => HttpError::Io {
            phase: "reading from",
            addr,
            source,
        },
    };
    let (head, early) = http_wire::read_head(stream).map_err(read_err)?;
    let body = http_wire::read_body(stream, early, head.content_length()).map_err(read_err)?;
    let status = head
        .first_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok());
    let status = status.ok_or_else(|| HttpError::BadResponse {
        addr,
        reason: format!("no status code in {:?}", head.first_line),
    })?;
    Ok(Response {
        status_line: head.first_line,
        status,
        headers: head.headers,
        body,
        peer: addr,
    })
}

fn timed_out(timeout: Duration, phase: &'static str, addr: SocketAddr) -> HttpError {
    HttpError::TimedOut {
        after: human_duration(timeout),
        phase,
        addr,
    }
}

#[cfg(test)]
mod tests;
