//! Talks to the kernel through netlink batches ([`crate::netlink`], the
//! default) or `nft -f -` transactions on stdin (one atomic transaction
//! per update either way), and `nft -j list table inet T` for read-back,
//! optionally inside a network namespace (`ip netns exec NS`).

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::json::from_json;
use crate::script::Script;
use crate::state::TableState;

mod error;
mod netlink;
mod reconcile;

use error::culprits;
pub use error::ApplyError;
pub use reconcile::{ApplyKind, ApplyReport};

/// palisade's table in one network namespace (`None`: the caller's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nft {
    pub table: String,
    pub netns: Option<String>,
    /// How updates reach the kernel.
    pub transport: Transport,
}

/// How [`Nft::reconcile`] and [`Nft::reconcile_from`] send an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Always `nft -f -`.
    Text,
    /// Every update (the full program and any delta) as one netlink batch
    /// on a `NETLINK_NETFILTER` socket opened in the table's network
    /// namespace ([`crate::netlink`]), with no `nft` process; `nft -f -`
    /// only for an update the encoder does not know (see
    /// [`crate::netlink::Unsupported`]). The default ([`Nft::new`]).
    Netlink,
}

impl Nft {
    /// The table `table` in network namespace `netns` (`None`: our own).
    pub fn new(table: &str, netns: Option<&str>) -> Self {
        Self {
            table: table.into(),
            netns: netns.map(String::from),
            transport: Transport::Netlink,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "nft"]);
                c
            }
            None => Command::new("nft"),
        };
        cmd.args(args);
        cmd
    }

    fn output(&self, args: &[&str], stdin: Option<&str>) -> Result<Output, ApplyError> {
        let mut cmd = self.command(args);
        let spawn_error = |source| ApplyError::Spawn {
            command: format!("{:?}", self.command(args)),
            source,
        };
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A write error (nft exited early) shows up as nft's own exit status.
            let _ = pipe.write_all(text.as_bytes());
        }
        child.wait_with_output().map_err(spawn_error)
    }

    /// Runs `script` as one `nft -f -` transaction.
    pub fn run(&self, script: &Script) -> Result<(), ApplyError> {
        let out = self.output(&["-f", "-"], Some(&script.text))?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        Err(ApplyError::Rejected {
            objects: culprits(script, &stderr),
            stderr,
        })
    }

    /// Reads the table back; `None` when it does not exist.
    pub fn read(&self) -> Result<Option<TableState>, ApplyError> {
        let out = self.output(&["-j", "list", "table", "inet", &self.table], None)?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            return match stderr.contains("No such file or directory") {
                true => Ok(None),
                false => Err(ApplyError::List {
                    table: self.table.clone(),
                    stderr,
                }),
            };
        }
        let json = String::from_utf8_lossy(&out.stdout);
        from_json(&json, &self.table).map_err(|source| ApplyError::Parse {
            table: self.table.clone(),
            source,
        })
    }

    /// Deletes the table if it exists (for cleanup and uninstall).
    pub fn delete_table(&self) -> Result<(), ApplyError> {
        let out = self.output(&["delete", "table", "inet", &self.table], None)?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match out.status.success() || stderr.contains("No such file or directory") {
            true => Ok(()),
            false => Err(ApplyError::Rejected {
                objects: vec![format!("table inet {}", self.table)],
                stderr,
            }),
        }
    }
}
