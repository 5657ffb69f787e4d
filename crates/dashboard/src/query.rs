//! `application/x-www-form-urlencoded` query strings, decoded.

/// `a=1&b=x%2Fy+z` to `[("a","1"), ("b","x/y z")]`. Invalid escapes are
/// kept as written; invalid UTF-8 is replaced.
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = query else {
        return Vec::new();
    };
    q.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && hex(b[i + 1]).is_some() && hex(b[i + 2]).is_some() => {
                out.push(hex(b[i + 1]).unwrap_or(0) << 4 | hex(b[i + 2]).unwrap_or(0));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs_escapes_and_plus() {
        let got = parse_query(Some("from=ns-1%2Fbusybox&to=10.0.0.1&x=a+b&flag&bad=%zz%4"));
        let want = [
            ("from", "ns-1/busybox"),
            ("to", "10.0.0.1"),
            ("x", "a b"),
            ("flag", ""),
            ("bad", "%zz%4"),
        ];
        let got: Vec<_> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
        assert!(parse_query(None).is_empty());
    }
}
