use super::*;
use proptest::prelude::*;

fn num(n: i64) -> Option<PortValue> {
    Some(PortValue::Number(n))
}

#[test]
fn validation_matches_the_api_server() {
    use PortError::*;
    assert_eq!(
        PolicyPort::new(None, None, Some(90)),
        Err(EndPortWithoutPort)
    );
    assert_eq!(
        PolicyPort::new(None, num(90), Some(80)),
        Err(EndPortBelowPort { start: 90, end: 80 })
    );
    assert_eq!(PolicyPort::new(None, num(0), None), Err(OutOfRange(0)));
    assert_eq!(
        PolicyPort::new(None, num(70000), None),
        Err(OutOfRange(70000))
    );
    let named = Some(PortValue::Name("http".into()));
    assert_eq!(
        PolicyPort::new(None, named, Some(90)),
        Err(EndPortWithNamedPort("http".into()))
    );
    assert!(matches!(
        PolicyPort::new(None, Some(PortValue::Name("80".into())), None),
        Err(BadName { .. })
    ));
    assert!("tcp".parse::<Protocol>().is_err());
    let p = PolicyPort::new(None, num(80), None).unwrap();
    assert_eq!(
        (p.protocol, p.port),
        (Protocol::Tcp, PortSpec::Range { start: 80, end: 80 })
    );
}

#[test]
fn named_ports_resolve_by_name_and_protocol() {
    let ports = [ContainerPort {
        name: Some("dns".into()),
        port: 53,
        protocol: Protocol::Udp,
    }];
    let p = PolicyPort::new(
        Some(Protocol::Udp),
        Some(PortValue::Name("dns".into())),
        None,
    )
    .unwrap();
    assert!(p.matches(Protocol::Udp, 53, Some(&ports)));
    assert!(!p.matches(Protocol::Udp, 54, Some(&ports)));
    assert!(
        !p.matches(Protocol::Udp, 53, None),
        "external addresses have no named ports"
    );
    let tcp = PolicyPort::new(None, Some(PortValue::Name("dns".into())), None).unwrap();
    assert!(
        !tcp.matches(Protocol::Tcp, 53, Some(&ports)),
        "name exists only for UDP"
    );
}

proptest! {
    #[test]
    fn ranges_are_inclusive(start in 1u16..=65535, width in 0u16..100, probe in 1u16..=65535) {
        let end = start.saturating_add(width);
        let p = PolicyPort::new(Some(Protocol::Sctp), num(start.into()), Some(end.into())).unwrap();
        prop_assert_eq!(p.matches(Protocol::Sctp, probe, None), start <= probe && probe <= end);
        prop_assert!(!p.matches(Protocol::Tcp, probe, None));
    }
}
