//! Tables, chains, named counters, sets and maps as nf_tables messages,
//! laid out attribute by attribute as nft 1.0.6 sends them (checked against
//! `nft --debug=mnl` in the tests), so `nft list` prints a table loaded
//! this way exactly as one loaded by `nft -f`: sets carry the same
//! `NFTA_SET_USERDATA` (key byte order, comment) that nft reads back.

use std::net::IpAddr;

use super::encode::*;
use super::{set_key, Unsupported, CHUNK};
use crate::element::{addr_value, datatypes, Datatype, Element};
use crate::state::{Hook, MapState, SetState};

// NFTA_TABLE_*, NFTA_CHAIN_*, NFTA_HOOK_*
const TABLE_NAME: u16 = 1;
const TABLE_FLAGS: u16 = 2;
const CHAIN_TABLE: u16 = 1;
const CHAIN_NAME: u16 = 3;
const CHAIN_HOOK: u16 = 4;
const CHAIN_POLICY: u16 = 5;
const CHAIN_TYPE: u16 = 7;
const HOOK_NUM: u16 = 1;
const HOOK_PRIORITY: u16 = 2;
// NFTA_OBJ_*, NFTA_COUNTER_*
const OBJ_TABLE: u16 = 1;
const OBJ_NAME: u16 = 2;
const OBJ_TYPE: u16 = 3;
const OBJ_DATA: u16 = 4;
const COUNTER_BYTES: u16 = 1;
const COUNTER_PACKETS: u16 = 2;
/// `NFT_OBJECT_COUNTER`.
pub(crate) const OBJECT_COUNTER: u32 = 1;
// NFTA_SET_*
const SET_TABLE: u16 = 1;
const SET_NAME: u16 = 2;
const SET_FLAGS: u16 = 3;
const SET_KEY_TYPE: u16 = 4;
const SET_KEY_LEN: u16 = 5;
const SET_DATA_TYPE: u16 = 6;
const SET_DATA_LEN: u16 = 7;
const SET_DESC: u16 = 9;
const SET_ID: u16 = 10;
const SET_TIMEOUT: u16 = 11;
const SET_USERDATA: u16 = 13;
const DESC_SIZE: u16 = 1;
const DESC_CONCAT: u16 = 2;
const FIELD_LEN: u16 = 1;
// NFT_SET_* flags
const SET_F_INTERVAL: u32 = 0x4;
const SET_F_MAP: u32 = 0x8;
const SET_F_TIMEOUT: u32 = 0x10;
const SET_F_EVAL: u32 = 0x20;
const SET_F_CONCAT: u32 = 0x80;
/// `NFT_DATA_VERDICT`.
const DATA_VERDICT_TYPE: u32 = 0xffff_ff00;
// NFTNL_UDATA_SET_*
const UDATA_KEYBYTEORDER: u8 = 0;
const UDATA_DATABYTEORDER: u8 = 1;
const UDATA_KEY_TYPEOF: u8 = 3;
const UDATA_DATA_INTERVAL: u8 = 6;
const UDATA_COMMENT: u8 = 7;
/// nft's `BYTEORDER_BIG_ENDIAN`.
const BIG_ENDIAN: u32 = 2;
/// The typeof record nft writes for a concatenated key (an `EXPR_CONCAT`
/// with no typeof data).
const CONCAT_TYPEOF: [u8; 8] = [0, 4, 13, 0, 0, 0, 1, 0];
/// What the flow log's dynamic sets hold (see [`crate::render::set_decl`]).
const DYNAMIC_SIZE: u32 = 65535;
const DYNAMIC_TIMEOUT_MS: u64 = 60_000;

/// A set of a table, with its id when it is created in the same batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetRef<'a> {
    pub table: &'a str,
    pub name: &'a str,
    pub id: Option<u32>,
}

impl Batch {
    /// `NEWTABLE` (`add table inet T`).
    pub(crate) fn new_table(&mut self, table: &str) {
        let start = self.begin_msg(MSG_NEWTABLE, F_CREATE);
        self.string(TABLE_NAME, table);
        self.u32(TABLE_FLAGS, 0);
        self.end_msg(start, format!("table inet {table}"));
    }

    /// `DELTABLE` (`delete table inet T`).
    pub(crate) fn del_table(&mut self, table: &str) {
        let start = self.begin_msg(MSG_DELTABLE, 0);
        self.string(TABLE_NAME, table);
        self.end_msg(start, format!("table inet {table}"));
    }

