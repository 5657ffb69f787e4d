//! The result of loading manifests: valid objects plus every diagnostic.

use std::collections::{HashMap, HashSet};

use palisade_model::{Cluster, Source};

use crate::diag::{Diagnostic, Severity};
use crate::object::Object;
use crate::yaml::Pos;

/// Valid objects (in input order) and the diagnostics found while reading
/// them. Objects with an error are not in `objects`; their errors are in
/// `diagnostics`. One exception: a NetworkPolicy whose only errors are in
/// its rules is in `objects` with `unenforceable` set and no rules (it
/// isolates the pods it selects and allows nothing), its errors reported.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Valid objects, in input order, each key at most once.
    pub objects: Vec<Object>,
    /// Errors, warnings and notices, in input order (by file, then position).
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// True when any diagnostic is an error (some input was rejected).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Appends `other`. An object whose key (kind + namespace/name) is
    /// already here is dropped, with an error naming where the first one is.
    pub fn extend(&mut self, other: Loaded) {
        self.merge([other]);
    }

    /// [`Loaded::extend`] for many parts at once. `extend` indexes the
    /// objects already here on every call; `merge` indexes them once.
    pub fn merge(&mut self, parts: impl IntoIterator<Item = Loaded>) {
        let mut seen: HashMap<String, Option<Source>> = self
            .objects
            .iter()
            .map(|o| (o.key(), o.source().cloned()))
            .collect();
        for part in parts {
            self.diagnostics.extend(part.diagnostics);
            for object in part.objects {
                let key = object.key();
                match seen.get(&key) {
                    Some(first) => self
                        .diagnostics
                        .push(duplicate(&object, key, first.as_ref())),
                    None => {
                        seen.insert(key, object.source().cloned());
                        self.objects.push(object);
                    }
                }
            }
        }
    }

    /// `self` with duplicates inside it reported and removed.
    pub(crate) fn deduplicated(self) -> Loaded {
        let mut out = Loaded::default();
        out.merge([self]);
        out
    }

    /// Builds the cluster: namespaces first, then pods, then policies. Of
    /// objects sharing a key, only the first is added.
    pub fn to_cluster(&self) -> Cluster {
        let mut seen = HashSet::new();
        let firsts: Vec<&Object> = self
            .objects
            .iter()
            .filter(|o| seen.insert(o.key()))
            .collect();
        let mut cluster = Cluster::new();
        for object in &firsts {
            if let Object::Namespace(ns) = object {
                cluster.upsert_namespace(ns.clone());
            }
        }
        for object in &firsts {
            if let Object::Pod(pod) = object {
                cluster.upsert_pod(pod.clone());
            }
        }
        for object in &firsts {
            if let Object::NetworkPolicy(np) = object {
                cluster.upsert_policy(np.clone());
            }
        }
        cluster
    }
}

fn duplicate(object: &Object, key: String, first: Option<&Source>) -> Diagnostic {
    let first = first.map_or_else(|| "earlier".to_string(), |s| format!("at {s}"));
    let message = format!("duplicate {key}, first defined {first}");
    let (file, line) = object
        .source()
        .map_or(("", 0), |s| (s.file.as_str(), s.line));
    let mut d = Diagnostic::new(Severity::Error, file, Pos { line, col: 1 }, "", message);
    d.object = Some(key);
    d
}

#[cfg(test)]
mod tests;
