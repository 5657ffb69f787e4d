//! Workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet,
//! ReplicationController, Job and CronJob. Each becomes one endpoint (a
//! [`Pod`] with `workload` set) standing for all its pods: the pod
//! template's labels and container ports, its `hostNetwork`, and no IPs.
//!
//! Only the pod template and `spec.selector` are read; the many other
//! workload fields are legitimate and not reported.

mod select;
mod template;
#[cfg(test)]
mod tests;

use palisade_model::{names, Pod};

use super::cursor::Fields;
use super::cx::Cx;
use super::meta::Meta;

/// The workload kinds palisade decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
}

/// Longest CronJob name: its Jobs are named `<name>-<11 characters>`.
const MAX_CRONJOB_NAME: usize = 52;

impl Workload {
    const ALL: [Self; 7] = [
        Self::Deployment,
        Self::StatefulSet,
        Self::DaemonSet,
        Self::ReplicaSet,
        Self::ReplicationController,
        Self::Job,
        Self::CronJob,
    ];

    pub fn parse(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == kind)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Deployment => "Deployment",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::ReplicaSet => "ReplicaSet",
            Self::ReplicationController => "ReplicationController",
            Self::Job => "Job",
            Self::CronJob => "CronJob",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Self::ReplicationController => "v1",
            Self::Job | Self::CronJob => "batch/v1",
            _ => "apps/v1",
        }
    }

    /// A DNS-1123 subdomain; a CronJob's name is also at most 52 characters.
    pub fn check_name(self, name: &str) -> Result<(), String> {
        names::dns1123_subdomain(name)?;
        if self == Self::CronJob && name.len() > MAX_CRONJOB_NAME {
            return Err(format!(
                "must be no more than {MAX_CRONJOB_NAME} characters"
            ));
        }
        Ok(())
    }
}

/// Decodes a workload's `spec` into its endpoint. `None` when there is
/// no usable spec or name (an error was then reported).
pub(super) fn decode(
    cx: &mut Cx<'_>,
    top: &mut Fields<'_>,
    meta: &Meta,
    kind: Workload,
) -> Option<Pod> {
    top.skip(&["status"]);
    let at = top.require(cx, "spec")?;
    let mut spec = Fields::open(cx, &at)?;
    if kind == Workload::CronJob {
        spec = job_template_spec(cx, &mut spec)?;
    }
    let at = spec.require(cx, "template")?;
    let template = template::decode(cx, &at);
    let labels = select::pod_labels(cx, &mut spec, kind, meta.name.as_deref(), template.labels);
    Some(Pod {
        namespace: meta.namespace.clone(),
        name: meta.name.clone()?,
        labels,
        ips: Vec::new(),
        host_network: template.spec.host_network,
        node_name: template.spec.node_name,
        ports: template.spec.ports,
        source: None,
        workload: Some(kind.name().into()),
    })
}

/// A CronJob's `spec.jobTemplate.spec`: the spec of the Jobs it creates.
fn job_template_spec<'n>(cx: &mut Cx<'_>, spec: &mut Fields<'n>) -> Option<Fields<'n>> {
    let at = spec.require(cx, "jobTemplate")?;
    let at = Fields::open(cx, &at)?.require(cx, "spec")?;
    Fields::open(cx, &at)
}
