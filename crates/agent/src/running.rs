//! Wiring: the API client, the tasks of a running agent, signals, cleanup.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use palisade_compile::LocalPods;
use palisade_nft::Nft;
use palisade_reconcile::Reconciler;
use tokio::sync::watch as signal;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::apply::Applier;
use crate::backoff::Backoff;
use crate::bridge;
use crate::config::Config;
use crate::convert::Watched;
use crate::dashboard;
use crate::engine::{Engine, Timing};
use crate::failclosed::FailClosed;
use crate::flows::Flows;
use crate::health::Health;
use crate::http::{self, Endpoints};
use crate::metrics::Metrics;
use crate::shared::{Shared, SharedRef};
use crate::source::CacheSource;
use crate::watch::{self, WatchCtx};

/// The first reconnect delay; doubles up to `--max-backoff`.
const MIN_BACKOFF: Duration = Duration::from_millis(500);

/// A running agent: its tasks, its HTTP address, and how to stop it.
#[derive(Debug)]
pub struct Running {
    /// Where `/metrics`, `/healthz`, `/readyz` and `/flows` are served.
    pub http_addr: SocketAddr,
    /// Where the dashboard is served (`--dashboard-listen`), if it is.
    pub dashboard_addr: Option<SocketAddr>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub shared: SharedRef,
    pub flows: Arc<Flows>,
    stop: signal::Sender<bool>,
    flows_stop: Arc<AtomicBool>,
    tasks: JoinSet<()>,
}

impl Running {
    /// Stops every task and waits for them. The table stays in place.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        self.flows_stop.store(true, Ordering::Relaxed);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Resolves when a task ends on its own (it should not).
    pub async fn task_ended(&mut self) {
        if self.tasks.join_next().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}

/// Builds the API client: `--kubeconfig` (and `--kube-context`) if given,
/// else in-cluster config, else `$KUBECONFIG` / `~/.kube/config`.
pub async fn client(config: &Config) -> anyhow::Result<Client> {
    // rustls needs one process-wide crypto provider; pin ring (an error
    // only means one is installed already).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = KubeConfigOptions {
        context: config.kube_context.clone(),
        ..KubeConfigOptions::default()
    };
    let kube_config = match &config.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &options).await?
        }
        None if config.kube_context.is_some() => kube::Config::from_kubeconfig(&options).await?,
        None => kube::Config::infer()
            .await
            .context("no in-cluster config and no kubeconfig")?,
    };
    Ok(Client::try_from(kube_config)?)
}

