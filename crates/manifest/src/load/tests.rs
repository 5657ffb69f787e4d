//! Texts, files, directories and syntax errors.

use std::fs;

use super::*;
use crate::Object;

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-1}\n";

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: web}}\nspec:\n  \
    containers: [{ports: [{name: http, containerPort: 80, hostPort: 80}]}]\nstatus: {podIPs: [{ip: 10.0.0.1}]}\n";

fn policy(name: &str, cidr: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: ns-1}}\nspec:\n  podSelector: {{}}\n  egress: [{{to: [{{ipBlock: {{cidr: {cidr}}}}}]}}]\n"
    )
}

fn keys(l: &Loaded) -> Vec<String> {
    l.objects.iter().map(Object::key).collect()
}

#[test]
fn one_bad_policy_does_not_stop_the_others() {
    let text = format!(
        "{}---\n{}---\n{}",
        policy("a", "10.0.0.0/8"),
        policy("b", "10.0.0.0/40"),
        policy("c", "::/0")
    );
    let l = parse_str("multi.yaml", &text);
    // b's only error is in a rule: it is kept, unenforceable (fail closed).
    let all = [
        "NetworkPolicy ns-1/a",
        "NetworkPolicy ns-1/b",
        "NetworkPolicy ns-1/c",
    ];
    assert_eq!(keys(&l), all);
    let flagged: Vec<bool> = l
        .objects
        .iter()
        .map(|o| matches!(o, Object::NetworkPolicy(np) if np.unenforceable.is_some()))
        .collect();
    assert_eq!(flagged, [false, true, false]);
    assert!(l.has_errors());
    let d = l.diagnostics.iter().find(|d| d.is_error()).unwrap();
    assert_eq!(
        (d.line, d.field.as_str()),
        (13, "spec.egress[0].to[0].ipBlock.cidr")
    );
    assert_eq!(d.object.as_deref(), Some("NetworkPolicy ns-1/b"));
}

#[test]
fn a_syntax_error_is_located_and_other_documents_still_load() {
    let text = format!("{NS}---\nkind: [Pod\n---\n{}", policy("a", "10.0.0.0/8"));
    let l = parse_str("s.yaml", &text);
    assert_eq!(keys(&l), ["Namespace ns-1", "NetworkPolicy ns-1/a"]);
    let d = &l.diagnostics[0];
    assert!(
        d.is_error() && d.message.starts_with("invalid YAML: "),
        "{d}"
    );
    assert!((5..=6).contains(&d.line), "{d}");
}

#[test]
fn a_byte_order_mark_is_ignored() {
    assert_eq!(
        keys(&parse_str("b.yaml", &format!("\u{feff}{NS}"))),
        ["Namespace ns-1"]
    );
}

#[test]
fn directories_are_read_recursively_in_path_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    };
    write("b/z.yml", &policy("z", "10.0.0.0/8"));
    write(
        "b/a/x.json",
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "ns-1"}}"#,
    );
    write("a.yaml", NS);
    write("notes.txt", "not: a manifest");
    write(".hidden/y.yaml", &policy("hidden", "10.0.0.0/8"));
    let l = load_paths(&[dir.path()]);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    assert_eq!(
        keys(&l),
        ["Namespace ns-1", "Pod ns-1/x", "NetworkPolicy ns-1/z"]
    );
}

#[test]
fn duplicates_across_files_name_the_first_definition() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
    fs::write(&a, format!("{NS}---\n{}", policy("foo", "10.0.0.0/8"))).expect("write");
    fs::write(&b, policy("foo", "192.168.0.0/16")).expect("write");
    let l = load_paths(&[&a, &b]);
    assert_eq!(keys(&l), ["Namespace ns-1", "NetworkPolicy ns-1/foo"]);
    let d = &l.diagnostics[0];
    let expected = format!(
        "duplicate NetworkPolicy ns-1/foo, first defined at {}:5",
        a.display()
    );
    assert_eq!(
        (d.file.clone(), d.line, d.message.clone()),
        (b.display().to_string(), 1, expected)
    );
}

#[test]
fn a_missing_path_is_an_error_at_line_zero() {
    let l = load_paths(&["/nonexistent/palisade.yaml"]);
    let d = &l.diagnostics[0];
    assert_eq!((d.file.as_str(), d.line), ("/nonexistent/palisade.yaml", 0));
    assert!(
        d.message
            .starts_with("cannot read /nonexistent/palisade.yaml: "),
        "{d}"
    );
}

