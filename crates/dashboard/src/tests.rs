//! The server end to end over real TCP on loopback: routing, content
//! types, errors, and the live stream.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};

use crate::api::tests::walkthrough;
use crate::flow::tests::record;
use crate::{FlowRecord, Source, StaticSource};

/// A source whose cluster is not known yet.
struct NotReady(crate::FlowLog);

impl Source for NotReady {
    fn cluster(&self) -> Option<Arc<palisade_model::Cluster>> {
        None
    }
    fn flows(&self, q: &crate::Query) -> Vec<FlowRecord> {
        self.0.query(q)
    }
    fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.0.subscribe()
    }
}

async fn start(source: Arc<dyn Source>) -> (std::net::SocketAddr, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(crate::serve(listener, source, stop));
    (addr, stop_tx)
}

/// One request, `Connection: close`; the raw response (head and body).
async fn get(addr: std::net::SocketAddr, target: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

fn status(resp: &str) -> &str {
    &resp[9..12]
}

fn header<'a>(resp: &'a str, name: &str) -> Option<&'a str> {
    let head = resp.split("\r\n\r\n").next()?;
    head.lines()
        .find_map(|l| {
            l.split_once(": ")
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        })
        .map(|(_, v)| v)
}

fn body_json(resp: &str) -> serde_json::Value {
    serde_json::from_str(resp.split_once("\r\n\r\n").unwrap().1).unwrap()
}

#[tokio::test]
async fn serves_the_page_and_the_api_with_their_content_types() {
    let (addr, _stop) = start(Arc::new(StaticSource::new(walkthrough(&[])))).await;
    let page = get(addr, "/").await;
    assert_eq!(status(&page), "200");
    assert_eq!(
        header(&page, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(header(&page, "content-security-policy")
        .unwrap()
        .contains("default-src 'self'"));
    let js = get(addr, "/assets/index.js").await;
    assert_eq!(
        header(&js, "content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let css = get(addr, "/assets/index.css").await;
    assert_eq!(
        header(&css, "content-type"),
        Some("text/css; charset=utf-8")
    );
    let cluster = body_json(&get(addr, "/api/cluster").await);
    assert_eq!(cluster["pods"][0]["name"], "busybox");
    assert_eq!(cluster["version"], 1);
    let graph = body_json(&get(addr, "/api/graph").await);
    assert_eq!(graph["version"], 1, "same cluster, same version");
    assert_eq!(graph["edges"].as_array().unwrap().len(), 2);
    let pod = body_json(&get(addr, "/api/pod?namespace=ns-1&name=http-echo").await);
    assert_eq!(pod["pod"]["ips"][0], "10.244.1.10");
    let q = "/api/explain?from=ns-1%2Fbusybox&to=ns-1%2Fhttp-echo&port=80&protocol=TCP";
    let explained = body_json(&get(addr, q).await);
    assert_eq!(explained["allowed"], true);
    assert!(explained["text"]
        .as_str()
        .unwrap()
        .starts_with("ns-1/busybox -> ns-1/http-echo 80/TCP: ALLOWED"));
}

#[tokio::test]
async fn errors_have_a_status_and_a_reason() {
    let (addr, _stop) = start(Arc::new(StaticSource::new(walkthrough(&[])))).await;
    let missing = get(addr, "/api/pod?namespace=ns-1").await;
    assert_eq!(status(&missing), "400");
    assert_eq!(
        body_json(&missing)["error"],
        "missing query parameter \"name\""
    );
    let nopod = get(addr, "/api/pod?namespace=ns-1&name=x").await;
    assert_eq!(status(&nopod), "404");
    assert_eq!(status(&get(addr, "/flows?since=soon").await), "400");
    assert_eq!(status(&get(addr, "/nothing").await), "404");
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /api/cluster HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert_eq!(status(&out), "405");

    let (addr, _stop) = start(Arc::new(NotReady(crate::FlowLog::new(4)))).await;
    let not_ready = get(addr, "/api/graph").await;
    assert_eq!(status(&not_ready), "503");
    assert!(body_json(&not_ready)["error"]
        .as_str()
        .unwrap()
        .contains("not known yet"));
}

#[tokio::test]
async fn flows_are_listed_filtered_and_streamed_live() {
    let source = Arc::new(StaticSource::new(walkthrough(&[])));
    source
        .log
        .push(record("2026-11-24T20:00:00Z", Some("ns-1"), "ns-1"));
    source
        .log
        .push(record("2026-11-24T20:00:01Z", None, "other"));
    let (addr, _stop) = start(source.clone()).await;
    let all = body_json(&get(addr, "/flows").await);
    assert_eq!(all["flows"].as_array().unwrap().len(), 2);
    let ns1 = body_json(&get(addr, "/flows?namespace=ns-1").await);
    assert_eq!(ns1["flows"].as_array().unwrap().len(), 1);
    assert_eq!(ns1["flows"][0]["policies"][0], "ns-1/deny-all-by-default");

    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /flows/stream?namespace=ns-1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let head = read_until(&mut s, ": flows\n\n").await;
    assert_eq!(header(&head, "content-type"), Some("text/event-stream"));
    source
        .log
        .push(record("2026-11-24T20:00:02Z", None, "other"));
    source
        .log
        .push(record("2026-11-24T20:00:03Z", Some("ns-1"), "ns-1"));
    let events = read_until(&mut s, "\n\n").await;
    let data = events
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    assert!(events.contains("event: flow\n"), "{events}");
    let got: FlowRecord = serde_json::from_str(data).unwrap();
    assert_eq!(
        got.time,
        palisade_flowlog::Timestamp(1_795_550_403_000),
        "the other namespace's record is filtered out"
    );
}

/// Reads until `end` has been received (chunked framing included), or fails after 5 s.
async fn read_until(s: &mut TcpStream, end: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&got).contains(end) {
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf))
            .await
            .expect("timed out waiting for the stream")
            .unwrap();
        assert!(n > 0, "stream closed");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}
