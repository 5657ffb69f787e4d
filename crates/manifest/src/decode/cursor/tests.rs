//! The mapping cursor: read, required and unknown fields.

use super::*;
use crate::yaml::parse;
use crate::Severity;

fn doc(text: &str) -> Node {
    parse(text).expect("test YAML").remove(0)
}

#[test]
fn unread_fields_are_reported_with_their_location() {
    let node = doc("a: 1\nbee: 2\n3: x\n");
    let mut cx = Cx::new("f.yaml");
    let mut f = Fields::open(&mut cx, &At::new(&node, "spec")).expect("a mapping");
    assert!(f.get("a").is_some());
    assert!(f.get("be").is_none());
    f.finish(&mut cx);
    let shown: Vec<String> = cx.diags.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "f.yaml:2:1: warning: spec.bee: unknown field \"bee\" (did you mean \"be\"?)",
            "f.yaml:3:1: warning: spec: unknown field: a key must be a field name, found integer 3",
        ]
    );
}

#[test]
fn required_fields_are_reported_at_the_mapping() {
    let node = doc("x:\n  a: ~\n");
    let mut cx = Cx::new("f.yaml");
    let inner = At::new(node.get("x").expect("x"), "x");
    let mut f = Fields::open(&mut cx, &inner).expect("a mapping");
    assert!(f.require(&mut cx, "a").is_none());
    assert!(f.require(&mut cx, "b").is_none());
    let d = &cx.diags;
    assert_eq!(
        (d[0].field.as_str(), d[0].message.as_str()),
        ("x.a", "required field \"a\" has no value")
    );
    assert_eq!((d[1].field.as_str(), d[1].line, d[1].column), ("x.b", 2, 3));
    assert_eq!(d[1].severity, Severity::Error);
}

#[test]
fn null_is_an_empty_mapping_and_other_types_are_errors() {
    let node = doc("[~, 1]");
    let Value::Seq(items) = &node.value else {
        panic!("a list")
    };
    let mut cx = Cx::new("f.yaml");
    assert!(Fields::open(&mut cx, &At::new(&items[0], "n")).is_some());
    assert!(Fields::open(&mut cx, &At::new(&items[1], "i")).is_none());
    assert_eq!(cx.diags[0].message, "expected a mapping, found integer 1");
}
