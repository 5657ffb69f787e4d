//! A `NETLINK_NETFILTER` socket in a network namespace, one batch sent and
//! its answers read back.
//!
//! Sockets are kept open between batches, a few namespaces at most,
//! keyed by the namespace's identity (device and inode of its
//! `/run/netns` file, so a namespace deleted and made again under the same
//! name gets a new socket): closing a netfilter socket right after a
//! commit cost 4-16 ms (measured, kernel 6.18), as much as the whole batch,
//! and opening one in another namespace takes a thread that enters it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt as _;
use std::sync::Mutex;

use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{
    bind, recv, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr,
    SockFlag, SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

use super::Batch;

/// `NLMSG_ERROR`: an ACK (error 0) or an error.
const NLMSG_ERROR: u16 = 2;

/// Why a netlink batch failed. The kernel applies a batch whole or not at
/// all, so after any of these the previous ruleset is still in force.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("could not open a netfilter netlink socket{}: {source}", in_ns(.netns))]
    Socket {
        netns: Option<String>,
        source: std::io::Error,
    },
    #[error("netlink {step}: {source}")]
    Io {
        step: &'static str,
        source: std::io::Error,
    },
    /// The kernel refused the batch, naming each message it refused.
    #[error("the kernel rejected the update: {}", .refused.join("; "))]
    Rejected { refused: Vec<String> },
    #[error("netlink: no answer for {missing} of the batch's messages")]
    NoAnswer { missing: usize },
}

fn in_ns(netns: &Option<String>) -> String {
    netns
        .as_ref()
        .map_or_else(String::new, |ns| format!(" in network namespace {ns}"))
}

/// Opens a socket in `netns` (`None`: ours), sends `batch`, reads the
/// answers. Only the batch's last message asks for an ACK (as a positive
/// confirmation); errors come unasked, each with the sequence number of
/// the message it refuses. The kernel processes the whole batch inside our
/// `sendto` and queues every answer before it returns, so after the ACK
/// (or a refusal) what is queued is all there is.
pub fn send(netns: Option<&str>, batch: &Batch) -> Result<(), NetlinkError> {
    let (fd, key) = take(netns).map_err(|source| NetlinkError::Socket {
        netns: netns.map(String::from),
        source,
    })?;
    let result = send_on(&fd, batch);
    // After an answer (or a refusal) everything queued was read: the socket
    // is clean for the next batch. After an I/O error it is dropped.
    if matches!(result, Ok(()) | Err(NetlinkError::Rejected { .. })) {
        give_back(key, fd);
    }
    result
}

fn send_on(fd: &OwnedFd, batch: &Batch) -> Result<(), NetlinkError> {
    let io = |step| {
        move |e: nix::Error| NetlinkError::Io {
            step,
            source: e.into(),
        }
    };
    size_buffers(fd, batch).map_err(io("socket buffer size"))?;
    sendto(
        fd.as_raw_fd(),
        &batch.bytes,
        &NetlinkAddr::new(0, 0),
        MsgFlags::empty(),
    )
    .map_err(io("send"))?;
    let Some(&(last, _)) = batch.messages.last() else {
        return Ok(());
    };
    let (mut confirmed, mut lost) = (false, false);
    let mut refused = Vec::new();
    let mut buf = vec![0u8; 1 << 18];
    loop {
        let flags = match confirmed || !refused.is_empty() {
            true => MsgFlags::MSG_DONTWAIT,
            false => MsgFlags::empty(),
        };
        let n = match recv(fd.as_raw_fd(), &mut buf, flags) {
            Ok(n) => n,
            Err(nix::Error::EAGAIN) => break,
            // Answers overflowed the receive buffer: some were lost.
            Err(nix::Error::ENOBUFS) => {
                lost = true;
                continue;
            }
            Err(e) => return Err(io("receive")(e)),
        };
        for (seq, errno) in acks(&buf[..n]) {
            if errno == 0 {
                confirmed |= seq == last;
                continue;
            }
            let what = match batch.messages.binary_search_by_key(&seq, |m| m.0) {
                Ok(i) => batch.messages[i].1.clone(),
                Err(_) if seq == batch.first_seq() => "the batch".to_string(),
                Err(_) => format!("message {seq}"),
            };
            let err = std::io::Error::from_raw_os_error(-errno);
            refused.push(format!("{what}: {err}"));
        }
    }
    if lost && refused.is_empty() {
        refused.push("the batch: answers lost (receive buffer overflow)".into());
    }
    match (refused.is_empty(), confirmed) {
        (true, true) => Ok(()),
        (true, false) => Err(NetlinkError::NoAnswer { missing: 1 }),
        (false, _) => Err(NetlinkError::Rejected { refused }),
    }
}

