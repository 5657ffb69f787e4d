//! The denied-flow log and the per-policy counters of a running agent,
//! against the fake API server and real nftables in the test's own
//! network namespace (root-gated).
//!
//! A denied packet without any veth: web's address is put on the test
//! namespace's loopback and web is isolated for egress with no rule, so a
//! datagram web -> web crosses the input hook's egress dispatch and is
//! dropped (and logged) by web's egress chain.

#[allow(dead_code)]
mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::{eventually, get, get_at, ingress_chain, metric, World, WEB};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn ip_netns(ns: &str, args: &[&str]) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .expect("ip netns exec");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_flows_on_flows_stream_and_metrics() {
    let Some(world) = World::new().await else {
        return;
    };
    let mut config = world.config();
    config.dashboard_listen = palisade_agent::config::Listen(Some(([127, 0, 0, 1], 0).into()));
    let agent = world.agent(config).await;
    eventually("the first program", || ingress_chain(&world.table()?, WEB)).await;
    let deny_egress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "web-no-egress", "namespace": "ns-1"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]}});
    world.api.apply("networkpolicies", deny_egress);
    eventually("web's egress dispatched", || {
        let t = world.table()?;
        t.maps.get("egress4")?.elements.get(WEB).cloned()
    })
    .await;

    // Subscribe before the denial.
    let mut sse = tokio::net::TcpStream::connect(agent.http_addr)
        .await
        .unwrap();
    sse.write_all(b"GET /flows/stream?namespace=ns-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();

    let ns = world.ns.name.clone();
    ip_netns(&ns, &["ip", "link", "set", "lo", "up"]);
    ip_netns(
        &ns,
        &["ip", "addr", "add", &format!("{WEB}/32"), "dev", "lo"],
    );
    ip_netns(
        &ns,
        &["bash", "-c", &format!("echo hi > /dev/udp/{WEB}/9999")],
    );

    let started = std::time::Instant::now();
    let records = loop {
        let body = get(&agent, "/flows?namespace=ns-1&limit=10").await.1;
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let flows = v["flows"].as_array().expect("flows").clone();
        if !flows.is_empty() {
            break flows;
        }
        assert!(started.elapsed() < support::DEADLINE, "no denial on /flows");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("denied packet -> /flows: {:?}", started.elapsed());
    let r = &records[0];
    assert_eq!(r["mode"], "deny");
    assert_eq!(r["direction"], "egress");
    assert_eq!(r["protocol"], "UDP");
    assert_eq!(r["src"]["pod"], "web");
    assert_eq!(r["dst"]["port"], 9999);
    assert_eq!(r["policies"], json!(["ns-1/web-no-egress"]));

    let (_, other) = get(&agent, "/flows?namespace=ns-2").await;
    assert_eq!(other, r#"{"flows":[]}"#);
    let (code, _) = get(&agent, "/flows?since=yesterday").await;
    assert_eq!(code, 400);

    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while !seen.contains("\n\n") || !seen.contains("event: flow") {
            let n = sse.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream closed: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await;
    assert!(read.is_ok(), "no flow event on the stream: {seen}");
    assert!(seen.contains("content-type: text/event-stream"), "{seen}");
    assert!(seen.contains("data: {\"time\":"), "{seen}");
    assert!(seen.contains("ns-1/web-no-egress"), "{seen}");

    // The dashboard serves the page, the cluster and the same record.
    let dash = agent.dashboard_addr.expect("dashboard on");
    let (code, page) = get_at(dash, "/").await;
    assert_eq!(code, 200);
    assert!(
        page.contains("<html") || page.contains("<!doctype"),
        "{page}"
    );
    let (code, cluster) = get_at(dash, "/api/cluster").await;
    assert_eq!(code, 200, "{cluster}");
    assert!(
        cluster.contains("web-no-egress") && cluster.contains("\"web\""),
        "{cluster}"
    );
    let (code, flows) = get_at(dash, "/flows?namespace=ns-1").await;
    assert_eq!(code, 200);
    assert!(flows.contains("ns-1/web-no-egress"), "{flows}");

    let (_, metrics) = get(&agent, "/metrics").await;
    let denied = metric(
        &metrics,
        "palisade_policy_denied_packets_total{namespace=\"ns-1\",policy=\"web-no-egress\",direction=\"egress\"}",
    );
    assert!(denied >= 1.0, "{metrics}");
    assert!(metrics.contains("palisade_policy_allowed_packets_total{namespace=\"ns-1\",policy=\"web-from-team-a\",direction=\"ingress\"} 0"), "{metrics}");
    assert!(metrics.trim_end().ends_with("# EOF"), "{metrics}");
    agent.stop().await;
}
