//! Pod and namespace selectors drawn from the label vocabulary.

use std::collections::BTreeMap;

use palisade_model::{LabelSelector, Operator, Requirement, METADATA_NAME_LABEL};

use crate::rng::Rng;
use crate::vocab::{self, APPS, ENVS, MONITORING, OPTIONAL_POD_KEYS, PART_OF, TEAMS, TIERS};

/// A pod selector: `{}`, `matchLabels` on app/tier, or `matchExpressions`
/// with each of the four operators.
pub(crate) fn pod_selector(rng: &mut Rng) -> LabelSelector {
    let app = rng.pick(&APPS);
    match rng.below(9) {
        0 => LabelSelector::everything(),
        1 | 2 => labels(&[("app", app)], vec![]),
        3 => labels(&[("app", app), ("tier", vocab::tier_of(app))], vec![]),
        4 => exprs(vec![in_some(rng, "tier", &TIERS, Operator::In)]),
        5 => exprs(vec![in_some(rng, "app", &APPS, Operator::NotIn)]),
        6 => exprs(vec![key_only(
            rng.pick(&OPTIONAL_POD_KEYS),
            Operator::Exists,
        )]),
        7 => {
            let absent = key_only(rng.pick(&OPTIONAL_POD_KEYS), Operator::DoesNotExist);
            labels(&[("app", app)], vec![absent])
        }
        _ => exprs(vec![
            in_some(rng, vocab::PART_OF_KEY, &PART_OF, Operator::In),
            requirement("version", Operator::NotIn, &["1"]),
        ]),
    }
}

/// A namespace selector: `{}`, `matchLabels` on team/env/monitoring or on
/// `kubernetes.io/metadata.name`, or `matchExpressions` on env and team.
pub(crate) fn namespace_selector(rng: &mut Rng, namespaces: &[String]) -> LabelSelector {
    match rng.below(8) {
        0 => LabelSelector::everything(),
        1 | 2 => labels(&[("team", rng.pick(&TEAMS))], vec![]),
        3 => labels(&[("env", "prod")], vec![]),
        4 => exprs(vec![in_some(rng, "env", &ENVS, Operator::In)]),
        5 => exprs(vec![
            key_only("env", Operator::DoesNotExist),
            in_some(rng, "team", &TEAMS, Operator::NotIn),
        ]),
        6 => labels(
            &[(METADATA_NAME_LABEL, rng.pick(namespaces).as_str())],
            vec![],
        ),
        _ => labels(&[("monitoring", rng.pick(&MONITORING))], vec![]),
    }
}

fn labels(pairs: &[(&str, &str)], expressions: Vec<Requirement>) -> LabelSelector {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    LabelSelector::new(map, expressions).expect("vocabulary selectors are valid")
}

fn exprs(expressions: Vec<Requirement>) -> LabelSelector {
    labels(&[], expressions)
}

/// `key In/NotIn (...)` with one or two values from `values`.
fn in_some(rng: &mut Rng, key: &str, values: &[&str], op: Operator) -> Requirement {
    let k = rng.between(1, 2);
    requirement(key, op, &rng.subset(values, k))
}

fn key_only(key: &str, op: Operator) -> Requirement {
    requirement(key, op, &[])
}

fn requirement(key: &str, op: Operator, values: &[&str]) -> Requirement {
    let values = values.iter().map(ToString::to_string).collect();
    Requirement::new(key, op, values).expect("vocabulary requirements are valid")
}
