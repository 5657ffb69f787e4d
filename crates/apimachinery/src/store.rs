//! The object store: every object as the JSON the API serves, keyed by
//! kind, namespace and name; one `resourceVersion` counter for the whole
//! store (as etcd's revision); the history of changes a watch replays from
//! a `resourceVersion` (older than the history: 410 Gone, the client
//! lists again).
//!
//! The store checks what only it can check (existence, preconditions) and
//! stamps what the server owns (`uid`, `resourceVersion`,
//! `creationTimestamp`, `generation`); validation and defaulting happen
//! before, in the server.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::resource::Resource;
use crate::status::{Result, Status};

/// Index of a kind in the server's [`crate::Registry`].
pub type Kind = usize;

/// Where an object lives: `("", name)` for cluster-scoped kinds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as a watch sends it.
#[derive(Debug, Clone)]
pub struct Event {
    pub ty: EventType,
    pub key: ObjectKey,
    /// The object after the change (for a delete: as it was, with the
    /// delete's `resourceVersion`).
    pub object: Arc<Value>,
    pub rv: u64,
}

/// How many changes a watch can start behind the present.
pub const DEFAULT_HISTORY: usize = 200_000;

/// The objects, the revision counter and the recent changes.
#[derive(Debug)]
pub struct Store {
    rv: u64,
    objects: BTreeMap<ObjectKey, Arc<Value>>,
    history: VecDeque<Event>,
    history_limit: usize,
    /// uids handed out.
    uids: u64,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(DEFAULT_HISTORY)
    }
}

