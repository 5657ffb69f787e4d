//! nf_tables netlink messages for set-element deltas, encoded by hand
//! (linux/netfilter/nf_tables.h, linux/netfilter/nfnetlink.h): one batch
//! `NFNL_MSG_BATCH_BEGIN`, `NFT_MSG_NEWSETELEM` / `NFT_MSG_DELSETELEM` ...,
//! `NFNL_MSG_BATCH_END`, which the kernel applies atomically or not at all.

/// `NFNL_MSG_BATCH_BEGIN` / `END`.
const BATCH_BEGIN: u16 = 0x10;
const BATCH_END: u16 = 0x11;
/// `NFNL_SUBSYS_NFTABLES`.
const SUBSYS_NFTABLES: u16 = 10;
const MSG_NEWSETELEM: u16 = 12;
const MSG_DELSETELEM: u16 = 14;
/// `NLM_F_REQUEST`, `NLM_F_ACK`, `NLM_F_CREATE`.
const F_REQUEST: u16 = 0x1;
const F_ACK: u16 = 0x4;
const F_CREATE: u16 = 0x400;
const NLA_F_NESTED: u16 = 0x8000;
/// `NFPROTO_INET`, `AF_UNSPEC`.
const FAMILY_INET: u8 = 1;
const FAMILY_UNSPEC: u8 = 0;
// NFTA_SET_ELEM_LIST_*
const LIST_TABLE: u16 = 1;
const LIST_SET: u16 = 2;
const LIST_ELEMENTS: u16 = 3;
/// `NFTA_LIST_ELEM`.
const LIST_ELEM: u16 = 1;
// NFTA_SET_ELEM_*
const ELEM_KEY: u16 = 1;
const ELEM_DATA: u16 = 2;
// NFTA_DATA_*
const DATA_VALUE: u16 = 1;
const DATA_VERDICT: u16 = 2;
// NFTA_VERDICT_*
const VERDICT_CODE: u16 = 1;
const VERDICT_CHAIN: u16 = 2;
/// `NFT_JUMP` (-3).
const NFT_JUMP: i32 = -3;

/// Adding or deleting elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Delete,
}

/// One set element: its key (already in kernel byte layout) and, for a
/// verdict map, the chain it jumps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elem {
    pub key: Vec<u8>,
    pub jump: Option<String>,
}

/// A netlink batch under construction: the bytes, and what each message
/// sequence number stands for (to name the object of an error).
#[derive(Debug, Default)]
pub struct Batch {
    pub bytes: Vec<u8>,
    /// (sequence number, description) of each message that asks for an ACK.
    pub messages: Vec<(u32, String)>,
    next_seq: u32,
}

impl Batch {
    /// A batch whose sequence numbers start at `seq`.
    pub fn new(seq: u32) -> Self {
        let mut b = Self {
            next_seq: seq,
            ..Self::default()
        };
        b.control(BATCH_BEGIN);
        b
    }

    /// Ends the batch.
    pub fn finish(mut self) -> Self {
        self.control(BATCH_END);
        self
    }

    /// The sequence number of the batch-begin message.
    pub fn first_seq(&self) -> u32 {
        self.messages.first().map_or(self.next_seq, |m| m.0) - 1
    }

    fn control(&mut self, kind: u16) {
        let start = self.header(kind, F_REQUEST, FAMILY_UNSPEC, SUBSYS_NFTABLES);
        self.close(start);
    }

    /// One `NEWSETELEM` / `DELSETELEM` message for `elems` of `set`.
    pub fn elements(&mut self, op: Op, table: &str, set: &str, elems: &[Elem], what: String) {
        let (kind, flags) = match op {
            Op::Add => (MSG_NEWSETELEM, F_REQUEST | F_ACK | F_CREATE),
            Op::Delete => (MSG_DELSETELEM, F_REQUEST | F_ACK),
        };
        let seq = self.next_seq;
        let start = self.header((SUBSYS_NFTABLES << 8) | kind, flags, FAMILY_INET, 0);
        self.string(LIST_TABLE, table);
        self.string(LIST_SET, set);
        let list = self.open(LIST_ELEMENTS);
        for e in elems {
            let elem = self.open(LIST_ELEM);
            let key = self.open(ELEM_KEY);
            self.attr(DATA_VALUE, &e.key);
            self.end(key);
            if let Some(chain) = &e.jump {
                let data = self.open(ELEM_DATA);
                let verdict = self.open(DATA_VERDICT);
                self.attr(VERDICT_CODE, &NFT_JUMP.to_be_bytes());
                self.string(VERDICT_CHAIN, chain);
                self.end(verdict);
                self.end(data);
            }
            self.end(elem);
        }
        self.end(list);
        self.close(start);
        self.messages.push((seq, what));
    }

    /// Writes an `nlmsghdr` and an `nfgenmsg`; returns where the message starts.
    fn header(&mut self, kind: u16, flags: u16, family: u8, res_id: u16) -> usize {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&0u32.to_ne_bytes()); // length, set by close
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(&flags.to_ne_bytes());
        self.bytes.extend_from_slice(&self.next_seq.to_ne_bytes());
        self.bytes.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
        self.bytes.extend_from_slice(&[family, 0]); // NFNETLINK_V0
        self.bytes.extend_from_slice(&res_id.to_be_bytes());
        self.next_seq += 1;
        start
    }

    fn close(&mut self, start: usize) {
        let len = u32::try_from(self.bytes.len() - start).expect("message fits u32");
        self.bytes[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    fn attr(&mut self, kind: u16, payload: &[u8]) {
        let len = u16::try_from(4 + payload.len()).expect("attribute fits u16");
        self.bytes.extend_from_slice(&len.to_ne_bytes());
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(payload);
        self.pad();
    }

    fn string(&mut self, kind: u16, text: &str) {
        let mut payload = text.as_bytes().to_vec();
        payload.push(0);
        self.attr(kind, &payload);
    }

    fn open(&mut self, kind: u16) -> usize {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&0u16.to_ne_bytes());
        self.bytes
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        start
    }

    fn end(&mut self, start: usize) {
        let len = u16::try_from(self.bytes.len() - start).expect("nested attribute fits u16");
        self.bytes[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}
