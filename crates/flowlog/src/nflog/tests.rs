use super::*;

#[test]
fn bind_request_golden_bytes() {
    // Host byte order is little endian on the machines we build for.
    let msg = command(3117, 1, Command::Bind);
    let want: Vec<u8> = vec![
        28, 0, 0, 0, // nlmsg_len
        0x01, 0x04, // NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG
        5, 0, // NLM_F_REQUEST | NLM_F_ACK
        1, 0, 0, 0, // seq
        0, 0, 0, 0, // pid
        0, 0, 0x0c, 0x2d, // nfgenmsg: AF_UNSPEC, v0, group 3117 big endian
        5, 0, 1, 0, 1, 0, 0, 0, // NFULA_CFG_CMD = BIND, padded
    ];
    assert_eq!(msg, want);
}

#[test]
fn copy_mode_request_golden_bytes() {
    let msg = copy_packet(7, 2, 128);
    assert_eq!(msg.len(), 16 + 4 + 12 + 8 + 8);
    // NFULA_CFG_MODE: copy_range 128 (big endian), NFULNL_COPY_PACKET, pad.
    assert_eq!(&msg[20..32], &[10, 0, 2, 0, 0, 0, 0, 128, 2, 0, 0, 0]);
    assert_eq!(&msg[32..40], &[8, 0, 5, 0, 0, 0, 0, 1], "qthresh 1");
}

#[test]
fn parses_an_ack_and_an_error() {
    let mut buf = vec![36, 0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0];
    buf.extend_from_slice(&(-16i32).to_ne_bytes()); // -EBUSY
    buf.extend_from_slice(&[0; 16]);
    assert_eq!(
        parse(&buf).unwrap(),
        vec![Message::Ack { seq: 9, error: -16 }]
    );
    assert!(parse(&buf[..20]).is_err(), "truncated");
}

/// A NFULNL_MSG_PACKET captured from the kernel (6.18) by
/// tests/kernel.rs: a UDP datagram 10.78.0.1:45903 -> 10.78.0.2:9000
/// denied on ingress, group 3117.
const CAPTURED: [u8; 188] = [
    188, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 12, 45, 8, 0, 1, 0, 8, 0, 2, 0, 34, 0,
    10, 0, 112, 97, 108, 105, 115, 97, 100, 101, 32, 100, 101, 110, 121, 32, 99, 105, 95, 48, 99,
    55, 98, 99, 100, 48, 49, 57, 55, 50, 102, 0, 0, 0, 8, 0, 4, 0, 0, 0, 0, 2, 8, 0, 5, 0, 0, 0, 0,
    3, 16, 0, 8, 0, 0, 6, 0, 0, 2, 50, 95, 43, 213, 120, 0, 0, 6, 0, 15, 0, 0, 1, 0, 0, 6, 0, 17,
    0, 0, 14, 0, 0, 18, 0, 16, 0, 238, 238, 238, 238, 238, 238, 2, 50, 95, 43, 213, 120, 8, 0, 0,
    0, 20, 0, 3, 0, 0, 0, 0, 0, 107, 5, 253, 215, 0, 0, 0, 0, 0, 9, 251, 87, 33, 0, 9, 0, 69, 0, 0,
    29, 62, 235, 64, 0, 63, 17, 232, 70, 10, 78, 0, 1, 10, 78, 0, 2, 179, 79, 35, 40, 0, 9, 20,
    185, 120, 0, 0, 0,
];

#[test]
fn parses_a_captured_packet_message() {
    let msgs = parse(&CAPTURED).unwrap();
    let [Message::Packet(p)] = msgs.as_slice() else {
        panic!("one packet message: {msgs:?}")
    };
    assert_eq!(p.group, 3117);
    assert_eq!(p.hw_protocol, 0x0800);
    assert_eq!(p.prefix.as_deref(), Some("palisade deny ci_0c7bcd01972f"));
    // 0x6b05fdd7 s + 654167 us.
    assert_eq!(p.timestamp_ms, Some(1_795_554_775_654));
    let t = crate::packet::decode(&p.payload).unwrap();
    assert_eq!(t.src, "10.78.0.1".parse::<std::net::IpAddr>().unwrap());
    assert_eq!(
        (t.protocol, t.src_port, t.dst_port),
        (17, Some(45903), Some(9000))
    );
}
