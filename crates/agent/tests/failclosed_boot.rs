//! Fail-closed before the first sync, on real packets: a node whose agent
//! cannot reach the API server drops forwarded pod-CIDR traffic until the
//! caches have synced and the first program is in, then traffic flows as
//! policy says; a restart with the API server down opens nothing. Root-gated
//! like the other kernel tests.

// The shared harness; this binary uses only part of it.
#[allow(dead_code)]
mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use palisade_lab::Node;
use support::fake_api::RESOURCES;
use support::{eventually, World, CLIENT, DB, WEB};

/// The lab node (a netns routing between pod netns), torn down on drop.
struct Lab {
    node: Node,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = palisade_lab::teardown(self.node.prefix());
    }
}

const PORT: u16 = 8080;
const UNKNOWN: &str = "10.0.1.9";

impl Lab {
    /// web, db (and an address no pod in the API has) with a TCP server on
    /// 8080 each, and client, wired to one node netns.
    fn new() -> Self {
        let prefix = format!("pfb{}x", std::process::id());
        let node = Node::create(&prefix).expect("lab node");
        let lab = Self { node };
        for (key, ip) in [("ns-1/web", WEB), ("ns-1/db", DB), ("ns-1/new", UNKNOWN)] {
            let pod = lab.node.add_pod(key, &[ip.parse().unwrap()]).expect("pod");
            let listener = palisade_lab::netns::in_netns(&pod.netns, || {
                TcpListener::bind(("0.0.0.0", PORT)).expect("bind")
            })
            .expect("netns");
            std::thread::spawn(move || for _ in listener.incoming() {});
        }
        lab.node
            .add_pod("ns-2/client", &[CLIENT.parse().unwrap()])
            .expect("client");
        lab
    }

    /// Whether a TCP connection from client to `ip`:8080 is established.
    fn connects(&self, ip: &str) -> bool {
        let addr = SocketAddr::new(ip.parse().unwrap(), PORT);
        palisade_lab::netns::in_netns(&self.node.pod_netns("ns-2/client"), || {
            TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
        })
        .expect("netns")
    }

    /// Asserts for `period` that client cannot reach `ip`.
    fn stays_blocked(&self, ip: &str, period: Duration, what: &str) {
        let start = Instant::now();
        while start.elapsed() < period {
            assert!(!self.connects(ip), "{what}: client reached {ip}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_holds_from_agent_start_until_the_first_sync() {
    let Some(mut world) = World::new().await else {
        return;
    };
    let lab = Lab::new();
    assert!(
        lab.connects(DB),
        "the lab routes client to db with no table"
    );
    // The API server refuses connections.
    world.api.stop().await;
    let mut config = world.config();
    config.netns = Some(lab.node.netns());
    config.fail_closed = true;
    config.pod_cidr = vec!["10.0.1.0/24".parse().unwrap()];
    let agent = world.agent(config.clone()).await;
    // Armed before `start` returned: nothing of the pod CIDR gets through.
    assert!(!lab.connects(DB), "db reachable right after agent start");
    lab.stays_blocked(DB, Duration::from_secs(2), "API server refusing");
    assert!(!agent.health.programmed());

    // The API server answers connections but hangs every LIST.
    for (plural, ..) in RESOURCES {
        world.api.hold_list(plural, true);
    }
    world.api.resume().await;
    lab.stays_blocked(DB, Duration::from_secs(2), "lists hanging");
    assert!(!agent.health.programmed());

    // The lists complete: the first program relaxes fail-closed, and the
    // traffic flows as policy says (db not isolated; web only from team=a).
    for (plural, ..) in RESOURCES {
        world.api.hold_list(plural, false);
    }
    eventually("db reachable after the first sync", || {
        lab.connects(DB).then_some(())
    })
    .await;
    assert!(agent.health.programmed());
    assert!(!lab.connects(WEB), "web is isolated: team=b is not allowed");
    assert!(!lab.connects(UNKNOWN), "no pod has 10.0.1.9: still dropped");
    agent.stop().await;

    // A restart with the API server down opens nothing and cuts nothing
    // known: the previous tables stay.
    world.api.stop().await;
    let agent = world.agent(config.clone()).await;
    assert!(
        lab.connects(DB),
        "a known pod stays reachable across a restart"
    );
    lab.stays_blocked(WEB, Duration::from_secs(1), "restart: web isolated");
    lab.stays_blocked(UNKNOWN, Duration::from_secs(1), "restart: unknown");
    agent.stop().await;
    palisade_agent::cleanup(&config).expect("cleanup");
}
