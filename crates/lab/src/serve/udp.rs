//! UDP echo that answers from the address the datagram was sent to (IP_PKTINFO).

use std::io::{self, IoSlice, IoSliceMut};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

use nix::libc::{in6_pktinfo, in_pktinfo};
use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessage, ControlMessageOwned, MsgFlags,
    SockaddrStorage,
};

/// Room for datagrams: probes are small, but echo anything up to 64 KiB.
const MAX_DATAGRAM: usize = 65_536;
/// Receive buffer asked for (forced past rmem_max as root): bursts of parallel probes.
const RCVBUF: usize = 4 << 20;

/// Turns on packet info (and a big receive buffer) for `socket`.
pub(super) fn prepare(socket: &socket2::Socket, v4: bool) -> io::Result<()> {
    if setsockopt(socket, sockopt::RcvBufForce, &RCVBUF).is_err() {
        socket.set_recv_buffer_size(RCVBUF)?;
    }
    match v4 {
        true => setsockopt(socket, sockopt::Ipv4PacketInfo, &true)?,
        false => setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true)?,
    }
    Ok(())
}

/// Echoes every datagram back to its sender; returns only with an error.
pub(super) fn echo_loop(socket: &UdpSocket) -> io::Error {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        if let Err(e) = echo_one(socket, &mut buf) {
            if !super::is_transient(&e) && e.raw_os_error() != Some(nix::libc::ECONNREFUSED) {
                return e;
            }
        }
    }
}

/// The local address a datagram was sent to, as a control message to reply with.
enum ReplyFrom {
    V4(in_pktinfo),
    V6(in6_pktinfo),
    Unknown,
}

fn echo_one(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    let mut cmsg = nix::cmsg_space!(in_pktinfo, in6_pktinfo);
    let (len, peer, from) = {
        let mut iov = [IoSliceMut::new(buf)];
        let msg = recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty())?;
        let from = msg
            .cmsgs()?
            .find_map(reply_from)
            .unwrap_or(ReplyFrom::Unknown);
        (msg.bytes, msg.address, from)
    };
    let iov = [IoSlice::new(&buf[..len])];
    let cmsgs: Vec<ControlMessage> = match &from {
        ReplyFrom::V4(info) => vec![ControlMessage::Ipv4PacketInfo(info)],
        ReplyFrom::V6(info) => vec![ControlMessage::Ipv6PacketInfo(info)],
        ReplyFrom::Unknown => vec![],
    };
    sendmsg(fd, &iov, &cmsgs, MsgFlags::empty(), peer.as_ref())?;
    Ok(())
}

/// Source for the reply = destination of the request; interface left to routing.
fn reply_from(cmsg: ControlMessageOwned) -> Option<ReplyFrom> {
    match cmsg {
        ControlMessageOwned::Ipv4PacketInfo(info) => Some(ReplyFrom::V4(in_pktinfo {
            ipi_ifindex: 0,
            ipi_spec_dst: info.ipi_addr,
            ipi_addr: info.ipi_addr,
        })),
        ControlMessageOwned::Ipv6PacketInfo(info) => Some(ReplyFrom::V6(in6_pktinfo {
            ipi6_addr: info.ipi6_addr,
            ipi6_ifindex: 0,
        })),
        _ => None,
    }
}
