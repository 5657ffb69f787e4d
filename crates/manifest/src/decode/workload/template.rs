//! `spec.template`: the pod template. Its `metadata.labels` are validated
//! as labels and its `spec` is read as a Pod's (`hostNetwork`, `nodeName`,
//! container ports); its other fields are not reported.

use palisade_model::Labels;

use super::super::cursor::Fields;
use super::super::cx::{At, Cx};
use super::super::maps::labels;
use super::super::pod::{self, Spec};
use crate::yaml::Pos;

/// The template's labels, with where they are (or would be, when absent),
/// so that selector errors can point at them.
#[derive(Debug)]
pub(super) struct TemplateLabels {
    pub labels: Labels,
    pub pos: Pos,
    /// `spec.template.metadata.labels` (or the CronJob's longer path).
    pub path: String,
}

/// What palisade reads from a pod template.
#[derive(Debug)]
pub(super) struct Template {
    pub labels: TemplateLabels,
    pub spec: Spec,
}

/// Decodes the pod template at `at`.
pub(super) fn decode(cx: &mut Cx<'_>, at: &At<'_>) -> Template {
    let mut t = Template {
        labels: TemplateLabels {
            labels: Labels::new(),
            pos: at.node.pos,
            path: format!("{}.metadata.labels", at.path),
        },
        spec: Spec::default(),
    };
    let Some(mut f) = Fields::open(cx, at) else {
        return t;
    };
    if let Some(meta) = f.get("metadata") {
        read_labels(cx, &meta, &mut t.labels);
    }
    if let Some(spec) = f.get("spec") {
        t.spec = pod::spec(cx, &spec);
    }
    t
}

/// `metadata.labels`, validated; other metadata fields are not reported.
fn read_labels(cx: &mut Cx<'_>, meta: &At<'_>, out: &mut TemplateLabels) {
    out.pos = meta.node.pos;
    let Some(mut f) = Fields::open(cx, meta) else {
        return;
    };
    if let Some(at) = f.get("labels") {
        out.pos = at.node.pos;
        out.labels = labels(cx, &at);
    }
}
