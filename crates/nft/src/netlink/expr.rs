//! Rules as nf_tables expressions. The rule text the renderer writes
//! ([`crate::rules`], [`crate::layout`], [`crate::flowlog`]) is a closed
//! language; this module reads it statement by statement and emits the
//! expressions nft 1.0.6 generates for it (checked byte for byte against
//! `nft --debug=mnl`), including the `meta nfproto` dependency nft adds
//! before the first `ip`/`ip6` field of a rule in an `inet` table. Text it
//! does not know is [`Unsupported`], and the update goes through `nft -f`.

use super::encode::{Batch, F_APPEND, F_CREATE, MSG_NEWRULE};
use super::objects::{udata_string, OBJECT_COUNTER};
use super::Unsupported;
use crate::fingerprint::RenderedRule;

// NFTA_RULE_*, NFTA_EXPR_*
const RULE_TABLE: u16 = 1;
const RULE_CHAIN: u16 = 2;
const RULE_EXPRESSIONS: u16 = 4;
const RULE_USERDATA: u16 = 7;
const LIST_ELEM: u16 = 1;
const EXPR_NAME: u16 = 1;
const EXPR_DATA: u16 = 2;
/// `NFTNL_UDATA_RULE_COMMENT`.
const UDATA_RULE_COMMENT: u8 = 0;
/// `NFT_REG_VERDICT`, `NFT_REG_1`.
const REG_VERDICT: u32 = 0;
const REG_1: u32 = 1;
/// `NFT_META_NFPROTO`, `NFT_META_L4PROTO`.
const META_NFPROTO: u32 = 15;
const META_L4PROTO: u32 = 16;
/// `NFT_PAYLOAD_NETWORK_HEADER`, `NFT_PAYLOAD_TRANSPORT_HEADER`.
const NETWORK: u32 = 1;
const TRANSPORT: u32 = 2;
const VERDICT_DROP: u32 = 0;
const VERDICT_ACCEPT: u32 = 1;
/// `NFT_RULE_MAXEXPRS`: the kernel refuses a rule with more expressions
/// (and with these at most 128 expressions stay far below an attribute's
/// 64 KiB).
const MAX_EXPRS: usize = 128;
/// `NFT_REG32_COUNT`: a lookup key spans at most 16 32-bit registers.
const MAX_KEY_WORDS: u32 = 16;
/// `NF_LOG_PREFIXLEN` less the NUL.
const MAX_LOG_PREFIX: usize = 127;

/// The nf_tables `NFPROTO_*` of an `ip`/`ip6` field or `meta nfproto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nfproto {
    V4 = 2,
    V6 = 10,
}

/// One key field of a (possibly concatenated) lookup.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// `ip saddr` etc.: family, offset in the network header, length.
    Addr(Nfproto, u32, u32),
    L4proto,
    Dport,
}

impl Field {
    fn len(self) -> u32 {
        match self {
            Field::Addr(_, _, len) => len,
            Field::L4proto => 1,
            Field::Dport => 2,
        }
    }
}

/// Whether a set (by name) holds intervals: nft converts host-order
/// fields of a concatenation (`meta l4proto`) for interval sets only.
pub(crate) type IsInterval<'a> = &'a dyn Fn(&str) -> bool;

/// `NEWRULE` appending `rule` to `chain`.
pub(crate) fn new_rule(
    batch: &mut Batch,
    table: &str,
    chain: &str,
    rule: &RenderedRule,
    ids: &dyn Fn(&str) -> Option<u32>,
    interval: IsInterval,
    what: &str,
) -> Result<(), Unsupported> {
    let start = batch.begin_msg(MSG_NEWRULE, F_CREATE | F_APPEND);
    batch.string(RULE_TABLE, table);
    batch.string(RULE_CHAIN, chain);
    let list = batch.open(RULE_EXPRESSIONS);
    let mut w = Writer {
        batch,
        ids,
        interval,
        nfproto: None,
        exprs: 0,
    };
    let words = tokens(&rule.text)?;
    if words.is_empty() {
        return Err(Unsupported("empty rule"));
    }
    w.statements(&words)?;
    batch.end(list);
    let mut udata = Vec::new();
    udata_string(&mut udata, UDATA_RULE_COMMENT, &rule.comment)?;
    batch.attr(RULE_USERDATA, &udata);
    batch.end_msg(start, what.to_string());
    Ok(())
}

