//! The cluster a case runs on, with the pods in creation order (the order
//! of table rows and columns; [`Cluster`] itself iterates by name).

use palisade_manifest::Object;
use palisade_model::{Cluster, Labels, PodId, PolicyRef};

use crate::case::{Case, Kind, Mutation, Target};
use crate::world;

/// A case's cluster at one point of its run.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub cluster: Cluster,
    /// Every pod that exists, in creation order.
    pub order: Vec<PodId>,
}

impl State {
    /// The world (if any), then the objects, then the policies.
    pub fn initial(case: &Case) -> Result<Self, String> {
        let mut state = Self::default();
        let world = if case.world_standard {
            world::objects()
        } else {
            Vec::new()
        };
        for object in world.iter().chain(&case.objects) {
            state.create(object)?;
        }
        for policy in &case.policies {
            state.create(&Object::NetworkPolicy(policy.clone()))?;
        }
        Ok(state)
    }

    /// Applies a step's mutation; fails if it names what does not exist, or
    /// creates what does.
    pub fn apply(&mut self, mutation: &Mutation) -> Result<(), String> {
        match mutation {
            Mutation::Label { target, set } => self.relabel(target, |labels| {
                set.iter()
                    .try_for_each(|(k, v)| labels.insert(k, v).map_err(|e| e.to_string()))
            }),
            Mutation::Unlabel { target, keys } => self.relabel(target, |labels| {
                for key in keys {
                    labels.remove(key);
                }
                Ok(())
            }),
            Mutation::Add(object) => self.create(object),
            Mutation::Delete {
                kind,
                namespace,
                name,
            } => self.delete(*kind, namespace.as_deref(), name),
        }
    }

    /// Creates an object, as `kubectl create` would: an existing one is an
    /// error, except a namespace so far only implied by the objects in it.
    fn create(&mut self, object: &Object) -> Result<(), String> {
        let exists = match object {
            Object::Namespace(ns) => self.cluster.namespace(&ns.name).is_some_and(|n| n.declared),
            Object::Pod(pod) => self.cluster.pod(&pod.id()).is_some(),
            Object::NetworkPolicy(p) => self.cluster.policy(&p.reference()).is_some(),
        };
        if exists {
            return Err(format!("{} already exists", object.key()));
        }
        match object {
            Object::Namespace(ns) => self.cluster.upsert_namespace(ns.clone()),
            Object::Pod(pod) => {
                self.order.push(pod.id());
                self.cluster.upsert_pod(pod.clone());
            }
            Object::NetworkPolicy(p) => self.cluster.upsert_policy(p.clone()),
        }
        Ok(())
    }

    fn relabel(
        &mut self,
        target: &Target,
        f: impl FnOnce(&mut Labels) -> Result<(), String>,
    ) -> Result<(), String> {
        match target {
            Target::Pod(id) => {
                let pod = self
                    .cluster
                    .pod_mut(id)
                    .ok_or_else(|| format!("no pod {id}"))?;
                f(&mut pod.labels)
            }
            Target::Namespace(name) => {
                let ns = self
                    .cluster
                    .namespace_mut(name)
                    .ok_or_else(|| format!("no namespace {name}"))?;
                let mut labels = ns.labels().clone();
                f(&mut labels)?;
                ns.set_labels(labels);
                Ok(())
            }
        }
    }

    fn delete(&mut self, kind: Kind, namespace: Option<&str>, name: &str) -> Result<(), String> {
        let ns = namespace.unwrap_or_default();
        let found = match kind {
            Kind::Namespace => {
                self.order.retain(|id| id.namespace != name);
                self.cluster.remove_namespace(name).is_some()
            }
            Kind::Pod => {
                let id = PodId::new(ns, name);
                self.order.retain(|p| *p != id);
                self.cluster.remove_pod(&id).is_some()
            }
            Kind::NetworkPolicy => self
                .cluster
                .remove_policy(&PolicyRef::new(ns, name))
                .is_some(),
        };
        match (found, namespace) {
            (true, _) => Ok(()),
            (false, Some(ns)) => Err(format!("no {} {ns}/{name}", kind.as_str())),
            (false, None) => Err(format!("no {} {name}", kind.as_str())),
        }
    }
}

#[cfg(test)]
mod tests;
