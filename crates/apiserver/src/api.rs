//! The API as objects, for every caller: the HTTP handlers, the built-in
//! controllers (namespaces, deployments, replica sets, endpoints, garbage
//! collection) and the lab's node, which write through the same
//! [`Api`] methods, so admission, validation and watch events are one
//! path whoever writes.

use std::sync::{Arc, Mutex, MutexGuard};

use palisade_apimachinery::status::{Cause, Result};
use palisade_apimachinery::store::{Event, Kind, ObjectKey, Store};
use palisade_apimachinery::{time, Registry, Resource, Status};
use serde_json::{json, Value};
use tokio::sync::broadcast;

/// What a write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// Decides on writes before they are stored: defaults fields, allocates
/// (cluster IPs, pod addresses), validates, refuses. Runs under the
/// store's lock, so what it reads of `store` cannot change under it.
pub trait Admission: Send + Sync {
    fn admit(
        &self,
        store: &Store,
        registry: &Registry,
        op: Operation,
        r: &Resource,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<()>;
}

/// Admits everything as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdmitAll;

impl Admission for AdmitAll {
    fn admit(
        &self,
        _: &Store,
        _: &Registry,
        _: Operation,
        _: &Resource,
        _: &mut Value,
        _: Option<&Value>,
    ) -> Result<()> {
        Ok(())
    }
}

/// The store, its registry, its admission, and the channel every change
/// is announced on (watches and controllers subscribe to it).
pub struct Api {
    pub registry: Registry,
    store: Mutex<Store>,
    admission: Box<dyn Admission>,
    events: broadcast::Sender<Arc<Event>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

/// How many changes a slow subscriber may fall behind before it is told
/// it lagged (a watch then ends with 410 Expired and the client relists).
const CHANNEL: usize = 65_536;

impl Api {
    pub fn new(registry: Registry, admission: Box<dyn Admission>, store: Store) -> Arc<Api> {
        Arc::new(Api {
            registry,
            store: Mutex::new(store),
            admission,
            events: broadcast::channel(CHANNEL).0,
        })
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A subscription to every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Subscribes under the store's lock and returns the revision the
    /// subscription starts after (no change can fall between).
    pub fn subscribe_at(&self) -> (broadcast::Receiver<Arc<Event>>, u64, MutexGuard<'_, Store>) {
        let store = self.store();
        (self.events.subscribe(), store.revision(), store)
    }

    /// The kind registered as `group/version/plural`.
    pub fn kind(&self, group: &str, version: &str, plural: &str) -> Option<Kind> {
        self.registry
            .resources()
            .iter()
            .position(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// The kind of `apiVersion` + `kind`.
    pub fn kind_of(&self, api_version: &str, kind: &str) -> Option<Kind> {
        self.registry
            .resources()
            .iter()
            .position(|r| r.kind == kind && r.api_version() == api_version)
    }

    pub fn resource(&self, kind: Kind) -> &Resource {
        &self.registry.resources()[kind]
    }

    fn key(&self, kind: Kind, namespace: &str, name: &str) -> ObjectKey {
        let namespaced = self.resource(kind).namespaced;
        ObjectKey {
            kind,
            namespace: if namespaced {
                namespace.into()
            } else {
                String::new()
            },
            name: name.into(),
        }
    }

    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Result<Arc<Value>> {
        let key = self.key(kind, namespace, name);
        self.store()
            .get(&key)
            .cloned()
            .ok_or_else(|| Status::not_found(self.resource(kind), name))
    }

    /// The objects of a kind (one namespace or all) and the revision.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let store = self.store();
        let items = store
            .list(kind, namespace)
            .map(|(_, v)| v.clone())
            .collect();
        (items, store.revision())
    }

    fn announce(&self, event: &Event) {
        let _ = self.events.send(Arc::new(event.clone()));
    }

    /// Creates an object (`metadata.generateName` is honoured); `dry_run`
    /// returns what would be stored and stores nothing.
    pub fn create(
        &self,
        kind: Kind,
        namespace: &str,
        mut obj: Value,
        dry_run: bool,
    ) -> Result<Arc<Value>> {
        let r = *self.resource(kind);
        set_type(&r, &mut obj);
        let mut store = self.store();
        let name = object_name(&store, &r, kind, namespace, &mut obj)?;
        if r.namespaced {
            require_namespace(&self.registry, &store, namespace)?;
        }
        self.admission.admit(
            &store,
            &self.registry,
            Operation::Create,
            &r,
            &mut obj,
            None,
        )?;
        let key = self.key(kind, namespace, &name);
        if dry_run {
            return dry_created(&store, &r, &key, obj);
        }
        let event = store.create(&r, key, obj, &time::rfc3339(time::now()))?;
        self.announce(&event);
        Ok(event.object)
    }

    /// Replaces an object; `precondition`: the `resourceVersion` the
    /// writer read (`metadata.resourceVersion` of an update), if any.
    pub fn update(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        obj: Value,
        precondition: Option<u64>,
        dry_run: bool,
    ) -> Result<Arc<Value>> {
        self.write(kind, namespace, name, dry_run, precondition, |_| Ok(obj))
    }

    /// Reads, changes and writes an object under the store's lock (a
    /// patch, a status update by a controller): never a conflict.
    pub fn modify(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        dry_run: bool,
        change: impl FnOnce(&Value) -> Result<Value>,
    ) -> Result<Arc<Value>> {
        self.write(kind, namespace, name, dry_run, None, change)
    }

    /// An update: `change` makes the new object from the stored one, under
    /// the store's lock; admitted, then stored unless `dry_run`.
    fn write(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        dry_run: bool,
        precondition: Option<u64>,
        change: impl FnOnce(&Value) -> Result<Value>,
    ) -> Result<Arc<Value>> {
        let r = *self.resource(kind);
        let key = self.key(kind, namespace, name);
        let mut store = self.store();
        let old = store
            .get(&key)
            .cloned()
            .ok_or_else(|| Status::not_found(&r, name))?;
        let mut obj = change(&old)?;
        set_type(&r, &mut obj);
        check_name(&r, name, &obj)?;
        self.admission.admit(
            &store,
            &self.registry,
            Operation::Update,
            &r,
            &mut obj,
            Some(&old),
        )?;
        if dry_run {
            return Ok(Arc::new(obj));
        }
        let before = store.revision();
        let event = store.update(&r, key, obj, precondition)?;
        if store.revision() != before {
            self.announce(&event);
        }
        Ok(event.object)
    }

    /// Marks an object as being deleted (its `deletionTimestamp`) and
    /// applies `change`; the controllers finish the deletion.
    pub fn begin_deletion(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Result<Arc<Value>> {
        let r = *self.resource(kind);
        let key = self.key(kind, namespace, name);
        let mut store = self.store();
        let before = store.revision();
        let event = store.begin_deletion(&r, key, &time::rfc3339(time::now()), change)?;
        if store.revision() != before {
            self.announce(&event);
        }
        Ok(event.object)
    }

    /// Deletes an object now (namespaces are deleted by the namespace
    /// controller: see [`crate::controllers`]).
    pub fn delete(&self, kind: Kind, namespace: &str, name: &str) -> Result<Arc<Value>> {
        let r = *self.resource(kind);
        let key = self.key(kind, namespace, name);
        let mut store = self.store();
        let old = store
            .get(&key)
            .cloned()
            .ok_or_else(|| Status::not_found(&r, name))?;
        let mut obj = (*old).clone();
        self.admission.admit(
            &store,
            &self.registry,
            Operation::Delete,
            &r,
            &mut obj,
            Some(&old),
        )?;
        let event = store.delete(&r, &key)?;
        self.announce(&event);
        Ok(event.object)
    }
}

/// `apiVersion` and `kind` as the registration says (a body may leave them out).
fn set_type(r: &Resource, obj: &mut Value) {
    if let Some(o) = obj.as_object_mut() {
        o.insert("apiVersion".into(), json!(r.api_version()));
        o.insert("kind".into(), json!(r.kind));
    }
}

fn check_name(r: &Resource, name: &str, obj: &Value) -> Result<()> {
    match obj.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if n != name => Err(Status::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        ))),
        None if obj.get("metadata").is_none() => Err(Status::invalid(
            r,
            name,
            vec![Cause::invalid("metadata", "Required value")],
        )),
        _ => Ok(()),
    }
}

/// The object's name: `metadata.name`, or `generateName` plus five
/// characters free in the store.
fn object_name(
    store: &Store,
    r: &Resource,
    kind: Kind,
    namespace: &str,
    obj: &mut Value,
) -> Result<String> {
    if let Some(n) = obj.pointer("/metadata/name").and_then(Value::as_str) {
        if !n.is_empty() {
            validate_name(r, n)?;
            return Ok(n.to_string());
        }
    }
    let Some(prefix) = obj
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(Status::invalid(
            r,
            "",
            vec![Cause {
                reason: "FieldValueRequired".into(),
                field: "metadata.name".into(),
                message: "Required value: name or generateName is required".into(),
            }],
        ));
    };
    let mut seed = store.revision();
    loop {
        let name = format!("{prefix}{}", crate::names::suffix(seed));
        let key = ObjectKey {
            kind,
            namespace: if r.namespaced {
                namespace.into()
            } else {
                String::new()
            },
            name: name.clone(),
        };
        if store.get(&key).is_none() {
            obj["metadata"]["name"] = json!(name);
            validate_name(r, &name)?;
            return Ok(name);
        }
        seed = seed.wrapping_mul(31).wrapping_add(7);
    }
}

/// Names are DNS-1123 subdomains (at most 253 characters: lower-case
/// alphanumerics, `-` and `.`, alphanumeric at both ends); namespaces are
/// labels (63, no dots).
fn validate_name(r: &Resource, name: &str) -> Result<()> {
    let label = r.kind == "Namespace" || r.kind == "Service";
    let max = if label { 63 } else { 253 };
    let ok_char =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (!label && c == '.');
    let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.len() <= max
        && name.chars().all(ok_char)
        && ends(name.chars().next())
        && ends(name.chars().last())
    {
        return Ok(());
    }
    let what = if label {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    } else {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    };
    Err(Status::invalid(
        r,
        name,
        vec![Cause::invalid(
            "metadata.name",
            format!("Invalid value: {name:?}: {what}"),
        )],
    ))
}

/// A namespaced object needs its namespace, and not a terminating one.
fn require_namespace(registry: &Registry, store: &Store, namespace: &str) -> Result<()> {
    let Some(kind) = registry
        .resources()
        .iter()
        .position(|r| r.group.is_empty() && r.plural == "namespaces")
    else {
        return Ok(());
    };
    let ns_res = &registry.resources()[kind];
    let key = ObjectKey {
        kind,
        namespace: String::new(),
        name: namespace.into(),
    };
    match store.get(&key) {
        None => Err(Status::not_found(ns_res, namespace)),
        Some(ns) if ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating") => {
            Err(Status::new(
                403,
                "Forbidden",
                format!("unable to create new content in namespace {namespace} because it is being terminated"),
            ))
        }
        Some(_) => Ok(()),
    }
}

fn dry_created(store: &Store, r: &Resource, key: &ObjectKey, mut obj: Value) -> Result<Arc<Value>> {
    if store.get(key).is_some() {
        return Err(Status::already_exists(r, &key.name));
    }
    obj["metadata"]["creationTimestamp"] = json!(time::rfc3339(time::now()));
    Ok(Arc::new(obj))
}