/// `metadata.resourceVersion` of an object, as a number (0 when absent or
/// not a number).
pub fn resource_version(obj: &Value) -> u64 {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

impl Store {
    pub fn new(history_limit: usize) -> Self {
        Store {
            rv: 1,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit,
            uids: 0,
        }
    }

    /// The store's current revision (a list's `resourceVersion`).
    pub fn revision(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Arc<Value>> {
        self.objects.get(key)
    }

    /// The objects of a kind, in one namespace or all, in key order.
    pub fn list<'a>(
        &'a self,
        kind: Kind,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        let start = ObjectKey {
            kind,
            namespace: namespace.unwrap_or("").to_string(),
            name: String::new(),
        };
        self.objects.range(start..).take_while(move |(k, _)| {
            k.kind == kind && namespace.is_none_or(|ns| k.namespace == ns)
        })
    }

    /// Stores a new object; `now` is the RFC 3339 creation time.
    pub fn create(
        &mut self,
        r: &Resource,
        key: ObjectKey,
        mut obj: Value,
        now: &str,
    ) -> Result<Event> {
        if self.objects.contains_key(&key) {
            return Err(Status::already_exists(r, &key.name));
        }
        self.uids += 1;
        let rv = self.rv + 1;
        let meta = meta_mut(&mut obj);
        meta.insert("name".into(), json!(key.name));
        if r.namespaced {
            meta.insert("namespace".into(), json!(key.namespace));
        } else {
            meta.remove("namespace");
        }
        meta.insert("uid".into(), json!(uid(self.uids, rv)));
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        meta.insert("creationTimestamp".into(), json!(now));
        if has_spec(&obj) {
            meta_mut(&mut obj).insert("generation".into(), json!(1));
        }
        Ok(self.commit(EventType::Added, key, obj))
    }

    /// Replaces an object. `precondition`: the `resourceVersion` the
    /// writer read (409 Conflict when it is not the current one).
    /// Server-owned fields are kept; `generation` grows when `spec` changed.
    pub fn update(
        &mut self,
        r: &Resource,
        key: ObjectKey,
        mut obj: Value,
        precondition: Option<u64>,
    ) -> Result<Event> {
        let Some(old) = self.objects.get(&key) else {
            return Err(Status::not_found(r, &key.name));
        };
        if precondition.is_some_and(|p| p != resource_version(old)) {
            return Err(Status::conflict(r, &key.name));
        }
        let old = old.clone();
        let rv = self.rv + 1;
        let generation = old.pointer("/metadata/generation").and_then(Value::as_i64);
        let meta = meta_mut(&mut obj);
        for owned in ["uid", "creationTimestamp", "deletionTimestamp", "name"] {
            match old["metadata"].get(owned) {
                Some(v) => meta.insert(owned.into(), v.clone()),
                None => meta.remove(owned),
            };
        }
        meta.insert(
            "resourceVersion".into(),
            old["metadata"]["resourceVersion"].clone(),
        );
        if let Some(g) = generation {
            let bumped = old.get("spec") != obj.get("spec");
            meta_mut(&mut obj).insert("generation".into(), json!(g + i64::from(bumped)));
        }
        if *old == obj {
            let rv = resource_version(&old);
            return Ok(Event {
                ty: EventType::Modified,
                key,
                object: old,
                rv,
            });
        }
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        Ok(self.commit(EventType::Modified, key, obj))
    }

    /// Marks an object as being deleted (`metadata.deletionTimestamp`,
    /// which only the server sets, then never changes) and applies
    /// `change` (e.g. a namespace's `Terminating` phase).
    pub fn begin_deletion(
        &mut self,
        r: &Resource,
        key: ObjectKey,
        now: &str,
        change: impl FnOnce(&mut Value),
    ) -> Result<Event> {
        let Some(old) = self.objects.get(&key) else {
            return Err(Status::not_found(r, &key.name));
        };
        let mut obj = (**old).clone();
        if obj.pointer("/metadata/deletionTimestamp").is_none() {
            meta_mut(&mut obj).insert("deletionTimestamp".into(), json!(now));
        }
        change(&mut obj);
        if obj == **old {
            let rv = resource_version(&obj);
            return Ok(Event {
                ty: EventType::Modified,
                key,
                object: old.clone(),
                rv,
            });
        }
        let rv = self.rv + 1;
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        Ok(self.commit(EventType::Modified, key, obj))
    }

    /// Removes an object.
    pub fn delete(&mut self, r: &Resource, key: &ObjectKey) -> Result<Event> {
        let Some(old) = self.objects.remove(key) else {
            return Err(Status::not_found(r, &key.name));
        };
        let mut obj = (*old).clone();
        let rv = self.rv + 1;
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        self.rv = rv;
        let event = Event {
            ty: EventType::Deleted,
            key: key.clone(),
            object: Arc::new(obj),
            rv,
        };
        self.remember(event.clone());
        Ok(event)
    }

    /// The changes after revision `rv`, oldest first; 410 Gone when the
    /// history no longer reaches back to it.
    pub fn since(&self, rv: u64) -> Result<Vec<Event>> {
        if rv > self.rv {
            return Ok(vec![]);
        }
        let oldest = self.history.front().map_or(self.rv + 1, |e| e.rv);
        if rv + 1 < oldest && rv < self.rv {
            return Err(Status::gone(format!(
                "too old resource version: {rv} ({})",
                oldest - 1
            )));
        }
        let start = self.history.partition_point(|e| e.rv <= rv);
        Ok(self.history.range(start..).cloned().collect())
    }

    /// Forgets history up to revision `rv` (as etcd compaction): watches
    /// from before it get 410 Gone.
    pub fn compact(&mut self, rv: u64) {
        while self.history.front().is_some_and(|e| e.rv <= rv) {
            self.history.pop_front();
        }
    }

    fn commit(&mut self, ty: EventType, key: ObjectKey, obj: Value) -> Event {
        self.rv += 1;
        let object = Arc::new(obj);
        self.objects.insert(key.clone(), object.clone());
        let event = Event {
            ty,
            key,
            object,
            rv: self.rv,
        };
        self.remember(event.clone());
        event
    }

    fn remember(&mut self, event: Event) {
        self.history.push_back(event);
        while self.history.len() > self.history_limit {
            self.history.pop_front();
        }
    }

    /// Every object (for saving the store).
    pub fn objects(&self) -> impl Iterator<Item = (&ObjectKey, &Arc<Value>)> {
        self.objects.iter()
    }

    /// Loads saved objects as they were (uids and resourceVersions kept),
    /// with the revision counter after the highest; no history.
    pub fn restore(&mut self, objects: Vec<(ObjectKey, Value)>, revision: u64) {
        for (key, obj) in objects {
            self.rv = self.rv.max(resource_version(&obj));
            self.objects.insert(key, Arc::new(obj));
        }
        self.rv = self.rv.max(revision);
        self.uids = self.rv;
        self.history.clear();
    }

    /// Replays one saved change (a journal's line) at revision `rv`:
    /// `Some` puts the object as it was, `None` removes it.
    pub fn replay(&mut self, key: ObjectKey, obj: Option<Value>, rv: u64) {
        match obj {
            Some(o) => {
                self.objects.insert(key, Arc::new(o));
            }
            None => {
                self.objects.remove(&key);
            }
        }
        self.rv = self.rv.max(rv);
        self.uids = self.uids.max(self.rv);
    }
}

fn has_spec(obj: &Value) -> bool {
    obj.get("spec").is_some()
}

fn meta_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let meta = obj
        .as_object_mut()
        .expect("made an object above")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut().expect("made an object above")
}

/// A UUID-shaped identifier, unique within the store's life (and across
/// restarts: the revision is part of it).
fn uid(n: u64, rv: u64) -> String {
    let a = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ rv;
    let b = rv.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ n;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        a as u16 & 0xfff,
        (b >> 48) as u16 & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests;
