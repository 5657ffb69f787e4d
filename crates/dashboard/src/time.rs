//! RFC 3339 timestamps to Unix milliseconds, without a date library: the
//! dashboard only needs to compare record times with `since`.

/// `2026-11-24T20:00:00.123Z` or `...+01:00` to Unix ms; `None` if malformed.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&s[0..4])?;
    let (month, day) = (digits(&s[5..7])?, digits(&s[8..10])?);
    let (hour, min, sec) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let (ms, zone) = fraction(&s[19..])?;
    let offset = zone_offset(zone)?;
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + min * 60 + sec - offset;
    Some(secs * 1_000 + ms)
}

/// An all-digit field.
fn digits(s: &str) -> Option<i64> {
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())
        .flatten()
}

/// `.123` (any number of digits, milliseconds kept) then the zone.
fn fraction(rest: &str) -> Option<(i64, &str)> {
    let Some(frac) = rest.strip_prefix('.') else {
        return Some((0, rest));
    };
    let n = frac.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let ms_text = format!("{:0<3}", &frac[..n.min(3)]);
    Some((ms_text.parse().ok()?, &frac[n..]))
}

/// `Z` or `±HH:MM`, in seconds east of UTC.
fn zone_offset(z: &str) -> Option<i64> {
    if z == "Z" || z == "z" {
        return Some(0);
    }
    let b = z.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = (digits(&z[1..3])?, digits(&z[4..6])?);
    (h <= 23 && m <= 59).then_some(sign * (h * 3_600 + m * 60))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        let cases = [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2026-11-24T20:00:00Z", Some(1_795_550_400_000)),
            ("2026-11-24T20:00:00.123Z", Some(1_795_550_400_123)),
            ("2026-11-24T20:00:00.1Z", Some(1_795_550_400_100)),
            ("2026-11-24T20:00:00.123456789Z", Some(1_795_550_400_123)),
            ("2026-11-24T21:30:00+01:30", Some(1_795_550_400_000)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800_000)),
            ("1969-12-31T23:59:59Z", Some(-1_000)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_time(text), want, "{text}");
        }
    }

    #[test]
    fn malformed_times_are_rejected() {
        let bad = [
            "",
            "2026-11-24",
            "2026-11-24T20:00:00",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T20:00:00.Z",
            "2026-11-24T20:00:00+0100",
            "2026-11-24T2a:00:00Z",
            "+026-11-24T20:00:00Z",
        ];
        for text in bad {
            assert_eq!(parse_time(text), None, "{text}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_is_one_day_after_the_previous() {
        let mut prev = days_from_civil(1899, 12, 31);
        for y in 1900..2300 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    let day = days_from_civil(y, m, d);
                    assert_eq!(day, prev + 1, "{y}-{m}-{d}");
                    prev = day;
                }
            }
        }
    }
}
