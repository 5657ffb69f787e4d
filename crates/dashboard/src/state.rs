//! The dashboard's state: its [`Source`], the version of the cluster it
//! last saw, and the graph computed for that version.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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
    /// most [`GRAPHS_KEPT`].
    graphs: BTreeMap<Option<String>, Bytes>,
}

impl Dashboard {
    pub fn new(source: Arc<dyn Source>) -> Self {
        Self {
            source,
            seen: Mutex::default(),
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

    /// The graph of the current version (of namespace `ns`), computed
    /// once per version. Two requests may compute it at the same time;
    /// both get the same answer.
    pub fn graph_json(&self, ns: Option<&str>) -> Result<Bytes, ApiError> {
        let (c, version) = self.snapshot()?;
        let key = ns.map(str::to_string);
        if let Some(bytes) = self.lock().graphs.get(&key) {
            return Ok(bytes.clone());
        }
        let bytes = to_json(api::graph_view(&c, version, ns));
        let mut seen = self.lock();
        if seen.version == version {
            if seen.graphs.len() == GRAPHS_KEPT {
                seen.graphs.clear();
            }
            seen.graphs.insert(key, bytes.clone());
        }
        Ok(bytes)
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
}