/// `NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETGEN` and its answer `NEWGEN`.
const MSG_GETGEN: u16 = (10 << 8) | 16;
const MSG_NEWGEN: u16 = (10 << 8) | 15;
/// `NFTA_GEN_ID`.
const GEN_ID: u16 = 1;
/// `NLM_F_REQUEST`.
const F_REQUEST: u16 = 1;

/// The nf_tables generation of `netns` (`None`: ours): a number the kernel
/// bumps on every committed transaction, by anyone, in that namespace. One
/// small request and answer on the kept socket, no table read.
pub fn generation(netns: Option<&str>) -> Result<u32, NetlinkError> {
    let (fd, key) = take(netns).map_err(|source| NetlinkError::Socket {
        netns: netns.map(String::from),
        source,
    })?;
    let result = generation_on(&fd);
    if result.is_ok() {
        give_back(key, fd);
    }
    result
}

fn generation_on(fd: &OwnedFd) -> Result<u32, NetlinkError> {
    let io = |step| {
        move |e: nix::Error| NetlinkError::Io {
            step,
            source: e.into(),
        }
    };
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed) | 0x8000_0000;
    let mut msg = Vec::with_capacity(20);
    msg.extend_from_slice(&20u32.to_ne_bytes());
    msg.extend_from_slice(&MSG_GETGEN.to_ne_bytes());
    msg.extend_from_slice(&F_REQUEST.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
    msg.extend_from_slice(&[0, 0, 0, 0]); // nfgenmsg: AF_UNSPEC, v0, res_id 0
    sendto(
        fd.as_raw_fd(),
        &msg,
        &NetlinkAddr::new(0, 0),
        MsgFlags::empty(),
    )
    .map_err(io("send"))?;
    let mut buf = vec![0u8; 1 << 12];
    loop {
        // Blocking, bounded by the socket's receive timeout.
        let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()).map_err(io("receive"))?;
        match parse_gen(&buf[..n], seq) {
            Some(Ok(id)) => return Ok(id),
            Some(Err(errno)) => {
                let source = std::io::Error::from_raw_os_error(-errno);
                return Err(NetlinkError::Io {
                    step: "generation",
                    source,
                });
            }
            None => continue, // an answer to something else (none expected)
        }
    }
}

