//! The denied-flow log: what the kernel dropped (or audited), and which
//! policies are responsible.
//!
//! The dataplane (`palisade_nft::flowlog`) logs the first packet of every
//! denied connection attempt to an NFLOG group, rate-limited per source in
//! the kernel, with a prefix naming the mode and the subject chain. This
//! crate reads that group ([`NflogSocket`], [`nflog`] for the wire format),
//! decodes the packet headers ([`packet`]), attributes each packet to pods
//! and to the policies isolating the denying side ([`Attributor`], through
//! the compiled IR's chains), deduplicates per 5-tuple per second
//! ([`Dedup`]) and keeps a bounded ring of [`FlowRecord`]s ([`Ring`]).
//!
//! No async and no Kubernetes client here: the agent runs [`FlowLog`] on a
//! thread, and the lab's recorder runs it in the lab node's namespace.

mod attribute;
mod dedup;
pub mod nflog;
pub mod packet;
mod reader;
mod record;
mod ring;
mod socket;
mod time;

pub use attribute::{Attributor, ChainInfo};
pub use dedup::Dedup;
pub use reader::{Batch, FlowLog};
pub use record::{FlowEndpoint, FlowRecord, Mode};
pub use ring::{Query, Ring};
pub use socket::{NflogSocket, Received, SocketError};
pub use time::{format_rfc3339, now_ms, parse_since, Timestamp};
