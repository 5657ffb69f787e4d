//! Typed scalar readers.

use super::*;
use crate::yaml::{parse, Node};

fn items(text: &str) -> Vec<Node> {
    match parse(text).expect("test YAML").remove(0).value {
        Value::Seq(items) => items,
        other => panic!("not a list: {other:?}"),
    }
}

fn messages(cx: &Cx<'_>) -> Vec<String> {
    cx.diags
        .iter()
        .map(|d| format!("{}: {}", d.severity, d.message))
        .collect()
}

#[test]
fn wrong_types_name_what_was_found() {
    let nodes = items("[1, x, {a: 1}, 1.5]");
    let mut cx = Cx::new("f");
    assert_eq!(string(&mut cx, &At::new(&nodes[0], "a")), None);
    assert_eq!(int(&mut cx, &At::new(&nodes[1], "b")), None);
    assert!(list(&mut cx, &At::new(&nodes[2], "c")).is_empty());
    assert_eq!(boolean(&mut cx, &At::new(&nodes[3], "d")), None);
    let expected = [
        "error: expected a string, found integer 1",
        "error: expected an integer, found string \"x\"",
        "error: expected a list, found mapping",
        "error: expected a boolean (true or false), found number 1.5",
    ];
    assert_eq!(messages(&cx), expected);
}

#[test]
fn label_strings_hint_at_quoting_and_read_null_as_empty() {
    let nodes = items("[true, 2.0, ~, on, 'off']");
    let mut cx = Cx::new("f");
    let read: Vec<Option<String>> = nodes
        .iter()
        .map(|n| label_string(&mut cx, &At::new(n, "l")))
        .collect();
    assert_eq!(
        read,
        [
            None,
            None,
            Some(String::new()),
            Some("on".into()),
            Some("off".into())
        ]
    );
    let expected = [
        "error: expected a string, found boolean true; quote the value to keep it a string",
        "error: expected a string, found number 2.0; quote the value to keep it a string",
        "warning: null is read as the empty string \"\"; write '' to say so",
        "warning: kubectl (YAML 1.1) reads unquoted 'on' as a boolean; quote it",
    ];
    assert_eq!(messages(&cx), expected);
}

#[test]
fn list_items_get_indexed_paths() {
    let node = parse("[a, b]").expect("test YAML").remove(0);
    let mut cx = Cx::new("f");
    let paths: Vec<String> = list(&mut cx, &At::new(&node, "x.y"))
        .into_iter()
        .map(|a| a.path)
        .collect();
    assert_eq!(paths, ["x.y[0]", "x.y[1]"]);
}
