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
}
