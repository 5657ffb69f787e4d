//! Named network namespaces (`ip netns`), and running code inside one.
//!
//! [`in_netns`] is the way in for Rust code: it runs a closure on a fresh
//! thread that has joined the namespace, so sockets created there belong to
//! it and can then be used from any thread.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sched::{setns, CloneFlags};

use crate::cmd::{self, CommandError};

/// Where `ip netns` keeps its named namespaces.
pub const NETNS_DIR: &str = "/run/netns";

/// A netns operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// The name cannot be a netns name (empty, `.`, `..` or containing `/`).
    #[error("invalid netns name {0:?}")]
    InvalidName(String),
    /// An `ip netns ...` command failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// Reading `/run/netns` failed.
    #[error("listing {NETNS_DIR}: {0}")]
    List(io::Error),
}

/// Creates the named netns (`ip netns add NAME`).
pub fn create(name: &str) -> Result<(), NetnsError> {
    ip_netns(&["add", checked(name)?])
}

/// Deletes the named netns (`ip netns del NAME`). Processes still inside keep it alive, unnamed.
pub fn delete(name: &str) -> Result<(), NetnsError> {
    ip_netns(&["del", checked(name)?])
}

/// True if the named netns exists.
pub fn exists(name: &str) -> bool {
    checked(name).is_ok() && path(name).exists()
}

/// The path of the named netns (`/run/netns/NAME`).
pub fn path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

/// All named netns, sorted.
pub fn list() -> Result<Vec<String>, NetnsError> {
    let entries = match std::fs::read_dir(NETNS_DIR) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other.map_err(NetnsError::List)?,
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(NetnsError::List)?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// The named netns whose name starts with `prefix`, sorted (for cleanup after a crash).
pub fn list_with_prefix(prefix: &str) -> Result<Vec<String>, NetnsError> {
    Ok(list()?
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect())
}

/// Runs `program args...` inside the netns and returns its stdout.
pub fn exec(name: &str, program: &str, args: &[&str]) -> Result<String, NetnsError> {
    let mut full = vec!["netns", "exec", checked(name)?, program];
    full.extend_from_slice(args);
    Ok(cmd::run("ip", &full)?)
}

/// A [`Command`] for `ip netns exec NAME program`, for callers that need its I/O.
///
/// `ip netns exec` also bind-mounts `/etc/netns/NAME/*` over `/etc/*` (hosts files).
pub fn command(name: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new("ip");
    command.args(["netns", "exec", name]).arg(program);
    command
}

/// The PIDs of processes inside the netns (`ip netns pids NAME`).
pub fn pids(name: &str) -> Result<Vec<u32>, NetnsError> {
    let out = cmd::run("ip", &["netns", "pids", checked(name)?])?;
    Ok(out
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// Runs `f` on a fresh thread that has joined the named netns, and returns its result.
///
/// Sockets created by `f` belong to that netns for their whole life and can be
/// returned and used from any thread. A panic in `f` is propagated.
///
/// Only the network namespace changes: files such as `/etc/hosts` are the
/// caller's, not the pod's (run a program with [`command`] for those).
pub fn in_netns<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    let file = open(name)?;
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || enter(&file).map(|()| f()));
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Opens `/run/netns/NAME`, for [`enter`].
pub(crate) fn open(name: &str) -> io::Result<File> {
    checked(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    File::open(path(name)).map_err(|e| io::Error::new(e.kind(), format!("netns {name}: {e}")))
}

/// Moves the CURRENT thread into the netns behind `file`. Only for lab-owned threads.
pub(crate) fn enter(file: &File) -> io::Result<()> {
    setns(file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
}

fn ip_netns(args: &[&str]) -> Result<(), NetnsError> {
    let mut full = vec!["netns"];
    full.extend_from_slice(args);
    cmd::run("ip", &full)?;
    Ok(())
}

fn checked(name: &str) -> Result<&str, NetnsError> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains('/');
    if bad {
        return Err(NetnsError::InvalidName(name.to_owned()));
    }
    Ok(name)
}
