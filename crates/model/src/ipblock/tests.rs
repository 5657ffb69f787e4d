use super::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;

#[test]
fn parse_rejects_garbage_and_accepts_host_bits() {
    assert!(parse_cidr("10.0.0.0/33").is_err());
    assert!(parse_cidr("10.0.0.0").is_err());
    assert!(parse_cidr("10.0.0.256/8").is_err());
    assert!(parse_cidr("fd00::/129").is_err());
    let n = parse_cidr("10.1.2.3/8").unwrap();
    assert!(has_host_bits(&n));
    assert_eq!(
        IpBlock::new(n, vec![]).unwrap().cidr.to_string(),
        "10.0.0.0/8"
    );
}

/// Every form Kubernetes 1.32's `ParseCIDRSloppy` accepts, read as Go reads
/// it; leading zeros are decimal, never octal.
#[test]
fn parse_accepts_what_the_api_server_accepts() {
    let read = |s: &str| parse_cidr(s).map(|n| n.to_string());
    // Leading zeros in IPv4 octets (the matchZeros rewrite).
    assert_eq!(read("010.0.0.0/8").unwrap(), "10.0.0.0/8");
    assert_eq!(read("10.00.0.0/8").unwrap(), "10.0.0.0/8");
    assert_eq!(read("192.168.001.000/24").unwrap(), "192.168.1.0/24");
    assert_eq!(read("0000010.0.0.0/8").unwrap(), "10.0.0.0/8");
    assert_eq!(read("010.0.0.9/8").unwrap(), "10.0.0.9/8", "host bits kept");
    // Leading zeros in the prefix length (Go's dtoi), IPv4 and IPv6.
    assert_eq!(read("10.0.0.0/08").unwrap(), "10.0.0.0/8");
    assert_eq!(read("010.0.0.0/008").unwrap(), "10.0.0.0/8");
    assert_eq!(read("fd00::/064").unwrap(), "fd00::/64");
    assert_eq!(read("0.0.0.0/00").unwrap(), "0.0.0.0/0");
    // Non-canonical IPv6 (any case, zero groups written out).
    assert_eq!(read("FD00:0000:0:0::/16").unwrap(), "fd00::/16");
    // IPv4-mapped IPv6: Go's IPNet reads it as the IPv4 network.
    assert_eq!(read("::ffff:10.0.0.0/104").unwrap(), "10.0.0.0/8");
    assert_eq!(read("::ffff:010.1.0.0/112").unwrap(), "10.1.0.0/16");
    // Still rejected, as by the API server.
    for bad in [
        "10.0.0.0/+8",
        "10.0.0.0/-1",
        "10.0.0.0/ 8",
        "10.0.0.0/8/8",
        "10.0.0/8",
        "0x0a.0.0.0/8",
        "10.0.0.0/033",
        "fd00::/0129",
        "fe80::1%eth0/64",
        "",
    ] {
        assert!(parse_cidr(bad).is_err(), "{bad:?} must be rejected");
    }
}

#[test]
fn standard_form_is_what_strict_validation_accepts() {
    assert!(is_standard_cidr("10.0.0.0/8"));
    assert!(is_standard_cidr("10.0.0.0/0"));
    assert!(is_standard_cidr("fd00::/64"));
    for sloppy in ["010.0.0.0/8", "10.0.0.0/08", "::ffff:10.0.0.0/104", "x/8"] {
        assert!(!is_standard_cidr(sloppy), "{sloppy}");
    }
}

#[test]
fn pod_ips_are_read_sloppily_too() {
    let ip = |s: &str| parse_ip_sloppy(s).map(|a| a.to_string());
    assert_eq!(ip("010.000.0.1").as_deref(), Some("10.0.0.1"));
    assert_eq!(ip("::ffff:10.0.0.1").as_deref(), Some("10.0.0.1"));
    assert_eq!(ip("fd00::1").as_deref(), Some("fd00::1"));
    assert_eq!(ip("10.0.0.1/8"), None);
    assert_eq!(ip("10.0.0.256"), None);
}

#[test]
fn except_must_be_strict_subset() {
    assert!(IpBlock::parse("10.0.0.0/16", &["10.0.2.0/24"]).is_ok());
    assert!(IpBlock::parse("10.0.0.0/16", &["10.0.0.0/16"]).is_err());
    assert!(IpBlock::parse("10.0.0.0/16", &["10.1.0.0/24"]).is_err());
    assert!(IpBlock::parse("10.0.0.0/16", &["fd00::/64"]).is_err());
}

#[test]
fn ranges_carve_out_excepts() {
    let b = IpBlock::parse(
        "10.0.0.0/16",
        &["10.0.2.0/24", "10.0.0.0/24", "10.0.2.128/25"],
    )
    .unwrap();
    let r: Vec<String> = b.ranges().iter().map(|(a, z)| format!("{a}-{z}")).collect();
    assert_eq!(r, ["10.0.1.0-10.0.1.255", "10.0.3.0-10.0.255.255"]);
    let all = IpBlock::parse("0.0.0.0/0", &["255.255.255.255/32"]).unwrap();
    assert_eq!(all.ranges().len(), 1);
}

fn arb_net(base: u32) -> impl Strategy<Value = IpNet> {
    (0u32..256, 20u8..=32).prop_map(move |(off, len)| {
        IpNet::new(IpAddr::V4(Ipv4Addr::from(base + off * 16)), len)
            .unwrap()
            .trunc()
    })
}

proptest! {
    /// contains() and ranges() agree with a brute-force reading of the API:
    /// in cidr and in no except.
    #[test]
    fn contains_and_ranges_agree_with_brute_force(
        len in 16u8..=24,
        excepts in proptest::collection::vec(arb_net(0x0a00_0000), 0..5),
        probes in proptest::collection::vec(0u32..8192, 1..64),
    ) {
        let cidr = IpNet::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), len).unwrap();
        let excepts: Vec<IpNet> = excepts.into_iter()
            .filter(|e| e.prefix_len() > len && cidr.contains(e)).collect();
        let block = IpBlock::new(cidr, excepts.clone()).unwrap();
        let ranges = block.ranges();
        for p in probes {
            let a = IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + p * 7));
            let brute = cidr.contains(&a) && excepts.iter().all(|e| !e.contains(&a));
            prop_assert_eq!(block.contains(a), brute);
            let in_ranges = ranges.iter().any(|(lo, hi)| *lo <= a && a <= *hi);
            prop_assert_eq!(in_ranges, brute, "addr {} ranges {:?}", a, ranges);
        }
    }
}

/// Regression: overlapping excepts (a /28 inside a /25 that starts before it)
/// once re-opened the tail of the larger hole.
#[test]
fn overlapping_excepts_stay_carved_out() {
    let b = IpBlock::parse("10.0.0.0/20", &["10.0.8.0/25", "10.0.8.16/28"]).unwrap();
    let r: Vec<String> = b.ranges().iter().map(|(a, z)| format!("{a}-{z}")).collect();
    assert_eq!(r, ["10.0.0.0-10.0.7.255", "10.0.8.128-10.0.15.255"]);
    assert!(!b.contains("10.0.8.38".parse().unwrap()));
}
