//! The lab's controller: a resident process per lab, as a cluster has an
//! API server and a node agent. `lab up` starts it detached
//! (`palisade lab controller`, hidden); it holds the lab (`resident.rs`:
//! state, model, reconciler with its compiler caches, known ruleset) and
//! serves the commands that change it, one at a time, on a unix socket in
//! the lab's state directory (`client.rs` sends them). For each it runs the
//! command's operation (`ops::execute`), which programs the kernel first,
//! then saves `state.json` and `known.json`; then it replies. A command
//! that fails is undone in memory (the state is read back from
//! `state.json`), so a rejected update changes neither kernel nor state.
//!
//! Files in the state directory: `controller.pid` (its handle),
//! `controller.sock`, `logs/controller.log`, and `lock`, held while it
//! runs (one controller per lab).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use palisade_lab::process::{self, ProcessHandle, ProcessSpec};

use super::client::{Reply, Request};
use super::out::{ms, Out};
use super::resident::{Caller, Known, Lab};
use super::state::LabState;

const PID_FILE: &str = "controller.pid";
const SOCKET: &str = "controller.sock";
/// How long `lab up` waits for a new controller's first reconcile.
const START_LIMIT: Duration = Duration::from_secs(300);
/// How often the controller reaps its pods' exited processes and checks
/// that its lab still exists.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// The socket the controller of lab `lab` listens on.
pub fn socket(lab: &str) -> PathBuf {
    LabState::dir(lab).join(SOCKET)
}

/// The controller's log.
pub fn log(lab: &str) -> PathBuf {
    LabState::dir(lab).join("logs").join("controller.log")
}

/// Whether a lab's controller runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    /// It was started and is gone (crashed or killed).
    Stopped(ProcessHandle),
    /// None was ever started for this state directory.
    NeverStarted,
}

pub fn status(lab: &str) -> Status {
    let text = fs::read_to_string(LabState::dir(lab).join(PID_FILE)).ok();
    match text.and_then(|t| serde_json::from_str::<ProcessHandle>(&t).ok()) {
        Some(h) if h.is_alive() => Status::Running,
        Some(h) => Status::Stopped(h),
        None => Status::NeverStarted,
    }
}

impl Status {
    /// Why a command could not be sent, and what to do.
    pub fn not_running(&self, lab: &str) -> String {
        let why = match self {
            Status::Stopped(h) => format!(
                "its controller (pid {}) has stopped; its log: {}",
                h.pid,
                log(lab).display()
            ),
            _ => "it has no controller running".into(),
        };
        format!(
            "lab {lab}: {why}. Nothing was changed; `palisade lab repair --lab {lab}` restarts it"
        )
    }

    /// Says on stderr that a stopped controller is being restarted.
    pub fn report_restart(&self, lab: &str) {
        if let Status::Stopped(h) = self {
            eprintln!(
                "palisade: lab {lab}: its controller (pid {}) had stopped (see {}); restarting it",
                h.pid,
                log(lab).display()
            );
        }
    }
}

/// Serialises `lab up` and `lab repair` of one lab (they create the node
/// and start the controller): held until the value is dropped.
pub fn starting(lab: &str) -> Result<File> {
    let dir = LabState::dir(lab);
    fs::create_dir_all(dir.join("logs")).with_context(|| format!("creating {}", dir.display()))?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("up.lock"))?;
    file.lock().context("locking the lab for lab up")?;
    Ok(file)
}

