use super::*;
use proptest::prelude::*;

fn req(key: &str, op: Operator, values: &[&str]) -> Requirement {
    Requirement::new(key, op, values.iter().map(|v| v.to_string()).collect()).unwrap()
}

#[test]
fn operators_validate_their_values() {
    assert_eq!(
        Requirement::new("a", Operator::In, vec![]),
        Err(SelectorError::MissingValues("In"))
    );
    assert_eq!(
        Requirement::new("a", Operator::Exists, vec!["x".into()]),
        Err(SelectorError::UnexpectedValues("Exists"))
    );
    assert!(matches!(
        Operator::parse("in"),
        Err(SelectorError::UnknownOperator(_))
    ));
    assert!(matches!(
        Requirement::new("bad key", Operator::Exists, vec![]),
        Err(SelectorError::Label(_))
    ));
}

#[test]
fn notin_matches_absent_key() {
    let r = req("pod", Operator::NotIn, &["a"]);
    assert!(r.matches(&Labels::new()));
    assert!(r.matches(&Labels::from([("pod", "b")])));
    assert!(!r.matches(&Labels::from([("pod", "a")])));
}

#[test]
fn display_uses_kubectl_syntax() {
    let s = LabelSelector::new(
        [("app".to_string(), "web".to_string())].into(),
        vec![
            req("tier", Operator::In, &["b", "a"]),
            req("x", Operator::DoesNotExist, &[]),
        ],
    )
    .unwrap();
    assert_eq!(s.to_string(), "app=web,tier in (a,b),!x");
}

const KEYS: [&str; 3] = ["a", "b", "c"];
const VALUES: [&str; 3] = ["1", "2", "3"];

fn arb_labels() -> impl Strategy<Value = Labels> {
    proptest::collection::btree_map(
        proptest::sample::select(&KEYS[..]).prop_map(String::from),
        proptest::sample::select(&VALUES[..]).prop_map(String::from),
        0..3,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn arb_requirement() -> impl Strategy<Value = Requirement> {
    let op = proptest::sample::select(vec![
        Operator::In,
        Operator::NotIn,
        Operator::Exists,
        Operator::DoesNotExist,
    ]);
    let values = proptest::sample::subsequence(VALUES.to_vec(), 1..3);
    (proptest::sample::select(&KEYS[..]), op, values).prop_map(|(k, op, vs)| {
        let vs = match op {
            Operator::In | Operator::NotIn => vs.iter().map(|v| v.to_string()).collect(),
            _ => vec![],
        };
        Requirement::new(k, op, vs).unwrap()
    })
}

/// The set-based meaning of each operator, written independently.
fn oracle(r: &Requirement, labels: &Labels) -> bool {
    let has = labels.iter().any(|(k, _)| k == r.key);
    let in_values = labels
        .iter()
        .any(|(k, v)| k == r.key && r.values.iter().any(|x| x == v));
    match r.operator {
        Operator::In => in_values,
        Operator::NotIn => !in_values,
        Operator::Exists => has,
        Operator::DoesNotExist => !has,
    }
}

proptest! {
    #[test]
    fn requirement_agrees_with_oracle(r in arb_requirement(), l in arb_labels()) {
        prop_assert_eq!(r.matches(&l), oracle(&r, &l));
    }

    #[test]
    fn selector_is_conjunction(rs in proptest::collection::vec(arb_requirement(), 0..4), l in arb_labels()) {
        let s = LabelSelector::new(BTreeMap::new(), rs.clone()).unwrap();
        prop_assert_eq!(s.matches(&l), rs.iter().all(|r| oracle(r, &l)));
    }

    #[test]
    fn match_labels_equal_in_with_one_value(k in proptest::sample::select(&KEYS[..]), v in proptest::sample::select(&VALUES[..]), l in arb_labels()) {
        let a = LabelSelector::new([(k.to_string(), v.to_string())].into(), vec![]).unwrap();
        let b = LabelSelector::new(BTreeMap::new(), vec![req(k, Operator::In, &[v])]).unwrap();
        prop_assert_eq!(a.matches(&l), b.matches(&l));
    }
}
