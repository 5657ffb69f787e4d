//! The pipeline shared by the agent and the lab recorder: NFLOG socket ->
//! decode -> attribute -> dedup -> records.

use std::time::Duration;

use crate::attribute::Attributor;
use crate::dedup::Dedup;
use crate::record::FlowRecord;
use crate::socket::{NflogSocket, Received, SocketError};
use crate::time::now_ms;

/// What one [`FlowLog::next`] call produced.
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<FlowRecord>,
    /// Packets logged again within the same second (not recorded).
    pub duplicates: usize,
    /// Packets that could not be decoded.
    pub undecodable: usize,
    /// The socket buffer overflowed: some packets were lost.
    pub overrun: bool,
}

/// A bound NFLOG group and its dedup state.
#[derive(Debug)]
pub struct FlowLog {
    socket: NflogSocket,
    dedup: Dedup,
}

impl FlowLog {
    /// Binds `group` in the calling thread's network namespace; `poll` is
    /// how long [`FlowLog::next`] waits at most.
    pub fn open(group: u16, poll: Duration) -> Result<Self, SocketError> {
        let socket = NflogSocket::bind(group)?;
        socket.set_timeout(poll)?;
        Ok(Self {
            socket,
            dedup: Dedup::new(),
        })
    }

    /// [`FlowLog::open`] in the named network namespace (`/run/netns/NAME`),
    /// or in the caller's when `netns` is `None`. The socket stays in that
    /// namespace for its life; only a short-lived thread joins it.
    pub fn open_in(netns: Option<&str>, group: u16, poll: Duration) -> Result<Self, SocketError> {
        let Some(name) = netns else {
            return Self::open(group, poll);
        };
        let file = std::fs::File::open(format!("/run/netns/{name}"))
            .map_err(|e| SocketError::Netns(format!("{name}: {e}")))?;
        std::thread::scope(|s| {
            s.spawn(|| {
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| SocketError::Netns(format!("{name}: {e}")))?;
                Self::open(group, poll)
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Waits for logged packets (at most the poll time) and returns their
    /// records, attributed with `attributor`.
    pub fn next(&mut self, attributor: &Attributor) -> Result<Batch, SocketError> {
        let received = self.socket.recv()?;
        Ok(self.records(received, attributor))
    }

    /// Waits for logged packets (at most the poll time), without decoding
    /// them: the caller can refresh its attributor first (a packet may name
    /// a chain that the latest ruleset just created), then call
    /// [`FlowLog::records`].
    pub fn recv(&mut self) -> Result<Received, SocketError> {
        self.socket.recv()
    }

    /// The deduplicated records of what [`FlowLog::recv`] returned.
    pub fn records(&mut self, received: Received, attributor: &Attributor) -> Batch {
        let mut batch = Batch::default();
        let packets = match received {
            Received::Packets(p) => p,
            Received::Timeout => return batch,
            Received::Overrun => {
                batch.overrun = true;
                return batch;
            }
        };
        let now = now_ms();
        for p in &packets {
            match attributor.record(p, now) {
                Ok(Some((record, key))) => match self.dedup.admit(key, now) {
                    true => batch.records.push(record),
                    false => batch.duplicates += 1,
                },
                Ok(None) => {}
                Err(_) => batch.undecodable += 1,
            }
        }
        batch
    }
}
