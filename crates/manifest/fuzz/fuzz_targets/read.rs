//! Any bytes, read as a manifest file with small limits: must not panic,
//! abort, or take memory or time beyond the limits; every diagnostic is
//! inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_manifest::{parse_str_with, Limits};

const LIMITS: Limits = Limits {
    input_bytes: 1 << 20,
    depth: 64,
    alias_nodes: 10_000,
    keys: 1_000,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .count();
    let loaded = parse_str_with("f.yaml", text, &LIMITS);
    for d in &loaded.diagnostics {
        assert!(d.line >= 1 && d.line <= lines && d.column >= 1, "{d}");
    }
});
