//! The NFLOG wire format (nfnetlink_log): configuration requests we send
//! and the packet messages the kernel sends back.
//!
//! Every message is a `nlmsghdr` (16 bytes, host byte order), a `nfgenmsg`
//! (family, version, resource id = group, big endian), then attributes
//! (`nlattr`: length and type, host order, payload padded to 4 bytes).
//! Values inside NFLOG attributes are big endian.

/// `NETLINK_NETFILTER` subsystem id of nfnetlink_log.
const NFNL_SUBSYS_ULOG: u16 = 4;
const NFULNL_MSG_PACKET: u16 = 0;
const NFULNL_MSG_CONFIG: u16 = 1;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;

const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULA_CFG_TIMEOUT: u16 = 4;
const NFULA_CFG_QTHRESH: u16 = 5;

const NFULA_TIMESTAMP: u16 = 3;
const NFULA_PAYLOAD: u16 = 9;
const NFULA_PREFIX: u16 = 10;
const NFULA_PACKET_HDR: u16 = 1;

/// `NFULNL_CFG_CMD_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Bind = 1,
    Unbind = 2,
}

/// `NFULNL_COPY_PACKET`: copy (part of) the packet.
const NFULNL_COPY_PACKET: u8 = 2;

/// How many bytes of each packet we ask for: IPv6 header (40) plus
/// extension headers and the first bytes of TCP/UDP/SCTP/ICMP.
pub const COPY_RANGE: u32 = 128;

/// A `NFULNL_MSG_CONFIG` request for `group` with the given attributes.
fn config(group: u16, seq: u32, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(64);
    msg.extend_from_slice(&[0; 16]);
    // nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id = group (big endian).
    msg.extend_from_slice(&[0, 0]);
    msg.extend_from_slice(&group.to_be_bytes());
    for (kind, payload) in attrs {
        let len = 4 + payload.len();
        msg.extend_from_slice(&(len as u16).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(payload);
        msg.resize(msg.len() + (align(len) - len), 0);
    }
    let len = msg.len() as u32;
    let kind = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    msg[0..4].copy_from_slice(&len.to_ne_bytes());
    msg[4..6].copy_from_slice(&kind.to_ne_bytes());
    msg[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
    msg
}

/// Binds or unbinds `group`.
pub fn command(group: u16, seq: u32, cmd: Command) -> Vec<u8> {
    config(group, seq, &[(NFULA_CFG_CMD, vec![cmd as u8])])
}

/// Copy mode "packet", `range` bytes; deliver each packet at once
/// (queue threshold 1) or after 10 ms at most.
pub fn copy_packet(group: u16, seq: u32, range: u32) -> Vec<u8> {
    let mut mode = range.to_be_bytes().to_vec();
    mode.extend_from_slice(&[NFULNL_COPY_PACKET, 0]);
    config(
        group,
        seq,
        &[
            (NFULA_CFG_MODE, mode),
            (NFULA_CFG_QTHRESH, 1u32.to_be_bytes().to_vec()),
            (NFULA_CFG_TIMEOUT, 1u32.to_be_bytes().to_vec()),
        ],
    )
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// One logged packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedPacket {
    pub group: u16,
    /// `NFULA_PACKET_HDR` hardware protocol (0x0800 IPv4, 0x86dd IPv6).
    pub hw_protocol: u16,
    pub prefix: Option<String>,
    /// The first bytes of the packet, from the network header on.
    pub payload: Vec<u8>,
    /// `NFULA_TIMESTAMP` in milliseconds since the epoch, when present.
    pub timestamp_ms: Option<u64>,
}

/// What one netlink message was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Packet(LoggedPacket),
    /// `NLMSG_ERROR`: 0 is an acknowledgement, otherwise `-errno`.
    Ack {
        seq: u32,
        error: i32,
    },
    /// Anything else (`NLMSG_DONE`, other subsystems).
    Other,
}

/// The buffer did not hold well-formed netlink messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed netlink message at byte {at}: {what}")]
pub struct ParseError {
    pub at: usize,
    pub what: &'static str,
}

/// Parses every netlink message in `buf` (one `recv`).
pub fn parse(buf: &[u8]) -> Result<Vec<Message>, ParseError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32_ne(&buf[at..]) as usize;
        if len < 16 || at + len > buf.len() {
            return Err(ParseError {
                at,
                what: "bad nlmsg_len",
            });
        }
        out.push(message(&buf[at..at + len]).map_err(|what| ParseError { at, what })?);
        at += align(len);
    }
    Ok(out)
}

fn message(m: &[u8]) -> Result<Message, &'static str> {
    let kind = u16_ne(&m[4..]);
    let seq = u32_ne(&m[8..]);
    match kind {
        NLMSG_ERROR => {
            let error = m.get(16..20).ok_or("short NLMSG_ERROR")?;
            Ok(Message::Ack {
                seq,
                error: i32::from_ne_bytes(error.try_into().expect("4 bytes")),
            })
        }
        NLMSG_DONE => Ok(Message::Other),
        k if k == (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET => packet(m).map(Message::Packet),
        _ => Ok(Message::Other),
    }
}

fn packet(m: &[u8]) -> Result<LoggedPacket, &'static str> {
    let gen = m.get(16..20).ok_or("short nfgenmsg")?;
    let mut p = LoggedPacket {
        group: u16::from_be_bytes([gen[2], gen[3]]),
        hw_protocol: 0,
        prefix: None,
        payload: Vec::new(),
        timestamp_ms: None,
    };
    let mut at = 20;
    while at + 4 <= m.len() {
        let len = u16_ne(&m[at..]) as usize;
        let kind = u16_ne(&m[at + 2..]) & 0x3fff;
        if len < 4 || at + len > m.len() {
            return Err("bad nla_len");
        }
        let value = &m[at + 4..at + len];
        match kind {
            NFULA_PACKET_HDR if value.len() >= 2 => {
                p.hw_protocol = u16::from_be_bytes([value[0], value[1]]);
            }
            NFULA_PREFIX => {
                let text = value.split(|b| *b == 0).next().unwrap_or_default();
                p.prefix = Some(String::from_utf8_lossy(text).into_owned());
            }
            NFULA_PAYLOAD => p.payload = value.to_vec(),
            NFULA_TIMESTAMP if value.len() >= 16 => {
                let sec = u64::from_be_bytes(value[0..8].try_into().expect("8 bytes"));
                let usec = u64::from_be_bytes(value[8..16].try_into().expect("8 bytes"));
                p.timestamp_ms = Some(sec * 1000 + usec / 1000);
            }
            _ => {}
        }
        at += align(len);
    }
    Ok(p)
}

fn u16_ne(b: &[u8]) -> u16 {
    u16::from_ne_bytes([b[0], b[1]])
}

fn u32_ne(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests;