/// Words of a rule, a quoted string being one word (without its quotes).
fn tokens(text: &str) -> Result<Vec<&str>, Unsupported> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or(Unsupported("rule text"))?;
            out.push(&quoted[..end]);
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = rest[end..].trim_start();
        }
    }
    Ok(out)
}

struct Writer<'a, 'b> {
    batch: &'a mut Batch,
    ids: &'b dyn Fn(&str) -> Option<u32>,
    interval: IsInterval<'b>,
    /// The family the rule has already checked (`meta nfproto`).
    nfproto: Option<Nfproto>,
    /// Expressions written so far.
    exprs: usize,
}

/// A set or counter name as the renderer writes them (an ASCII letter,
/// then letters, digits and underscores, at most [`MAX_NAME`] bytes).
fn name(text: &str) -> Result<&str, Unsupported> {
    let ok = text.len() <= crate::names::MAX_NAME
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(text).ok_or(Unsupported("name"))
}

/// A set reference, `@NAME`.
fn set_name(text: &str) -> Result<&str, Unsupported> {
    name(text.strip_prefix('@').ok_or(Unsupported("rule text"))?)
}

/// A decimal number as nft reads it: digits only (Rust's parsers also
/// take a leading `+`).
fn number<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, Unsupported> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Unsupported(what));
    }
    text.parse().map_err(|_| Unsupported(what))
}

impl Writer<'_, '_> {
    fn statements<'t>(&mut self, mut t: &'t [&'t str]) -> Result<(), Unsupported> {
        while !t.is_empty() {
            t = self.statement(t)?;
            if self.exprs > MAX_EXPRS {
                return Err(Unsupported("too many expressions"));
            }
        }
        Ok(())
    }

