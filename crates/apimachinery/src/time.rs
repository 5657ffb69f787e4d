//! Time as the API writes it (RFC 3339, seconds, UTC) and ages as
//! `kubectl get` shows them (computed by the server, in Table cells).

/// `2026-12-07T23:56:18Z` for `secs` since the epoch.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Seconds since the epoch of an RFC 3339 time with a `Z` or numeric
/// offset (fractions ignored); `None` when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// An age as kubectl prints it: `45s`, `3m12s`, `5h`, `2d3h`, `400d`.
pub fn human_age(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    match () {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 && s % 60 == 0 => format!("{m}m"),
        _ if m < 10 => format!("{m}m{}s", s % 60),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 && m % 60 == 0 => format!("{h}h"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 192 && h % 24 == 0 => format!("{d}d"),
        _ if h < 192 => format!("{d}d{}h", h % 24),
        _ if d < 365 * 2 => format!("{d}d"),
        _ if d < 365 * 8 => format!("{}y{}d", d / 365, d % 365),
        _ => format!("{}y", d / 365),
    }
}

/// The age of an object created at `created` (RFC 3339), at `now`.
pub fn age_of(created: Option<&str>, now: i64) -> String {
    match created.and_then(parse_rfc3339) {
        Some(t) => human_age(now - t),
        None => "<unknown>".into(),
    }
}

/// The current time in seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for t in [0, 1_796_687_778, 951_782_400, -86_400, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t), "{}", rfc3339(t));
        }
        assert_eq!(rfc3339(1_796_687_778), "2026-12-07T23:56:18Z");
        assert_eq!(
            parse_rfc3339("2026-12-07T23:56:18.123+01:00"),
            Some(1_796_684_178)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn ages_as_kubectl_prints_them() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (192, "3m12s"),
            (300, "5m"),
            (900, "15m"),
            (3 * 3600 + 60, "3h1m"),
            (5 * 3600, "5h"),
            (30 * 3600, "30h"),
            (51 * 3600, "2d3h"),
            (400 * 86_400, "400d"),
            (800 * 86_400, "2y70d"),
        ];
        for (s, want) in cases {
            assert_eq!(human_age(s), want, "{s}");
        }
    }
}
