//! Starting each kind of probe and reading its answer (non-blocking sockets).

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use nix::libc;
use socket2::{Domain, Protocol as SockProto, Socket, Type};

use super::sctp::{self, IPPROTO_SCTP};
use super::{Outcome, ProbeError, ProbeSpec};

/// Raw receive buffer: many INITs may arrive between two polls.
const RAW_RCVBUF: usize = 4 << 20;

/// Starts a TCP connect; the socket turns writable when it is decided.
pub(super) fn tcp_start(spec: &ProbeSpec) -> Result<Socket, ProbeError> {
    let io = |e| io_error(spec, e);
    let socket = Socket::new(
        domain(spec.dst_ip),
        Type::STREAM.nonblocking(),
        Some(SockProto::TCP),
    )
    .map_err(io)?;
    socket.set_linger(Some(Duration::ZERO)).map_err(io)?;
    bind_source(&socket, spec)?;
    match socket.connect(&spec.dst().into()) {
        Ok(()) => Ok(socket),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(e) => Err(classify(spec, e)),
    }
}

/// The outcome of a TCP connect once its socket polled ready.
pub(super) fn tcp_finish(spec: &ProbeSpec, socket: &Socket) -> Result<Outcome, ProbeError> {
    match socket.take_error() {
        Ok(None) => Ok(Outcome::Reached),
        Ok(Some(e)) => Err(classify(spec, e)),
        Err(e) => Err(io_error(spec, e)),
    }
}

/// Sends `nonce` over a connected UDP socket (connected, so ICMP errors come back).
pub(super) fn udp_start(spec: &ProbeSpec, nonce: &[u8]) -> Result<Socket, ProbeError> {
    let io = |e| io_error(spec, e);
    let socket = Socket::new(
        domain(spec.dst_ip),
        Type::DGRAM.nonblocking(),
        Some(SockProto::UDP),
    )
    .map_err(io)?;
    bind_source(&socket, spec)?;
    socket.connect(&spec.dst().into()).map_err(io)?;
    socket.send(nonce).map_err(|e| classify(spec, e))?;
    Ok(socket)
}

/// Reads what arrived: Some(outcome) once the echo (or an error) is there.
pub(super) fn udp_poll(
    spec: &ProbeSpec,
    mut socket: &Socket,
    nonce: &[u8],
) -> Option<Result<Outcome, ProbeError>> {
    let mut buf = [0u8; 64];
    loop {
        match socket.read(&mut buf) {
            Ok(n) if buf[..n] == *nonce => return Some(Ok(Outcome::Reached)),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
            Err(e) => return Some(Err(classify(spec, e))),
        }
    }
}

/// Sends an SCTP INIT carrying `tag` from a raw socket in the current netns.
pub(super) fn sctp_send(spec: &ProbeSpec, src_port: u16, tag: u32) -> Result<(), ProbeError> {
    let io = |e| io_error(spec, e);
    let socket = Socket::new(
        domain(spec.dst_ip),
        Type::RAW,
        Some(SockProto::from(IPPROTO_SCTP)),
    )
    .map_err(io)?;
    bind_source(&socket, spec)?;
    let packet = sctp::init_packet(src_port, spec.port, tag);
    let dst = SocketAddr::new(spec.dst_ip, 0);
    socket
        .send_to(&packet, &dst.into())
        .map_err(|e| classify(spec, e))?;
    Ok(())
}

/// A raw SCTP socket (current netns) that sees every SCTP packet delivered there.
pub(super) fn sctp_receiver(v4: bool) -> io::Result<Socket> {
    let domain = if v4 { Domain::IPV4 } else { Domain::IPV6 };
    let socket = Socket::new(
        domain,
        Type::RAW.nonblocking(),
        Some(SockProto::from(IPPROTO_SCTP)),
    )?;
    if nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::RcvBufForce, &RAW_RCVBUF)
        .is_err()
    {
        socket.set_recv_buffer_size(RAW_RCVBUF)?;
    }
    Ok(socket)
}

/// Every INIT tag waiting on a receiver.
pub(super) fn sctp_drain(mut socket: &Socket, v4: bool, tags: &mut Vec<u32>) {
    let mut buf = [0u8; 2048];
    while let Ok(n) = socket.read(&mut buf) {
        tags.extend(sctp::init_tag(&buf[..n], v4));
    }
}

fn bind_source(socket: &Socket, spec: &ProbeSpec) -> Result<(), ProbeError> {
    let Some(src) = spec.src_ip else {
        return Ok(());
    };
    let addr = SocketAddr::new(src, 0);
    socket.bind(&addr.into()).map_err(|e| io_error(spec, e))
}

fn domain(ip: IpAddr) -> Domain {
    if ip.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    }
}

/// Refused => PortClosed; ICMP unreachable / prohibited / local refusal => Rejected.
pub(super) fn classify(spec: &ProbeSpec, e: io::Error) -> ProbeError {
    let (protocol, dst) = (spec.protocol, spec.dst());
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => ProbeError::PortClosed { protocol, dst },
        Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EACCES | libc::EPERM) => {
            ProbeError::Rejected {
                protocol,
                dst,
                source: e,
            }
        }
        _ => io_error(spec, e),
    }
}

fn io_error(spec: &ProbeSpec, source: io::Error) -> ProbeError {
    ProbeError::Io {
        protocol: spec.protocol,
        dst: spec.dst(),
        source,
    }
}
