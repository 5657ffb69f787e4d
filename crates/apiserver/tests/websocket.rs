//! The v5.channel.k8s.io protocol end to end: a hyper server on
//! 127.0.0.1 and a tokio-tungstenite client, over real TCP.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use palisade_apiserver::session::{AttachOptions, Attachable, Session, Spec};
use palisade_apiserver::websocket::{ExecParams, Upgrade, PROTOCOL};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async, WebSocketStream};

const LIMIT: Duration = Duration::from_secs(10);

/// `/exec?command=...`: the command on a pty or pipes; `/attach`: a
/// fresh attachable `sh -c 'read x; echo got $x; exit 5'`.
async fn route(mut req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let reply = (|| {
        let params = ExecParams::from_query(&query, path == "/exec")?;
        let upgrade = Upgrade::from_request(&mut req)?;
        if path == "/exec" {
            let spec = Spec::new(&params.command[0]).args(&params.command[1..]);
            let session = if params.tty {
                Session::spawn_pty(&spec, None)
            } else {
                Session::spawn_pipes(&spec)
            }
            .map_err(|e| palisade_apimachinery::status::Status::internal(e.to_string()))?;
            Ok(upgrade.exec(session, params.streams()))
        } else {
            let log = std::env::temp_dir().join(format!("palisade-ws-{}.log", std::process::id()));
            let session =
                Session::spawn_pipes(&Spec::new("sh").arg("-c").arg("read x; echo got $x; exit 5"))
                    .unwrap();
            let a = Attachable::start(session, &log, AttachOptions::default()).unwrap();
            let at = a.attach(params.stdin);
            // Keep the attachable alive until its process ends.
            tokio::spawn(async move {
                let _ = a.wait().await;
            });
            Ok(upgrade.attach(at, params.streams()))
        }
    })();
    Ok(
        reply.unwrap_or_else(|s: palisade_apimachinery::status::Status| {
            let mut r = Response::new(Full::new(Bytes::from(s.to_json().to_string())));
            *r.status_mut() = hyper::StatusCode::from_u16(s.code).unwrap();
            r
        }),
    )
}

async fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service_fn(route))
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

async fn connect(addr: SocketAddr, path: &str) -> WebSocketStream<TcpStream> {
    let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", PROTOCOL.parse().unwrap());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, resp) = client_async(req, tcp).await.expect("handshake");
    assert_eq!(resp.status(), 101);
    assert_eq!(resp.headers()["Sec-WebSocket-Protocol"], PROTOCOL);
    ws
}

async fn send(ws: &mut WebSocketStream<TcpStream>, channel: u8, data: &[u8]) {
    let mut v = vec![channel];
    v.extend_from_slice(data);
    ws.send(Message::Binary(v.into())).await.unwrap();
}

/// What the server sent, per channel, until its close frame.
#[derive(Debug, Default)]
struct Received {
    stdout: String,
    stderr: String,
    status: Option<Value>,
    close: Option<CloseCode>,
}

/// Reads until `stdout` contains `needle` (or, with `None`, until the
/// close frame).
async fn receive(ws: &mut WebSocketStream<TcpStream>, got: &mut Received, needle: Option<&str>) {
    tokio::time::timeout(LIMIT, async {
        while let Some(msg) = ws.next().await {
            match msg.unwrap() {
                Message::Binary(b) => {
                    let text = String::from_utf8_lossy(&b[1..]).into_owned();
                    match b[0] {
                        1 => got.stdout.push_str(&text),
                        2 => got.stderr.push_str(&text),
                        3 => got.status = Some(serde_json::from_slice(&b[1..]).unwrap()),
                        c => panic!("channel {c}"),
                    }
                }
                Message::Close(f) => {
                    got.close = f.map(|f| f.code);
                    return;
                }
                m => panic!("unexpected {m:?}"),
            }
            if needle.is_some_and(|n| got.stdout.contains(n)) {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out: {got:?}"));
}

#[tokio::test]
async fn exec_tty_resize_and_exit_3() {
    let addr = server().await;
    let mut ws = connect(addr, "/exec?command=sh&stdin=true&stdout=true&tty=true").await;
    let mut got = Received::default();
    send(&mut ws, 4, br#"{"Width":101,"Height":31}"#).await;
    send(&mut ws, 4, b"\n").await;
    send(&mut ws, 0, b"stty size\r").await;
    receive(&mut ws, &mut got, Some("31 101")).await;
    send(&mut ws, 0, b"echo $((6*7))x\r").await;
    receive(&mut ws, &mut got, Some("42x")).await;
    send(&mut ws, 0, b"exit 3\r").await;
    receive(&mut ws, &mut got, None).await;
    let status = got.status.expect("channel 3");
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "3");
    assert_eq!(got.close, Some(CloseCode::Normal));
    assert_eq!(got.stderr, "");
}

#[tokio::test]
async fn exec_pipes_stdin_half_close_ping_and_success() {
    let addr = server().await;
    let mut ws = connect(addr, "/exec?command=cat&stdin=true&stdout=true&stderr=true").await;
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .unwrap();
    let pong = tokio::time::timeout(LIMIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(Bytes::from_static(b"are you there")));
    let mut got = Received::default();
    send(&mut ws, 0, b"hello\n").await;
    receive(&mut ws, &mut got, Some("hello\n")).await;
    send(&mut ws, 255, &[0]).await;
    receive(&mut ws, &mut got, None).await;
    assert_eq!(got.stdout, "hello\n");
    assert_eq!(
        got.status.unwrap(),
        serde_json::json!({"metadata": {}, "status": "Success"})
    );
    assert_eq!(got.close, Some(CloseCode::Normal));
}

#[tokio::test]
async fn exec_without_tty_sends_stderr_on_channel_2() {
    let addr = server().await;
    let mut ws = connect(
        addr,
        "/exec?command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262&stdout=true&stderr=true",
    )
    .await;
    let mut got = Received::default();
    receive(&mut ws, &mut got, None).await;
    assert_eq!(got.stdout, "out\n");
    assert_eq!(got.stderr, "err\n");
    assert_eq!(got.status.unwrap()["status"], "Success");
}

#[tokio::test]
async fn attach_always_reports_success() {
    let addr = server().await;
    let mut ws = connect(addr, "/attach?stdin=true&stdout=true&stderr=true").await;
    let mut got = Received::default();
    send(&mut ws, 0, b"hi\n").await;
    receive(&mut ws, &mut got, None).await;
    assert_eq!(got.stdout, "got hi\n");
    // The shell exited 5; the code travels in the pod status, not here.
    assert_eq!(got.status.unwrap()["status"], "Success");
    assert_eq!(got.close, Some(CloseCode::Normal));
}

#[tokio::test]
async fn handshake_without_v5_is_a_400_status() {
    let addr = server().await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"GET /exec?command=sh&stdin=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(LIMIT, tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]);
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    let body: Value = serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "BadRequest");
    assert!(body["message"].as_str().unwrap().contains(PROTOCOL));
}