    /// `NEWCHAIN`: a regular chain, or a base chain with its hook.
    pub(crate) fn new_chain(
        &mut self,
        table: &str,
        name: &str,
        hook: Option<&Hook>,
        what: &str,
    ) -> Result<(), Unsupported> {
        let start = self.begin_msg(MSG_NEWCHAIN, F_CREATE);
        self.string(CHAIN_TABLE, table);
        self.string(CHAIN_NAME, name);
        if let Some(hook) = hook {
            let (num, policy) = hook_numbers(hook)?;
            self.string(CHAIN_TYPE, &hook.kind);
            self.u32(CHAIN_POLICY, policy);
            let nest = self.open(CHAIN_HOOK);
            self.u32(HOOK_NUM, num);
            let priority = i32::try_from(hook.priority).map_err(|_| Unsupported("priority"))?;
            self.attr(HOOK_PRIORITY, &priority.to_be_bytes());
            self.end(nest);
        }
        self.end_msg(start, what.to_string());
        Ok(())
    }

    /// `DELCHAIN`.
    pub(crate) fn del_chain(&mut self, table: &str, name: &str, what: &str) {
        let start = self.begin_msg(MSG_DELCHAIN, 0);
        self.string(CHAIN_TABLE, table);
        self.string(CHAIN_NAME, name);
        self.end_msg(start, what.to_string());
    }

    /// `DELRULE` without a handle: `flush chain`.
    pub(crate) fn flush_chain(&mut self, table: &str, name: &str, what: &str) {
        let start = self.begin_msg(MSG_DELRULE, 0);
        self.string(CHAIN_TABLE, table);
        self.string(2, name); // NFTA_RULE_CHAIN
        self.end_msg(start, what.to_string());
    }

    /// `NEWOBJ`: a named counter at zero.
    pub(crate) fn new_counter(&mut self, table: &str, name: &str, what: &str) {
        let start = self.begin_msg(MSG_NEWOBJ, F_CREATE);
        self.string(OBJ_TABLE, table);
        self.string(OBJ_NAME, name);
        self.u32(OBJ_TYPE, OBJECT_COUNTER);
        let data = self.open(OBJ_DATA);
        self.u64(COUNTER_BYTES, 0);
        self.u64(COUNTER_PACKETS, 0);
        self.end(data);
        self.end_msg(start, what.to_string());
    }

    /// `DELOBJ` of a named counter.
    pub(crate) fn del_counter(&mut self, table: &str, name: &str, what: &str) {
        let start = self.begin_msg(MSG_DELOBJ, 0);
        self.string(OBJ_TABLE, table);
        self.string(OBJ_NAME, name);
        self.u32(OBJ_TYPE, OBJECT_COUNTER);
        let data = self.open(OBJ_DATA); // empty, as nft sends it
        self.end(data);
        self.end_msg(start, what.to_string());
    }

    /// `DELSET` (a set or a map).
    pub(crate) fn del_set(&mut self, table: &str, name: &str, what: &str) {
        let start = self.begin_msg(MSG_DELSET, 0);
        self.string(SET_TABLE, table);
        self.string(SET_NAME, name);
        self.end_msg(start, what.to_string());
    }

    /// `DELSETELEM` without elements: `flush set`.
    pub(crate) fn flush_set(&mut self, table: &str, name: &str, what: &str) {
        let start = self.begin_msg(MSG_DELSETELEM, 0);
        self.string(SET_TABLE, table);
        self.string(SET_NAME, name);
        self.end_msg(start, what.to_string());
    }

    /// `NEWSET` for a set palisade declares, as `id` of this batch.
    pub(crate) fn new_set(
        &mut self,
        table: &str,
        name: &str,
        set: &SetState,
        comment: &str,
        id: u32,
        what: &str,
    ) -> Result<(), Unsupported> {
        let fields = fields_of(&set.key_type)?;
        let concat = fields.len() > 1;
        let mut flags = 0;
        if set.interval {
            flags |= SET_F_INTERVAL | if concat { SET_F_CONCAT } else { 0 };
        }
        if set.dynamic {
            flags |= SET_F_TIMEOUT | SET_F_EVAL;
        }
        let start = self.begin_msg(MSG_NEWSET, F_CREATE);
        self.set_head(table, name, flags, &fields);
        self.u32(SET_ID, id);
        if set.dynamic || (set.interval && concat) {
            let desc = self.open(SET_DESC);
            if set.dynamic {
                self.u32(DESC_SIZE, DYNAMIC_SIZE);
            }
            if set.interval && concat {
                let list = self.open(DESC_CONCAT);
                for f in &fields {
                    let field = self.open(1); // NFTA_LIST_ELEM
                    self.u32(FIELD_LEN, f.bits() / 8);
                    self.end(field);
                }
                self.end(list);
            }
            self.end(desc);
        }
        if set.dynamic {
            self.u64(SET_TIMEOUT, DYNAMIC_TIMEOUT_MS);
        }
        let mut udata = key_udata(&fields);
        udata_string(&mut udata, UDATA_COMMENT, comment)?;
        self.attr(SET_USERDATA, &udata);
        self.end_msg(start, what.to_string());
        Ok(())
    }

