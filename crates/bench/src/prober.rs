//! The control-path prober: connections from inside a pod every `interval`,
//! each with a short connect timeout, and the first one whose outcome is the
//! one a trial waits for.
//!
//! Attempts are paced by a shared clock (attempt `n` starts at
//! `epoch + n * interval`) and run on several threads, so a denied attempt
//! waiting for its timeout does not delay the next one. An attempt's time is
//! when it started (when its SYN met the ruleset).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_lab::in_netns;

use crate::loadgen::exchange_within;

/// What a trial waits for.
#[derive(Debug, Clone, Copy)]
struct Watch {
    since: Instant,
    want_ok: bool,
    hit: Option<Instant>,
}

#[derive(Debug, Default)]
struct Shared {
    watch: Mutex<Option<Watch>>,
    found: Condvar,
}

/// A running prober; stops on drop.
#[derive(Debug)]
pub struct Prober {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    attempts: Arc<AtomicU64>,
}

impl Prober {
    /// Probes `target` from inside `netns` every `interval`, each attempt
    /// giving up after `timeout`.
    pub fn start(netns: &str, target: SocketAddr, interval: Duration, timeout: Duration) -> Prober {
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(AtomicU64::new(0));
        let next = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let threads_needed = (timeout.as_micros() / interval.as_micros().max(1)) as usize + 2;
        let threads = (0..threads_needed)
            .map(|_| {
                let (shared, stop, attempts, next, netns) = (
                    shared.clone(),
                    stop.clone(),
                    attempts.clone(),
                    next.clone(),
                    netns.to_string(),
                );
                std::thread::spawn(move || {
                    let _ = in_netns(&netns, || {
                        while !stop.load(Ordering::Relaxed) {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            let at = epoch + interval * u32::try_from(n).unwrap_or(u32::MAX);
                            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                            let started = Instant::now();
                            let ok = exchange_within(target, timeout).is_ok();
                            attempts.fetch_add(1, Ordering::Relaxed);
                            shared.record(started, ok);
                        }
                    });
                })
            })
            .collect();
        Prober {
            shared,
            stop,
            threads,
            attempts,
        }
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// From now on, looks for the first attempt started at or after `since`
    /// whose outcome is `want_ok`.
    pub fn arm(&self, since: Instant, want_ok: bool) {
        *self.shared.watch.lock().expect("prober lock") = Some(Watch {
            since,
            want_ok,
            hit: None,
        });
    }

    /// Waits up to `limit` for the armed outcome; returns when its attempt started.
    pub fn wait(&self, limit: Duration) -> Option<Instant> {
        let guard = self.shared.watch.lock().expect("prober lock");
        let (guard, _) = self
            .shared
            .found
            .wait_timeout_while(guard, limit, |w| w.is_some_and(|w| w.hit.is_none()))
            .expect("prober lock");
        guard.and_then(|w| w.hit)
    }

    /// Waits until `want_ok` is what the attempts see (for settling between trials).
    pub fn settle(&self, want_ok: bool, limit: Duration) -> bool {
        self.arm(Instant::now(), want_ok);
        self.wait(limit).is_some()
    }
}

impl Shared {
    fn record(&self, started: Instant, ok: bool) {
        let mut guard = self.watch.lock().expect("prober lock");
        if let Some(w) = guard.as_mut() {
            if w.hit.is_none() && started >= w.since && ok == w.want_ok {
                w.hit = Some(started);
                self.found.notify_all();
            }
        }
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
