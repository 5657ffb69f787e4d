//! Watch fan-out latency and list time of the lab's API server, over
//! HTTPS with kube-rs as the client, with 10,000 pods in the store.
//!
//! - Fan-out: N watchers (1, 10, 100), each a kube-rs watch of every pod
//!   (all namespaces) from the list's resourceVersion, each on its own
//!   connection. A writer changes one pod's labels (a merge patch over
//!   HTTPS) 200 times, one change at a time: a change is written once
//!   every watcher has received the one before. Per event and watcher:
//!   the time from the patch call returning to that watcher having
//!   decoded the event, and from the call starting. (The server announces
//!   a change before it replies, so an event can arrive before the call
//!   returns: counted as 0 and reported in its own column.)
//! - List: 10,000 pods as JSON (the bytes over HTTPS, and decoded into
//!   `Pod`s by kube-rs) and as a Table (what `kubectl get pods -A` asks
//!   for); the median of 7 and the fastest.
//!
//! Everything is fixed (no randomness); the run takes well under two
//! minutes. `cargo bench -p palisade-apiserver --bench watch`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestServer;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::json;
use tokio::sync::Notify;

const PODS: usize = 10_000;
const NAMESPACES: usize = 20;
const EVENTS: usize = 200;
const WARMUP: usize = 5;
const LIST_ROUNDS: usize = 7;
const WATCHERS: [usize; 3] = [1, 10, 100];
const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let started = Instant::now();
    let s = TestServer::start().await;
    populate(&s);
    println!(
        "lab API server, {PODS} pods in {NAMESPACES} namespaces (stored in {:.1} s)\n",
        started.elapsed().as_secs_f64()
    );

    println!("list of every pod (median of {LIST_ROUNDS}, fastest)");
    println!("| request | bytes | median | fastest |");
    println!("| --- | ---: | ---: | ---: |");
    list_raw(&s, "JSON (bytes over HTTPS)", "application/json").await;
    list_typed(&s).await;
    list_raw(&s, "Table (kubectl get pods -A)", TABLE_ACCEPT).await;

    println!(
        "\nwatch fan-out: {EVENTS} label changes of one pod; per event and watcher, the time from the patch call returning / from it starting"
    );
    println!("| watchers | events received | p50 | p99 | max | arrived before the reply | patch call p50 |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for n in WATCHERS {
        fan_out(&s, n).await;
    }
    println!("\ntotal {:.1} s", started.elapsed().as_secs_f64());
}

