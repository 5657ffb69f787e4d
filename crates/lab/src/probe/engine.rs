//! The probe event loop: one lab-owned thread that hops between namespaces to
//! create sockets, keeps up to `max_in_flight` probes open, and polls them all.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use socket2::Socket;

use super::rng::Rng;
use super::sockets;
use super::{Outcome, ProbeError, ProbeOptions, ProbeSpec};
use crate::netns;
use crate::Protocol;

type Verdict = Result<Outcome, ProbeError>;

/// Runs the probes on a fresh thread (it changes netns; the caller's thread never does).
pub(super) fn run(specs: &[ProbeSpec], options: &ProbeOptions) -> Vec<Verdict> {
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| Engine::new(specs, options).run());
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What a started probe waits for.
enum Waiting {
    Connect(Socket),
    Echo { socket: Socket, nonce: [u8; 16] },
    Init { receiver: usize, tag: u32 },
}

struct InFlight {
    index: usize,
    deadline: Instant,
    waiting: Waiting,
}

/// A raw SCTP socket in a destination netns, shared by every probe to it.
struct Receiver {
    netns: String,
    v4: bool,
    socket: Socket,
}

struct Engine<'a> {
    specs: &'a [ProbeSpec],
    options: ProbeOptions,
    results: Vec<Option<Verdict>>,
    in_flight: Vec<InFlight>,
    receivers: Vec<Receiver>,
    namespaces: HashMap<String, File>,
    current: Option<String>,
    rng: Rng,
}

impl<'a> Engine<'a> {
    fn new(specs: &'a [ProbeSpec], options: &ProbeOptions) -> Self {
        Engine {
            specs,
            options: *options,
            results: specs.iter().map(|_| None).collect(),
            in_flight: Vec::new(),
            receivers: Vec::new(),
            namespaces: HashMap::new(),
            current: None,
            rng: Rng::seeded(),
        }
    }

    fn run(mut self) -> Vec<Verdict> {
        let (mut next, window) = (0, window(self.options.max_in_flight));
        while next < self.specs.len() || !self.in_flight.is_empty() {
            while next < self.specs.len() && self.in_flight.len() < window {
                self.start(next);
                next += 1;
            }
            self.wait_once();
        }
        self.results
            .into_iter()
            .map(|r| r.unwrap_or(Ok(Outcome::Blocked)))
            .collect()
    }

    fn start(&mut self, index: usize) {
        let deadline = Instant::now() + self.options.timeout;
        match self.launch(&self.specs[index]) {
            Ok(waiting) => self.in_flight.push(InFlight {
                index,
                deadline,
                waiting,
            }),
            Err(e) => self.results[index] = Some(Err(e)),
        }
    }

    fn launch(&mut self, spec: &ProbeSpec) -> Result<Waiting, ProbeError> {
        if let Some(src) = spec.src_ip.filter(|s| s.is_ipv4() != spec.dst_ip.is_ipv4()) {
            return Err(ProbeError::FamilyMismatch {
                src,
                dst: spec.dst_ip,
            });
        }
        match spec.protocol {
            Protocol::Tcp => {
                self.enter(&spec.src_netns)?;
                Ok(Waiting::Connect(sockets::tcp_start(spec)?))
            }
            Protocol::Udp => {
                let nonce = self.rng.nonce();
                self.enter(&spec.src_netns)?;
                Ok(Waiting::Echo {
                    socket: sockets::udp_start(spec, &nonce)?,
                    nonce,
                })
            }
            Protocol::Sctp => self.launch_sctp(spec),
        }
    }

    /// Opens (or reuses) the receiver in the destination netns, then sends the INIT.
    fn launch_sctp(&mut self, spec: &ProbeSpec) -> Result<Waiting, ProbeError> {
        let dst_netns = spec
            .dst_netns
            .as_deref()
            .ok_or(ProbeError::NoDstNetns(spec.dst()))?;
        let receiver = self.receiver(spec, dst_netns)?;
        let (tag, src_port) = (self.rng.tag(), self.rng.port());
        self.enter(&spec.src_netns)?;
        sockets::sctp_send(spec, src_port, tag)?;
        Ok(Waiting::Init { receiver, tag })
    }

    fn receiver(&mut self, spec: &ProbeSpec, netns: &str) -> Result<usize, ProbeError> {
        let v4 = spec.dst_ip.is_ipv4();
        if let Some(i) = self
            .receivers
            .iter()
            .position(|r| r.netns == netns && r.v4 == v4)
        {
            return Ok(i);
        }
        self.enter(netns)?;
        let socket = sockets::sctp_receiver(v4).map_err(|source| ProbeError::Io {
            protocol: Protocol::Sctp,
            dst: spec.dst(),
            source,
        })?;
        self.receivers.push(Receiver {
            netns: netns.to_owned(),
            v4,
            socket,
        });
        Ok(self.receivers.len() - 1)
    }

