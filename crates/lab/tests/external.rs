//! Probes between pods and non-pod addresses on the external host cross the
//! node's forward path, in both directions.

mod common;

use common::{ip, outcomes, Lab};
use palisade_lab::probe::DEFAULT_TIMEOUT;
use palisade_lab::{probe_many, Outcome::*, ProbeError, ProbeSpec, Protocol};

#[test]
fn helper() {
    common::helper_main();
}

#[test]
fn external_addresses_both_directions() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let pod = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    for addr in ["192.0.2.10", "198.51.100.7"] {
        lab.node.add_external(ip(addr)).unwrap();
    }
    let ext = lab.node.external_netns();
    lab.start_helper(&pod.netns, "serve");
    lab.start_helper(&ext, "serve");

    let to_ext = |addr: &str| -> Vec<ProbeSpec> {
        let spec = |&p| ProbeSpec::new(&pod.netns, ip(addr), p, 80).to_netns(&ext);
        Protocol::ALL.iter().map(spec).collect()
    };
    let from_ext = |addr: &str| -> Vec<ProbeSpec> {
        let spec = |&p| {
            ProbeSpec::new(&ext, ip("10.0.1.1"), p, 81)
                .from_ip(ip(addr))
                .to_netns(&pod.netns)
        };
        Protocol::ALL.iter().map(spec).collect()
    };
    // The second address is not the external host's primary one: UDP must still be echoed from it.
    for addr in ["192.0.2.10", "198.51.100.7"] {
        assert_eq!(
            outcomes(probe_many(&to_ext(addr), DEFAULT_TIMEOUT)),
            [Reached; 3],
            "to {addr}"
        );
        assert_eq!(
            outcomes(probe_many(&from_ext(addr), DEFAULT_TIMEOUT)),
            [Reached; 3],
            "from {addr}"
        );
    }

    lab.node_nft("table ip plt-test { chain deny { type filter hook forward priority 0; ip saddr 198.51.100.7 drop; }; }");
    assert_eq!(
        outcomes(probe_many(&from_ext("198.51.100.7"), DEFAULT_TIMEOUT)),
        [Blocked; 3]
    );
    assert_eq!(
        outcomes(probe_many(&from_ext("192.0.2.10"), DEFAULT_TIMEOUT)),
        [Reached; 3]
    );
    // Replies from the external host are dropped too: the pod's probes to that address fail.
    assert_eq!(
        outcomes(probe_many(&to_ext("198.51.100.7")[..2], DEFAULT_TIMEOUT)),
        [Blocked; 2]
    );

    // Without its route the node answers "network unreachable": an error, not a denial.
    lab.node.remove_external(ip("192.0.2.10")).unwrap();
    let gone = probe_many(&to_ext("192.0.2.10")[..1], DEFAULT_TIMEOUT).remove(0);
    assert!(matches!(gone, Err(ProbeError::Rejected { .. })), "{gone:?}");
}
