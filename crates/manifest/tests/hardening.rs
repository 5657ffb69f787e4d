//! Inputs that used to exhaust memory, stack or time, or were misread.
//! Each test names what the old reader did with it.

use std::time::{Duration, Instant};

use palisade_manifest::yaml::{self, Value};
use palisade_manifest::{parse_str, Object, Severity};
use palisade_model::NetworkPolicy;

/// The classic nested-alias bomb: 10 aliases per level, 9 levels (10^9
/// nodes once expanded), in a few hundred bytes.
fn alias_bomb() -> String {
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (prev, name) in ('a'..='h').zip('b'..='i') {
        let refs = vec![format!("*{prev}"); 9].join(",");
        s.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    s
}

fn only_error(text: &str) -> String {
    let loaded = parse_str("t.yaml", text);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].clone()
}

/// Old reader: deep-cloned the anchor at every alias until memory ran out.
#[test]
fn an_alias_bomb_is_an_error_at_the_alias_that_crosses_the_limit() {
    let bomb = alias_bomb();
    assert!(bomb.len() < 500, "{}", bomb.len());
    let e = yaml::parse(&bomb).unwrap_err();
    assert!(e.message.contains("limit alias-nodes=1000000"), "{e}");
    assert!(e.message.contains("PALISADE_MANIFEST_LIMITS"), "{e}");
    // Level f (line 6) copies 9 × 66,430 nodes, and as many again for its
    // anchor: the limit is crossed there.
    assert_eq!(e.pos.line, 6, "{e}");
    let d = only_error(&bomb);
    assert!(d.starts_with("t.yaml:6:"), "{d}");
    assert!(d.contains("aliases copy more than 1000000 nodes"), "{d}");
}

/// Old reader: built a 150,000-deep tree and overflowed the stack when
/// dropping it (the process aborted).
#[test]
fn deep_block_nesting_is_an_error_at_the_level_past_the_limit() {
    let text = format!("{}x\n", "- ".repeat(150_000));
    let e = yaml::parse(&text).unwrap_err();
    assert_eq!((e.pos.line, e.pos.col), (1, 2 * 256 + 1), "{e}");
    assert!(e.message.contains("limit depth=256"), "{e}");
    let d = only_error(&text);
    assert!(d.starts_with("t.yaml:1:513: error: invalid YAML: "), "{d}");
    // Mappings too.
    let text = format!("{}x\n", "a: ".repeat(10_000).replace("a: ", "{a: "));
    assert!(yaml::parse(&text).is_err());
}

/// A Pod with `n` labels, as the agent sees it (JSON text).
fn pod_with_labels(n: usize) -> String {
    let labels: Vec<String> = (0..n).map(|i| format!("\"k{i}\":\"v{i}\"")).collect();
    format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"p\",\"namespace\":\"ns\",\
         \"labels\":{{{}}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\"}}]}},\
         \"status\":{{\"podIP\":\"10.0.0.1\"}}}}",
        labels.join(",")
    )
}

/// Old reader: compared every key with every earlier one (23 s in a
/// release build for 100,000 labels; minutes in a debug build).
#[test]
fn a_pod_with_100000_labels_decodes_in_linear_time() {
    let json = pod_with_labels(100_000);
    let start = Instant::now();
    let loaded = parse_str("<api>", &json);
    let took = start.elapsed();
    assert!(!loaded.has_errors(), "{:?}", &loaded.diagnostics[..1]);
    let Object::Pod(pod) = &loaded.objects[0] else {
        panic!("not a pod")
    };
    assert_eq!(pod.labels.len(), 100_000);
    assert!(took < Duration::from_secs(30), "{took:?}");
    // Duplicates are still found, at the repeat.
    let dup = json.replacen("\"k99999\"", "\"k5\"", 1);
    let d = only_error(&dup);
    assert!(d.contains("duplicate key (first at line 1)"), "{d}");
}

fn policy(text: &str) -> (NetworkPolicy, Vec<String>) {
    let loaded = parse_str("np.yaml", text);
    let diags = loaded.diagnostics.iter().map(ToString::to_string).collect();
    match loaded.objects.into_iter().next() {
        Some(Object::NetworkPolicy(np)) => (np, diags),
        _ => panic!("no policy: {diags:?}"),
    }
}

const HEAD: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n\
metadata: {name: db, namespace: ns-1}\nspec:\n  podSelector: {matchLabels: {app: db}}\n";

