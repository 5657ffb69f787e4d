//! The conformance pod server: TCP accept-and-close and UDP echo, dual-stack.
//!
//! Every port is served on `0.0.0.0` and on `[::]` (IPv6-only, so both can be
//! bound; skipped when the netns has no IPv6). TCP connections get one line
//! and are closed; UDP datagrams are echoed back from the address they were
//! sent to (so the external host, with many addresses, answers correctly).
//! SCTP needs no server: probes see INIT packets with a raw socket.

mod udp;

use std::convert::Infallible;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::thread::JoinHandle;

use socket2::{Domain, Socket, Type};

/// The line a TCP client receives before the server closes the connection.
pub const GREETING: &[u8] = b"palisade-lab serve\n";

/// Listen backlog: thousands of parallel probes may connect at once.
const BACKLOG: i32 = 4096;

/// Bound but not yet serving sockets (bind inside a netns, serve from anywhere).
#[derive(Debug)]
pub struct Servers {
    tcp: Vec<TcpListener>,
    udp: Vec<UdpSocket>,
}

/// Binds every port in the current thread's netns (see [`crate::netns::in_netns`]).
pub fn bind(tcp_ports: &[u16], udp_ports: &[u16]) -> io::Result<Servers> {
    let mut servers = Servers {
        tcp: Vec::new(),
        udp: Vec::new(),
    };
    for &port in tcp_ports {
        servers.tcp.extend(listen_tcp(port)?);
    }
    for &port in udp_ports {
        servers.udp.extend(bind_udp(port)?);
    }
    Ok(servers)
}

/// Binds and serves forever; returns only with the first error.
pub fn serve(tcp_ports: &[u16], udp_ports: &[u16]) -> io::Result<Infallible> {
    Err(bind(tcp_ports, udp_ports)?.run())
}

/// Waits until any of the serving threads ends, and returns its error.
pub(crate) fn first_error(threads: Vec<JoinHandle<io::Error>>) -> io::Error {
    let (tx, rx) = std::sync::mpsc::channel();
    for thread in threads {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let error = thread
                .join()
                .unwrap_or_else(|_| io::Error::other("server thread panicked"));
            let _ = tx.send(error);
        });
    }
    drop(tx);
    rx.recv()
        .unwrap_or_else(|_| io::Error::new(io::ErrorKind::InvalidInput, "nothing to serve"))
}

impl Servers {
    /// The addresses bound, for logs.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        let tcp = self.tcp.iter().filter_map(|s| s.local_addr().ok());
        tcp.chain(self.udp.iter().filter_map(|s| s.local_addr().ok()))
            .collect()
    }

    /// Serves until a socket fails; returns that error.
    pub fn run(self) -> io::Error {
        first_error(self.spawn())
    }

    /// Serves every socket on its own thread; each thread ends only with an error.
    pub fn spawn(self) -> Vec<JoinHandle<io::Error>> {
        let tcp = self
            .tcp
            .into_iter()
            .map(|l| std::thread::spawn(move || accept_loop(&l)));
        let udp = self
            .udp
            .into_iter()
            .map(|s| std::thread::spawn(move || udp::echo_loop(&s)));
        tcp.chain(udp).collect()
    }
}

fn accept_loop(listener: &TcpListener) -> io::Error {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.write_all(GREETING);
            }
            Err(e) if is_transient(&e) => continue,
            Err(e) => return e,
        }
    }
}

/// Errors a server shrugs off: the peer went away or the OS ran short for a moment.
fn is_transient(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || e.raw_os_error() == Some(nix::libc::EMFILE)
}

/// TCP listeners on `0.0.0.0:port` and `[::]:port` (the latter if the netns has IPv6).
pub(crate) fn listen_tcp(port: u16) -> io::Result<Vec<TcpListener>> {
    let mut out = Vec::new();
    for addr in dual_stack(port) {
        let Some(socket) = bound(addr, Type::STREAM)? else {
            continue;
        };
        socket.listen(BACKLOG)?;
        out.push(socket.into());
    }
    Ok(out)
}

fn bind_udp(port: u16) -> io::Result<Vec<UdpSocket>> {
    let mut out = Vec::new();
    for addr in dual_stack(port) {
        if let Some(socket) = bound(addr, Type::DGRAM)? {
            udp::prepare(&socket, addr.is_ipv4())?;
            out.push(socket.into());
        }
    }
    Ok(out)
}

fn dual_stack(port: u16) -> [SocketAddr; 2] {
    [
        (Ipv4Addr::UNSPECIFIED, port).into(),
        (Ipv6Addr::UNSPECIFIED, port).into(),
    ]
}

/// A socket bound to `addr`, or None for IPv6 when the netns has no IPv6.
fn bound(addr: SocketAddr, ty: Type) -> io::Result<Option<Socket>> {
    let socket = match Socket::new(Domain::for_address(addr), ty, None) {
        Err(e) if addr.is_ipv6() && e.raw_os_error() == Some(nix::libc::EAFNOSUPPORT) => {
            return Ok(None)
        }
        other => other?,
    };
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    match socket.bind(&addr.into()) {
        Err(e) if addr.is_ipv6() && e.raw_os_error() == Some(nix::libc::EADDRNOTAVAIL) => Ok(None),
        Err(e) => Err(io::Error::new(e.kind(), format!("binding {addr}: {e}"))),
        Ok(()) => Ok(Some(socket)),
    }
}
