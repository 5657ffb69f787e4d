//! One watch task per kind: kube's watcher (list, then watch from the
//! list's resourceVersion; relist on a `410 Gone` event) feeding the kind's
//! [`Cache`](crate::cache::Cache), with reconnects backed off.
//!
//! kube's watcher relists on a `410` *event*, which is how the API server
//! reports an expired resourceVersion. A `410` *response* to the watch
//! request itself would make it retry the same resourceVersion forever, so
//! this task then starts a fresh watcher, which lists again.

use std::pin::pin;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use kube::runtime::watcher::{self, watcher, Event};
use kube::{Api, Client};
use tokio::sync::watch as signal;
use tracing::{info, warn};

use crate::backoff::Backoff;
use crate::convert::Watched;
use crate::metrics::Metrics;
use crate::shared::{lock, SharedRef};

/// What to do after an error from the watcher.
#[derive(Debug, PartialEq, Eq)]
enum Recovery {
    /// Back off, then let the watcher resume (reconnect, or relist on 410).
    Resume,
    /// Back off, then start a new watcher: a full relist.
    Relist,
}

/// What a watch task needs.
#[derive(Clone)]
pub struct WatchCtx {
    pub client: Client,
    pub shared: SharedRef,
    pub metrics: Arc<Metrics>,
    pub backoff: Backoff,
    pub stop: signal::Receiver<bool>,
}

impl std::fmt::Debug for WatchCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchCtx").finish_non_exhaustive()
    }
}

/// Watches `K` until `stop` turns true.
pub async fn run<K: Watched>(ctx: WatchCtx) {
    let WatchCtx {
        client,
        shared,
        metrics,
        mut backoff,
        mut stop,
    } = ctx;
    let api: Api<K> = Api::all(client);
    loop {
        let mut stream = pin!(watcher(api.clone(), watcher::Config::default()));
        let recovery = loop {
            let item = tokio::select! {
                item = stream.next() => item,
                _ = stop.wait_for(|s| *s) => return,
            };
            match item {
                Some(Ok(event)) => {
                    backoff.reset();
                    feed(&shared, &metrics, event);
                }
                Some(Err(e)) => {
                    metrics.watch_error(K::KIND);
                    let recovery = classify(&e);
                    let delay = backoff.next_delay();
                    warn!(kind = K::KIND, error = %e, retry_in = ?delay, ?recovery, "watch failed");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {},
                        _ = stop.wait_for(|s| *s) => return,
                    }
                    if recovery == Recovery::Relist {
                        break recovery;
                    }
                }
                None => break Recovery::Relist,
            }
        };
        info!(
            kind = K::KIND,
            ?recovery,
            "restarting the watch with a new list"
        );
    }
}

/// Applies one event to the cache; marks a pending change if the enforced
/// view changed.
fn feed<K: Watched>(shared: &SharedRef, metrics: &Metrics, event: Event<K>) {
    let at = Instant::now();
    if matches!(event, Event::Init) {
        metrics.relist(K::KIND);
    }
    let (changed, (objects, invalid), unenforceable) = {
        let mut cache = lock(shared.caches.of(K::KIND));
        let changed = cache.apply(event);
        (changed, cache.counts(), cache.unenforceable())
    };
    metrics.cache_counts(K::KIND, objects, invalid);
    if K::KIND == "NetworkPolicy" {
        metrics.unenforceable(&unenforceable);
    }
    if changed {
        shared.pending.mark_at(at);
    }
}

/// A `410` answer to the watch request itself needs a new list.
fn classify(e: &watcher::Error) -> Recovery {
    match e {
        watcher::Error::WatchStartFailed(kube::Error::Api(status)) if status.code == 410 => {
            Recovery::Relist
        }
        _ => Recovery::Resume,
    }
}