/// The generation id in the `NEWGEN` answering `seq` in a datagram, or the
/// error the kernel answered it with; `None` when neither is there.
pub(super) fn parse_gen(mut buf: &[u8], seq: u32) -> Option<Result<u32, i32>> {
    let u32_at = |b: &[u8], i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    while buf.len() >= 16 {
        let len = (u32_at(buf, 0) as usize).min(buf.len());
        if len < 16 {
            return None;
        }
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        let msg = &buf[..len];
        if u32_at(msg, 8) == seq {
            if kind == NLMSG_ERROR && len >= 20 {
                let errno = i32::from_ne_bytes(msg[16..20].try_into().expect("4 bytes"));
                if errno != 0 {
                    return Some(Err(errno));
                }
            }
            if kind == MSG_NEWGEN {
                let mut attrs = msg.get(20..).unwrap_or_default();
                while attrs.len() >= 4 {
                    let alen = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
                    let akind = u16::from_ne_bytes([attrs[2], attrs[3]]) & 0x3fff;
                    if alen < 4 || alen > attrs.len() {
                        break;
                    }
                    if akind == GEN_ID && alen == 8 {
                        let id = u32::from_be_bytes(attrs[4..8].try_into().expect("4 bytes"));
                        return Some(Ok(id));
                    }
                    attrs = &attrs[alen.next_multiple_of(4).min(attrs.len())..];
                }
            }
        }
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    None
}

/// Sizes the socket's buffers for `batch`: the whole batch goes out in one
/// `sendto` (the kernel takes a batch from one datagram, and refuses one
/// larger than the send buffer less a little), and the answers (an error
/// quotes the message it refuses) must fit in the receive buffer. The
/// `FORCE` options need `CAP_NET_ADMIN`, as nf_tables itself does.
fn size_buffers(fd: &OwnedFd, batch: &Batch) -> nix::Result<()> {
    const DEFAULT: usize = 1 << 20;
    let cap = (i32::MAX / 2) as usize;
    let send = (batch.bytes.len() + (1 << 16)).min(cap);
    if send > DEFAULT / 4 {
        setsockopt(fd, sockopt::SndBufForce, &send)?;
    }
    let answers = (batch.bytes.len() / 4).clamp(DEFAULT, 1 << 26);
    setsockopt(fd, sockopt::RcvBufForce, &answers)
}

/// (sequence number, error) of every `NLMSG_ERROR` in a datagram.
pub(super) fn acks(mut buf: &[u8]) -> Vec<(u32, i32)> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let u32_at =
            |b: &[u8], i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let len = (u32_at(buf, 0) as usize).min(buf.len());
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        let seq = u32_at(buf, 8);
        if kind == NLMSG_ERROR && len >= 20 {
            let errno = i32::from_ne_bytes(buf[16..20].try_into().expect("4 bytes"));
            out.push((seq, errno));
        }
        if len < 16 {
            break;
        }
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    out
}

/// Which namespace a socket is in: its name, and the device and inode of
/// its `/run/netns` file (`None`: our own namespace).
type Key = (Option<String>, Option<(u64, u64)>);

/// Open sockets, the most recently used last.
static POOL: Mutex<Vec<(Key, OwnedFd)>> = Mutex::new(Vec::new());

/// Namespaces whose socket is kept.
const KEEP: usize = 4;

/// A socket in `netns`: a kept one, or a new one.
fn take(netns: Option<&str>) -> std::io::Result<(OwnedFd, Key)> {
    let Some(ns) = netns else {
        let key = (None, None);
        return Ok(match pooled(&key) {
            Some(fd) => (fd, key),
            None => (create()?, key),
        });
    };
    let handle = std::fs::File::open(format!("/run/netns/{ns}"))?;
    let meta = handle.metadata()?;
    let key = (Some(ns.to_string()), Some((meta.dev(), meta.ino())));
    if let Some(fd) = pooled(&key) {
        return Ok((fd, key));
    }
    Ok((open_in(&handle)?, key))
}

fn pooled(key: &Key) -> Option<OwnedFd> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let at = pool.iter().position(|(k, _)| k == key)?;
    Some(pool.remove(at).1)
}

/// Keeps `fd` for the next batch; a socket of an older namespace of the
/// same name, or of the least recently used namespace beyond [`KEEP`], is
/// closed.
fn give_back(key: Key, fd: OwnedFd) {
    let mut closed = Vec::new();
    {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        let mut i = 0;
        while i < pool.len() {
            match pool[i].0 .0 == key.0 {
                true => closed.push(pool.remove(i)),
                false => i += 1,
            }
        }
        pool.push((key, fd));
        while pool.len() > KEEP {
            closed.push(pool.remove(0));
        }
    }
    drop(closed); // outside the lock
}

/// A bound netfilter socket created inside the namespace `handle` refers
/// to: a socket stays in the namespace it was created in, so a
/// short-lived thread enters the namespace, creates it and exits; this
/// thread never changes namespace.
fn open_in(handle: &std::fs::File) -> std::io::Result<OwnedFd> {
    std::thread::scope(|s| {
        s.spawn(|| {
            setns(handle, CloneFlags::CLONE_NEWNET)?;
            create()
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("netns thread panicked")))
    })
}

fn create() -> std::io::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkNetFilter,
    )?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0))?;
    setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(5, 0))?;
    Ok(fd)
}
