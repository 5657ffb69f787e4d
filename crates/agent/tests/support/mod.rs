//! The test harness: a fake API server, a network namespace whose nftables
//! the agent programs, and helpers to read the kernel's table back.

pub mod fake_api;
pub mod netns;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use palisade_agent::{Config, Running};
use palisade_nft::element::{addr_value, Element};
use palisade_nft::{Nft, TableState};
use serde_json::json;

use fake_api::objects::{namespace, pod, policy};
use fake_api::FakeApi;
use netns::Netns;

pub const TABLE: &str = "palisade";
pub const NODE: &str = "node-1";
pub const WEB: &str = "10.0.1.1";
pub const DB: &str = "10.0.1.2";
pub const CLIENT: &str = "10.0.2.1";

/// How long any expected change may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// One test's world: the fake API, the network namespace, a kubeconfig.
#[derive(Debug)]
pub struct World {
    pub api: FakeApi,
    pub ns: Netns,
    pub kubeconfig: PathBuf,
}

impl World {
    /// A fake API serving the standard objects (see [`World::populate`]),
    /// or `None` when the kernel tests cannot run here.
    pub async fn new() -> Option<Self> {
        if !netns::kernel_available() {
            return None;
        }
        init_logs();
        let ns = Netns::new();
        let api = FakeApi::start().await;
        let kubeconfig = std::env::temp_dir().join(format!("{}.kubeconfig", ns.name));
        let world = Self {
            api,
            ns,
            kubeconfig,
        };
        world.write_kubeconfig();
        world.populate();
        Some(world)
    }

    fn write_kubeconfig(&self) {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{}\n\
             users:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n\
             current-context: fake\n",
            self.api.addr
        );
        std::fs::write(&self.kubeconfig, text).expect("write kubeconfig");
    }

    /// ns-1 (team=a) with web (app=web) and db (app=db) on our node; ns-2
    /// (team=b) with client on another node; ns-1/web-from-team-a isolates
    /// web, allowing port 8080 from namespaces labelled team=a.
    pub fn populate(&self) {
        let api = &self.api;
        api.apply("namespaces", namespace("ns-1", json!({"team": "a"})));
        api.apply("namespaces", namespace("ns-2", json!({"team": "b"})));
        api.apply("pods", pod("ns-1", "web", json!({"app": "web"}), NODE, WEB));
        api.apply("pods", pod("ns-1", "db", json!({"app": "db"}), NODE, DB));
        api.apply(
            "pods",
            pod("ns-2", "client", json!({"app": "client"}), "node-2", CLIENT),
        );
        let from = json!([{"namespaceSelector": {"matchLabels": {"team": "a"}}}]);
        api.apply(
            "networkpolicies",
            policy("ns-1", "web-from-team-a", "web", from),
        );
    }

    /// The agent's configuration for this world.
    pub fn config(&self) -> Config {
        let mut config = Config::for_node(NODE);
        config.kubeconfig = Some(self.kubeconfig.clone());
        config.netns = Some(self.ns.name.clone());
        config.coalesce = Duration::from_millis(50);
        config.max_backoff = Duration::from_secs(1);
        config
    }

    /// Starts an agent with `config`.
    pub async fn agent(&self, config: Config) -> Running {
        let client = palisade_agent::client(&config).await.expect("client");
        palisade_agent::start(config, client).await.expect("start")
    }

    pub fn nft(&self) -> Nft {
        Nft::new(TABLE, Some(&self.ns.name))
    }

    /// The table as the kernel holds it (`None`: absent).
    pub fn table(&self) -> Option<TableState> {
        self.nft().read().expect("read the table back")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("palisade_agent=debug,kube_runtime=info")
        .try_init();
}

/// The chain `ip`'s ingress dispatches to, if any.
pub fn ingress_chain(state: &TableState, ip: &str) -> Option<String> {
    state.maps.get("ingress4")?.elements.get(ip).cloned()
}

/// Names of the address sets holding `ip`.
pub fn sets_with(state: &TableState, ip: &str) -> Vec<String> {
    let ip: IpAddr = ip.parse().expect("ip");
    let element = Element::single(&[addr_value(&ip)]);
    state
        .sets
        .iter()
        .filter(|(_, s)| s.key_type == "ipv4_addr" && s.elements.contains(&element))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Polls `check` every 10 ms until it returns `Some`, up to [`DEADLINE`];
/// returns the value and how long it took. Panics with `what` on timeout.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> (T, Duration) {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return (value, start.elapsed());
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `GET path` on the agent's HTTP endpoint: (status code, body).
pub async fn get(running: &Running, path: &str) -> (u16, String) {
    get_at(running.http_addr, path).await
}

/// `GET path` on `addr`: (status code, body).
pub async fn get_at(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let code = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

/// The value of the metric line starting with `prefix` (e.g.
/// `palisade_relists_total{kind="Pod"}`), 0 when absent.
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
