//! One watched kind's cache, as an explicit state machine fed by
//! [`kube::runtime::watcher::Event`]s.
//!
//! ```text
//!   Empty --Init--> Listing --InitDone--> Synced <--InitDone-- Relisting
//!                                          |  ^                   ^
//!                                          |  +--Apply/Delete     |
//!                                          +-------Init-----------+
//! ```
//!
//! A relist (after `410 Gone` or a watcher restart) fills a buffer while
//! the previous complete view stays in force; `InitDone` swaps the buffer
//! in at once, so a partial list is never visible. Only `Synced` and
//! `Relisting` caches are complete.
//!
//! Every object is decoded once per (uid, resourceVersion): an object
//! listed again unchanged reuses its entry. An object whose new version is
//! invalid keeps its last valid version in force (an update the agent cannot
//! read never removes or weakens what was enforced) and its errors are kept
//! for reporting. A NetworkPolicy whose rules cannot be read but whose
//! podSelector and policyTypes can (new or updated) is enforced as
//! isolating the pods it selects and allowing nothing
//! ([`Decoded::Unenforceable`]): the API server's current version decides
//! which pods are isolated, and palisade allows them nothing.

use std::collections::BTreeMap;

use kube::runtime::watcher::Event;
use kube::ResourceExt;
use palisade_manifest::{Diagnostic, Object};
use tracing::{debug, error, info, warn};

use crate::convert::{self, Decoded, Watched};

/// One object as the cache holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    /// What is enforced for this object: its current version if valid, else
    /// the last valid version of the same uid, else nothing.
    pub enforced: Option<Object>,
    /// Errors of the current version (empty when it is valid).
    pub errors: Vec<Diagnostic>,
}

/// Objects by `Kind namespace/name`.
pub type Entries = BTreeMap<String, Entry>;

/// The state of one kind's cache.
#[derive(Debug, Default)]
pub enum Cache {
    /// Nothing listed yet.
    #[default]
    Empty,
    /// The first list is being read; nothing is known yet.
    Listing { buffer: Entries },
    /// Complete, and kept up to date by watch events.
    Synced { live: Entries },
    /// A new list is being read; `live` stays in force until it is done.
    Relisting { live: Entries, buffer: Entries },
}

impl Cache {
    /// The complete view, once the first list is done.
    pub fn complete(&self) -> Option<&Entries> {
        match self {
            Cache::Synced { live } | Cache::Relisting { live, .. } => Some(live),
            Cache::Empty | Cache::Listing { .. } => None,
        }
    }