    /// `NEWSET` for a verdict map (`KEY : verdict`), as `id` of this batch.
    pub(crate) fn new_map(
        &mut self,
        table: &str,
        name: &str,
        map: &MapState,
        id: u32,
        what: &str,
    ) -> Result<(), Unsupported> {
        let key = map
            .key_type
            .strip_suffix(" : verdict")
            .ok_or(Unsupported("map type"))?;
        let fields = fields_of(key)?;
        let start = self.begin_msg(MSG_NEWSET, F_CREATE);
        self.set_head(table, name, SET_F_MAP, &fields);
        self.u32(SET_DATA_TYPE, DATA_VERDICT_TYPE);
        self.u32(SET_DATA_LEN, 0);
        self.u32(SET_ID, id);
        let mut udata = key_udata(&fields);
        udata.extend_from_slice(&[UDATA_DATABYTEORDER, 4, 0, 0, 0, 0]);
        udata.extend_from_slice(&[UDATA_DATA_INTERVAL, 4, 0, 0, 0, 0]);
        self.attr(SET_USERDATA, &udata);
        self.end_msg(start, what.to_string());
        Ok(())
    }

    fn set_head(&mut self, table: &str, name: &str, flags: u32, fields: &[Datatype]) {
        self.string(SET_TABLE, table);
        self.string(SET_NAME, name);
        self.u32(SET_FLAGS, flags);
        let key_type = fields.iter().fold(0u32, |acc, f| (acc << 6) | type_id(*f));
        self.u32(SET_KEY_TYPE, key_type);
        let len: u32 = match fields {
            [one] => one.bits() / 8,
            many => many
                .iter()
                .map(|f| (f.bits() / 8).next_multiple_of(4))
                .sum(),
        };
        self.u32(SET_KEY_LEN, len);
    }

    /// Adds (or deletes) `elements` of set `to`, whose key type and
    /// interval flag are `kind`, in messages of at most [`CHUNK`] elements.
    pub(crate) fn set_elements<'a>(
        &mut self,
        op: Op,
        to: SetRef,
        kind: (&str, bool),
        elements: impl IntoIterator<Item = &'a Element>,
        what: &str,
    ) -> Result<(), Unsupported> {
        let SetRef { table, name, id } = to;
        let (key_type, interval) = kind;
        let fields = fields_of(key_type)?;
        let elements: Vec<&Element> = elements.into_iter().collect();
        if interval {
            if op == Op::Delete {
                return Err(Unsupported("deleting ranges of an interval set"));
            }
            let elems = interval_elems(&elements, &fields)?;
            for chunk in elems.chunks(CHUNK) {
                self.interval_elements(table, name, id, chunk, what.to_string());
            }
            return Ok(());
        }
        let elems: Vec<Elem> = elements
            .iter()
            .map(|e| set_key(e, &fields).ok_or(Unsupported("element")))
            .collect::<Result<_, _>>()?;
        for chunk in elems.chunks(CHUNK) {
            self.elements_of(op, table, name, id, chunk, what.to_string());
        }
        Ok(())
    }

    /// Adds (or deletes) verdict-map elements `ADDR : jump CHAIN`.
    pub(crate) fn map_elements<'a>(
        &mut self,
        op: Op,
        table: &str,
        name: &str,
        id: Option<u32>,
        elements: impl IntoIterator<Item = (&'a String, &'a String)>,
        what: &str,
    ) -> Result<(), Unsupported> {
        let mut elems = Vec::new();
        for (key, chain) in elements {
            let ip: IpAddr = key.parse().map_err(|_| Unsupported("map key"))?;
            let fields = [match ip {
                IpAddr::V4(_) => Datatype::Ipv4Addr,
                IpAddr::V6(_) => Datatype::Ipv6Addr,
            }];
            let key = set_key(&Element::single(&[addr_value(&ip)]), &fields)
                .ok_or(Unsupported("map key"))?;
            let jump = (op == Op::Add).then(|| chain.clone());
            elems.push(Elem { jump, ..key });
        }
        for chunk in elems.chunks(CHUNK) {
            self.elements_of(op, table, name, id, chunk, what.to_string());
        }
        Ok(())
    }
}

