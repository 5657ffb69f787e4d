//! The server side of the Kubernetes streaming protocol
//! `v5.channel.k8s.io` over WebSocket: what kubectl 1.32 speaks for
//! `exec` and `attach` (it offers only v5 over WebSocket, then falls back
//! to SPDY, which this server does not speak).
//!
//! Binary messages, first byte the channel: 0 stdin (client to server),
//! 1 stdout, 2 stderr, 3 one JSON `Status` at the end, 4 resize
//! (`{"Width":120,"Height":40}`), 255 half-close (`[255, 0]`: end of
//! stdin). The client pings every 5 s and drops the session without
//! pongs; pongs are sent as pings are read.
//!
//! How the router uses it:
//!
//! ```ignore
//! // GET /api/v1/namespaces/NS/pods/NAME/exec?command=sh&stdin=true&stdout=true&tty=true
//! let params = ExecParams::from_query(req.uri().query().unwrap_or(""), true)?;
//! let upgrade = Upgrade::from_request(&mut req)?;        // 400 Status if not v5 WebSocket
//! let session = Session::spawn_pty(&spec, None)?;        // or spawn_pipes
//! return Ok(upgrade.exec(session, params.streams()));  // 101; the session runs in a task
//! // attach: Upgrade::from_request, then upgrade.attach(attachable.attach(params.stdin), params.streams())
//! ```

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hyper::header::{
    HeaderMap, HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use palisade_apimachinery::status::Status;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::session::{Attachment, Input, Output, Session, Stream, TermSize};

/// The one subprotocol spoken.
pub const PROTOCOL: &str = "v5.channel.k8s.io";

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const ERROR: u8 = 3;
pub const RESIZE: u8 = 4;
pub const CLOSE: u8 = 255;

/// How long the server waits for the client's close frame after its own.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The query of an `exec` or `attach` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecParams {
    /// `command=` once per argv element (empty for attach).
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// Which streams the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl Default for Streams {
    fn default() -> Self {
        Streams {
            stdin: true,
            stdout: true,
            stderr: true,
            tty: false,
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `(key, value)` pairs of a query string, decoded.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn truthy(v: &str) -> bool {
    matches!(v, "true" | "1" | "True" | "TRUE" | "")
}

impl ExecParams {
    /// Parses the query; `exec` requires a command. At least one of
    /// stdin, stdout, stderr must be asked for, as the API server requires.
    pub fn from_query(query: &str, exec: bool) -> Result<ExecParams, Status> {
        let mut p = ExecParams::default();
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "command" => p.command.push(v),
                "container" => p.container = Some(v),
                "stdin" => p.stdin = truthy(&v),
                "stdout" => p.stdout = truthy(&v),
                "stderr" => p.stderr = truthy(&v),
                "tty" => p.tty = truthy(&v),
                _ => {}
            }
        }
        if exec && p.command.is_empty() {
            return Err(Status::bad_request(
                "you must specify at least one command for the container",
            ));
        }
        if !(p.stdin || p.stdout || p.stderr) {
            return Err(Status::bad_request(
                "you must specify at least 1 of stdin, stdout, stderr",
            ));
        }
        Ok(p)
    }

    pub fn streams(&self) -> Streams {
        Streams {
            stdin: self.stdin,
            stdout: self.stdout,
            // With a terminal, stderr is merged into stdout.
            stderr: self.stderr && !self.tty,
            tty: self.tty,
        }
    }
}

fn header_has_token(headers: &HeaderMap, name: hyper::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// Whether the request asks for a WebSocket upgrade (as opposed to SPDY
/// or a plain request).
pub fn is_websocket<B>(req: &Request<B>) -> bool {
    header_has_token(req.headers(), CONNECTION, "upgrade")
        && header_has_token(req.headers(), UPGRADE, "websocket")
}

/// Checks the handshake headers; on success the `Sec-WebSocket-Accept`
/// value.
pub fn check_handshake(headers: &HeaderMap) -> Result<String, Status> {
    if !header_has_token(headers, CONNECTION, "upgrade")
        || !header_has_token(headers, UPGRADE, "websocket")
    {
        return Err(Status::bad_request(
            "Upgrade request required: this server speaks v5.channel.k8s.io over WebSocket only",
        ));
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(Status::bad_request(
            "unable to upgrade connection: Sec-WebSocket-Version must be 13",
        ));
    }
    let Some(key) = headers.get(SEC_WEBSOCKET_KEY) else {
        return Err(Status::bad_request(
            "unable to upgrade connection: missing Sec-WebSocket-Key",
        ));
    };
    if !header_has_token(headers, SEC_WEBSOCKET_PROTOCOL, PROTOCOL) {
        return Err(Status::bad_request(format!(
            "unable to upgrade connection: none of the offered subprotocols is supported (this server speaks {PROTOCOL})"
        )));
    }
    Ok(derive_accept_key(key.as_bytes()))
}

/// An accepted WebSocket handshake, before the 101 is sent.
#[derive(Debug)]
pub struct Upgrade {
    accept: String,
    on_upgrade: OnUpgrade,
}

impl Upgrade {
    /// Validates the handshake of `req` (a `v5.channel.k8s.io` WebSocket
    /// upgrade) and takes its pending upgrade. On error: a 400 `Status`
    /// for the router to send, on which kubectl falls back to SPDY and then
    /// prints it. Works with any body type (`hyper::body::Incoming` in the
    /// server); the connection must be served `with_upgrades()`.
    pub fn from_request<B>(req: &mut Request<B>) -> Result<Upgrade, Status> {
        let accept = check_handshake(req.headers())?;
        Ok(Upgrade {
            accept,
            on_upgrade: hyper::upgrade::on(req),
        })
    }

    /// The `101 Switching Protocols` reply (any body type with a
    /// `Default`, e.g. `Full<Bytes>`, `Empty<Bytes>`, `BoxBody`).
    pub fn response<B: Default>(&self) -> Response<B> {
        let mut r = Response::new(B::default());
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(
            SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(&self.accept).expect("base64 is a header value"),
        );
        h.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(PROTOCOL));
        r
    }

    /// Waits for hyper to hand over the connection (after the 101 went
    /// out) and wraps it as a server WebSocket.
    pub async fn websocket(self) -> io::Result<WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>> {
        let upgraded = self.on_upgrade.await.map_err(io::Error::other)?;
        Ok(WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await)
    }

    /// The 101 reply; the exec runs in a spawned task once the connection
    /// is upgraded (the session is killed if the upgrade fails).
    pub fn exec<B: Default>(self, session: Session, streams: Streams) -> Response<B> {
        let r = self.response();
        tokio::spawn(async move {
            if let Ok(ws) = self.websocket().await {
                let _ = serve_exec(ws, session, streams).await;
            }
        });
        r
    }

    /// The 101 reply; the attachment is served in a spawned task.
    pub fn attach<B: Default>(self, attachment: Attachment, streams: Streams) -> Response<B> {
        let r = self.response();
        tokio::spawn(async move {
            if let Ok(ws) = self.websocket().await {
                let _ = serve_attach(ws, attachment, streams).await;
            }
        });
        r
    }
}

/// The channel-3 status of an exec that ended with `code`.
pub fn exit_status(code: i32) -> Value {
    if code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("command terminated with non-zero exit code: exit status {code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        })
    }
}

/// The channel-3 status of an error (e.g. the process could not run).
pub fn error_status(message: &str) -> Value {
    json!({"metadata": {}, "status": "Failure", "message": message})
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::Binary(Bytes::from(v))
}

#[derive(Deserialize)]
struct Resize {
    #[serde(rename = "Width")]
    width: u16,
    #[serde(rename = "Height")]
    height: u16,
}

/// What a served stream is connected to: an exec'd session or an
/// attachment.
trait Target {
    async fn next_output(&mut self) -> Option<Output>;
    fn input(&self) -> Option<Input>;
    /// The channel-3 status, once the output ended.
    async fn finish(&mut self) -> Value;
    /// The client closed stdin or left.
    async fn stdin_closed(&mut self);
}

struct ExecTarget(Session);

impl Target for ExecTarget {
    async fn next_output(&mut self) -> Option<Output> {
        self.0.read_output().await
    }
    fn input(&self) -> Option<Input> {
        Some(self.0.input())
    }
    async fn finish(&mut self) -> Value {
        match self.0.wait().await {
            Ok(code) => exit_status(code),
            Err(e) => error_status(&e.to_string()),
        }
    }
    async fn stdin_closed(&mut self) {
        self.0.close_stdin().await
    }
}

struct AttachTarget(Attachment);

impl Target for AttachTarget {
    async fn next_output(&mut self) -> Option<Output> {
        self.0.read_output().await
    }
    fn input(&self) -> Option<Input> {
        self.0.input().cloned()
    }
    async fn finish(&mut self) -> Value {
        // The exit code travels in the pod's status: a NonZeroExitCode here
        // would make kubectl fall back to streaming the logs.
        exit_status(0)
    }
    async fn stdin_closed(&mut self) {
        self.0.detach_stdin().await
    }
}

/// Serves an exec: the session's output to the client, the client's
/// stdin and resizes to the session; when the process exits, its exit
/// status on channel 3 and a close frame. If the client goes away first,
/// the session is dropped, which kills the process.
pub async fn serve_exec<S>(
    ws: WebSocketStream<S>,
    session: Session,
    streams: Streams,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut target = ExecTarget(session);
    if !streams.stdin {
        target.stdin_closed().await;
    }
    serve(ws, &mut target, streams).await
}

/// Serves an attachment: like [`serve_exec`], but the process lives on
/// when the client leaves, it starts with the replay of the latest
/// output, and channel 3 always says `Success`.
pub async fn serve_attach<S>(
    ws: WebSocketStream<S>,
    mut attachment: Attachment,
    streams: Streams,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let replay = attachment.take_replay();
    let mut target = AttachTarget(attachment);
    if !streams.stdin {
        target.stdin_closed().await;
    }
    let mut ws = ws;
    if streams.stdout && !replay.is_empty() {
        ws.send(frame(STDOUT, &replay))
            .await
            .map_err(io::Error::other)?;
    }
    let r = serve(ws, &mut target, streams).await;
    target.stdin_closed().await;
    r
}

async fn serve<S, T>(mut ws: WebSocketStream<S>, target: &mut T, streams: Streams) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: Target,
{
    let mut input = if streams.stdin { target.input() } else { None };
    loop {
        tokio::select! {
            out = target.next_output() => {
                let Some(out) = out else { break };
                let channel = match (out.stream, streams.tty) {
                    (Stream::Stdout, _) | (Stream::Stderr, true) => STDOUT,
                    (Stream::Stderr, false) => STDERR,
                };
                let wanted = if channel == STDOUT { streams.stdout } else { streams.stderr };
                if wanted {
                    ws.send(frame(channel, &out.data)).await.map_err(io::Error::other)?;
                }
            }
            msg = ws.next() => {
                match msg {
                    Some(Ok(Message::Binary(data))) => {
                        handle_frame(&data, &mut input, target).await;
                    }
                    Some(Ok(Message::Ping(_))) => {
                        // tungstenite queued the pong; send it now.
                        ws.flush().await.map_err(io::Error::other)?;
                    }
                    Some(Ok(_)) => {}
                    // The client left (or closed): drop the target.
                    Some(Err(_)) | None => return Ok(()),
                }
            }
        }
    }
    let status = target.finish().await;
    let body = serde_json::to_vec(&status).expect("JSON");
    ws.send(frame(ERROR, &body))
        .await
        .map_err(io::Error::other)?;
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    })))
    .await
    .map_err(io::Error::other)?;
    // Read until the client's close frame (answered by tungstenite) or a
    // short while.
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    Ok(())
}

async fn handle_frame<T: Target>(data: &[u8], input: &mut Option<Input>, target: &mut T) {
    let Some((&channel, payload)) = data.split_first() else {
        return;
    };
    match channel {
        STDIN => {
            if let Some(i) = input {
                if !payload.is_empty() && i.write(Bytes::copy_from_slice(payload)).await.is_err() {
                    *input = None;
                }
            }
        }
        RESIZE => {
            if let Some(i) = target.input() {
                let sizes = serde_json::Deserializer::from_slice(payload).into_iter::<Resize>();
                for s in sizes.map_while(Result::ok) {
                    let _ = i
                        .resize(TermSize {
                            cols: s.width,
                            rows: s.height,
                        })
                        .await;
                }
            }
        }
        CLOSE if payload.first() == Some(&STDIN) => {
            let had = input.take();
            if had.is_some() {
                target.stdin_closed().await;
            }
        }
        _ => {}
    }
}