    /// Moves this (engine-owned) thread into `name`, unless it is there already.
    fn enter(&mut self, name: &str) -> Result<(), ProbeError> {
        if self.current.as_deref() == Some(name) {
            return Ok(());
        }
        let netns_error = |source| ProbeError::Netns {
            name: name.to_owned(),
            source,
        };
        if !self.namespaces.contains_key(name) {
            let file = netns::open(name).map_err(netns_error)?;
            self.namespaces.insert(name.to_owned(), file);
        }
        netns::enter(&self.namespaces[name]).map_err(netns_error)?;
        self.current = Some(name.to_owned());
        Ok(())
    }

    /// One poll over every open socket, then settle what answered or timed out.
    fn wait_once(&mut self) {
        let ready = self.poll_ready();
        let seen = self.drain_receivers(&ready[self.socket_count()..]);
        let now = Instant::now();
        let mut ready_sockets = ready.into_iter();
        let mut still = Vec::with_capacity(self.in_flight.len());
        for flight in std::mem::take(&mut self.in_flight) {
            let is_ready = matches!(flight.waiting, Waiting::Init { .. })
                || ready_sockets.next() == Some(true);
            match self.settle(&flight, is_ready, &seen, now) {
                Some(verdict) => self.results[flight.index] = Some(verdict),
                None => still.push(flight),
            }
        }
        self.in_flight = still;
    }

    fn settle(
        &self,
        flight: &InFlight,
        ready: bool,
        seen: &HashSet<(usize, u32)>,
        now: Instant,
    ) -> Option<Verdict> {
        let spec = &self.specs[flight.index];
        let answer = match &flight.waiting {
            Waiting::Connect(socket) if ready => Some(sockets::tcp_finish(spec, socket)),
            Waiting::Echo { socket, nonce } if ready => sockets::udp_poll(spec, socket, nonce),
            Waiting::Init { receiver, tag } if seen.contains(&(*receiver, *tag)) => {
                Some(Ok(Outcome::Reached))
            }
            _ => None,
        };
        answer.or_else(|| (now >= flight.deadline).then_some(Ok(Outcome::Blocked)))
    }

    fn socket_count(&self) -> usize {
        self.in_flight
            .iter()
            .filter(|f| !matches!(f.waiting, Waiting::Init { .. }))
            .count()
    }

    /// Polls probe sockets then receivers, in that order; true where something happened.
    fn poll_ready(&self) -> Vec<bool> {
        let mut fds: Vec<PollFd> = Vec::with_capacity(self.in_flight.len() + self.receivers.len());
        for flight in &self.in_flight {
            match &flight.waiting {
                Waiting::Connect(s) => fds.push(PollFd::new(s.as_fd(), PollFlags::POLLOUT)),
                Waiting::Echo { socket, .. } => {
                    fds.push(PollFd::new(socket.as_fd(), PollFlags::POLLIN))
                }
                Waiting::Init { .. } => {}
            }
        }
        fds.extend(
            self.receivers
                .iter()
                .map(|r| PollFd::new(r.socket.as_fd(), PollFlags::POLLIN)),
        );
        let _ = poll(&mut fds, self.poll_timeout());
        fds.iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect()
    }

    /// Until the earliest deadline (rounded up to the next millisecond).
    fn poll_timeout(&self) -> PollTimeout {
        let now = Instant::now();
        let earliest = self
            .in_flight
            .iter()
            .map(|f| f.deadline)
            .min()
            .unwrap_or(now);
        let ms = earliest
            .saturating_duration_since(now)
            .as_micros()
            .div_ceil(1000);
        PollTimeout::from(ms.min(60_000) as u16)
    }

    fn drain_receivers(&self, ready: &[bool]) -> HashSet<(usize, u32)> {
        let mut seen = HashSet::new();
        for (i, receiver) in self.receivers.iter().enumerate().filter(|(i, _)| ready[*i]) {
            let mut tags = Vec::new();
            sockets::sctp_drain(&receiver.socket, receiver.v4, &mut tags);
            seen.extend(tags.into_iter().map(|tag| (i, tag)));
        }
        seen
    }
}

/// `wanted`, but at least 1 and at most half the open-file limit (minus some slack).
fn window(wanted: usize) -> usize {
    use nix::sys::resource::{getrlimit, Resource};
    let soft = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
    let budget = usize::try_from(soft.saturating_sub(64) / 2).unwrap_or(usize::MAX);
    wanted.min(budget).max(1)
}