/// Starts the controller of lab `lab` (its state file must exist) and waits
/// until it has brought the kernel in line and listens. The controller
/// writes its pid file itself once it holds the lab's lock, so the file
/// always names the one that runs.
pub fn start(lab: &str) -> Result<ProcessHandle> {
    let dir = LabState::dir(lab);
    let sock = socket(lab);
    let _ = fs::remove_file(&sock);
    let spec = ProcessSpec {
        netns: "the host's namespaces".into(),
        program: (std::env::current_exe().context("locating the palisade binary")?)
            .to_string_lossy()
            .into_owned(),
        args: ["lab", "--lab", lab, "controller"].map(String::from).into(),
        env: vec![],
        log: log(lab),
    };
    let _ = fs::remove_file(dir.join(PID_FILE));
    let handle = process::spawn_here(&spec).context("starting the lab's controller")?;
    let deadline = Instant::now() + START_LIMIT;
    while !sock.exists() {
        if !handle.is_alive() || Instant::now() > deadline {
            let _ = handle.stop(Duration::from_secs(1));
            bail!(
                "the lab's controller did not start; the end of its log ({}):\n{}",
                spec.log.display(),
                tail(&spec.log)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(handle)
}

/// Stops the controller of lab `lab` if it runs.
pub fn stop(lab: &str) -> Result<()> {
    let pid_file = LabState::dir(lab).join(PID_FILE);
    let Some(h) = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|t| serde_json::from_str::<ProcessHandle>(&t).ok())
    else {
        return Ok(());
    };
    h.stop(Duration::from_secs(5))
        .context("stopping the lab's controller")?;
    let _ = fs::remove_file(pid_file);
    Ok(())
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The controller's main loop (`palisade lab controller`).
pub fn serve(name: &str) -> Result<ExitCode> {
    let dir = LabState::dir(name);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))
        .with_context(|| format!("opening {}", dir.join("lock").display()))?;
    if lock.try_lock().is_err() {
        bail!("another controller holds lab {name}");
    }
    let me = serde_json::to_string(&ProcessHandle::current())?;
    fs::write(dir.join(PID_FILE), me).context("writing the controller's pid file")?;
    let t = Instant::now();
    let mut lab = Lab::load(name)?;
    lab.out = Out::new(true);
    lab.reconcile(Known::ReadBack)?;
    lab.persist()?;
    eprint!("{}", std::mem::take(&mut lab.out).stderr);
    eprintln!(
        "controller of lab {name} (pid {}): {} pods, {} policies, ruleset read back and brought in line in {:.1} ms",
        std::process::id(),
        lab.state.pods.len(),
        lab.state.policies.len(),
        ms(t.elapsed())
    );
    let listener = UnixListener::bind(socket(name)).context("listening on the lab's socket")?;
    let (sock, netns, children) = (socket(name), lab.node.netns(), lab.children.clone());
    std::thread::spawn(move || watch(&sock, &netns, &children));
    for stream in listener.incoming() {
        match stream {
            Ok(s) => handle(&mut lab, s),
            Err(e) => eprintln!("accepting a connection: {e}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reaps pods' exited processes (they are this process's children) and
/// exits once the lab is gone (its socket or node removed without `lab down`).
fn watch(sock: &Path, netns: &str, children: &Arc<Mutex<Vec<u32>>>) {
    loop {
        std::thread::sleep(WATCH_EVERY);
        (children.lock().unwrap_or_else(|p| p.into_inner())).retain(|&pid| process::is_alive(pid));
        if !sock.exists() || !palisade_lab::netns::exists(netns) {
            eprintln!("the lab is gone (socket or node removed): exiting");
            std::process::exit(0);
        }
    }
}

/// One request: read it, run it, reply.
fn handle(lab: &mut Lab, mut stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::new();
    if let Err(e) = stream.read_to_end(&mut buf) {
        eprintln!("reading a request: {e}");
        return;
    }
    let (reply, fatal) = match serde_json::from_slice::<Request>(&buf) {
        Ok(req) => run(lab, req),
        Err(e) => (Reply::error(format!(
            "palisade: error: the lab's controller cannot read the request ({e}); if palisade was upgraded, restart the lab (lab down, lab up)"
        )), false),
    };
    if let Err(e) = stream.write_all(&serde_json::to_vec(&reply).unwrap_or_default()) {
        eprintln!("replying: {e}");
    }
    drop(stream);
    if fatal {
        eprintln!("exiting: the lab's state could not be read back after a failed command");
        std::process::exit(1);
    }
}

/// Runs one command against the resident lab; on failure, goes back to
/// the saved state. `true` when even that failed (the controller must stop).
fn run(lab: &mut Lab, req: Request) -> (Reply, bool) {
    let t = Instant::now();
    if std::env::set_current_dir(&req.cwd).is_err() {
        let _ = std::env::set_current_dir("/");
    }
    lab.out = Out::new(req.verbose);
    lab.caller = Caller {
        env: req.env,
        stdin: req.stdin,
    };
    let mut fatal = false;
    let code = match super::ops::execute(lab, req.command) {
        Ok(()) => 0,
        Err(e) => {
            lab.out.warn(format_args!("palisade: error: {e:#}"));
            if let Err(e) = lab.revert() {
                lab.out.warn(format_args!("palisade: error: the lab's controller could not read its saved state back ({e:#}) and stops; `palisade lab repair` restarts it"));
                fatal = true;
            }
            2
        }
    };
    lab.out.trace(format_args!(
        "controller: command run in {:.1} ms",
        ms(t.elapsed())
    ));
    lab.caller = Caller::default();
    let out = std::mem::take(&mut lab.out);
    (
        Reply {
            stdout: out.stdout,
            stderr: out.stderr,
            code,
        },
        fatal,
    )
}
