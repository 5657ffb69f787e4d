//! New TCP connections per second between two network namespaces.
//!
//! The [`Server`] listens inside one namespace; [`run`] starts `workers`
//! threads inside another, each doing, as fast as it can for the duration:
//! connect, send one byte, read the one-byte reply, close with a reset
//! (`SO_LINGER` 0, so no TIME_WAIT eats the ephemeral ports and every
//! connection is a new conntrack entry whose SYN goes through the ruleset).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_lab::in_netns;
use socket2::{Domain, Socket, Type};

/// A one-byte echo server: accept, read one byte, reply, wait for the close.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    served: Arc<AtomicU64>,
}

impl Server {
    /// Listens on `addr` inside netns `netns` with `threads` accept threads.
    pub fn start(netns: &str, addr: SocketAddr, threads: usize) -> io::Result<Server> {
        let listener = in_netns(netns, || listen(addr))??;
        let listener = Arc::new(listener);
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let threads = (0..threads.max(1))
            .map(|_| {
                let (l, stop, served) = (listener.clone(), stop.clone(), served.clone());
                std::thread::spawn(move || accept_loop(&l, &stop, &served))
            })
            .collect();
        Ok(Server {
            addr,
            stop,
            threads,
            served,
        })
    }

    /// Connections answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(4096)?;
    // accept() returns every 100 ms so the threads notice `stop`.
    s.set_read_timeout(Some(Duration::from_millis(100)))?;
    Ok(s.into())
}

fn accept_loop(l: &TcpListener, stop: &AtomicBool, served: &AtomicU64) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((mut conn, _)) = l.accept() else {
            continue;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
        let mut b = [0u8; 1];
        if conn.read_exact(&mut b).is_ok() && conn.write_all(&b).is_ok() {
            served.fetch_add(1, Ordering::Relaxed);
            // Wait for the client's close (a reset), so we never linger.
            let _ = conn.read(&mut b);
        }
    }
}

/// What one load run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Connections that completed the one-byte exchange.
    pub connections: u64,
    /// Connections that failed (refused, timed out, reset early).
    pub failures: u64,
    pub elapsed: Duration,
}

impl Load {
    /// Completed connections per second.
    pub fn rate(&self) -> f64 {
        self.connections as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `workers` clients inside netns `netns` against `target` for `duration`.
pub fn run(
    netns: &str,
    target: SocketAddr,
    workers: usize,
    duration: Duration,
) -> io::Result<Load> {
    let workers = workers.max(1);
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(workers + 1));
    let deadline = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut threads = Vec::new();
    for _ in 0..workers {
        let (ok, failed, barrier, deadline, netns) = (
            ok.clone(),
            failed.clone(),
            barrier.clone(),
            deadline.clone(),
            netns.to_string(),
        );
        threads.push(std::thread::spawn(move || {
            in_netns(&netns, || {
                barrier.wait();
                let end = *deadline.wait();
                while Instant::now() < end {
                    match exchange(target) {
                        Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        }));
    }
    barrier.wait();
    let start = Instant::now();
    let _ = deadline.set(start + duration);
    let mut error = None;
    for t in threads {
        if let Err(e) = t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)) {
            error = Some(e);
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    Ok(Load {
        connections: ok.load(Ordering::Relaxed),
        failures: failed.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    })
}

/// One connection: connect, one byte each way, reset.
pub fn exchange(target: SocketAddr) -> io::Result<()> {
    exchange_within(target, Duration::from_secs(1))
}

/// [`exchange`] with a connect timeout.
pub fn exchange_within(target: SocketAddr, timeout: Duration) -> io::Result<()> {
    let s = Socket::new(Domain::for_address(target), Type::STREAM, None)?;
    s.set_linger(Some(Duration::ZERO))?;
    s.set_nodelay(true)?;
    s.connect_timeout(&target.into(), timeout)?;
    s.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut stream: TcpStream = s.into();
    stream.write_all(b"x")?;
    let mut b = [0u8; 1];
    stream.read_exact(&mut b)?;
    Ok(())
}
