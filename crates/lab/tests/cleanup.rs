//! Teardown leaves nothing with the prefix; workloads are detached and stoppable.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{ip, Lab};
use palisade_lab::process::{self, ProcessHandle, ProcessSpec, Stopped};
use palisade_lab::{hosts, netns, teardown, Protocol, ServiceDnat, ServiceKey};

#[test]
fn helper() {
    common::helper_main();
}

#[test]
fn teardown_removes_every_trace() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let a = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    lab.node.add_pod("y/b", &[ip("10.0.2.2")]).unwrap();
    lab.node.add_external(ip("192.0.2.10")).unwrap();
    let key = ServiceKey {
        cluster_ip: ip("10.96.0.1"),
        protocol: Protocol::Tcp,
        port: 80,
    };
    lab.node
        .add_service(&ServiceDnat {
            key,
            backends: vec!["10.0.1.1:80".parse().unwrap()],
        })
        .unwrap();
    hosts::write(&a.netns, &[]).unwrap();
    let server = lab.start_helper(&a.netns, "serve");
    assert_eq!(netns::list_with_prefix(&lab.prefix).unwrap().len(), 4);

    let report = teardown(&lab.prefix).unwrap();
    assert_eq!(report.netns.len(), 4, "{report:?}");
    assert!(report.killed.contains(&server.pid), "{report:?}");
    assert!(netns::list_with_prefix(&lab.prefix).unwrap().is_empty());
    assert!(!hosts::hosts_path(&a.netns).parent().unwrap().exists());
    assert!(!server.is_alive());
    let root_links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&root_links.stdout).contains(&a.host_if));
    assert!(
        teardown(&lab.prefix).unwrap().netns.is_empty(),
        "a second teardown finds nothing"
    );
}

#[test]
fn removing_a_pod_kills_its_workloads_and_frees_its_address() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let a = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    let server = lab.start_helper(&a.netns, "serve");
    lab.node.remove_pod("x/a").unwrap();
    assert!(!netns::exists(&a.netns));
    std::thread::sleep(Duration::from_millis(50));
    assert!(!server.is_alive());
    let again = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    assert_eq!(again.host_if, a.host_if);
}

#[test]
fn workloads_outlive_their_starter_and_stop_on_request() {
    if !common::gate() {
        return;
    }
    let lab = Lab::new();
    let pod = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    let starter = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper", "--nocapture", "--test-threads=1"])
        .env(common::HELPER_ENV, format!("spawn-sleep:{}", pod.netns))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&starter.stdout);
    let json = stdout
        .lines()
        .find_map(|l| l.strip_prefix("HANDLE "))
        .expect("handle line");
    let handle: ProcessHandle = serde_json::from_str(json).unwrap();
    assert!(handle.is_alive(), "the workload died with its starter");
    // `ip netns exec` may not have joined the netns yet: wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while netns::pids(&pod.netns).unwrap() != [handle.pid] {
        assert!(
            std::time::Instant::now() < deadline,
            "workload never entered the pod"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        handle.stop(Duration::from_secs(2)).unwrap(),
        Stopped::Terminated
    );
    assert_eq!(
        handle.stop(Duration::from_secs(2)).unwrap(),
        Stopped::AlreadyGone
    );

    let stubborn = ProcessSpec {
        cwd: None,
        netns: pod.netns.clone(),
        program: "sh".into(),
        args: vec!["-c".into(), "trap '' TERM; echo started; sleep 600".into()],
        env: vec![],
        log: lab.logs.join("stubborn.log"),
    };
    let handle = process::spawn(&stubborn).unwrap();
    common::wait_for_line(&stubborn.log, "started", Duration::from_secs(5));
    assert_eq!(
        handle.stop(Duration::from_millis(200)).unwrap(),
        Stopped::Killed
    );
    assert!(!process::is_alive(handle.pid));
}
