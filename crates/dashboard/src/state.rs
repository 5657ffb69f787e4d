//! The dashboard's state: its [`Source`], the version of the cluster it
//! last saw, and the graph computed for that version.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hyper::body::Bytes;
use palisade_model::Cluster;

use crate::api::{self, ApiError};
use crate::http::to_json;
use crate::Source;

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
    /// Graphs of `version`, per namespace (`None`: the whole cluster).
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
        }
        Ok((cluster, seen.version))
    }

    pub fn with_cluster<T>(
        &self,
        f: impl FnOnce(&Cluster) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        f(&self.snapshot()?.0)
    }

    pub fn cluster_json(&self) -> Result<Bytes, ApiError> {
        let (c, version) = self.snapshot()?;
        Ok(to_json(api::cluster_view(&c, version)))
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
            seen.graphs.insert(key, bytes.clone());
        }
        Ok(bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}
