//! The bits of HTTP/1.1 framing the echo server and the client share.

use std::io::{self, Read};

/// The largest request or response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// A parsed head: the first line and the header fields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// The request line or the status line.
    pub first_line: String,
    /// Header fields as sent (names keep their case).
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    /// The Content-Length, if any and valid.
    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length")?.trim().parse().ok()
    }
}

/// Reads a head up to the blank line; returns it and any body bytes read past it.
pub(crate) fn read_head(reader: &mut impl Read) -> io::Result<(Head, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find_blank_line(&buf) {
            let head = parse_head(&buf[..end])?;
            return Ok((head, buf[end + 4..].to_vec()));
        }
        if buf.len() > MAX_HEAD {
            return Err(invalid("head larger than 64 KiB"));
        }
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a complete head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads the rest of a body: `length` bytes if known, else until EOF.
pub(crate) fn read_body(
    reader: &mut impl Read,
    mut body: Vec<u8>,
    length: Option<usize>,
) -> io::Result<Vec<u8>> {
    match length {
        Some(len) if body.len() < len => {
            let start = body.len();
            body.resize(len, 0);
            reader.read_exact(&mut body[start..])?;
        }
        Some(len) => body.truncate(len),
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok(body)
}

fn find_blank_line(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn parse_head(bytes: &[u8]) -> io::Result<Head> {
    let text = std::str::from_utf8(bytes).map_err(|_| invalid("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let first_line = lines.next().unwrap_or_default().to_owned();
    let headers = lines.map(parse_field).collect::<io::Result<_>>()?;
    Ok(Head {
        first_line,
        headers,
    })
}

fn parse_field(line: &str) -> io::Result<(String, String)> {
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| invalid("header line without ':'"))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_and_body_split_at_the_blank_line() {
        let raw = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel";
        let mut rest = &b"lo!"[..];
        let (head, early) = read_head(&mut &raw[..]).unwrap();
        assert_eq!(head.first_line, "POST /x HTTP/1.1");
        assert_eq!(head.header("HOST"), Some("a"));
        let body = read_body(&mut rest, early, head.content_length()).unwrap();
        assert_eq!(body, b"hello");
    }

    #[test]
    fn truncated_head_is_an_error() {
        assert!(read_head(&mut &b"GET / HTTP/1.1\r\n"[..]).is_err());
    }
}