/// Starts an agent talking to the API through `client`: binds the HTTP
/// endpoint, starts the watches and the reconcile loop.
pub async fn start(config: Config, client: Client) -> anyhow::Result<Running> {
    let node = config
        .node_name
        .clone()
        .context("--node-name (or NODE_NAME) is required")?;
    let shared: SharedRef = Arc::new(Shared::default());
    let metrics = Arc::new(Metrics::new());
    let bridge = bridge::check();
    if bridge.bypassed() {
        warn!(bridge = %bridge, "same-bridge traffic bypasses NetworkPolicy");
    }
    metrics.bridge_bypass(bridge.bypassed());
    let health = Arc::new(Health::new(config.require_br_netfilter, bridge));
    // Fail-closed is armed before any list is read: until the first
    // program is in, unknown pod addresses (all of them on a fresh node)
    // are dropped, so an unreachable API server leaves the node closed.
    let mut applier = applier(&config, &node, &shared);
    if let Some(fc) = applier.failclosed.as_mut() {
        fc.arm().context("arming the fail-closed table")?;
        info!(
            table = config.failclosed_table(),
            "fail-closed armed: forwarded traffic of unknown pod addresses is dropped until the first sync"
        );
    }
    let listener = http::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let http_addr = listener.local_addr()?;
    let (stop, stopped) = signal::channel(false);
    let mut tasks = JoinSet::new();
    let flows = Arc::new(Flows::new(config.flow_ring_size));
    let flows_stop = Arc::new(AtomicBool::new(false));
    if config.flow_log {
        flows.start(config.netns.as_deref(), flows_stop.clone());
    }
    let endpoints = Endpoints {
        metrics: metrics.clone(),
        health: health.clone(),
        shared: shared.clone(),
        flows: flows.clone(),
        table: config.table.clone(),
        netns: config.netns.clone(),
        stop: stopped.clone(),
        counters: Default::default(),
        flows_access: config.flows_access,
        allowed_hosts: config.allowed_hosts.clone().into(),
    };
    tasks.spawn(http::serve(listener, endpoints, stopped.clone()));
    let mut dashboard_addr = None;
    if let Some(addr) = config.dashboard_listen.0 {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the dashboard to {addr}"))?;
        dashboard_addr = Some(listener.local_addr()?);
        let (shared, flows) = (shared.clone(), flows.clone());
        let hosts = config.allowed_hosts.clone();
        tasks.spawn(dashboard::serve(
            listener,
            shared,
            flows,
            hosts,
            stopped.clone(),
        ));
    }
    let watch = WatchCtx {
        client,
        shared: shared.clone(),
        metrics: metrics.clone(),
        backoff: Backoff::new(MIN_BACKOFF, config.max_backoff),
        stop: stopped.clone(),
    };
    spawn_watch::<Namespace>(&mut tasks, &health, &watch);
    spawn_watch::<Pod>(&mut tasks, &health, &watch);
    spawn_watch::<NetworkPolicy>(&mut tasks, &health, &watch);
    applier.flows = Some(flows.clone());
    let engine = Engine::new(
        applier,
        shared.clone(),
        metrics.clone(),
        health.clone(),
        Timing {
            coalesce: config.coalesce,
            resync: config.resync,
            drift_check: config.drift_check,
        },
    );
    tasks.spawn(engine.run(stopped));
    info!(node, table = config.table, http = %http_addr, "agent started; waiting for the caches to sync");
    Ok(Running {
        http_addr,
        dashboard_addr,
        metrics,
        health,
        shared,
        flows,
        stop,
        flows_stop,
        tasks,
    })
}

/// Starts the watch of `K`, registered with `health` as `watch <Kind>`.
fn spawn_watch<K: Watched>(tasks: &mut JoinSet<()>, health: &Arc<Health>, ctx: &WatchCtx) {
    let alive = health.task(K::TASK);
    let ctx = ctx.clone();
    tasks.spawn(async move {
        let _alive = alive;
        watch::run::<K>(ctx).await;
    });
}

fn applier(config: &Config, node: &str, shared: &SharedRef) -> Applier {
    let local = LocalPods::Node(node.to_string());
    let netns = config.netns.as_deref();
    let failclosed = config
        .fail_closed
        .then(|| FailClosed::new(&config.failclosed_table(), netns, config.pod_cidr.clone()));
    Applier {
        reconciler: Reconciler::new(Nft::new(&config.table, netns), local.clone()),
        source: CacheSource::new(shared.clone(), local),
        known: None,
        failclosed,
        flows: None,
        netns: config.netns.clone(),
        generation: None,
        drift: Vec::new(),
    }
}

/// Runs the agent until SIGTERM or SIGINT; with `--cleanup`, removes
/// palisade's tables instead and returns.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.cleanup {
        return cleanup(&config);
    }
    let client = client(&config).await?;
    let mut running = start(config, client).await?;
    let outcome = tokio::select! {
        signal = shutdown_signal() => {
            info!(signal = signal?, "stopping; the table stays in place");
            Ok(())
        }
        _ = running.task_ended() => Err(anyhow::anyhow!("a task of the agent ended unexpectedly")),
    };
    running.stop().await;
    outcome
}

async fn shutdown_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

/// Deletes palisade's table and the fail-closed table (if present).
pub fn cleanup(config: &Config) -> anyhow::Result<()> {
    let netns = config.netns.as_deref();
    for table in [config.table.clone(), config.failclosed_table()] {
        Nft::new(&table, netns)
            .delete_table()
            .with_context(|| format!("deleting table inet {table}"))?;
        info!(table, "deleted (if present)");
    }
    Ok(())
}
