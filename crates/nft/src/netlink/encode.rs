//! nf_tables netlink messages, encoded by hand (linux/netfilter/nf_tables.h,
//! linux/netfilter/nfnetlink.h): one batch `NFNL_MSG_BATCH_BEGIN`, the
//! messages, `NFNL_MSG_BATCH_END`, which the kernel applies atomically or
//! not at all. This file holds the framing and the attribute writers; the
//! objects are in [`super::objects`] and [`super::expr`].

/// `NFNL_MSG_BATCH_BEGIN` / `END`.
const BATCH_BEGIN: u16 = 0x10;
const BATCH_END: u16 = 0x11;
/// `NFNL_SUBSYS_NFTABLES`.
const SUBSYS_NFTABLES: u16 = 10;
pub(crate) const MSG_NEWTABLE: u16 = 0;
pub(crate) const MSG_DELTABLE: u16 = 2;
pub(crate) const MSG_NEWCHAIN: u16 = 3;
pub(crate) const MSG_DELCHAIN: u16 = 5;
pub(crate) const MSG_NEWRULE: u16 = 6;
pub(crate) const MSG_DELRULE: u16 = 8;
pub(crate) const MSG_NEWSET: u16 = 9;
pub(crate) const MSG_DELSET: u16 = 11;
pub(crate) const MSG_NEWSETELEM: u16 = 12;
pub(crate) const MSG_DELSETELEM: u16 = 14;
pub(crate) const MSG_NEWOBJ: u16 = 18;
pub(crate) const MSG_DELOBJ: u16 = 20;
/// `NLM_F_REQUEST`, `NLM_F_ACK`, `NLM_F_CREATE`, `NLM_F_APPEND`.
const F_REQUEST: u16 = 0x1;
const F_ACK: u16 = 0x4;
pub(crate) const F_CREATE: u16 = 0x400;
pub(crate) const F_APPEND: u16 = 0x800;
const NLA_F_NESTED: u16 = 0x8000;
/// `NFPROTO_INET`, `AF_UNSPEC`.
const FAMILY_INET: u8 = 1;
const FAMILY_UNSPEC: u8 = 0;
// NFTA_SET_ELEM_LIST_*
const LIST_TABLE: u16 = 1;
const LIST_SET: u16 = 2;
const LIST_ELEMENTS: u16 = 3;
/// The attribute type of the `i`th element of a list: nft numbers them
/// from 1 (the kernel ignores the type of `NFTA_LIST_ELEM`s).
fn list_index(i: usize) -> u16 {
    u16::try_from(i + 1).expect("list chunks are small")
}
// NFTA_SET_ELEM_*
const ELEM_KEY: u16 = 1;
const ELEM_DATA: u16 = 2;
const ELEM_FLAGS: u16 = 3;
const ELEM_KEY_END: u16 = 10;
/// `NFTA_SET_ELEM_LIST_SET_ID`.
const LIST_SET_ID: u16 = 4;
/// `NFT_SET_ELEM_INTERVAL_END`.
const ELEM_INTERVAL_END: u32 = 1;
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

/// One element of an interval set: a range start or end (single-field
/// interval sets, as nft lays them out), or a whole range with its
/// `NFTA_SET_ELEM_KEY_END` (concatenated interval sets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntervalElem {
    Start(Vec<u8>),
    /// The start of a range that runs to the top of the field (no end
    /// element follows): nft marks it in the element's user data.
    OpenStart(Vec<u8>),
    End(Vec<u8>),
    Range(Vec<u8>, Vec<u8>),
}

/// `NFTA_SET_ELEM_USERDATA`.
const ELEM_USERDATA: u16 = 6;
/// `NFTNL_UDATA_SET_ELEM_FLAGS` = `NFTNL_SET_ELEM_F_INTERVAL_OPEN`, as nft
/// writes it.
const OPEN_INTERVAL_UDATA: [u8; 6] = [1, 4, 1, 0, 0, 0];

/// A netlink batch under construction: the bytes, and what each message
/// sequence number stands for (to name the object of an error).
#[derive(Debug, Default)]
pub struct Batch {
    pub bytes: Vec<u8>,
    /// (sequence number, description) of each message, in order.
    pub messages: Vec<(u32, String)>,
    next_seq: u32,
    /// Where the last message starts (it asks for the batch's one ACK).
    last: Option<usize>,
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

    /// Starts an nf_tables message of `kind` for the `inet` family (with
    /// `NLM_F_REQUEST` and `extra` flags); returns its start, for
    /// [`Batch::end_msg`].
    pub(crate) fn begin_msg(&mut self, kind: u16, extra: u16) -> usize {
        self.last = Some(self.bytes.len());
        self.header(
            (SUBSYS_NFTABLES << 8) | kind,
            F_REQUEST | extra,
            FAMILY_INET,
            0,
        )
    }

