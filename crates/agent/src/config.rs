//! The agent's command line: every flag has an environment variable, so a
//! DaemonSet can configure it either way.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

pub use crate::http::FlowsAccess;

/// Run the node agent: enforce NetworkPolicies on this node with nftables.
///
/// Watches Pods, Namespaces and NetworkPolicies through the Kubernetes API
/// (in-cluster config, or a kubeconfig), and keeps the nftables table of
/// this node in line with them. Nothing is programmed before every watched
/// cache has completed its initial list; on restart the table is left in
/// place and reconciled, so a restart never opens traffic.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// The node whose pods are enforced (pods with `spec.nodeName` equal to
    /// it); pods on other nodes only feed the peer sets. Set it from the
    /// downward API (`spec.nodeName`).
    #[arg(long, env = "NODE_NAME", required_unless_present = "cleanup")]
    pub node_name: Option<String>,

    /// Kubeconfig to use when running outside the cluster. Without it: the
    /// in-cluster service account, else `$KUBECONFIG` or `~/.kube/config`.
    #[arg(long, env = "PALISADE_KUBECONFIG", value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: its current context).
    #[arg(long, env = "PALISADE_KUBE_CONTEXT", value_name = "NAME")]
    pub kube_context: Option<String>,

    /// The nftables table (family inet) palisade owns on this node. No other
    /// table is ever touched.
    #[arg(
        long,
        env = "PALISADE_TABLE",
        default_value = "palisade",
        value_name = "NAME"
    )]
    pub table: String,

    /// Events arriving within this window after a first one are applied
    /// together, as one transaction (e.g. `100ms`, `1s`).
    #[arg(long, env = "PALISADE_COALESCE", default_value = "100ms", value_parser = parse_duration, value_name = "DURATION")]
    pub coalesce: Duration,

    /// How often the table is read back from the kernel and repaired
    /// (someone deleted our table, a chain or an element).
    #[arg(long, env = "PALISADE_RESYNC", default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub resync: Duration,

    /// How often the agent asks the kernel whether anyone else changed
    /// nftables (the nf_tables generation id, one netlink request); a
    /// change not made by the agent triggers a read-back and repair at
    /// once. `0` turns the check off (drift is then repaired at --resync).
    #[arg(long, env = "PALISADE_DRIFT_CHECK", default_value = "2s", value_parser = parse_duration, value_name = "DURATION")]
    pub drift_check: Duration,

    /// The longest wait between two attempts to reach the API server
    /// (reconnects back off exponentially from 500ms up to this).
    #[arg(long, env = "PALISADE_MAX_BACKOFF", default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub max_backoff: Duration,

    /// Address of the HTTP server for /metrics, /healthz, /readyz (no
    /// authentication: counts, timings and health), and /flows and
    /// /flows/stream (pod names, addresses and policy names: answered to
    /// this node's loopback only unless `--flows-access any`).
    #[arg(
        long,
        env = "PALISADE_LISTEN",
        default_value = "0.0.0.0:9464",
        value_name = "ADDR:PORT"
    )]
    pub listen: SocketAddr,

    /// Address of the web dashboard (namespaces, pods, policies, the
    /// connectivity graph, live denied flows, explanations); `off` to turn
    /// it off. Loopback by default: it has no authentication, reach it
    /// with `kubectl port-forward` or an SSH tunnel (docs/dashboard.md).
    #[arg(
        long,
        env = "PALISADE_DASHBOARD_LISTEN",
        default_value = "127.0.0.1:9465",
        value_parser = parse_listen,
        value_name = "ADDR:PORT|off"
    )]
    pub dashboard_listen: Listen,

    /// Who may read /flows and /flows/stream on `--listen`: `loopback`
    /// (connections from this node's loopback, e.g. `kubectl
    /// port-forward`), or `any` client that reaches the port (no
    /// authentication: only behind a network policy or proxy of your own).
    #[arg(long, env = "PALISADE_FLOWS_ACCESS", value_enum, default_value_t = FlowsAccess::Loopback, value_name = "WHO")]
    pub flows_access: FlowsAccess,

    /// Host names (comma-separated; `name` or `name:port`) the dashboard and
    /// /flows answer to besides IP addresses and `localhost`, e.g. the name
    /// of a proxy in front of them. Any other `Host` gets 421 (a defence
    /// against DNS rebinding, docs/dashboard.md).
    #[arg(
        long,
        env = "PALISADE_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub allowed_hosts: Vec<String>,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "PALISADE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter, in `RUST_LOG` syntax (e.g. `info`, `palisade_agent=debug`).
    #[arg(
        long,
        env = "PALISADE_LOG",
        default_value = "info",
        value_name = "FILTER"
    )]
    pub log: String,

    /// Delete everything palisade installed on this node (its table and the
    /// fail-closed table) and exit. Traffic is no longer filtered afterwards.
    #[arg(long, env = "PALISADE_CLEANUP")]
    pub cleanup: bool,

    /// Drop forwarded traffic from or to addresses of `--pod-cidr` that
    /// belong to no pod known from the API (a pod whose container started
    /// before the agent saw it). Off by default: such a pod is then
    /// unfiltered until the agent sees it.
    #[arg(long, env = "PALISADE_FAIL_CLOSED", requires = "pod_cidr")]
    pub fail_closed: bool,

    /// This node's pod CIDR(s), for `--fail-closed` (comma-separated or
    /// repeated; one per address family).
    #[arg(
        long,
        env = "PALISADE_POD_CIDR",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub pod_cidr: Vec<IpNet>,

    /// Report not ready while a bridge on this node lets same-bridge traffic
    /// bypass netfilter (br_netfilter missing or bridge-nf-call-iptables=0).
    /// Without it the problem is logged, shown in /readyz and in metrics only.
    #[arg(long, env = "PALISADE_REQUIRE_BR_NETFILTER")]
    pub require_br_netfilter: bool,

    /// Read the denied-flow log (NFLOG group 3117) and serve it on /flows
    /// and /flows/stream (also logged, target `palisade::flows`).
    #[arg(long, env = "PALISADE_FLOW_LOG", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub flow_log: bool,

    /// How many denied-flow records /flows keeps in memory (the oldest go first).
    #[arg(
        long,
        env = "PALISADE_FLOW_RING_SIZE",
        default_value_t = 10_000,
        value_name = "N"
    )]
    pub flow_ring_size: usize,

    /// Network namespace to program instead of the agent's own (tests).
    #[arg(long, env = "PALISADE_NETNS", hide = true)]
    pub netns: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines with `key=value` fields.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// The configuration of an agent for `node` with every default (tests,
    /// embedding); the HTTP server listens on an ephemeral local port.
    pub fn for_node(node: &str) -> Self {
        Self {
            node_name: Some(node.into()),
            kubeconfig: None,
            kube_context: None,
            table: "palisade".into(),
            coalesce: Duration::from_millis(100),
            resync: Duration::from_secs(60),
            drift_check: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            log_format: LogFormat::Text,
            log: "info".into(),
            cleanup: false,
            fail_closed: false,
            pod_cidr: Vec::new(),
            require_br_netfilter: false,
            flow_log: true,
            dashboard_listen: Listen(None),
            flows_access: FlowsAccess::Loopback,
            allowed_hosts: Vec::new(),
            flow_ring_size: 10_000,
            netns: None,
        }
    }

    /// The fail-closed table's name: `<table>_failclosed`.
    pub fn failclosed_table(&self) -> String {
        format!("{}_failclosed", self.table)
    }
}

