//! A small HTTP/1.1 echo server (std only, one thread per connection).
//!
//! Every request gets `200 OK` with a JSON body echoing method, path, headers
//! and body, then the connection is closed (`Connection: close`), which suits
//! curl, wget and busybox wget alike. One line per request goes to stdout:
//! time, client address, method, path, status, body bytes.

use std::convert::Infallible;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use crate::http_wire::{self, Head};
use crate::timefmt;

/// How long a client may take to send its request.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bound listeners (bind inside a netns with [`crate::netns::in_netns`], serve from anywhere).
#[derive(Debug)]
pub struct HttpEcho {
    listeners: Vec<TcpListener>,
}

/// Binds `port` on `0.0.0.0` and `[::]` in the current thread's netns.
pub fn bind(port: u16) -> io::Result<HttpEcho> {
    Ok(HttpEcho {
        listeners: crate::serve::listen_tcp(port)?,
    })
}

/// Binds and serves forever; returns only with an error.
pub fn serve(port: u16) -> io::Result<Infallible> {
    Err(bind(port)?.run())
}

impl HttpEcho {
    /// The addresses bound.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves until a listener fails; returns that error.
    pub fn run(self) -> io::Error {
        crate::serve::first_error(self.spawn())
    }

    /// Accepts on every listener on its own thread; each ends only with an error.
    pub fn spawn(self) -> Vec<JoinHandle<io::Error>> {
        let accept = |l: TcpListener| std::thread::spawn(move || accept_loop(&l));
        self.listeners.into_iter().map(accept).collect()
    }
}

fn accept_loop(listener: &TcpListener) -> io::Error {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                std::thread::spawn(move || handle(stream, peer));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(e) => return e,
        }
    }
}

/// Serves one request on `stream` and logs it; errors are logged, not returned.
fn handle(mut stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let result = read_request(&mut stream).and_then(|(head, body)| {
        let reply = echo_body(&head, &body, peer);
        stream.write_all(&response(&reply))?;
        Ok((head, reply.len()))
    });
    let now = timefmt::rfc3339(SystemTime::now());
    match result {
        Ok((head, bytes)) => println!("{now} {peer} {} 200 {bytes}", request_target(&head)),
        // A client that connected and left without a request (a TCP probe) is not logged.
        Err(e) if is_silent_client(&e) => {}
        Err(e) => println!("{now} {peer} - - error: {e}"),
    }
}

fn is_silent_client(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
    )
}

fn read_request(stream: &mut TcpStream) -> io::Result<(Head, Vec<u8>)> {
    let (head, early) = http_wire::read_head(stream)?;
    let body = http_wire::read_body(stream, early, Some(head.content_length().unwrap_or(0)))?;
    Ok((head, body))
}

/// `METHOD PATH` from the request line.
fn request_target(head: &Head) -> String {
    head.first_line
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The JSON the server answers with.
pub(crate) fn echo_body(head: &Head, body: &[u8], peer: SocketAddr) -> Vec<u8> {
    let mut parts = head.first_line.split(' ');
    let headers: Map<String, Value> = head
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    let value = json!({
        "method": parts.next().unwrap_or_default(),
        "path": parts.next().unwrap_or_default(),
        "headers": headers,
        "body": String::from_utf8_lossy(body),
        "client": peer.to_string(),
    });
    let mut out = serde_json::to_vec_pretty(&value).unwrap_or_default();
    out.push(b'\n');
    out
}

fn response(body: &[u8]) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Server: palisade-lab\r\nConnection: close\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_reports_method_path_headers_and_body() {
        let head = Head {
            first_line: "POST /test HTTP/1.1".into(),
            headers: vec![("Host".into(), "echo".into())],
        };
        let peer: SocketAddr = "10.0.1.2:4000".parse().unwrap();
        let value: Value = serde_json::from_slice(&echo_body(&head, b"a=b", peer)).unwrap();
        assert_eq!(value["method"], "POST");
        assert_eq!(value["path"], "/test");
        assert_eq!(value["headers"]["host"], "echo");
        assert_eq!(value["body"], "a=b");
        assert_eq!(request_target(&head), "POST /test");
    }
}
