//! Golden batches: what we encode, message by message, against what
//! `nft --debug=mnl -c -f` (nft 1.0.6) sends for the same script. The
//! fixtures are nft's own dumps (`fixtures/*.mnl`); the kernel tests
//! regenerate them with the installed nft and compare again.

use super::encode::Batch;

/// One message: its type (`subsystem << 8 | kind`) and its body after the
/// `nlmsghdr` (the `nfgenmsg`, then the attributes).
pub type Message = (u16, Vec<u8>);

/// The messages of the batch in a `--debug=mnl` dump (between the batch
/// begin and end, which are left out; nft's cache requests come before).
pub fn parse_dump(dump: &str) -> Vec<Message> {
    let mut all: Vec<(u16, u32, Vec<u8>)> = Vec::new();
    for line in dump.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if line.contains("| message length |") {
            all.push((0, 0, Vec::new()));
        } else if line.contains("|  type | flags  |") {
            if let Some(m) = all.last_mut() {
                m.0 = cells[1].parse().unwrap_or(0);
            }
        } else if line.contains("| sequence number|") {
            if let Some(m) = all.last_mut() {
                m.1 = cells[1].parse().unwrap_or(0);
            }
        } else if line.contains("|len |flags| type|") {
            let len: u16 = cells[1].parse().unwrap_or(0);
            let mut kind: u16 = cells[3].parse().unwrap_or(0);
            if cells[2].starts_with('N') {
                kind |= 0x8000;
            }
            if cells[2].ends_with('B') {
                kind |= 0x4000;
            }
            if let Some(m) = all.last_mut() {
                m.2.extend_from_slice(&len.to_ne_bytes());
                m.2.extend_from_slice(&kind.to_ne_bytes());
            }
        } else if line.contains("|      data      |") || line.contains("|  extra header  |") {
            let bytes = cells[1]
                .split(' ')
                .filter_map(|b| u8::from_str_radix(b, 16).ok());
            if let Some(m) = all.last_mut() {
                m.2.extend(bytes);
            }
        }
    }
    let begin = all.iter().position(|m| m.0 == 0x10).map_or(0, |i| i + 1);
    all[begin..]
        .iter()
        .take_while(|m| m.0 != 0x11)
        .map(|(kind, _, body)| (*kind, body.clone()))
        .collect()
}

/// The messages of one of our batches, framing left out.
pub fn messages(batch: &Batch) -> Vec<Message> {
    let mut out = Vec::new();
    let mut at = 0;
    let b = &batch.bytes;
    while at + 16 <= b.len() {
        let len = u32::from_ne_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let kind = u16::from_ne_bytes([b[at + 4], b[at + 5]]);
        if kind != 0x10 && kind != 0x11 {
            out.push((kind, b[at + 16..at + len].to_vec()));
        }
        at += len.next_multiple_of(4);
    }
    out
}

/// Compares two message lists, showing the first difference readably.
pub fn assert_same(ours: &[Message], nft: &[Message]) {
    for (i, (a, b)) in ours.iter().zip(nft).enumerate() {
        if a != b {
            panic!(
                "message {i} differs\n  ours: type {:#x} {}\n  nft:  type {:#x} {}",
                a.0,
                hex(&a.1),
                b.0,
                hex(&b.1)
            );
        }
    }
    assert_eq!(ours.len(), nft.len(), "number of messages");
}

/// `msgs` without the set ids nft writes where it names an existing set
/// (from its cache): the top-level `NFTA_SET_ELEM_LIST_SET_ID` of element
/// messages, and `NFTA_LOOKUP_SET_ID` / `NFTA_DYNSET_SET_ID` in rules. The
/// kernel looks a set up by name first, so a name is enough for a set that
/// exists; we send ids only for sets created in the same batch, as nft
/// does in a full load (compared there without this).
pub fn without_set_ids(msgs: &[Message]) -> Vec<Message> {
    msgs.iter()
        .map(|(kind, body)| {
            let attrs = &body[4..];
            let kept = match kind & 0xff {
                12 | 14 => filter_attrs(attrs, &|t, _| t != 4),
                6 => rewrite_nested(attrs, &[4], &strip_expr_set_ids),
                _ => attrs.to_vec(),
            };
            let mut out = body[..4].to_vec();
            out.extend(kept);
            (*kind, out)
        })
        .collect()
}

/// Each `(type, payload)` attribute of a list (type without flag bits).
fn attrs(mut b: &[u8]) -> Vec<(u16, u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let kind = u16::from_ne_bytes([b[2], b[3]]);
        if len < 4 || len > b.len() {
            break;
        }
        out.push((kind & 0x3fff, kind, &b[4..len]));
        b = &b[len.next_multiple_of(4).min(b.len())..];
    }
    out
}

