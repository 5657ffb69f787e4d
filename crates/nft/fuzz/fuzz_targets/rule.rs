//! Any bytes, read as a rule text and encoded as a netlink `NEWRULE`: must
//! not panic; encoding is deterministic; an encoded batch's framing and
//! attribute lengths are consistent. (Whether the text is in the language
//! is checked by the proptest fuzzer, `../tests/fuzz.rs`.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_nft::netlink::encode_rule;

fn walk(mut b: &[u8]) {
    while !b.is_empty() {
        assert!(b.len() >= 4, "stray bytes");
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let kind = u16::from_ne_bytes([b[2], b[3]]);
        assert!(len >= 4 && len <= b.len(), "attribute length");
        if kind & 0x8000 != 0 {
            walk(&b[4..len]);
        }
        b = &b[len.next_multiple_of(4).min(b.len())..];
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let interval = |name: &str| name.starts_with('p');
    let a = encode_rule(text, "fuzz #0123456789ab", &interval);
    let b = encode_rule(text, "fuzz #0123456789ab", &interval);
    match (&a, &b) {
        (Ok(a), Ok(b)) => assert_eq!(a.bytes, b.bytes),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("not deterministic"),
    }
    if let Ok(batch) = a {
        let bytes = &batch.bytes;
        let mut at = 0;
        while at < bytes.len() {
            let len = u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            assert!(len >= 20 && at + len <= bytes.len(), "message length");
            walk(&bytes[at + 20..at + len]);
            at += len.next_multiple_of(4);
        }
    }
});