    /// Ends the message started at `start`, which stands for `what` in errors.
    pub(crate) fn end_msg(&mut self, start: usize, what: String) {
        let seq = u32::from_ne_bytes(
            self.bytes[start + 8..start + 12]
                .try_into()
                .expect("4 bytes"),
        );
        self.close(start);
        self.messages.push((seq, what));
    }

    /// Starts a set-element message for `set` (and `set_id`, for a set
    /// created in this batch) and opens its element list; returns the
    /// message's and the list's starts, to close with `end` and `end_msg`.
    fn begin_elements(
        &mut self,
        kind: u16,
        flags: u16,
        table: &str,
        set: &str,
        set_id: Option<u32>,
    ) -> (usize, usize) {
        let start = self.begin_msg(kind, flags);
        self.string(LIST_TABLE, table);
        self.string(LIST_SET, set);
        if let Some(id) = set_id {
            self.u32(LIST_SET_ID, id);
        }
        (start, self.open(LIST_ELEMENTS))
    }

    /// Elements of an interval set (`NFTA_SET_ELEM_LIST_*`), in one message.
    pub(crate) fn interval_elements(
        &mut self,
        table: &str,
        set: &str,
        set_id: Option<u32>,
        elems: &[IntervalElem],
        what: String,
    ) {
        let (start, list) = self.begin_elements(MSG_NEWSETELEM, F_CREATE, table, set, set_id);
        for (i, e) in elems.iter().enumerate() {
            let elem = self.open(list_index(i));
            let (key, end) = match e {
                IntervalElem::Start(k) | IntervalElem::OpenStart(k) => (k, None),
                IntervalElem::End(k) => {
                    self.u32(ELEM_FLAGS, ELEM_INTERVAL_END);
                    (k, None)
                }
                IntervalElem::Range(k, e) => (k, Some(e)),
            };
            self.data(ELEM_KEY, key);
            if let Some(end) = end {
                self.data(ELEM_KEY_END, end);
            }
            if matches!(e, IntervalElem::OpenStart(_)) {
                self.attr(ELEM_USERDATA, &OPEN_INTERVAL_UDATA);
            }
            self.end(elem);
        }
        self.end(list);
        self.end_msg(start, what);
    }

    /// A nested `NFTA_DATA_VALUE` under `kind`.
    pub(crate) fn data(&mut self, kind: u16, value: &[u8]) {
        let nest = self.open(kind);
        self.attr(DATA_VALUE, value);
        self.end(nest);
    }

    /// A big-endian u32 attribute (how nf_tables reads numbers).
    pub(crate) fn u32(&mut self, kind: u16, value: u32) {
        self.attr(kind, &value.to_be_bytes());
    }

    /// A big-endian u64 attribute.
    pub(crate) fn u64(&mut self, kind: u16, value: u64) {
        self.attr(kind, &value.to_be_bytes());
    }

    /// Ends the batch; its last message asks for an ACK (the kernel sends
    /// it after the commit, so it confirms the whole batch; errors come
    /// unasked).
    pub fn finish(mut self) -> Self {
        if let Some(at) = self.last {
            let flags = u16::from_ne_bytes([self.bytes[at + 6], self.bytes[at + 7]]) | F_ACK;
            self.bytes[at + 6..at + 8].copy_from_slice(&flags.to_ne_bytes());
        }
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
        self.elements_of(op, table, set, None, elems, what);
    }

    /// Like [`Batch::elements`], for a set created in this batch as `set_id`
    /// (nft names it by its id as well).
    pub(crate) fn elements_of(
        &mut self,
        op: Op,
        table: &str,
        set: &str,
        set_id: Option<u32>,
        elems: &[Elem],
        what: String,
    ) {
        let (kind, flags) = match op {
            Op::Add => (MSG_NEWSETELEM, F_CREATE),
            Op::Delete => (MSG_DELSETELEM, 0),
        };
        let (start, list) = self.begin_elements(kind, flags, table, set, set_id);
        for (i, e) in elems.iter().enumerate() {
            let elem = self.open(list_index(i));
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
        self.end_msg(start, what);
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

    pub(crate) fn attr(&mut self, kind: u16, payload: &[u8]) {
        let len = u16::try_from(4 + payload.len()).expect("attribute fits u16");
        self.bytes.extend_from_slice(&len.to_ne_bytes());
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(payload);
        self.pad();
    }

    pub(crate) fn string(&mut self, kind: u16, text: &str) {
        let mut payload = text.as_bytes().to_vec();
        payload.push(0);
        self.attr(kind, &payload);
    }

    pub(crate) fn open(&mut self, kind: u16) -> usize {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&0u16.to_ne_bytes());
        self.bytes
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        start
    }

    pub(crate) fn end(&mut self, start: usize) {
        let len = u16::try_from(self.bytes.len() - start).expect("nested attribute fits u16");
        self.bytes[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}