fn put(out: &mut Vec<u8>, raw_kind: u16, payload: &[u8]) {
    out.extend_from_slice(&(4 + payload.len() as u16).to_ne_bytes());
    out.extend_from_slice(&raw_kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn filter_attrs(b: &[u8], keep: &dyn Fn(u16, &[u8]) -> bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (t, raw, p) in attrs(b) {
        if keep(t, p) {
            put(&mut out, raw, p);
        }
    }
    out
}

/// Rewrites the payload of the attributes of type in `path[0]` with `f`.
fn rewrite_nested(b: &[u8], path: &[u16], f: &dyn Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for (t, raw, p) in attrs(b) {
        match path.first() == Some(&t) {
            true => put(&mut out, raw, &f(p)),
            false => put(&mut out, raw, p),
        }
    }
    out
}

/// In a rule's expression list: drops the set id of `lookup` (type 4)
/// and `dynset` (type 2) expressions.
fn strip_expr_set_ids(list: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (_, raw, elem) in attrs(list) {
        let parts = attrs(elem);
        let name = parts.iter().find(|a| a.0 == 1).map(|a| a.2).unwrap_or(&[]);
        let id_attr = match name {
            b"lookup\0" => Some(4),
            b"dynset\0" => Some(2),
            _ => None,
        };
        let rewritten = match id_attr {
            Some(id) => rewrite_nested(elem, &[2], &|data| filter_attrs(data, &|t, _| t != id)),
            None => elem.to_vec(),
        };
        put(&mut out, raw, &rewritten);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example;
    use crate::netlink::full_load;

    #[test]
    fn the_dump_parser_reads_nft_framing() {
        let nft = parse_dump(include_str!("fixtures/full.mnl"));
        assert_eq!(nft.len(), 59);
        assert_eq!(nft[0].0, 0x0a00, "NFT_MSG_NEWTABLE first");
        assert_eq!(&nft[0].1[..4], [1, 0, 0, 0], "nfgenmsg: NFPROTO_INET");
    }

    /// Every object kind of the example table: table replace, base and
    /// regular chains, counters, dynamic, concatenated, interval and
    /// concatenated-interval sets with their elements, verdict maps, and
    /// every rule form the renderer writes.
    #[test]
    fn the_full_load_is_what_nft_sends() {
        let ours = messages(&full_load(&example::ruleset(), "palisade").unwrap());
        assert_same(&ours, &parse_dump(include_str!("fixtures/full.mnl")));
    }

    /// Interval ranges from the bottom and to the top of IPv4 and IPv6
    /// (an open range is marked in its element's user data) and a port
    /// set with every port of a protocol.
    #[test]
    fn interval_edges_are_what_nft_sends() {
        let ours = messages(&full_load(&example::interval_edges(), "palisade").unwrap());
        assert_same(&ours, &parse_dump(include_str!("fixtures/edges.mnl")));
    }

    /// Ports-only and condition-less rules, with and without a family,
    /// and an interval lookup before a port lookup.
    #[test]
    fn every_rule_form_is_what_nft_sends() {
        let text = crate::render::full(&example::every_rule_form(), "palisade")
            .unwrap()
            .text;
        for form in [
            "\t\tmeta nfproto ipv6 meta l4proto . th dport @p_db counter",
            "\t\tmeta l4proto . th dport @p_db counter",
            "\t\tmeta nfproto ipv4 counter name",
            "\t\tcounter name \"k_db_i0\" accept",
            "\t\tip saddr @s_block meta l4proto . th dport @p_db counter",
        ] {
            assert!(text.contains(form), "{form:?} not rendered:\n{text}");
        }
        let ours = messages(&full_load(&example::every_rule_form(), "palisade").unwrap());
        assert_same(&ours, &parse_dump(include_str!("fixtures/rules.mnl")));
    }

    /// A delta touching every kind of object (see
    /// [`example::everything_changed`]): counters, chains and sets created,
    /// chains flushed and rewritten, an interval set flushed and refilled,
    /// elements and map elements deleted and added, objects deleted.
    #[test]
    fn a_delta_is_what_nft_sends() {
        let (before, after) = example::everything_changed();
        let batch = crate::netlink::delta_between(&before, &after, "palisade");
        let ours = messages(&batch.unwrap().unwrap());
        let nft = parse_dump(include_str!("fixtures/delta.mnl"));
        assert!(nft.len() > 20, "{}", nft.len());
        assert_same(&without_set_ids(&ours), &without_set_ids(&nft));
    }
}