    /// `(namespace, name)` of the policies enforced as unenforceable (their
    /// rules could not be read) in the complete view.
    pub fn unenforceable(&self) -> Vec<(String, String)> {
        let Some(live) = self.complete() else {
            return Vec::new();
        };
        live.values()
            .filter_map(|e| match &e.enforced {
                Some(Object::NetworkPolicy(np)) if np.unenforceable.is_some() => {
                    Some((np.namespace.clone(), np.name.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// (objects, objects whose current version is invalid) in the complete view.
    pub fn counts(&self) -> (usize, usize) {
        self.complete().map_or((0, 0), |live| {
            (
                live.len(),
                live.values().filter(|e| !e.errors.is_empty()).count(),
            )
        })
    }

    /// Feeds one watcher event; true when the enforced view changed.
    pub fn apply<K: Watched>(&mut self, event: Event<K>) -> bool {
        match event {
            Event::Init => self.start_list(),
            Event::InitApply(obj) => self.buffer_object(obj),
            Event::InitDone => self.finish_list::<K>(),
            Event::Apply(obj) => self.upsert(obj),
            Event::Delete(obj) => self.remove(&convert::key(&obj)),
        }
    }

    fn start_list(&mut self) -> bool {
        *self = match std::mem::take(self) {
            Cache::Empty | Cache::Listing { .. } => Cache::Listing {
                buffer: Entries::new(),
            },
            Cache::Synced { live } | Cache::Relisting { live, .. } => Cache::Relisting {
                live,
                buffer: Entries::new(),
            },
        };
        false
    }

    fn buffer_object<K: Watched>(&mut self, obj: K) -> bool {
        let key = convert::key(&obj);
        match self {
            Cache::Listing { buffer } => {
                let entry = entry(&key, obj, None);
                buffer.insert(key, entry);
                false
            }
            Cache::Relisting { live, buffer } => {
                let entry = entry(&key, obj, live.get(&key));
                buffer.insert(key, entry);
                false
            }
            // The watcher sends InitApply only between Init and InitDone.
            Cache::Empty | Cache::Synced { .. } => self.upsert(obj),
        }
    }

    fn finish_list<K: Watched>(&mut self) -> bool {
        let (old, new) = match std::mem::take(self) {
            Cache::Listing { buffer } => (None, buffer),
            Cache::Relisting { live, buffer } => (Some(live), buffer),
            Cache::Synced { live } => (Some(live.clone()), live),
            Cache::Empty => (None, Entries::new()),
        };
        let changed = old.as_ref().is_none_or(|old| !same_enforced(old, &new));
        info!(
            kind = K::KIND,
            objects = new.len(),
            changed,
            "list complete"
        );
        *self = Cache::Synced { live: new };
        changed
    }

    fn upsert<K: Watched>(&mut self, obj: K) -> bool {
        let key = convert::key(&obj);
        let Some(live) = self.live_mut() else {
            return false;
        };
        let new = entry(&key, obj, live.get(&key));
        let changed = live.get(&key).and_then(|e| e.enforced.as_ref()) != new.enforced.as_ref();
        live.insert(key, new);
        changed
    }

    fn remove(&mut self, key: &str) -> bool {
        let Some(live) = self.live_mut() else {
            return false;
        };
        debug!(object = key, "deleted");
        live.remove(key).is_some_and(|e| e.enforced.is_some())
    }

    fn live_mut(&mut self) -> Option<&mut Entries> {
        match self {
            Cache::Synced { live } | Cache::Relisting { live, .. } => Some(live),
            Cache::Empty | Cache::Listing { .. } => None,
        }
    }
}

/// The entry for `obj`, reusing `previous` when it is the same version.
fn entry<K: Watched>(key: &str, obj: K, previous: Option<&Entry>) -> Entry {
    let uid = obj.uid();
    let resource_version = obj.resource_version();
    let same_uid = previous.filter(|p| p.uid == uid);
    if let Some(p) = same_uid.filter(|p| p.resource_version == resource_version) {
        if resource_version.is_some() {
            return p.clone();
        }
    }
    let (enforced, errors) = match convert::decode(obj) {
        Decoded::Valid(object) => (Some(object), Vec::new()),
        Decoded::Ignored(reason) => {
            debug!(object = key, reason, "left out");
            (None, Vec::new())
        }
        Decoded::Unenforceable(object, errors) => {
            let why = match &object {
                Object::NetworkPolicy(np) => np.unenforceable.clone(),
                _ => None,
            };
            let (field, reason) = why.map_or_else(Default::default, |w| (w.field, w.reason));
            error!(
                object = key,
                field,
                reason,
                diagnostics = %convert::summary(&errors),
                "policy cannot be enforced: the pods it selects are isolated and allowed nothing"
            );
            (Some(object), errors)
        }
        Decoded::Invalid(errors) => {
            let kept = same_uid.and_then(|p| p.enforced.clone());
            warn!(
                object = key,
                kept_last_valid = kept.is_some(),
                diagnostics = %convert::summary(&errors),
                "invalid object left out"
            );
            (kept, errors)
        }
    };
    Entry {
        uid,
        resource_version,
        enforced,
        errors,
    }
}

fn same_enforced(a: &Entries, b: &Entries) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, ea), (kb, eb))| ka == kb && ea.enforced == eb.enforced)
}

#[cfg(test)]
mod tests;
