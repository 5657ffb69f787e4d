//! Message layout, checked against what `nft --debug=mnl` (nft 1.0.6)
//! sends for the same elements (nft adds `NFTA_SET_ELEM_LIST_SET_ID`,
//! which only matters for a set created in the same batch; we name
//! existing sets).

use super::*;
use crate::element::{Datatype, Element};

/// `add element inet t m4 { 10.0.0.1 : jump c_x }`, after the nlmsghdr.
const MAP_ELEMENT: [u8; 64] = [
    1, 0, 0, 0, // nfgenmsg: NFPROTO_INET, v0, res_id 0
    6, 0, 1, 0, b't', 0, 0, 0, // NFTA_SET_ELEM_LIST_TABLE "t"
    7, 0, 2, 0, b'm', b'4', 0, 0, // NFTA_SET_ELEM_LIST_SET "m4"
    44, 0, 3, 0x80, // NFTA_SET_ELEM_LIST_ELEMENTS (nested)
    40, 0, 1, 0x80, // NFTA_LIST_ELEM
    12, 0, 1, 0x80, // NFTA_SET_ELEM_KEY
    8, 0, 1, 0, 10, 0, 0, 1, // NFTA_DATA_VALUE 10.0.0.1
    24, 0, 2, 0x80, // NFTA_SET_ELEM_DATA
    20, 0, 2, 0x80, // NFTA_DATA_VERDICT
    8, 0, 1, 0, 0xff, 0xff, 0xff, 0xfd, // NFTA_VERDICT_CODE NFT_JUMP
    8, 0, 2, 0, b'c', b'_', b'x', 0, // NFTA_VERDICT_CHAIN "c_x"
];

/// `add element inet t h4 { 10.0.0.1 . tcp . 80 }`, after the nlmsghdr.
const CONCAT_ELEMENT: [u8; 48] = [
    1, 0, 0, 0, //
    6, 0, 1, 0, b't', 0, 0, 0, //
    7, 0, 2, 0, b'h', b'4', 0, 0, //
    28, 0, 3, 0x80, //
    24, 0, 1, 0x80, //
    20, 0, 1, 0x80, //
    16, 0, 1, 0, // NFTA_DATA_VALUE: three fields, each padded to 4 bytes
    10, 0, 0, 1, 6, 0, 0, 0, 0, 80, 0, 0,
];