/// Old reader: `<<` was an unknown field (a warning) and the rule read as
/// `{}` plus the explicit keys: the second rule allowed every source.
#[test]
fn merge_keys_are_expanded_as_kubectl_does() {
    let merged = format!(
        "{HEAD}  ingress:\n  - &web\n    from: [{{podSelector: {{matchLabels: {{app: web}}}}}}]\n    \
         ports: [{{port: 5432}}]\n  - <<: *web\n    ports: [{{port: 6432}}]\n"
    );
    let expanded = format!(
        "{HEAD}  ingress:\n  - from: [{{podSelector: {{matchLabels: {{app: web}}}}}}]\n    \
         ports: [{{port: 5432}}]\n  - from: [{{podSelector: {{matchLabels: {{app: web}}}}}}]\n    \
         ports: [{{port: 6432}}]\n"
    );
    let (got, diags) = policy(&merged);
    assert!(diags.is_empty(), "{diags:?}");
    let (want, _) = policy(&expanded);
    assert_eq!(format!("{:?}", got.ingress), format!("{:?}", want.ingress));
}

#[test]
fn merge_key_lists_give_precedence_to_earlier_mappings_and_explicit_keys() {
    let docs =
        yaml::parse("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  w: 3\n  <<: [*a, *b]\n  y: 3\n")
            .unwrap();
    let c = docs[0].get("c").unwrap();
    let get = |k| c.get(k).map(|n| n.value.clone());
    assert_eq!(get("x"), Some(Value::Int(1)));
    assert_eq!(get("y"), Some(Value::Int(3)));
    assert_eq!(get("z"), Some(Value::Int(2)));
    assert_eq!(get("w"), Some(Value::Int(3)));
    assert_eq!(get("<<"), None);
    let Value::Map(entries) = &c.value else {
        panic!()
    };
    assert_eq!(entries.len(), 4);
    // A quoted "<<" is an ordinary key; a scalar is not mergeable.
    let docs = yaml::parse("\"<<\": 1\n").unwrap();
    assert_eq!(docs[0].get("<<").unwrap().value, Value::Int(1));
    let e = yaml::parse("a: 1\n<<: 2\n").unwrap_err();
    assert_eq!((e.pos.line, e.pos.col), (2, 5), "{e}");
    assert!(e.message.contains("merge key"), "{e}");
}

/// Old reader: `file:0:0`.
#[test]
fn non_utf8_input_is_located_at_the_first_invalid_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, b"kind: Pod\nmetadata:\n  name: caf\xc3\xa9\xff\n").unwrap();
    let loaded = palisade_manifest::load_paths(&[&path]);
    let d = &loaded.diagnostics[0];
    assert_eq!((d.line, d.column), (3, 13), "{d}");
    assert!(d.message.contains("invalid byte 0xff at offset 33"), "{d}");
}

