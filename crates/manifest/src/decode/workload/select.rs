//! `spec.selector`: how a workload finds its pods. The API server rejects a
//! workload whose selector does not select its own pod template; each kind
//! has its own rules for when the selector is required or defaulted.

use palisade_model::{LabelSelector, Labels};

use super::super::cursor::Fields;
use super::super::cx::{At, Cx};
use super::super::scalar::boolean;
use super::super::selector::{match_labels, selector};
use super::template::TemplateLabels;
use super::Workload;
use crate::Severity;

/// Labels the API server puts on a Job's pods, set to the Job's name,
/// unless `manualSelector` is true.
const JOB_NAME_LABELS: [&str; 2] = ["batch.kubernetes.io/job-name", "job-name"];

/// A decoded selector and the line it was written on.
type Located = (LabelSelector, usize);

/// Checks `spec.selector` against the template, by `kind`'s rules, and
/// returns the labels the workload's pods get: the template's, plus a
/// Job's name labels. `name` is the workload's name, when known.
pub(super) fn pod_labels(
    cx: &mut Cx<'_>,
    spec: &mut Fields<'_>,
    kind: Workload,
    name: Option<&str>,
    mut template: TemplateLabels,
) -> Labels {
    let selector = match kind {
        Workload::ReplicationController => map_selector(cx, spec, &template),
        Workload::Job => job_selector(cx, spec, name, &mut template),
        Workload::CronJob => job_selector(cx, spec, None, &mut template),
        _ => apps_selector(cx, spec, kind),
    };
    if let Some(selector) = selector {
        check_match(cx, &selector, &template);
    }
    template.labels
}

/// apps/v1: a required, non-empty `LabelSelector`.
fn apps_selector(cx: &mut Cx<'_>, spec: &mut Fields<'_>, kind: Workload) -> Option<Located> {
    let at = spec.require(cx, "selector")?;
    let found = selector(cx, &at)?;
    if found.is_everything() {
        let kind = kind.name().to_ascii_lowercase();
        cx.error(&at, format!("empty selector is invalid for {kind}"));
        return None;
    }
    Some((found, at.node.pos.line))
}

/// ReplicationController: a label map, defaulted to the template's labels
/// when empty (then it matches by construction); one of them is required.
fn map_selector(cx: &mut Cx<'_>, spec: &mut Fields<'_>, t: &TemplateLabels) -> Option<Located> {
    let given = spec.get("selector");
    if let Some(at) = &given {
        not_a_label_selector(cx, at)?;
        let labels = match_labels(cx, at)?;
        if !labels.is_empty() {
            let found = LabelSelector::new(labels, Vec::new()).ok()?;
            return Some((found, at.node.pos.line));
        }
    }
    if t.labels.is_empty() {
        let message = "missing required field \"selector\" (it defaults to the template's labels, but there are none)";
        let (pos, path) = match &given {
            Some(at) => (at.node.pos, at.path.clone()),
            None => (spec.at().0, spec.path_of("selector")),
        };
        cx.report(Severity::Error, pos, &path, message);
    }
    None
}

/// Rejects `matchLabels` / `matchExpressions` in a ReplicationController's
/// selector with a hint (a common slip when converting from apps/v1).
fn not_a_label_selector(cx: &mut Cx<'_>, at: &At<'_>) -> Option<()> {
    let keys = ["matchLabels", "matchExpressions"];
    let Some(key) = keys.into_iter().find(|k| at.node.get(k).is_some()) else {
        return Some(());
    };
    let message = format!(
        "a ReplicationController's selector is a map of labels (e.g. {{app: web}}), not a label selector with {key}"
    );
    cx.error(at, message);
    None
}

/// Job (and a CronJob's job template): the selector is optional unless
/// `manualSelector` is true. Otherwise the API server labels the pods with
/// the Job's name (`name`; unknown for a CronJob's Jobs).
fn job_selector(
    cx: &mut Cx<'_>,
    spec: &mut Fields<'_>,
    name: Option<&str>,
    t: &mut TemplateLabels,
) -> Option<Located> {
    let manual = spec
        .get("manualSelector")
        .and_then(|a| boolean(cx, &a))
        .unwrap_or(false);
    if let Some(name) = name.filter(|_| !manual) {
        add_job_name_labels(cx, name, t);
    }
    let at = if manual {
        spec.require(cx, "selector")?
    } else {
        spec.get("selector")?
    };
    selector(cx, &at).map(|s| (s, at.node.pos.line))
}

/// Adds the Job-name labels; a template that sets them must set the name.
fn add_job_name_labels(cx: &mut Cx<'_>, name: &str, t: &mut TemplateLabels) {
    for key in JOB_NAME_LABELS {
        let path = format!("{}[{key}]", t.path);
        let error = match t.labels.get(key) {
            Some(v) if v != name => format!(
                "must be {name:?}: without manualSelector, a Job's pods are labelled with its name"
            ),
            Some(_) => continue,
            None => match t.labels.insert(key, name) {
                Ok(()) => continue,
                Err(e) => format!("{e} (a Job's pods are labelled with its name)"),
            },
        };
        cx.report(Severity::Error, t.pos, &path, error);
    }
}

/// The API server's ``selector` does not match template `labels``, at the
/// template's labels, naming the selector and its line.
fn check_match(cx: &mut Cx<'_>, (selector, line): &Located, t: &TemplateLabels) {
    if selector.matches(&t.labels) {
        return;
    }
    let labels = &t.labels;
    let message = format!(
        "`selector` does not match template `labels`: the selector {selector} (line {line}) does not select {labels}"
    );
    cx.report(Severity::Error, t.pos, &t.path, message);
}