/// Parses `250ms`, `1s`, `2m`, `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (expected e.g. 100ms, 5s, 1m)"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("unknown duration unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(value * scale)
        .map_err(|e| format!("invalid duration {text:?}: {e}"))
}

/// An address to listen on, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen(pub Option<SocketAddr>);

/// `ADDR:PORT`, or `off` for none.
fn parse_listen(s: &str) -> Result<Listen, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(Listen(None));
    }
    s.parse()
        .map(|a| Listen(Some(a)))
        .map_err(|e| format!("{e}: expected ADDR:PORT (e.g. 127.0.0.1:9465) or off"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn every_flag_is_documented_and_has_an_env_var() {
        use clap::CommandFactory;
        let command = Cli::command();
        for arg in command.get_arguments().filter(|a| a.get_id() != "help") {
            let id = arg.get_id();
            assert!(arg.get_env().is_some(), "--{id} has no env var");
            assert!(arg.get_help().is_some(), "--{id} is not documented");
        }
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 weeks").is_err());
    }

    #[test]
    fn defaults_and_flags() {
        let cli = Cli::try_parse_from(["agent", "--node-name", "n1"]).unwrap();
        assert_eq!(cli.config.node_name.as_deref(), Some("n1"));
        assert_eq!(cli.config.coalesce, Duration::from_millis(100));
        assert_eq!(cli.config.resync, Duration::from_secs(60));
        assert_eq!(cli.config.drift_check, Duration::from_secs(2));
        assert_eq!(cli.config.table, "palisade");
        assert!(!cli.config.fail_closed);
        assert_eq!(cli.config.flows_access, FlowsAccess::Loopback);
        let local = "127.0.0.1:9465".parse().ok();
        assert_eq!(cli.config.dashboard_listen, Listen(local));
        let off = ["agent", "--node-name", "n1", "--dashboard-listen", "off"];
        let cli = Cli::try_parse_from(off).unwrap();
        assert_eq!(cli.config.dashboard_listen, Listen(None));
        let bad = ["agent", "--node-name", "n1", "--dashboard-listen", "9465"];
        assert!(Cli::try_parse_from(bad).is_err());
    }

    #[test]
    fn cleanup_needs_no_node_and_fail_closed_needs_a_cidr() {
        assert!(Cli::try_parse_from(["agent", "--cleanup"]).is_ok());
        let err = ["agent", "--node-name", "n", "--fail-closed"];
        assert!(Cli::try_parse_from(err).is_err());
        let ok = [
            "agent",
            "--node-name",
            "n",
            "--fail-closed",
            "--pod-cidr",
            "10.244.1.0/24,fd00::/64",
        ];
        assert_eq!(Cli::try_parse_from(ok).unwrap().config.pod_cidr.len(), 2);
    }
}
