//! Generated names as the API's controllers make them: `generateName`
//! suffixes and the `pod-template-hash`, in the alphabet Kubernetes uses
//! for them (no vowels, no look-alike digits).

const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Five characters derived from `seed` (a generateName suffix).
pub fn suffix(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d;
    (0..5)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// FNV-1a over `bytes`.
fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// The `pod-template-hash` of a pod template (its JSON text): the decimal
/// FNV-1a hash with each digit mapped into the alphabet, as the deployment
/// controller names ReplicaSets (`web-5d8f7b9c4`). Stable for a template.
pub fn template_hash(template: &serde_json::Value, collisions: u32) -> String {
    let mut text = serde_json::to_vec(template).unwrap_or_default();
    if collisions > 0 {
        text.extend_from_slice(collisions.to_string().as_bytes());
    }
    fnv32a(&text)
        .to_string()
        .bytes()
        .map(|d| ALPHABET[usize::from(d) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_use_the_alphabet_and_vary() {
        let a = suffix(1);
        assert_eq!(a.len(), 5);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a, suffix(2));
    }

    #[test]
    fn template_hash_is_stable_and_changes_with_the_template() {
        let t = serde_json::json!({"metadata": {"labels": {"app": "a"}}});
        let h = template_hash(&t, 0);
        assert_eq!(h, template_hash(&t, 0));
        assert!(h.len() >= 8 && h.len() <= 10, "{h}");
        assert_ne!(h, template_hash(&serde_json::json!({}), 0));
        assert_ne!(h, template_hash(&t, 1));
    }
}
