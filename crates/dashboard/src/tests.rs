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
    let req = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
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
        b"POST /api/cluster HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
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
    s.write_all(b"GET /flows/stream?namespace=ns-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
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

/// One request with the given `Host` header line (none: `""`); the raw response.
async fn get_with_host(addr: std::net::SocketAddr, target: &str, host: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\n{host}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn a_rebound_host_name_is_refused() {
    let (addr, _stop) = start(Arc::new(StaticSource::new(walkthrough(&[])))).await;
    let port = addr.port();
    for target in ["/api/cluster", "/flows", "/"] {
        let rebound = format!("Host: attacker.example:{port}\r\n");
        let refused = get_with_host(addr, target, &rebound).await;
        assert_eq!(status(&refused), "421", "{target}: {refused}");
        assert!(!refused.contains("busybox"), "{refused}");
    }
    assert_eq!(
        status(&get_with_host(addr, "/", "").await),
        "421",
        "no Host"
    );
    // Absolute form names the host too.
    let absolute = format!("http://attacker.example:{port}/api/cluster");
    let refused = get_with_host(addr, &absolute, &format!("Host: 127.0.0.1:{port}\r\n")).await;
    assert_eq!(status(&refused), "421");
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "localhost:8080".into(),
        format!("[::1]:{port}"),
    ] {
        let ok = get_with_host(addr, "/api/cluster", &format!("Host: {host}\r\n")).await;
        assert_eq!(status(&ok), "200", "{host}");
    }
}

#[tokio::test]
async fn configured_host_names_are_answered() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop_tx, stop) = watch::channel(false);
    let options = crate::Options {
        allowed_hosts: vec!["palisade.example.org".into()],
        ..Default::default()
    };
    let source = Arc::new(StaticSource::new(walkthrough(&[])));
    tokio::spawn(crate::serve_with(listener, source, stop, options));
    let named = get_with_host(addr, "/api/cluster", "Host: palisade.example.org\r\n").await;
    assert_eq!(status(&named), "200");
    let other = get_with_host(addr, "/api/cluster", "Host: other.example.org\r\n").await;
    assert_eq!(status(&other), "421");
}

/// Reads until the peer closes (`Ok`) or `within` passes (`Err`).
async fn closed_within(s: &mut TcpStream, within: Duration) -> Result<Duration, ()> {
    let start = tokio::time::Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(start + within, s.read(&mut buf)).await {
            Err(_) => return Err(()),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_slowloris_client_is_disconnected_within_the_header_timeout() {
    let (addr, _stop) = start(Arc::new(StaticSource::new(walkthrough(&[])))).await;
    let timeout = crate::Limits::default().header_read_timeout;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let trickle = tokio::spawn(async move {
        // One header byte every 200 ms: never a whole head.
        for _ in 0..200 {
            if slow.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        slow
    });
    let bound = timeout + Duration::from_secs(2);
    let idle_closed = closed_within(&mut idle, bound).await;
    assert!(
        idle_closed.is_ok(),
        "an idle connection stayed open past {bound:?}"
    );
    let mut slow = trickle.await.unwrap();
    let slow_closed = closed_within(&mut slow, Duration::from_secs(1)).await;
    assert!(
        slow_closed.is_ok(),
        "a slow head stayed open past {bound:?}"
    );
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_ends() {
    let (addr, _stop) = start(Arc::new(StaticSource::new(walkthrough(&[])))).await;
    let cap = crate::Limits::default().max_connections;
    let mut held = Vec::new();
    for _ in 0..cap {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    // The kernel completes the handshake (backlog); the server must not serve it yet.
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let req = "GET /api/cluster HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    extra.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 16];
    let early = tokio::time::timeout(Duration::from_millis(500), extra.read(&mut buf)).await;
    assert!(early.is_err(), "connection {} served past the cap", cap + 1);
    held.pop();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(3), extra.read_to_string(&mut out))
        .await
        .expect("served once a connection ended")
        .unwrap();
    assert_eq!(status(&out), "200");
}

const EMFILE_CHILD: &str = "PALISADE_TEST_EMFILE_CHILD";

/// The process's CPU time so far (user + system), from an open `/proc/self/stat`.
fn cpu_ticks(stat: &mut std::fs::File) -> u64 {
    use std::io::{Read, Seek};
    let mut text = String::new();
    stat.seek(std::io::SeekFrom::Start(0)).unwrap();
    stat.read_to_string(&mut text).unwrap();
    let after = &text[text.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Out of file descriptors, the accept loop sleeps between attempts (it
/// spun a core before) and serves again once descriptors are free. Run in
/// a child process under `ulimit -n 128` so that no other test runs out.
#[test]
fn the_accept_loop_backs_off_at_the_descriptor_limit() {
    if std::env::var_os(EMFILE_CHILD).is_some() {
        return emfile_child();
    }
    let exe = std::env::current_exe().unwrap();
    let name = "tests::the_accept_loop_backs_off_at_the_descriptor_limit";
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -n 128 && exec \"$0\" \"$@\""])
        .arg(exe)
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(EMFILE_CHILD, "1")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

fn emfile_child() {
    use std::io::{Read, Write};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stat = std::fs::File::open("/proc/self/stat").unwrap();
    let (addr, _stop) = runtime.block_on(start(Arc::new(StaticSource::new(walkthrough(&[])))));
    // Connected before the table fills: they wait in the listen backlog.
    let mut clients: Vec<std::net::TcpStream> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let mut fill = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => fill.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(24), "EMFILE expected: {e}");
                break;
            }
        }
    }
    let before = cpu_ticks(&mut stat);
    runtime.block_on(async { tokio::time::sleep(Duration::from_secs(1)).await });
    let spent = cpu_ticks(&mut stat) - before;
    // 100 ticks a second is a spinning core; a backing-off loop uses ~0.
    assert!(spent < 20, "{spent} ticks of CPU in 1 s at EMFILE");
    drop(fill);
    let client = &mut clients[0];
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let req = "GET /api/cluster HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    client.write_all(req.as_bytes()).unwrap();
    let answered = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut out = String::new();
            client.read_to_string(&mut out).map(|_| out)
        });
        runtime.block_on(async {
            while !reader.is_finished() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        reader.join().unwrap()
    });
    let answered = answered.expect("answered once descriptors are free");
    assert_eq!(status(&answered), "200", "{answered}");
}
