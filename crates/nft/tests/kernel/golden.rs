//! Our netlink batches against what the installed nft sends for the same
//! script (`nft --debug=mnl -c -f -`, which checks without committing),
//! message by message: the full load, and a delta that creates, flushes,
//! rewrites and deletes every kind of object.

use palisade_nft::netlink::golden::{assert_same, messages, parse_dump, without_set_ids, Message};
use palisade_nft::netlink::{self};
use palisade_nft::{delta, example, render};

use super::{setup, Netns, TABLE};

/// What nft sends for `script` in `ns`. With `PALISADE_WRITE_FIXTURES`
/// set, the dump is also written as `src/netlink/fixtures/NAME.mnl`, the
/// fixture the unit tests (which need no root) compare against.
fn nft_sends(ns: &Netns, script: &str, name: &str) -> Vec<Message> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "nft",
            "--debug=mnl",
            "-c",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nft");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8_lossy(&out.stdout);
    let dump = strip_colours(&dump);
    if std::env::var_os("PALISADE_WRITE_FIXTURES").is_some() {
        let path = format!(
            "{}/src/netlink/fixtures/{name}.mnl",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::write(path, &dump).expect("write fixture");
    }
    parse_dump(&dump)
}

fn strip_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_full_load_is_what_the_installed_nft_sends() {
    let Some((ns, _nft)) = setup() else { return };
    let rs = example::ruleset();
    let script = render::full(&rs, TABLE).unwrap();
    let ours = messages(&netlink::full_load(&rs, TABLE).unwrap());
    assert_same(&ours, &nft_sends(&ns, &script.text, "full"));
}

#[test]
fn interval_edges_are_what_the_installed_nft_sends() {
    let Some((ns, _nft)) = setup() else { return };
    let rs = example::interval_edges();
    let script = render::full(&rs, TABLE).unwrap();
    let ours = messages(&netlink::full_load(&rs, TABLE).unwrap());
    assert_same(&ours, &nft_sends(&ns, &script.text, "edges"));
}

#[test]
fn every_rule_form_is_what_the_installed_nft_sends() {
    let Some((ns, _nft)) = setup() else { return };
    let rs = example::every_rule_form();
    let script = render::full(&rs, TABLE).unwrap();
    let ours = messages(&netlink::full_load(&rs, TABLE).unwrap());
    assert_same(&ours, &nft_sends(&ns, &script.text, "rules"));
}

#[test]
fn a_delta_is_what_the_installed_nft_sends() {
    let Some((ns, nft)) = setup() else { return };
    let (before, after) = example::everything_changed();
    nft.reconcile(&before).unwrap();
    let script = delta::between(&before, &after, TABLE)
        .unwrap()
        .expect("a delta");
    let ours = messages(
        &netlink::delta_between(&before, &after, TABLE)
            .unwrap()
            .unwrap(),
    );
    let theirs = nft_sends(&ns, &script.text, "delta");
    assert_same(&without_set_ids(&ours), &without_set_ids(&theirs));
}
