use super::*;

fn svc(backends: &[&str]) -> ServiceDnat {
    ServiceDnat {
        key: ServiceKey {
            cluster_ip: "10.96.0.10".parse().unwrap(),
            protocol: Protocol::Tcp,
            port: 80,
        },
        backends: backends.iter().map(|b| b.parse().unwrap()).collect(),
    }
}

#[test]
fn one_backend_is_a_plain_dnat() {
    let script = render_add("lab-svc", &svc(&["10.0.1.1:8080"])).unwrap();
    assert_eq!(
        script,
        "add chain inet lab-svc svc-10.96.0.10-tcp-80\n\
         flush chain inet lab-svc svc-10.96.0.10-tcp-80\n\
         add rule inet lab-svc svc-10.96.0.10-tcp-80 meta l4proto tcp dnat ip to 10.0.1.1:8080\n\
         add element inet lab-svc svc4 { 10.96.0.10 . tcp . 80 : goto svc-10.96.0.10-tcp-80 }\n"
    );
}

#[test]
fn several_backends_use_numgen() {
    let script = render_add("lab-svc", &svc(&["10.0.1.1:80", "10.0.1.2:80"])).unwrap();
    assert!(script.contains("numgen random mod 2 map { 0 : 10.0.1.1 . 80, 1 : 10.0.1.2 . 80 }"));
}

#[test]
fn backends_are_checked() {
    assert!(matches!(
        render_add("t", &svc(&[])),
        Err(ServiceError::NoBackends(_))
    ));
    let mixed = render_add("t", &svc(&["[fd00::1]:80"]));
    assert!(matches!(mixed, Err(ServiceError::MixedFamilies { .. })));
}

#[test]
fn removal_deletes_element_then_chain() {
    let key = ServiceKey {
        cluster_ip: "fd00::10".parse().unwrap(),
        protocol: Protocol::Sctp,
        port: 81,
    };
    assert_eq!(
        render_remove("t", &key),
        "delete element inet t svc6 { fd00::10 . sctp . 81 }\ndelete chain inet t svc-fd00__10-sctp-81\n"
    );
}

#[test]
fn table_hooks_prerouting_and_output() {
    let table = render_table("lab-svc");
    assert!(table.starts_with("table inet lab-svc {"));
    assert!(table.contains("type nat hook prerouting priority dstnat;"));
    assert!(table.contains("type nat hook output priority -100;"));
}

#[test]
fn replacing_recreates_the_table_then_every_port() {
    let script = render_replace("lab-svc", &[svc(&["10.0.1.1:8080"])]).unwrap();
    assert!(script
        .starts_with("table inet lab-svc {}\ndelete table inet lab-svc\ntable inet lab-svc {"));
    assert!(script.ends_with(&render_add("lab-svc", &svc(&["10.0.1.1:8080"])).unwrap()));
}