/// nft's datatype numbers (`enum datatypes`).
fn type_id(d: Datatype) -> u32 {
    match d {
        Datatype::Ipv4Addr => 7,
        Datatype::Ipv6Addr => 8,
        Datatype::InetProto => 12,
        Datatype::InetService => 13,
    }
}

fn fields_of(key_type: &str) -> Result<Vec<Datatype>, Unsupported> {
    datatypes(key_type).ok_or(Unsupported("set key type"))
}

/// The user data nft writes for a key: its byte order (big endian for a
/// single address, none for a concatenation, which also gets a typeof
/// record).
fn key_udata(fields: &[Datatype]) -> Vec<u8> {
    let order = match fields {
        [Datatype::Ipv4Addr | Datatype::Ipv6Addr | Datatype::InetService] => BIG_ENDIAN,
        _ => 0,
    };
    let mut udata = vec![UDATA_KEYBYTEORDER, 4];
    udata.extend_from_slice(&order.to_ne_bytes());
    if fields.len() > 1 {
        udata.extend_from_slice(&[UDATA_KEY_TYPEOF, CONCAT_TYPEOF.len() as u8]);
        udata.extend_from_slice(&CONCAT_TYPEOF);
    }
    udata
}

/// A NUL-terminated string record of user data (at most 255 bytes).
pub(crate) fn udata_string(udata: &mut Vec<u8>, kind: u8, text: &str) -> Result<(), Unsupported> {
    let len = u8::try_from(text.len() + 1).map_err(|_| Unsupported("comment length"))?;
    udata.extend_from_slice(&[kind, len]);
    udata.extend_from_slice(text.as_bytes());
    udata.push(0);
    Ok(())
}

/// Hook number and policy verdict of a base chain.
fn hook_numbers(hook: &Hook) -> Result<(u32, u32), Unsupported> {
    let num = match hook.hook.as_str() {
        "prerouting" => 0,
        "input" => 1,
        "forward" => 2,
        "output" => 3,
        "postrouting" => 4,
        _ => return Err(Unsupported("hook")),
    };
    let policy = match hook.policy.as_str() {
        "drop" => 0,
        "accept" => 1,
        _ => return Err(Unsupported("chain policy")),
    };
    Ok((num, policy))
}

/// The bytes of one field value, `width` bytes, network order.
fn field_bytes(value: u128, field: Datatype, pad: bool, out: &mut Vec<u8>) {
    let width = (field.bits() / 8) as usize;
    out.extend_from_slice(&value.to_be_bytes()[16 - width..]);
    if pad {
        out.resize(out.len().next_multiple_of(4), 0);
    }
}

/// Interval-set elements as nft sends them. One field: sorted range starts,
/// each followed by an end element at `hi + 1` (none after a range that
/// runs to the top of the field, whose start is marked open), and an end
/// element at 0 first when the first range does not start there. Concatenations: one element per range with its end key.
fn interval_elems(
    elements: &[&Element],
    fields: &[Datatype],
) -> Result<Vec<IntervalElem>, Unsupported> {
    let mut out = Vec::with_capacity(elements.len() * 2 + 1);
    if let [field] = fields {
        let max = match field.bits() {
            128 => u128::MAX,
            bits => (1u128 << bits) - 1,
        };
        let bytes = |v: u128| {
            let mut b = Vec::with_capacity(16);
            field_bytes(v, *field, false, &mut b);
            b
        };
        for (i, e) in elements.iter().enumerate() {
            let &[(lo, hi)] = e.0.as_slice() else {
                return Err(Unsupported("element"));
            };
            if i == 0 && lo != 0 {
                out.push(IntervalElem::End(bytes(0)));
            }
            match hi == max {
                true => out.push(IntervalElem::OpenStart(bytes(lo))),
                false => {
                    out.push(IntervalElem::Start(bytes(lo)));
                    out.push(IntervalElem::End(bytes(hi + 1)));
                }
            }
        }
        return Ok(out);
    }
    for e in elements {
        if e.0.len() != fields.len() {
            return Err(Unsupported("element"));
        }
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for (&(a, b), field) in e.0.iter().zip(fields) {
            field_bytes(a, *field, true, &mut lo);
            field_bytes(b, *field, true, &mut hi);
        }
        out.push(IntervalElem::Range(lo, hi));
    }
    Ok(out)
}
