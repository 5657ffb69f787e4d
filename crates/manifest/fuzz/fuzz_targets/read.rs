//! Any bytes, read as a manifest file with small limits: must not panic,
//! abort, or take memory or time beyond the limits; every diagnostic is
//! inside the text; an accepted tree is within the depth and keys limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_manifest::yaml::{self, Value};
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
    if let Ok(docs) = yaml::parse_with(text, &LIMITS) {
        for doc in &docs {
            let mut stack = vec![(doc, 0usize)];
            while let Some((n, d)) = stack.pop() {
                match &n.value {
                    Value::Seq(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
                    Value::Map(entries) => {
                        assert!(entries.len() <= LIMITS.keys);
                        for (k, v) in entries {
                            stack.push((k, d + 1));
                            stack.push((v, d + 1));
                        }
                    }
                    _ => continue,
                }
                assert!(d < LIMITS.depth, "depth {}", d + 1);
            }
        }
    }
});