fn le(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The element message of a batch with one message: its header and body.
fn only_message(batch: &Batch) -> (&[u8], &[u8]) {
    let begin = le(&batch.bytes, 0) as usize;
    let len = le(&batch.bytes, begin) as usize;
    let msg = &batch.bytes[begin..begin + len];
    (&msg[..16], &msg[16..])
}

#[test]
fn a_verdict_map_element_is_laid_out_as_nft_does() {
    let mut batch = Batch::new(7);
    let key = set_key(&Element::single(&[0x0a00_0001]), &[Datatype::Ipv4Addr]).unwrap();
    let elem = Elem {
        jump: Some("c_x".into()),
        ..key
    };
    batch.elements(Op::Add, "t", "m4", &[elem], "add".into());
    let batch = batch.finish();
    let (header, body) = only_message(&batch);
    assert_eq!(body, MAP_ELEMENT);
    assert_eq!(le(header, 0) as usize, 16 + MAP_ELEMENT.len());
    assert_eq!(
        &header[4..6],
        &0x0a0cu16.to_ne_bytes(),
        "NFT_MSG_NEWSETELEM"
    );
    assert_eq!(&header[6..8], &(0x1u16 | 0x4 | 0x400).to_ne_bytes());
    assert_eq!(le(header, 8), 8, "sequence after the batch begin");
    assert_eq!(batch.messages, [(8, "add".to_string())]);
    assert_eq!(batch.first_seq(), 7);
}

#[test]
fn a_concatenated_key_pads_every_field() {
    let fields = [
        Datatype::Ipv4Addr,
        Datatype::InetProto,
        Datatype::InetService,
    ];
    let key = set_key(&Element::single(&[0x0a00_0001, 6, 80]), &fields).unwrap();
    let mut batch = Batch::new(1);
    batch.elements(Op::Delete, "t", "h4", &[key], "delete".into());
    let batch = batch.finish();
    let (header, body) = only_message(&batch);
    assert_eq!(body, CONCAT_ELEMENT);
    assert_eq!(
        &header[4..6],
        &0x0a0eu16.to_ne_bytes(),
        "NFT_MSG_DELSETELEM"
    );
}

#[test]
fn batches_are_framed_by_begin_and_end() {
    let batch = Batch::new(1).finish();
    assert_eq!(batch.bytes.len(), 40);
    for (at, kind) in [(0, 0x10u16), (20, 0x11)] {
        assert_eq!(le(&batch.bytes, at), 20);
        assert_eq!(&batch.bytes[at + 4..at + 6], &kind.to_ne_bytes());
        // nfgenmsg: AF_UNSPEC, v0, res_id NFNL_SUBSYS_NFTABLES (big endian)
        assert_eq!(&batch.bytes[at + 16..at + 20], &[0, 0, 0, 10]);
    }
}

#[test]
fn single_fields_are_not_padded_and_ranges_are_refused() {
    let v6 = set_key(&Element::single(&[1]), &[Datatype::Ipv6Addr]).unwrap();
    assert_eq!(v6.key.len(), 16);
    assert_eq!(v6.key[15], 1);
    let port = set_key(&Element::single(&[80]), &[Datatype::InetService]).unwrap();
    assert_eq!(port.key, [0, 80]);
    let range = Element(vec![(1, 2)]);
    assert_eq!(set_key(&range, &[Datatype::Ipv4Addr]), None);
}

#[test]
fn acks_are_read_with_their_sequence_numbers() {
    let mut datagram = Vec::new();
    for (seq, errno) in [(5u32, 0i32), (6, -2)] {
        datagram.extend_from_slice(&36u32.to_ne_bytes());
        datagram.extend_from_slice(&2u16.to_ne_bytes());
        datagram.extend_from_slice(&0u16.to_ne_bytes());
        datagram.extend_from_slice(&seq.to_ne_bytes());
        datagram.extend_from_slice(&0u32.to_ne_bytes());
        datagram.extend_from_slice(&errno.to_ne_bytes());
        datagram.extend_from_slice(&[0; 16]);
    }
    assert_eq!(socket::acks(&datagram), [(5, 0), (6, -2)]);
}

#[test]
fn the_generation_is_read_from_its_answer() {
    // NEWGEN (seq 9): nfgenmsg, NFTA_GEN_ID 0x01020304, NFTA_GEN_PROC_PID.
    let mut datagram = Vec::new();
    datagram.extend_from_slice(&36u32.to_ne_bytes());
    datagram.extend_from_slice(&((10u16 << 8) | 15).to_ne_bytes());
    datagram.extend_from_slice(&0u16.to_ne_bytes());
    datagram.extend_from_slice(&9u32.to_ne_bytes());
    datagram.extend_from_slice(&0u32.to_ne_bytes());
    datagram.extend_from_slice(&[0, 0, 3, 4]);
    datagram.extend_from_slice(&[8, 0, 1, 0, 1, 2, 3, 4]);
    datagram.extend_from_slice(&[8, 0, 2, 0, 0, 0, 0, 7]);
    assert_eq!(socket::parse_gen(&datagram, 9), Some(Ok(0x0102_0304)));
    assert_eq!(socket::parse_gen(&datagram, 8), None);
    assert_eq!(socket::parse_gen(&datagram[..20], 9), None);
    // An error answer to it.
    let mut error = Vec::new();
    error.extend_from_slice(&36u32.to_ne_bytes());
    error.extend_from_slice(&2u16.to_ne_bytes());
    error.extend_from_slice(&0u16.to_ne_bytes());
    error.extend_from_slice(&9u32.to_ne_bytes());
    error.extend_from_slice(&0u32.to_ne_bytes());
    error.extend_from_slice(&(-1i32).to_ne_bytes());
    error.extend_from_slice(&[0; 16]);
    assert_eq!(socket::parse_gen(&error, 9), Some(Err(-1)));
}
