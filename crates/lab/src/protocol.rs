//! The transport protocols a NetworkPolicy names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// TCP, UDP or SCTP; serialized as Kubernetes writes them (`TCP`), displayed as nft does (`tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP (probed with raw packets: this kernel may have no SCTP sockets).
    Sctp,
}

impl Protocol {
    /// All three, in the order conformance tables list them.
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    /// The lowercase name nft uses: `tcp`, `udp`, `sctp`.
    pub fn nft_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nft_name())
    }
}
