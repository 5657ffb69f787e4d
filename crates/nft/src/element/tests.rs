use proptest::prelude::*;

use super::*;

fn range(lo: u128, hi: u128) -> Element {
    Element(vec![(lo, hi)])
}

#[test]
fn merges_adjacent_and_overlapping_ranges() {
    let got = normalize(
        [range(5, 9), range(0, 4), range(8, 12), range(20, 20)],
        true,
    );
    assert_eq!(got, [range(0, 12), range(20, 20)].into_iter().collect());
}

#[test]
fn plain_sets_are_not_merged() {
    let got = normalize([range(1, 1), range(2, 2)], false);
    assert_eq!(got.len(), 2);
}

#[test]
fn concatenations_merge_only_under_the_same_prefix() {
    let tcp = |lo, hi| Element(vec![(6, 6), (lo, hi)]);
    let udp = |lo, hi| Element(vec![(17, 17), (lo, hi)]);
    let got = normalize([tcp(80, 80), tcp(81, 90), udp(91, 95)], true);
    assert_eq!(got, [tcp(80, 90), udp(91, 95)].into_iter().collect());
}

#[test]
fn renders_addresses_protocols_and_ranges() {
    let fields = [
        Datatype::Ipv4Addr,
        Datatype::InetProto,
        Datatype::InetService,
    ];
    let e = Element(vec![(0x0a00_0101, 0x0a00_0101), (132, 132), (80, 90)]);
    assert_eq!(render(&e, &fields), "10.0.1.1 . sctp . 80-90");
    let v6 = Element::single(&[addr_value(&"fd00::1".parse().unwrap())]);
    assert_eq!(render(&v6, &[Datatype::Ipv6Addr]), "fd00::1");
}

#[test]
fn key_types_round_trip() {
    let fields = datatypes("ipv4_addr . inet_proto . inet_service").unwrap();
    assert_eq!(key_type(&fields), "ipv4_addr . inet_proto . inet_service");
    assert_eq!(datatypes("ether_addr"), None);
}

#[test]
fn parses_what_it_renders() {
    for d in [
        Datatype::Ipv4Addr,
        Datatype::Ipv6Addr,
        Datatype::InetProto,
        Datatype::InetService,
    ] {
        for v in [0u128, 6, 17, 132, 255] {
            assert_eq!(d.parse(&d.render(v)), Some(v), "{d:?} {v}");
        }
    }
}

proptest! {
    /// Normalising is idempotent and keeps exactly the covered values.
    #[test]
    fn normalize_preserves_coverage(ranges in prop::collection::vec((0u128..64, 0u128..8), 0..12)) {
        let input: Vec<Element> = ranges.iter().map(|&(lo, len)| range(lo, lo + len)).collect();
        let once = normalize(input.clone(), true);
        prop_assert_eq!(&normalize(once.clone(), true), &once);
        let covered = |set: &[Element], v: u128| set.iter().any(|e| e.0[0].0 <= v && v <= e.0[0].1);
        let once_vec: Vec<Element> = once.into_iter().collect();
        for v in 0..80 {
            prop_assert_eq!(covered(&input, v), covered(&once_vec, v));
        }
        for pair in once_vec.windows(2) {
            prop_assert!(pair[0].0[0].1 + 1 < pair[1].0[0].0, "not merged: {:?}", pair);
        }
    }
}