#[test]
fn a_reader_is_decoded_under_its_name() {
    let l = load_reader("<stdin>", NS.as_bytes(), &Limits::DEFAULT);
    assert_eq!(
        l.objects[0].source().map(|s| s.file.as_str()),
        Some("<stdin>")
    );
    let l = load_reader("<stdin>", &[0xff, 0xfe][..], &Limits::DEFAULT);
    assert!(l.diagnostics[0].message.starts_with("not UTF-8"));
}

#[test]
fn a_syntax_error_has_its_line_and_column() {
    let l = parse_str("s.yaml", "a: 1\nb: 2\na: 3\n");
    let d = &l.diagnostics[0];
    assert_eq!(
        d.to_string(),
        "s.yaml:3:1: error: invalid YAML: duplicate key (first at line 1)"
    );
    assert!(l.objects.is_empty() && l.has_errors());
}

proptest::proptest! {
    /// Whatever the input, decoding reports problems instead of panicking,
    /// and every diagnostic points into the text.
    #[test]
    fn arbitrary_edits_of_a_manifest_never_panic(at in 0usize..1000, with in "[ -~\n]{0,3}") {
        let base = format!("{NS}---\n{}---\n{POD}", policy("a", "10.0.0.0/8"));
        let at = base.char_indices().map(|(i, _)| i).nth(at % base.len()).unwrap_or(0);
        let text = format!("{}{with}{}", &base[..at], &base[at..]);
        let l = parse_str("p.yaml", &text);
        let lines = text.lines().count() + 1;
        for d in &l.diagnostics {
            proptest::prop_assert!((1..=lines).contains(&d.line), "{d}");
        }
    }
}

/// A text big enough to be read in pieces: valid documents, one with a
/// syntax error, duplicates far apart, warnings, a document that is not a
/// mapping, comments that look like markers.
fn big_text() -> String {
    let mut text = String::new();
    for i in 0..800 {
        text.push_str("---\n");
        match i {
            311 => text.push_str("kind: [unclosed\n"),
            500 => text.push_str("- not a mapping\n"),
            _ => {
                let name = if i == 700 { 3 } else { i };
                text.push_str(&policy(&format!("p-{name}"), "10.0.0.0/8"));
                text.push_str(&format!("  # --- a comment {i}\n"));
                if i % 97 == 0 {
                    text.push_str("  unknownField: yes\n");
                }
            }
        }
    }
    text
}

/// Reading in pieces on threads gives exactly what reading the text whole
/// gives: the same objects, diagnostics and positions.
#[test]
fn pieces_read_in_parallel_equal_the_whole_text_read_at_once() {
    let text = big_text();
    assert!(text.len() > 2 * PARALLEL_MIN);
    let cut = pieces(&text, PARALLEL_MIN / 4);
    assert!(cut.len() > 4, "{} pieces", cut.len());
    // The pieces tile the text, each starting at a marker on its line.
    assert_eq!(cut.iter().map(|(_, p)| *p).collect::<String>(), text);
    for (line, piece) in &cut {
        assert!(piece.starts_with("---\n"));
        let at = piece.as_ptr() as usize - text.as_ptr() as usize;
        assert_eq!(text[..at].matches('\n').count() + 1, *line);
    }
    let whole = file_loaded(vec![parse_piece("big.yaml", &text, 1, &Limits::DEFAULT)]);
    let parallel = file_loaded(parallel::map(&cut, |&(line, p)| {
        parse_piece("big.yaml", p, line, &Limits::DEFAULT)
    }));
    assert_eq!(format!("{parallel:?}"), format!("{whole:?}"));
    assert_eq!(
        format!("{:?}", parse_str("big.yaml", &text)),
        format!("{whole:?}")
    );
    // And the interesting findings are there, at the right lines.
    let errors: Vec<String> = whole
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(whole.objects.len(), 797);
}

/// Directives belong to the document after them: such texts stay whole.
#[test]
fn texts_with_directives_are_not_cut() {
    let text = format!("%YAML 1.2\n{}", big_text());
    assert_eq!(pieces(&text, 1).len(), 1);
}

/// Many files: read in parallel, merged in path order as one at a time.
#[test]
fn many_files_load_as_if_read_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let text = big_text();
    let docs: Vec<&str> = text.split_inclusive("---\n").collect();
    let mut one_by_one = Loaded::default();
    for (i, part) in docs.chunks(40).enumerate() {
        let name = dir.path().join(format!("f{i:03}.yaml"));
        fs::write(&name, part.concat()).unwrap();
        one_by_one.merge([parse_str(&name.display().to_string(), &part.concat())]);
    }
    let all = load_paths(&[dir.path()]);
    assert_eq!(format!("{all:?}"), format!("{one_by_one:?}"));
    assert!(all
        .diagnostics
        .iter()
        .any(|d| d.message.starts_with("duplicate")));
}
