//! A NETLINK_NETFILTER socket bound to one NFLOG group, in the network
//! namespace of the calling thread.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    bind, recv, send, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

use crate::nflog::{self, Command, LoggedPacket, Message, COPY_RANGE};

/// Why the socket failed.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("NFLOG {what}: {errno}")]
    Sys { what: &'static str, errno: Errno },
    #[error("NFLOG group {group}: the kernel refused {what}: {errno}{hint}")]
    Refused {
        group: u16,
        what: &'static str,
        errno: Errno,
        hint: &'static str,
    },
    #[error(transparent)]
    Parse(#[from] nflog::ParseError),
    #[error("entering network namespace {0}")]
    Netns(String),
}

fn sys(what: &'static str) -> impl Fn(Errno) -> SocketError {
    move |errno| SocketError::Sys { what, errno }
}

/// What one receive returned.
#[derive(Debug)]
pub enum Received {
    Packets(Vec<LoggedPacket>),
    /// The receive timed out (nothing logged meanwhile).
    Timeout,
    /// The socket buffer overflowed: some packets were lost.
    Overrun,
}

/// The socket. Unbinds its group when dropped.
#[derive(Debug)]
pub struct NflogSocket {
    fd: OwnedFd,
    group: u16,
    seq: u32,
    buf: Vec<u8>,
}

impl NflogSocket {
    /// Opens a socket and binds `group` with copy mode "packet"
    /// ([`COPY_RANGE`] bytes). Fails with EBUSY when another socket holds
    /// the group, EPERM without CAP_NET_ADMIN.
    pub fn bind(group: u16) -> Result<Self, SocketError> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )
        .map_err(sys("socket"))?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(sys("bind"))?;
        // Room for bursts: the kernel drops (and we report an overrun) when full.
        let _ = setsockopt(&fd, sockopt::RcvBuf, &(4 << 20));
        let mut s = Self {
            fd,
            group,
            seq: 0,
            buf: vec![0; 1 << 16],
        };
        s.request(
            nflog::command(group, s.seq + 1, Command::Bind),
            "binding the group",
        )?;
        s.request(
            nflog::copy_packet(group, s.seq + 1, COPY_RANGE),
            "copy mode",
        )?;
        Ok(s)
    }

    pub fn group(&self) -> u16 {
        self.group
    }

    /// Makes [`NflogSocket::recv`] return [`Received::Timeout`] after `t`.
    pub fn set_timeout(&self, t: Duration) -> Result<(), SocketError> {
        let tv = TimeVal::new(t.as_secs() as _, t.subsec_micros() as _);
        setsockopt(&self.fd, sockopt::ReceiveTimeout, &tv).map_err(sys("SO_RCVTIMEO"))
    }

    /// Receives the next batch of logged packets.
    pub fn recv(&mut self) -> Result<Received, SocketError> {
        match recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty()) {
            Ok(n) => {
                let packets = nflog::parse(&self.buf[..n])?
                    .into_iter()
                    .filter_map(|m| match m {
                        Message::Packet(p) => Some(p),
                        _ => None,
                    })
                    .collect();
                Ok(Received::Packets(packets))
            }
            Err(Errno::EAGAIN | Errno::EINTR) => Ok(Received::Timeout),
            Err(Errno::ENOBUFS) => Ok(Received::Overrun),
            Err(e) => Err(sys("recv")(e)),
        }
    }

    /// Sends a config message and waits for its acknowledgement (packets
    /// arriving meanwhile are dropped: we are not reading yet).
    fn request(&mut self, msg: Vec<u8>, what: &'static str) -> Result<(), SocketError> {
        self.seq += 1;
        send(self.fd.as_raw_fd(), &msg, MsgFlags::empty()).map_err(sys("send"))?;
        loop {
            let n =
                recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty()).map_err(sys("recv"))?;
            for m in nflog::parse(&self.buf[..n])? {
                if let Message::Ack { seq, error } = m {
                    if seq != self.seq {
                        continue;
                    }
                    if error == 0 {
                        return Ok(());
                    }
                    let errno = Errno::from_raw(-error);
                    let hint = match errno {
                        Errno::EBUSY => " (another process reads this group)",
                        Errno::EPERM => " (needs CAP_NET_ADMIN)",
                        _ => "",
                    };
                    return Err(SocketError::Refused {
                        group: self.group,
                        what,
                        errno,
                        hint,
                    });
                }
            }
        }
    }
}

impl Drop for NflogSocket {
    fn drop(&mut self) {
        let msg = nflog::command(self.group, self.seq + 1, Command::Unbind);
        let _ = send(self.fd.as_raw_fd(), &msg, MsgFlags::empty());
    }
}
