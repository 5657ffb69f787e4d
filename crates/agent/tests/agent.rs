//! The agent against a fake API server, programming real nftables in a
//! network namespace of each test's own. Root-gated: without root and nft
//! they print "skipped" (and fail under CI).
//!
//! Each test asserts on the kernel's table as `nft -j list table` shows it:
//! the ingress dispatch map (pod address -> subject chain) and the address
//! sets of selector peers.

mod support;

use std::time::Duration;

use serde_json::json;
use support::fake_api::objects::{namespace, pod, policy};
use support::fake_api::GoneAs;
use support::{eventually, get, ingress_chain, metric, sets_with, World, CLIENT, DB, NODE, WEB};

/// Waits until the table exists and dispatches web's ingress.
async fn programmed(world: &World) -> String {
    let (chain, _) = eventually("the first program", || ingress_chain(&world.table()?, WEB)).await;
    chain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_and_labels_move_dispatch_elements() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    let web_chain = programmed(&world).await;
    let state = world.table().unwrap();
    assert_eq!(ingress_chain(&state, DB), None, "db is not isolated");
    assert_eq!(
        ingress_chain(&state, CLIENT),
        None,
        "client is on another node"
    );

    let api = &world.api;
    api.apply(
        "pods",
        pod("ns-1", "web2", json!({"app": "web"}), NODE, "10.0.1.3"),
    );
    let (chain, took) = eventually("web2 dispatched", || {
        ingress_chain(&world.table()?, "10.0.1.3")
    })
    .await;
    assert_eq!(
        chain, web_chain,
        "pods with the same policies share a chain"
    );
    println!("pod added -> dispatch element: {took:?}");

    api.apply("pods", pod("ns-1", "db", json!({"app": "web"}), NODE, DB));
    let (_, took) = eventually("db relabelled web", || ingress_chain(&world.table()?, DB)).await;
    println!("label changed -> dispatch element: {took:?}");
    api.apply(
        "pods",
        pod("ns-1", "web", json!({"app": "other"}), NODE, WEB),
    );
    eventually("web no longer isolated", || {
        world.table().filter(|s| ingress_chain(s, WEB).is_none())
    })
    .await;
    api.delete("pods", "ns-1/web2");
    eventually("web2 gone", || {
        world
            .table()
            .filter(|s| ingress_chain(s, "10.0.1.3").is_none())
    })
    .await;

    let (_, metrics) = get(&agent, "/metrics").await;
    let (sum, count) = (
        metric(&metrics, "palisade_event_to_kernel_seconds_sum"),
        metric(&metrics, "palisade_event_to_kernel_seconds_count"),
    );
    assert!(count >= 3.0, "{metrics}");
    println!(
        "event-to-kernel (agent metric): {count} changes, mean {:.1} ms",
        sum / count * 1000.0
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_added_and_deleted() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    programmed(&world).await;
    let from = json!([{"podSelector": {"matchLabels": {"app": "web"}}}]);
    world
        .api
        .apply("networkpolicies", policy("ns-1", "db-from-web", "db", from));
    let (chain, took) = eventually("db isolated", || ingress_chain(&world.table()?, DB)).await;
    println!("policy added -> dispatch element: {took:?}");
    let state = world.table().unwrap();
    assert!(state.chains.contains_key(&chain));
    assert!(
        !sets_with(&state, WEB).is_empty(),
        "web is in the peer set of db-from-web"
    );

    world.api.delete("networkpolicies", "ns-1/db-from-web");
    let (state, took) = eventually("db open again", || {
        world.table().filter(|s| ingress_chain(s, DB).is_none())
    })
    .await;
    println!("policy deleted -> dispatch element removed: {took:?}");
    assert!(!state.chains.contains_key(&chain), "its chain is gone");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relabelled_namespace_changes_the_peer_sets() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    programmed(&world).await;
    let state = world.table().unwrap();
    let team_a = sets_with(&state, WEB);
    assert!(!team_a.is_empty());
    assert!(sets_with(&state, CLIENT).is_empty(), "ns-2 is team b");

    world
        .api
        .apply("namespaces", namespace("ns-2", json!({"team": "a"})));
    let (sets, took) = eventually("client in team a's set", || {
        Some(sets_with(&world.table()?, CLIENT)).filter(|s| !s.is_empty())
    })
    .await;
    assert_eq!(sets, team_a);
    println!("namespace relabelled -> set element: {took:?}");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_programmed_before_every_cache_has_synced() {
    let Some(world) = World::new().await else {
        return;
    };
    world.api.hold_list("networkpolicies", true);
    let agent = world.agent(world.config()).await;
    eventually("pods and namespaces listed", || {
        (world.api.requests("pods").0 > 0 && world.api.requests("namespaces").0 > 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        world.table(),
        None,
        "programmed before the policies were listed"
    );
    let (code, body) = get(&agent, "/readyz").await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("cache NetworkPolicy: listing"), "{body}");

    world.api.hold_list("networkpolicies", false);
    programmed(&world).await;
    eventually("ready", || agent.health.programmed().then_some(())).await;
    let (code, body) = get(&agent, "/readyz").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(get(&agent, "/healthz").await.0, 200);
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_restart_with_lost_history_relists_and_converges() {
    let Some(mut world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    programmed(&world).await;
    let lists_before = world.api.requests("pods").0;

    world.api.stop().await;
    // While the API server is down, the last known state stays enforced.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(ingress_chain(&world.table().unwrap(), WEB).is_some());
    assert_eq!(
        get(&agent, "/readyz").await.0,
        200,
        "still ready: enforcing the last state"
    );
    // Changes the agent misses, then the history is lost (etcd compaction).
    world
        .api
        .apply("pods", pod("ns-1", "db", json!({"app": "web"}), NODE, DB));
    world.api.delete("pods", "ns-1/web");
    world.api.compact(GoneAs::Event);
    world.api.resume().await;

    eventually("db isolated, web gone", || {
        let state = world.table()?;
        (ingress_chain(&state, DB).is_some() && ingress_chain(&state, WEB).is_none()).then_some(())
    })
    .await;
    assert!(
        world.api.requests("pods").0 > lists_before,
        "relisted after 410"
    );
    let (_, metrics) = get(&agent, "/metrics").await;
    assert!(
        metric(&metrics, "palisade_relists_total{kind=\"Pod\"}") >= 2.0,
        "{metrics}"
    );
    assert!(
        metric(&metrics, "palisade_watch_errors_total{kind=\"Pod\"}") >= 1.0,
        "{metrics}"
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_410_on_the_watch_request_also_relists() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    programmed(&world).await;
    let lists_before = world.api.requests("pods").0;
    // kube's watcher would retry the expired resourceVersion forever on an
    // HTTP 410; the agent starts a new list instead.
    world.api.compact(GoneAs::Http);
    world.api.drop_watches();
    eventually("pods relisted", || {
        (world.api.requests("pods").0 > lists_before).then_some(())
    })
    .await;
    world
        .api
        .apply("pods", pod("ns-1", "db", json!({"app": "web"}), NODE, DB));
    eventually("db isolated", || ingress_chain(&world.table()?, DB)).await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_watch_resumes_without_a_relist() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    programmed(&world).await;
    let (lists, watches) = world.api.requests("pods");
    world.api.drop_watches();
    world.api.apply(
        "pods",
        pod("ns-1", "web3", json!({"app": "web"}), NODE, "10.0.1.4"),
    );
    eventually("web3 dispatched", || {
        ingress_chain(&world.table()?, "10.0.1.4")
    })
    .await;
    let (lists_after, watches_after) = world.api.requests("pods");
    assert_eq!(lists_after, lists, "no relist needed");
    assert!(watches_after > watches, "re-watched");
    agent.stop().await;
}

/// Polls `/metrics` until the line `prefix` has `value`.
async fn metric_reaches(agent: &palisade_agent::Running, prefix: &str, value: f64) {
    let deadline = std::time::Instant::now() + support::DEADLINE;
    loop {
        let text = get(agent, "/metrics").await.1;
        if metric(&text, prefix) == value {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{prefix} never reached {value}\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unenforceable_policy_isolates_its_pods_and_is_reported() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    let web_chain = programmed(&world).await;
    // Version skew: the API server accepted a rule this agent cannot read.
    // The policy still selects db: db is isolated, nothing allowed.
    let bad = json!([{"ipBlock": {"cidr": "10.0.0.0/33"}}]);
    world
        .api
        .apply("networkpolicies", policy("ns-1", "bad", "db", bad.clone()));
    eventually("db isolated by the unenforceable policy", || {
        ingress_chain(&world.table()?, DB)
    })
    .await;
    let bad_metric = "palisade_policies_unenforceable{namespace=\"ns-1\",name=\"bad\"}";
    metric_reaches(&agent, bad_metric, 1.0).await;
    let invalid = "palisade_invalid_objects{kind=\"NetworkPolicy\"}";
    metric_reaches(&agent, invalid, 1.0).await;
    let (_, text) = get(&agent, "/metrics").await;
    assert!(text.contains(bad_metric), "{text}");
    world.api.delete("networkpolicies", "ns-1/bad");
    eventually("db open again", || {
        ingress_chain(&world.table()?, DB).is_none().then_some(())
    })
    .await;
    metric_reaches(&agent, bad_metric, 0.0).await;

    // A leading-zero CIDR, as Kubernetes 1.32 accepts it, is enforced.
    let zeros = json!([{"ipBlock": {"cidr": "010.000.2.0/24"}}]);
    world
        .api
        .apply("networkpolicies", policy("ns-1", "zeros", "db", zeros));
    eventually("db isolated by the leading-zero policy", || {
        ingress_chain(&world.table()?, DB)
    })
    .await;
    metric_reaches(&agent, invalid, 0.0).await;

    // A policy whose podSelector cannot be read isolates nothing; updated
    // into one, a policy keeps its last valid version.
    let mut unreadable = policy("ns-1", "web-from-team-a", "web", json!([]));
    unreadable["spec"]["podSelector"] =
        json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]});
    world.api.apply("networkpolicies", unreadable);
    metric_reaches(&agent, invalid, 1.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ingress_chain(&world.table().unwrap(), WEB), Some(web_chain));
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_table_and_reprograms_nothing() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    programmed(&world).await;
    agent.stop().await;
    let kept = world.table().expect("the table survives the agent");
    assert!(ingress_chain(&kept, WEB).is_some());

    let agent = world.agent(world.config()).await;
    eventually("resynced", || agent.health.programmed().then_some(())).await;
    let (_, metrics) = get(&agent, "/metrics").await;
    let unchanged = "palisade_reconciles_total{trigger=\"startup\",result=\"unchanged\"}";
    assert_eq!(metric(&metrics, unchanged), 1.0, "{metrics}");
    assert_eq!(world.table().unwrap(), kept);
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_resync_repairs_drift() {
    let Some(world) = World::new().await else {
        return;
    };
    let mut config = world.config();
    config.resync = Duration::from_millis(500);
    let agent = world.agent(config).await;
    programmed(&world).await;
    let (ok, out) = world.ns.nft(&[
        "delete",
        "element",
        "inet",
        "palisade",
        "ingress4",
        &format!("{{ {WEB} }}"),
    ]);
    assert!(ok, "{out}");
    assert_eq!(ingress_chain(&world.table().unwrap(), WEB), None);
    eventually("element restored", || ingress_chain(&world.table()?, WEB)).await;
    let (ok, out) = world.ns.nft(&["delete", "table", "inet", "palisade"]);
    assert!(ok, "{out}");
    eventually("table restored", || ingress_chain(&world.table()?, WEB)).await;
    agent.stop().await;
}

/// Drift is found between resyncs: a base chain deleted by someone else is
/// back within the drift check (`--drift-check`, here 200 ms; the resync
/// is an hour away), counted and time-stamped; the agent's own updates
/// (policy and pod changes) are not counted as drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_base_chain_is_repaired_within_the_drift_check() {
    let Some(world) = World::new().await else {
        return;
    };
    let mut config = world.config();
    config.resync = Duration::from_secs(3600);
    config.drift_check = Duration::from_millis(200);
    let agent = world.agent(config).await;
    programmed(&world).await;
    let repairs = "palisade_drift_repairs_total";
    let last = "palisade_drift_last_repair_timestamp_seconds";

    // Our own updates move the generation too; they are not drift.
    world.api.apply(
        "networkpolicies",
        policy(
            "ns-1",
            "db-from-team-a",
            "db",
            json!([{"namespaceSelector": {"matchLabels": {"team": "a"}}}]),
        ),
    );
    eventually("db isolated", || ingress_chain(&world.table()?, DB)).await;
    world.api.delete("pods", "ns-1/db");
    eventually("db gone", || {
        ingress_chain(&world.table()?, DB).is_none().then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let text = get(&agent, "/metrics").await.1;
    assert_eq!(metric(&text, repairs), 0.0, "{text}");
    assert_eq!(metric(&text, last), 0.0, "{text}");
    let unchanged = "palisade_reconciles_total{trigger=\"drift\"";
    assert!(
        !text.contains(unchanged),
        "a drift read-back after our own update\n{text}"
    );

    let base = world
        .table()
        .unwrap()
        .chains
        .into_iter()
        .find(|(_, c)| c.hook.as_ref().is_some_and(|h| h.hook == "forward"))
        .map(|(name, _)| name)
        .expect("a base chain on the forward hook");
    // The chain must be emptied (it is a vmap's neighbour, not referenced).
    let (ok, out) = world.ns.nft(&["flush", "chain", "inet", "palisade", &base]);
    assert!(ok, "{out}");
    let (ok, out) = world
        .ns
        .nft(&["delete", "chain", "inet", "palisade", &base]);
    assert!(ok, "{out}");
    assert!(!world.table().unwrap().chains.contains_key(&base));
    let (_, took) = eventually("base chain restored", || {
        world.table()?.chains.contains_key(&base).then_some(())
    })
    .await;
    assert!(took < Duration::from_secs(2), "restored after {took:?}");
    metric_reaches(&agent, repairs, 1.0).await;
    let text = get(&agent, "/metrics").await.1;
    assert!(metric(&text, last) > 1.0e9, "{text}");
    let drift =
        |result| format!("palisade_reconciles_total{{trigger=\"drift\",result=\"{result}\"}}");
    let repaired = metric(&text, &drift("delta")) + metric(&text, &drift("full"));
    assert_eq!(
        repaired, 1.0,
        "repaired by the drift check, not a resync\n{text}"
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_lets_only_known_pod_addresses_through() {
    let Some(world) = World::new().await else {
        return;
    };
    let mut config = world.config();
    config.fail_closed = true;
    config.pod_cidr = vec!["10.0.1.0/24".parse().unwrap()];
    let agent = world.agent(config.clone()).await;
    programmed(&world).await;
    let known = || {
        world
            .ns
            .nft(&["list", "set", "inet", "palisade_failclosed", "known4"])
            .1
    };
    let (text, _) = eventually("fail-closed table", || {
        Some(known()).filter(|t| t.contains(WEB))
    })
    .await;
    assert!(text.contains(DB) && text.contains(CLIENT), "{text}");
    let rules = world
        .ns
        .nft(&["list", "chain", "inet", "palisade_failclosed", "forward"])
        .1;
    assert!(rules.contains("ip saddr != @known4"), "{rules}");

    world.api.apply(
        "pods",
        pod("ns-1", "new", json!({"app": "x"}), NODE, "10.0.1.9"),
    );
    eventually("new pod known", || {
        Some(known()).filter(|t| t.contains("10.0.1.9"))
    })
    .await;
    world.api.delete("pods", "ns-1/db");
    eventually("db forgotten", || Some(known()).filter(|t| !t.contains(DB))).await;
    agent.stop().await;

    palisade_agent::cleanup(&config).expect("cleanup");
    assert!(
        !world
            .ns
            .nft(&["list", "table", "inet", "palisade_failclosed"])
            .0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_removes_the_table() {
    let Some(world) = World::new().await else {
        return;
    };
    let agent = world.agent(world.config()).await;
    programmed(&world).await;
    agent.stop().await;
    let mut config = world.config();
    config.cleanup = true;
    palisade_agent::run(config.clone()).await.expect("cleanup");
    assert_eq!(world.table(), None);
    palisade_agent::run(config)
        .await
        .expect("cleanup twice is fine");
}