    /// Writes the statement at the start of `t`, returns the rest.
    fn statement<'t>(&mut self, t: &'t [&'t str]) -> Result<&'t [&'t str], Unsupported> {
        match t {
            ["ct", "state", states, rest @ ..] => {
                self.ct_state(states)?;
                Ok(rest)
            }
            ["meta", "nfproto", family, rest @ ..] if *family != "." => {
                let p = match *family {
                    "ipv4" => Nfproto::V4,
                    "ipv6" => Nfproto::V6,
                    _ => return Err(Unsupported("meta nfproto")),
                };
                self.nfproto_check(p);
                Ok(rest)
            }
            ["counter", "name", counter, rest @ ..] => {
                self.objref(name(counter)?);
                Ok(rest)
            }
            ["accept", rest @ ..] => {
                self.verdict(VERDICT_ACCEPT);
                Ok(rest)
            }
            ["drop", rest @ ..] => {
                self.verdict(VERDICT_DROP);
                Ok(rest)
            }
            ["update", set, "{", rest @ ..] => self.dynset(set, rest),
            ["log", "prefix", prefix, "group", group, rest @ ..] => {
                let group: u16 = number(group, "log group")?;
                if prefix.len() > MAX_LOG_PREFIX || prefix.chars().any(char::is_control) {
                    return Err(Unsupported("log prefix"));
                }
                self.log(prefix, group);
                Ok(rest)
            }
            _ => self.lookup(t),
        }
    }

    /// `FIELD [. FIELD]... [vmap] @SET`.
    fn lookup<'t>(&mut self, mut t: &'t [&'t str]) -> Result<&'t [&'t str], Unsupported> {
        let mut fields = Vec::new();
        loop {
            let (field, rest) = field(t)?;
            fields.push(field);
            match rest {
                [".", more @ ..] => t = more,
                _ => {
                    t = rest;
                    break;
                }
            }
        }
        let (vmap, set, rest) = match t {
            ["vmap", set, rest @ ..] => (true, *set, rest),
            [set, rest @ ..] => (false, *set, rest),
            [] => return Err(Unsupported("rule text")),
        };
        let set = set_name(set)?;
        let words: u32 = fields.iter().map(|f| f.len().div_ceil(4)).sum();
        if words > MAX_KEY_WORDS {
            return Err(Unsupported("key too long"));
        }
        let interval = (self.interval)(set);
        self.load(&fields, interval);
        let e = self.expr("lookup");
        self.batch.u32(2, REG_1); // NFTA_LOOKUP_SREG
        if vmap {
            self.batch.u32(3, REG_VERDICT); // NFTA_LOOKUP_DREG
        }
        self.set_ref(1, 4, set); // NFTA_LOOKUP_SET, _SET_ID
        self.end_expr(e);
        Ok(rest)
    }

    /// Loads `fields` into consecutive registers from `NFT_REG_1`.
    fn load(&mut self, fields: &[Field], interval: bool) {
        let mut offset = 0; // in 32-bit registers
        for &f in fields {
            let reg = register(offset);
            match f {
                Field::Addr(p, at, len) => {
                    if self.nfproto != Some(p) {
                        self.nfproto_check(p);
                    }
                    self.payload(reg, NETWORK, at, len);
                }
                Field::L4proto => {
                    self.meta(META_L4PROTO, reg);
                    if interval && fields.len() > 1 {
                        let e = self.expr("byteorder");
                        for (kind, v) in [(1, reg), (2, reg), (3, 1), (4, 1), (5, 2)] {
                            self.batch.u32(kind, v); // sreg, dreg, op hton, len, size
                        }
                        self.end_expr(e);
                    }
                }
                Field::Dport => self.payload(reg, TRANSPORT, 2, 2),
            }
            offset += f.len().div_ceil(4);
        }
    }

    fn nfproto_check(&mut self, p: Nfproto) {
        self.meta(META_NFPROTO, REG_1);
        self.cmp(0, &[p as u8]);
        self.nfproto = Some(p);
    }

    fn ct_state(&mut self, states: &str) -> Result<(), Unsupported> {
        let mut mask = 0u32;
        for s in states.split(',') {
            mask |= match s {
                "invalid" => 1,
                "established" => 2,
                "related" => 4,
                "new" => 8,
                "untracked" => 64,
                _ => return Err(Unsupported("ct state")),
            };
        }
        let e = self.expr("ct");
        self.batch.u32(2, 0); // NFTA_CT_KEY: NFT_CT_STATE
        self.batch.u32(1, REG_1); // NFTA_CT_DREG
        self.end_expr(e);
        let e = self.expr("bitwise");
        self.batch.u32(1, REG_1); // sreg
        self.batch.u32(2, REG_1); // dreg
        self.batch.u32(3, 4); // len
        self.batch.data(4, &mask.to_ne_bytes()); // mask (host order)
        self.batch.data(5, &[0; 4]); // xor
        self.end_expr(e);
        self.cmp(1, &[0; 4]);
        Ok(())
    }

    fn meta(&mut self, key: u32, reg: u32) {
        let e = self.expr("meta");
        self.batch.u32(2, key); // NFTA_META_KEY
        self.batch.u32(1, reg); // NFTA_META_DREG
        self.end_expr(e);
    }

    fn payload(&mut self, reg: u32, base: u32, offset: u32, len: u32) {
        let e = self.expr("payload");
        for (kind, v) in [(1, reg), (2, base), (3, offset), (4, len)] {
            self.batch.u32(kind, v);
        }
        self.end_expr(e);
    }

    /// `cmp` of `NFT_REG_1` with `value`: op 0 eq, 1 neq.
    fn cmp(&mut self, op: u32, value: &[u8]) {
        let e = self.expr("cmp");
        self.batch.u32(1, REG_1);
        self.batch.u32(2, op);
        self.batch.data(3, value);
        self.end_expr(e);
    }

    fn objref(&mut self, name: &str) {
        let e = self.expr("objref");
        self.batch.u32(1, OBJECT_COUNTER); // NFTA_OBJREF_IMM_TYPE
        self.batch.attr(2, name.as_bytes()); // NFTA_OBJREF_IMM_NAME, no NUL (as nft)
        self.end_expr(e);
    }

    fn verdict(&mut self, code: u32) {
        let e = self.expr("immediate");
        self.batch.u32(1, REG_VERDICT); // NFTA_IMMEDIATE_DREG
        let data = self.batch.open(2); // NFTA_IMMEDIATE_DATA
        let verdict = self.batch.open(2); // NFTA_DATA_VERDICT
        self.batch.u32(1, code); // NFTA_VERDICT_CODE
        self.batch.end(verdict);
        self.batch.end(data);
        self.end_expr(e);
    }

    /// `update @SET { FIELD limit rate N/UNIT burst B packets }`.
    fn dynset<'t>(&mut self, set: &str, t: &'t [&'t str]) -> Result<&'t [&'t str], Unsupported> {
        let set = set_name(set)?;
        let (key, t) = field(t)?;
        let ["limit", "rate", rate, "burst", burst, "packets", "}", rest @ ..] = t else {
            return Err(Unsupported("dynset statement"));
        };
        let (rate, unit) = rate.split_once('/').ok_or(Unsupported("limit rate"))?;
        let rate: u64 = number(rate, "limit rate")?;
        let unit: u64 = match unit {
            "second" => 1,
            "minute" => 60,
            "hour" => 3600,
            "day" => 86400,
            _ => return Err(Unsupported("limit unit")),
        };
        let burst: u32 = number(burst, "limit burst")?;
        self.load(&[key], false);
        let e = self.expr("dynset");
        self.batch.u32(4, REG_1); // NFTA_DYNSET_SREG_KEY
        self.batch.u32(3, 1); // NFTA_DYNSET_OP: NFT_DYNSET_OP_UPDATE
        self.set_ref(1, 2, set); // NFTA_DYNSET_SET_NAME, _SET_ID
        let inner = self.batch.open(7); // NFTA_DYNSET_EXPR
        self.batch.string(EXPR_NAME, "limit");
        let data = self.batch.open(EXPR_DATA);
        self.batch.u64(1, rate); // NFTA_LIMIT_RATE
        self.batch.u64(2, unit); // NFTA_LIMIT_UNIT
        self.batch.u32(3, burst); // NFTA_LIMIT_BURST
        self.batch.u32(4, 0); // NFTA_LIMIT_TYPE: packets
        self.batch.u32(5, 0); // NFTA_LIMIT_FLAGS
        self.batch.end(data);
        self.batch.end(inner);
        self.end_expr(e);
        Ok(rest)
    }

    fn log(&mut self, prefix: &str, group: u16) {
        let e = self.expr("log");
        self.batch.string(2, prefix); // NFTA_LOG_PREFIX
        self.batch.attr(1, &group.to_be_bytes()); // NFTA_LOG_GROUP
        self.end_expr(e);
    }

    /// A set reference by name, and by id when the set is new in this batch.
    fn set_ref(&mut self, name_attr: u16, id_attr: u16, set: &str) {
        self.batch.string(name_attr, set);
        if let Some(id) = (self.ids)(set) {
            self.batch.u32(id_attr, id);
        }
    }

    /// Opens one expression; returns (list element, data) starts.
    fn expr(&mut self, name: &str) -> (usize, usize) {
        self.exprs += 1;
        let elem = self.batch.open(LIST_ELEM);
        self.batch.string(EXPR_NAME, name);
        (elem, self.batch.open(EXPR_DATA))
    }

    fn end_expr(&mut self, (elem, data): (usize, usize)) {
        self.batch.end(data);
        self.batch.end(elem);
    }
}

/// The field at the start of `t`, and the rest.
fn field<'t>(t: &'t [&'t str]) -> Result<(Field, &'t [&'t str]), Unsupported> {
    let (f, rest) = match t {
        ["ip", "saddr", rest @ ..] => (Field::Addr(Nfproto::V4, 12, 4), rest),
        ["ip", "daddr", rest @ ..] => (Field::Addr(Nfproto::V4, 16, 4), rest),
        ["ip6", "saddr", rest @ ..] => (Field::Addr(Nfproto::V6, 8, 16), rest),
        ["ip6", "daddr", rest @ ..] => (Field::Addr(Nfproto::V6, 24, 16), rest),
        ["meta", "l4proto", rest @ ..] => (Field::L4proto, rest),
        ["th", "dport", rest @ ..] => (Field::Dport, rest),
        _ => return Err(Unsupported("rule text")),
    };
    Ok((f, rest))
}

/// nft's register for a field at `offset` 32-bit words from `NFT_REG_1`:
/// a 128-bit register when aligned to one, else a 32-bit one.
fn register(offset: u32) -> u32 {
    match offset % 4 {
        0 => REG_1 + offset / 4,
        _ => 8 + offset, // NFT_REG32_00
    }
}
