//! The dashboard's state: its [`Source`], the version of the cluster it
//! last saw, and the graph computed for that version.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hyper::body::Bytes;
use palisade_model::Cluster;

use crate::api::{self, ApiError};
use crate::http::to_json;
use crate::Source;

/// Graphs kept per cluster version (whole cluster and namespaces viewed).
const GRAPHS_KEPT: usize = 8;

/// A [`Source`] and what the dashboard derived from it.
pub struct Dashboard {
    pub source: Arc<dyn Source>,
    seen: Mutex<Seen>,
    /// Graphs computed so far (each costs an analysis of the cluster).
    graphs_computed: AtomicUsize,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard").finish_non_exhaustive()
    }
}

/// The last cluster seen, its version, and its graph once computed.
#[derive(Default)]
struct Seen {
    cluster: Option<Arc<Cluster>>,
    version: u64,
    /// `/api/cluster` of `version`, once served.
    cluster_json: Option<Bytes>,
    /// Graphs of `version`, per namespace (`None`: the whole cluster), at
    /// most [`GRAPHS_KEPT`]; a cell is filled by the first request for it
    /// while the others for it wait (one computation per version and view).
    graphs: BTreeMap<Option<String>, Arc<OnceLock<Bytes>>>,
}

impl Dashboard {
    pub fn new(source: Arc<dyn Source>) -> Self {
        Self {
            source,
            seen: Mutex::default(),
            graphs_computed: AtomicUsize::new(0),
        }
    }

    /// The source's cluster and its version: bumped whenever the contents
    /// differ from the previous call's.
    pub fn snapshot(&self) -> Result<(Arc<Cluster>, u64), ApiError> {
        let cluster = self.source.cluster().ok_or(ApiError::NotReady)?;
        let mut seen = self.lock();
        let same = seen
            .cluster
            .as_ref()
            .is_some_and(|old| Arc::ptr_eq(old, &cluster) || **old == *cluster);
        if !same {
            seen.version += 1;
            seen.cluster = Some(cluster.clone());
            seen.graphs.clear();
            seen.cluster_json = None;
        }
        Ok((cluster, seen.version))
    }

    pub fn with_cluster<T>(
        &self,
        f: impl FnOnce(&Cluster) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        f(&self.snapshot()?.0)
    }

    /// `/api/cluster`, computed once per version (the page polls it).
    pub fn cluster_json(&self) -> Result<Bytes, ApiError> {
        let (c, version) = self.snapshot()?;
        if let Some(bytes) = self.lock().cluster_json.clone() {
            return Ok(bytes);
        }
        let bytes = to_json(api::cluster_view(&c, version));
        let mut seen = self.lock();
        if seen.version == version {
            seen.cluster_json = Some(bytes.clone());
        }
        Ok(bytes)
    }

    /// The graph of the current version (of namespace `ns`, which must
    /// exist), computed once per version: concurrent requests for the same
    /// graph wait for the first one's result rather than compute their own
    /// (each computation holds the analysis and the JSON in memory).
    /// Blocks: call it off the async threads.
    pub fn graph_json(&self, ns: Option<&str>) -> Result<Bytes, ApiError> {
        let (c, version) = self.snapshot()?;
        if let Some(ns) = ns {
            if c.namespace(ns).is_none() && !c.pods().any(|p| p.namespace == ns) {
                return Err(ApiError::NoNamespace(ns.to_string()));
            }
        }
        let key = ns.map(str::to_string);
        let cell = {
            let mut seen = self.lock();
            if seen.version == version {
                if seen.graphs.len() == GRAPHS_KEPT && !seen.graphs.contains_key(&key) {
                    seen.graphs.clear();
                }
                seen.graphs.entry(key).or_default().clone()
            } else {
                // A newer version came meanwhile: answer for ours, uncached.
                Arc::default()
            }
        };
        let bytes = cell.get_or_init(|| {
            self.graphs_computed.fetch_add(1, Ordering::Relaxed);
            to_json(api::graph_view(&c, version, ns))
        });
        Ok(bytes.clone())
    }

    /// How many graphs have been computed (not served from the cache).
    pub fn graphs_computed(&self) -> usize {
        self.graphs_computed.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{broadcast, FlowLog, FlowRecord};

    /// A source whose cluster the test replaces.
    struct Swappable(Mutex<Arc<Cluster>>, FlowLog);

    impl Source for Swappable {
        fn cluster(&self) -> Option<Arc<Cluster>> {
            Some(self.0.lock().unwrap().clone())
        }
        fn flows(&self, _: &crate::Query) -> Vec<FlowRecord> {
            Vec::new()
        }
        fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
            self.1.subscribe()
        }
    }

    #[test]
    fn the_version_changes_with_the_contents_and_drops_cached_views() {
        let c = crate::api::tests::walkthrough(&[]);
        let source = Arc::new(Swappable(Mutex::new(Arc::new(c.clone())), FlowLog::new(1)));
        let d = Dashboard::new(source.clone());
        let graph = |d: &Dashboard| -> serde_json::Value {
            serde_json::from_slice(&d.graph_json(None).unwrap()).unwrap()
        };
        assert_eq!(graph(&d)["version"], 1);
        *source.0.lock().unwrap() = Arc::new(c.clone());
        assert_eq!(graph(&d)["version"], 1, "a new Arc, the same contents");
        let mut changed = c;
        changed.remove_pod(&palisade_model::PodId::new("ns-1", "busybox"));
        *source.0.lock().unwrap() = Arc::new(changed);
        let g = graph(&d);
        assert_eq!(g["version"], 2);
        assert_eq!(g["nodes"].as_array().unwrap().len(), 1, "recomputed");
        let cluster: serde_json::Value =
            serde_json::from_slice(&d.cluster_json().unwrap()).unwrap();
        assert_eq!(cluster["pods"].as_array().unwrap().len(), 1);
    }

    /// Ten requests at once for the same graph compute it once (they
    /// computed it each before, holding ten analyses and ten JSON copies).
    #[test]
    fn concurrent_requests_share_one_graph_computation() {
        let c = palisade_synth::generate(&palisade_synth::Params::new(300, 60));
        let d = Arc::new(Dashboard::new(Arc::new(crate::StaticSource::new(c))));
        let barrier = std::sync::Barrier::new(10);
        let answers: Vec<Bytes> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..10)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        d.graph_json(None).unwrap()
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(answers.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(d.graphs_computed(), 1);
        d.graph_json(Some("ns-0")).unwrap();
        d.graph_json(Some("ns-0")).unwrap();
        assert_eq!(d.graphs_computed(), 2);
        let unknown = d.graph_json(Some("no-such-namespace")).unwrap_err();
        assert_eq!(unknown, ApiError::NoNamespace("no-such-namespace".into()));
        assert_eq!(
            d.graphs_computed(),
            2,
            "nothing computed for an unknown namespace"
        );
    }
}