/// 10,000 pods, written in process (as the lab's node would).
fn populate(s: &TestServer) {
    let ns_kind = s.api.kind("", "v1", "namespaces").expect("namespaces");
    let pod_kind = s.api.kind("", "v1", "pods").expect("pods");
    for n in 0..NAMESPACES {
        s.api
            .create(
                ns_kind,
                "",
                json!({"metadata": {"name": format!("ns-{n}")}}),
                false,
            )
            .expect("namespace");
    }
    for i in 0..PODS {
        let ns = format!("ns-{}", i % NAMESPACES);
        let pod = json!({
            "metadata": {"name": format!("pod-{i}"), "namespace": ns,
                         "labels": {"app": format!("app-{}", i % 50), "tier": if i % 2 == 0 { "front" } else { "back" }}},
            "spec": {"nodeName": "lab", "containers": [{"name": "main", "image": "registry.example/app:1.0",
                     "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIP": format!("10.244.{}.{}", i / 250, i % 250 + 1),
                       "conditions": [{"type": "Ready", "status": "True"}]},
        });
        s.api.create(pod_kind, &ns, pod, false).expect("pod");
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The value at `p` percent (nearest rank).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn list_raw(s: &TestServer, what: &str, accept: &str) {
    let mut times = vec![];
    let mut bytes = 0;
    for _ in 0..LIST_ROUNDS {
        let req = http::Request::get("/api/v1/pods")
            .header(http::header::ACCEPT, accept)
            .body(kube::client::Body::empty())
            .expect("request");
        let t = Instant::now();
        let resp = s.client.send(req).await.expect("list");
        assert_eq!(resp.status(), 200);
        let body = resp.into_body().collect_bytes().await.expect("body");
        times.push(t.elapsed());
        bytes = body.len();
    }
    let fastest = *times.iter().min().expect("rounds");
    println!(
        "| {what} | {bytes} | {} | {} |",
        ms(median(times)),
        ms(fastest)
    );
}

async fn list_typed(s: &TestServer) {
    let pods = Api::<Pod>::all(s.client.clone());
    let mut times = vec![];
    for _ in 0..LIST_ROUNDS {
        let t = Instant::now();
        let list = pods.list(&ListParams::default()).await.expect("list");
        times.push(t.elapsed());
        assert_eq!(list.items.len(), PODS);
    }
    let fastest = *times.iter().min().expect("rounds");
    println!(
        "| JSON decoded into Pods (kube-rs Api::list) | - | {} | {} |",
        ms(median(times)),
        ms(fastest)
    );
}

/// What the watchers saw: per change (its `seq` label), how many have it
/// and when each got it.
struct Seen {
    count: Vec<AtomicUsize>,
    at: Mutex<Vec<Vec<Instant>>>,
    notify: Notify,
}

async fn fan_out(s: &TestServer, n: usize) {
    let total = WARMUP + EVENTS;
    let seen = Arc::new(Seen {
        count: (0..total).map(|_| AtomicUsize::new(0)).collect(),
        at: Mutex::new((0..total).map(|_| Vec::with_capacity(n)).collect()),
        notify: Notify::new(),
    });
    let pods = Api::<Pod>::all(s.client.clone());
    let from = pods
        .list(&ListParams::default().limit(1))
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("a resourceVersion");
    let ready = Arc::new(AtomicUsize::new(0));
    let mut watchers = vec![];
    for _ in 0..n {
        let pods = pods.clone();
        let (seen, ready, from) = (seen.clone(), ready.clone(), from.clone());
        watchers.push(tokio::spawn(async move {
            let mut stream = pods
                .watch(&WatchParams::default().timeout(290), &from)
                .await
                .expect("watch")
                .boxed();
            ready.fetch_add(1, Ordering::SeqCst);
            while let Some(e) = stream.next().await {
                let Ok(WatchEvent::Modified(p)) = e else {
                    continue;
                };
                let now = Instant::now();
                let Some(seq) = p
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("seq"))
                    .and_then(|v| v.parse::<usize>().ok())
                else {
                    continue;
                };
                seen.at.lock().expect("lock")[seq].push(now);
                seen.count[seq].fetch_add(1, Ordering::SeqCst);
                seen.notify.notify_waiters();
            }
        }));
    }
    while ready.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let target = Api::<Pod>::namespaced(s.client.clone(), "ns-7");
    let mut returned = Vec::with_capacity(total);
    let mut issued = Vec::with_capacity(total);
    let mut calls = vec![];
    for seq in 0..total {
        let patch = Patch::Merge(json!({"metadata": {"labels": {"seq": seq.to_string()}}}));
        let t = Instant::now();
        issued.push(t);
        target
            .patch("pod-7", &PatchParams::default(), &patch)
            .await
            .expect("patch");
        let back = Instant::now();
        returned.push(back);
        calls.push(back - t);
        // Every watcher has this change before the next is written.
        let wait = async {
            loop {
                let notified = seen.notify.notified();
                if seen.count[seq].load(Ordering::SeqCst) >= n {
                    break;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .is_err()
        {
            panic!(
                "{n} watchers: change {seq} reached {} of them in 20 s",
                seen.count[seq].load(Ordering::SeqCst)
            );
        }
    }
    for w in &watchers {
        w.abort();
    }
    let at = seen.at.lock().expect("lock");
    let mut latencies = vec![];
    let mut from_start = vec![];
    let mut early = 0;
    for seq in WARMUP..total {
        for got in &at[seq] {
            from_start.push(*got - issued[seq]);
            match got.checked_duration_since(returned[seq]) {
                Some(d) => latencies.push(d),
                None => {
                    early += 1;
                    latencies.push(Duration::ZERO);
                }
            }
        }
    }
    latencies.sort();
    from_start.sort();
    let calls = median(calls[WARMUP..].to_vec());
    println!(
        "| {n} | {} | {} / {} | {} / {} | {} / {} | {early} | {} |",
        latencies.len(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&from_start, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&from_start, 99.0)),
        ms(*latencies.last().expect("events")),
        ms(*from_start.last().expect("events")),
        ms(calls),
    );
}
