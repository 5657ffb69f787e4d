//! The IR-level delta ([`delta::between`]) against the whole-table delta on
//! synthetic clusters: for one-pod changes (removed, added, relabelled) and
//! a policy removed, both must write the same transaction.

use std::net::{IpAddr, Ipv4Addr};

use palisade_compile::{compile, LocalPods};
use palisade_model::{Cluster, Pod};
use palisade_nft::delta::{between, delta};
use palisade_nft::state::expected;
use palisade_synth::{generate, Params};

fn same_delta(before: &Cluster, after: &Cluster, what: &str) {
    let (old, new) = (
        compile(before, &LocalPods::All),
        compile(after, &LocalPods::All),
    );
    let whole = delta(&expected(&old).unwrap(), &new, "palisade").unwrap();
    let fast = between(&old, &new, "palisade").unwrap();
    assert_eq!(fast, whole, "{what}");
}

#[test]
fn one_pod_changes_give_the_whole_table_delta() {
    let cluster = generate(&Params::new(300, 60));
    let pods: Vec<Pod> = cluster.pods().cloned().collect();
    for (i, pod) in pods.iter().enumerate().step_by(37) {
        let mut removed = cluster.clone();
        removed.remove_pod(&pod.id());
        same_delta(&cluster, &removed, &format!("remove {}", pod.id()));
        same_delta(&removed, &cluster, &format!("add {}", pod.id()));

        let mut relabelled = cluster.clone();
        let other = &pods[(i * 7 + 13) % pods.len()];
        let moved = relabelled.pod_mut(&pod.id()).expect("pod");
        moved.labels = other.labels.clone();
        same_delta(&cluster, &relabelled, &format!("relabel {}", pod.id()));

        let mut copy = pod.clone();
        copy.name = format!("{}-copy", pod.name);
        copy.ips = vec![IpAddr::V4(Ipv4Addr::new(10, 200, 0, 1))];
        let mut added = cluster.clone();
        added.upsert_pod(copy);
        same_delta(&cluster, &added, &format!("copy of {}", pod.id()));
    }
}

#[test]
fn a_policy_removed_gives_the_whole_table_delta() {
    let cluster = generate(&Params::new(300, 60));
    for policy in cluster.policies().step_by(11) {
        let mut after = cluster.clone();
        after.remove_policy(&policy.reference());
        same_delta(&cluster, &after, &format!("remove {}", policy.reference()));
    }
}