/// Old decoder: counted every diagnostic after every peer, port and
/// selector (quadratic in the number of bad entries).
#[test]
fn a_policy_with_100000_bad_peers_decodes_in_linear_time() {
    let mut text = format!("{HEAD}  ingress:\n  - from:\n");
    for _ in 0..100_000 {
        text.push_str("    - ipBlock: {cidr: 10.0.0.0/33}\n");
    }
    let start = Instant::now();
    let loaded = parse_str("np.yaml", &text);
    let took = start.elapsed();
    // One error per peer (plus a warning that the policy is kept as
    // allowing nothing: palisade cannot enforce it).
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    assert_eq!(errors, 100_000);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// Old decoder: built a table of (key length × name length) cells, one
/// allocation a row, for every known field name, to suggest a spelling.
#[test]
fn a_long_unknown_key_is_reported_quickly() {
    let key = "x".repeat(4 << 20);
    let text = format!("{HEAD}  ? {key}\n  : 1\n");
    let start = Instant::now();
    let (_, diags) = policy(&text);
    let took = start.elapsed();
    assert_eq!(diags.len(), 1, "{:?}", diags.len());
    assert!(diags[0].contains("unknown field"));
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// Old reader: read an endless input (`-f /dev/zero`) until allocation
/// failed.
#[test]
fn an_input_past_the_size_limit_is_not_read_further() {
    let limits = palisade_manifest::Limits {
        input_bytes: 1 << 20,
        ..palisade_manifest::Limits::DEFAULT
    };
    let loaded = palisade_manifest::load_paths_with(&["/dev/zero"], &limits);
    let d = loaded.diagnostics[0].to_string();
    assert!(d.starts_with("/dev/zero:1:1048577: error: "), "{d}");
    assert!(
        d.contains("input larger than 1048576 bytes (limit input=1048576"),
        "{d}"
    );
    let text = format!("a: 1\n{}", "b".repeat(2 << 20));
    let d = palisade_manifest::parse_str_with("<api>", &text, &limits).diagnostics[0].to_string();
    assert!(d.starts_with("<api>:2:1048572: error: "), "{d}");
}

#[test]
fn limits_are_read_from_settings_and_hold_at_their_boundary() {
    use palisade_manifest::Limits;
    let l = Limits::parse("input=2M, depth=3,alias-nodes=6,keys=2K").unwrap();
    assert_eq!(
        (l.input_bytes, l.depth, l.alias_nodes, l.keys),
        (2 << 20, 3, 6, 2000)
    );
    assert_eq!(Limits::parse("").unwrap(), Limits::DEFAULT);
    for bad in ["depth", "depth=x", "deep=3", "depth=100000", "input=-1"] {
        assert!(Limits::parse(bad).is_err(), "{bad}");
    }
    let ok = |text: &str| {
        yaml::parse_with(text, &l)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert!(ok("[[[1]]]").is_ok());
    assert!(ok("[[[[1]]]]")
        .unwrap_err()
        .starts_with("1:4: sequences and mappings nested more than 3 deep (limit depth=3"));
    assert!(ok("a: &a [1, 2]\nb: *a\n").is_ok());
    assert!(ok("a: &a [1, 2]\nb: *a\nc: *a\n")
        .unwrap_err()
        .starts_with("3:4: anchors and aliases copy more than 6 nodes"));
    let keys = |n: usize| (0..n).map(|i| format!("k{i}: 1\n")).collect::<String>();
    assert!(ok(&keys(2000)).is_ok());
    assert!(ok(&keys(2001))
        .unwrap_err()
        .starts_with("2001:1: a mapping with more than 2000 keys (limit keys=2000"));
    let merged = format!(
        "a: &a {{{}}}\nb: {{<<: *a, x: 1}}\n",
        keys(2000).replace('\n', ", ")
    );
    let l = Limits {
        alias_nodes: 10_000,
        ..l
    };
    let e = yaml::parse_with(&merged, &l).unwrap_err().to_string();
    assert!(
        e.starts_with("2:4: a mapping with more than 2000 keys (merged keys included)"),
        "{e}"
    );
}

/// The deepest nesting that can be allowed is read, decoded and dropped
/// on a thread with the default 2 MiB stack.
#[test]
fn the_deepest_allowed_nesting_fits_a_threads_stack() {
    use palisade_manifest::Limits;
    let limits = Limits {
        depth: Limits::MAX_DEPTH,
        ..Limits::DEFAULT
    };
    let run = move || {
        for open in ["- ", "[", "{a: "] {
            let text = format!("{}x\n", open.repeat(Limits::MAX_DEPTH));
            let docs = yaml::parse_with(&text, &limits);
            let loaded = palisade_manifest::parse_str_with("t", &text, &limits);
            let copy = docs.clone();
            assert_eq!(format!("{:?}", docs.is_ok()), format!("{:?}", copy.is_ok()));
            drop((docs, copy, loaded));
        }
        // Lists of lists: the decoder recurses once per list.
        let levels = Limits::MAX_DEPTH / 2 - 1;
        let mut text = String::from("kind: List\nitems:\n");
        for level in 1..levels {
            let pad = "  ".repeat(level - 1);
            text.push_str(&format!("{pad}- kind: List\n{pad}  items:\n"));
        }
        let pad = "  ".repeat(levels - 1);
        text.push_str(&format!(
            "{pad}- {{apiVersion: v1, kind: Namespace, metadata: {{name: deep}}}}\n"
        ));
        let loaded = palisade_manifest::parse_str_with("t", &text, &limits);
        assert_eq!(loaded.objects.len(), 1, "{:?}", loaded.diagnostics);
    };
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}

/// Old reader: kept a copy of every anchored node, so anchors nested
/// around one large node copied it once per anchor (256 × the input).
#[test]
fn nested_anchors_count_as_copies() {
    let mut text = String::from("a: ");
    for i in 0..200 {
        text.push_str(&format!("&a{i} ["));
    }
    text.push_str(&"x, ".repeat(20_000));
    text.push_str(&"]".repeat(200));
    let e = yaml::parse(&text).unwrap_err();
    assert!(e.message.contains("copy more than 1000000 nodes"), "{e}");
    assert_eq!(e.pos.line, 1, "{e}");
}

/// Found by the fuzzer: an alias copies its anchor's nesting to where it
/// stands, so aliases of deep nodes inside deep nodes were deeper than the
/// limit (each level adding up to the limit again, until the stack
/// overflowed when the tree was dropped).
#[test]
fn an_alias_cannot_nest_deeper_than_the_limit() {
    let deep = |inner: &str| format!("{}{inner}", "- ".repeat(200));
    let mut text = format!("a: &a0\n  {}\n", deep("x"));
    for i in 1..40 {
        text.push_str(&format!(
            "a{i}: &a{i}\n  {}\n",
            deep(&format!("*a{}", i - 1))
        ));
    }
    let e = yaml::parse(&text).unwrap_err();
    assert_eq!((e.pos.line, e.pos.col), (4, 403), "{e}");
    assert!(
        e.message
            .contains("nested more than 256 deep (through this alias)"),
        "{e}"
    );
}
