//! Long-running workloads inside a pod netns, detached from the caller.
//!
//! A workload runs as `setsid ip netns exec NETNS program args...` (one PID all
//! the way: neither `setsid` nor `ip netns exec` forks), in its own session,
//! with stdin from /dev/null and stdout+stderr appended to a log file. It
//! survives the process that started it. A [`ProcessHandle`] records the PID and
//! the kernel's start time, so a recycled PID is never mistaken for it.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// A workload that could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The log file could not be opened.
    #[error("opening log {path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `setsid ip netns exec ...` could not be started.
    #[error("starting {program} in {netns}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The netns.
        netns: String,
        /// Why.
        source: std::io::Error,
    },
    /// The process outlived SIGKILL for a second (stuck in the kernel?).
    #[error("process {0} did not exit after SIGKILL")]
    Unkillable(u32),
}

/// What to run, where, and where its output goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSpec {
    /// The pod netns to run in.
    pub netns: String,
    /// The program (a path, or a name looked up on PATH).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The file stdout and stderr are appended to (created if missing).
    pub log: PathBuf,
    /// The working directory (`None`: the caller's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
}

/// A started workload: PID plus kernel start time (clock ticks since boot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessHandle {
    /// The PID.
    pub pid: u32,
    /// Field 22 of `/proc/PID/stat` when it was started.
    pub start_time: u64,
}

/// How [`ProcessHandle::stop`] ended the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Stopped {
    /// It was not running any more.
    AlreadyGone,
    /// It exited after SIGTERM.
    Terminated,
    /// It needed SIGKILL after the grace period.
    Killed,
}

/// Starts `spec` detached and returns its handle.
pub fn spawn(spec: &ProcessSpec) -> Result<ProcessHandle, ProcessError> {
    let mut cmd = Command::new(crate::cmd::locate("setsid"));
    cmd.arg(crate::cmd::locate("ip"))
        .args(["netns", "exec", &spec.netns, &spec.program]);
    launch(cmd, spec)
}

/// Starts `spec` detached like [`spawn`], but in the caller's own network
/// and mount namespaces (`setsid program args...`; `spec.netns` only names
/// the place in errors): for a lab's own daemons that create namespaces
/// themselves, which must be visible to every other process.
pub fn spawn_here(spec: &ProcessSpec) -> Result<ProcessHandle, ProcessError> {
    let mut cmd = Command::new("setsid");
    cmd.arg(&spec.program);
    launch(cmd, spec)
}

/// `cmd` (a `setsid ...` prefix) with the spec's arguments, environment and
/// log, detached; its handle.
fn launch(mut cmd: Command, spec: &ProcessSpec) -> Result<ProcessHandle, ProcessError> {
    let log = open_log(&spec.log)?;
    let log2 = log.try_clone().map_err(|source| ProcessError::Log {
        path: spec.log.clone(),
        source,
    })?;
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    let child = cmd
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|source| ProcessError::Spawn {
            program: spec.program.clone(),
            netns: spec.netns.clone(),
            source,
        })?;
    let pid = child.id();
    Ok(ProcessHandle {
        pid,
        start_time: start_time(pid).unwrap_or(0),
    })
}

impl ProcessHandle {
    /// The handle of the calling process.
    pub fn current() -> ProcessHandle {
        let pid = std::process::id();
        ProcessHandle {
            pid,
            start_time: start_time(pid).unwrap_or(0),
        }
    }

    /// True while the process runs (a zombie or a recycled PID is not alive).
    pub fn is_alive(&self) -> bool {
        reap(self.pid);
        start_time(self.pid).is_some_and(|t| t == self.start_time) && is_alive(self.pid)
    }

    /// SIGTERM to its process group, SIGKILL after `grace`; waits until it is gone.
    pub fn stop(&self, grace: Duration) -> Result<Stopped, ProcessError> {
        if !self.is_alive() {
            return Ok(Stopped::AlreadyGone);
        }
        signal_group(self.pid, Signal::SIGTERM);
        if self.wait_gone(grace) {
            return Ok(Stopped::Terminated);
        }
        signal_group(self.pid, Signal::SIGKILL);
        match self.wait_gone(Duration::from_secs(1)) {
            true => Ok(Stopped::Killed),
            false => Err(ProcessError::Unkillable(self.pid)),
        }
    }

    fn wait_gone(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.is_alive() {
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(5));
        }
        true
    }
}

/// True if a process with this PID exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    reap(pid);
    stat_fields(pid).is_some_and(|(state, _)| state != 'Z' && state != 'X')
}

/// SIGKILL to one PID, ignoring errors (used when tearing a lab down).
pub(crate) fn kill_now(pid: u32) {
    if let Ok(raw) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
        reap(pid);
    }
}

fn open_log(path: &Path) -> Result<std::fs::File, ProcessError> {
    // Owner-only whatever the umask: a log may hold what a workload printed.
    std::os::unix::fs::OpenOptionsExt::mode(OpenOptions::new().create(true).append(true), 0o600)
        .open(path)
        .map_err(|source| ProcessError::Log {
            path: path.to_owned(),
            source,
        })
}

/// Signals the process group (the workload is a session leader), falling back to the PID.
fn signal_group(pid: u32, signal: Signal) {
    let Ok(raw) = i32::try_from(pid) else { return };
    if killpg(Pid::from_raw(raw), signal) == Err(Errno::ESRCH) {
        let _ = kill(Pid::from_raw(raw), signal);
    }
}

/// Exit codes of children reaped here, until [`exit_code`] takes them.
static EXITED: std::sync::Mutex<Vec<(u32, i32)>> = std::sync::Mutex::new(Vec::new());

/// Collects the exit status if `pid` is our own exited child (else does
/// nothing), and keeps its code for [`exit_code`].
fn reap(pid: u32) {
    if let Ok(raw) = i32::try_from(pid) {
        let code = match waitpid(Pid::from_raw(raw), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => code,
            Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
            _ => return,
        };
        let mut exited = EXITED.lock().unwrap_or_else(|p| p.into_inner());
        if exited.len() > 4096 {
            exited.remove(0);
        }
        exited.push((pid, code));
    }
}

/// The exit code of a child of this process that has ended and was
/// reaped (by [`is_alive`] or a stop), once; `None` when unknown (not our
/// child, or still running).
pub fn exit_code(pid: u32) -> Option<i32> {
    reap(pid);
    let mut exited = EXITED.lock().unwrap_or_else(|p| p.into_inner());
    let i = exited.iter().position(|(p, _)| *p == pid)?;
    Some(exited.remove(i).1)
}

fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid).map(|(_, start)| start)
}

/// State (field 3) and start time (field 22) from `/proc/PID/stat`.
fn stat_fields(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    Some((state, fields.get(19)?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_with_a_start_time() {
        let me = std::process::id();
        assert!(is_alive(me));
        assert!(start_time(me).is_some_and(|t| t > 0));
        assert!(ProcessHandle::current().is_alive());
    }
}
