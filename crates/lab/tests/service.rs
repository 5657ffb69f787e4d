//! A Service is DNAT in the node plus a hosts-file name in the client pod:
//! real resolution (`getent`), a real HTTP POST through the ClusterIP, and
//! UDP/SCTP probes to the ClusterIP that arrive in the backend pod.

mod common;

use std::time::Duration;

use common::{ip, outcomes, Lab};
use palisade_lab::probe::DEFAULT_TIMEOUT;
use palisade_lab::{
    hosts, http_client, in_netns, netns, probe_many, Outcome::*, ProbeSpec, Protocol,
};
use palisade_lab::{ServiceDnat, ServiceKey};

#[test]
fn helper() {
    common::helper_main();
}

fn key(protocol: Protocol, port: u16) -> ServiceKey {
    ServiceKey {
        cluster_ip: ip("10.96.0.10"),
        protocol,
        port,
    }
}

/// Runs this binary as `http-post` inside `netns`, like `ip netns exec POD wget -S --post-data`.
fn post_from(netns: &str, url: &str, data: &str) -> String {
    let output = netns::command(netns, std::env::current_exe().unwrap())
        .args(["--exact", "helper", "--nocapture", "--test-threads=1"])
        .env(common::HELPER_ENV, format!("http-post:{url}|{data}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    // Skip what the test harness itself printed before the helper ran.
    stdout
        .find("  HTTP/")
        .map_or(stdout.clone(), |start| stdout[start..].to_owned())
}

#[test]
fn service_dnat_hosts_file_and_http_echo() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let client = lab.node.add_pod("demo/busybox", &[ip("10.0.1.1")]).unwrap();
    let server = lab.node.add_pod("demo/echo", &[ip("10.0.1.2")]).unwrap();
    lab.start_helper(&server.netns, "http-echo:8080");
    lab.start_helper(&server.netns, "serve");
    let backend = |port| vec![format!("10.0.1.2:{port}").parse().unwrap()];
    for (protocol, target) in [
        (Protocol::Tcp, 8080),
        (Protocol::Udp, 80),
        (Protocol::Sctp, 81),
    ] {
        let svc = ServiceDnat {
            key: key(protocol, 80),
            backends: backend(target),
        };
        lab.node.add_service(&svc).unwrap();
    }

    let path = hosts::write(
        &client.netns,
        &[hosts::service_entry(ip("10.96.0.10"), "echo", "demo")],
    )
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("10.96.0.10\techo.demo.svc.cluster.local echo.demo.svc echo.demo\n"),
        "{text}"
    );
    let resolved = netns::exec(
        &client.netns,
        "getent",
        &["hosts", "echo.demo.svc.cluster.local"],
    )
    .unwrap();
    assert!(resolved.starts_with("10.96.0.10 "), "{resolved}");

    let out = post_from(
        &client.netns,
        "http://echo.demo.svc.cluster.local/test",
        "hello=lab",
    );
    assert!(
        out.starts_with("  HTTP/1.1 200 OK\n  Content-Type: application/json\n"),
        "{out}"
    );
    for needle in [
        "\"method\": \"POST\"",
        "\"path\": \"/test\"",
        "\"body\": \"hello=lab\"",
        "\"client\": \"10.0.1.1:",
    ] {
        assert!(out.contains(needle), "{needle} missing in:\n{out}");
    }

    let response = in_netns(&client.netns, || {
        http_client::probe("http://10.96.0.10/direct", None, Duration::from_secs(2))
    });
    let response = response.unwrap().unwrap();
    assert_eq!(response.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(json["method"], "GET");
    assert_eq!(json["headers"]["host"], "10.96.0.10");

    let probes: Vec<ProbeSpec> = Protocol::ALL
        .iter()
        .map(|&p| ProbeSpec::new(&client.netns, ip("10.96.0.10"), p, 80).to_netns(&server.netns))
        .collect();
    assert_eq!(
        outcomes(probe_many(&probes, DEFAULT_TIMEOUT)),
        [Reached, Reached, Reached]
    );

    lab.node.remove_service(&key(Protocol::Tcp, 80)).unwrap();
    assert_eq!(
        outcomes(probe_many(&probes, DEFAULT_TIMEOUT)),
        [Blocked, Reached, Reached]
    );
    let err = in_netns(&client.netns, || {
        http_client::probe("http://10.96.0.10/gone", None, Duration::from_millis(300))
    });
    assert_eq!(
        err.unwrap().unwrap_err().to_string(),
        "timed out after 300ms connecting to 10.96.0.10:80"
    );
    assert!(
        lab.node.remove_service(&key(Protocol::Tcp, 80)).is_err(),
        "removing twice must fail"
    );

    let log = std::fs::read_dir(&lab.logs)
        .unwrap()
        .map(|e| e.unwrap().path());
    let echo_log = log
        .filter(|p| p.to_string_lossy().contains("http-echo"))
        .collect::<Vec<_>>();
    let echo_log = std::fs::read_to_string(&echo_log[0]).unwrap();
    assert!(
        echo_log.contains(" 10.0.1.1:") && echo_log.contains(" POST /test 200 "),
        "{echo_log}"
    );
}

#[test]
fn several_backends_share_a_service_port() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let client = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    let b = lab.node.add_pod("x/b", &[ip("10.0.1.2")]).unwrap();
    let c = lab.node.add_pod("x/c", &[ip("10.0.1.3")]).unwrap();
    lab.start_helper(&b.netns, "serve");
    lab.start_helper(&c.netns, "serve");
    let backends = ["10.0.1.2:81", "10.0.1.3:81"]
        .map(|b| b.parse().unwrap())
        .to_vec();
    lab.node
        .add_service(&ServiceDnat {
            key: key(Protocol::Tcp, 80),
            backends,
        })
        .unwrap();
    let specs = vec![ProbeSpec::new(&client.netns, ip("10.96.0.10"), Protocol::Tcp, 80); 20];
    assert!(outcomes(probe_many(&specs, DEFAULT_TIMEOUT))
        .iter()
        .all(|o| *o == Reached));
}
