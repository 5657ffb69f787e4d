//! The lab's controller: a resident process per lab, as a cluster has an
//! API server and a node. `lab up` starts it detached (`palisade lab
//! controller`, hidden). It runs the lab's Kubernetes API server
//! (`kapi.rs`: kubectl and kube-rs talk to it), the node that realizes
//! what the API holds (`realize.rs`: namespaces, processes, Services and
//! the ruleset, in the resident lab of `resident.rs`), and a unix socket
//! for the `palisade lab` verbs (`client.rs` sends them; each runs here as
//! calls to the same API, `ops.rs`, and returns once the node has realized
//! it). One source of truth: what the API holds.
//!
//! Files in the state directory: `controller.pid` (its handle),
//! `controller.sock` (0600), `kubeconfig` and `apiserver.json` (0600),
//! `objects.json` (the API's objects), `logs/controller.log`, and `lock`,
//! held while it runs (one controller per lab).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use palisade_lab::process::{self, ProcessHandle, ProcessSpec};

use super::client::{Reply, Request};
use super::kapi;
use super::out::{ms, Out};
use super::realize::{self, Msg, Procs, Realizer};
use super::resident::{Caller, Lab};
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
    let dir = LabState::create_dir(lab)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
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
        cwd: None,
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

/// The controller's main loop (`palisade lab controller`): the lab's API
/// server (`kapi.rs`), the node that realizes it (`realize.rs`, its own
/// thread) and the socket the `palisade lab` verbs use (each verb runs here
/// as API calls, `ops.rs`).
pub fn serve(name: &str) -> Result<ExitCode> {
    let dir = LabState::create_dir(name)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join("lock"))
        .with_context(|| format!("opening {}", dir.join("lock").display()))?;
    if lock.try_lock().is_err() {
        bail!("another controller holds lab {name}");
    }
    let me = serde_json::to_string(&ProcessHandle::current())?;
    palisade_apiserver::tls::write_private(&dir.join(PID_FILE), me.as_bytes())
        .context("writing the controller's pid file")?;
    let t = Instant::now();
    let mut lab = Lab::load(name)?;
    lab.out = Out::new(true);
    let procs = Arc::new(Procs {
        lab: name.to_string(),
        node: lab.node.clone(),
        attachables: Mutex::default(),
        pids: Mutex::default(),
        palisade: std::env::current_exe().context("locating the palisade binary")?,
        busybox: super::images::busybox_bin(&dir),
    });
    let lab_api = kapi::start(name, procs.clone())?;
    let (tx, rx) = std::sync::mpsc::channel();
    realize::forward(&lab_api.api, lab_api.runtime.handle(), tx.clone());
    let (netns, children) = (lab.node.netns(), lab.children.clone());
    let start_rv = lab_api.api.store().revision();
    let realizer = Realizer::new(lab, &lab_api, procs);
    std::thread::spawn(move || realizer.run(rx));
    let ctx = Ctx {
        lab: name.to_string(),
        api: lab_api.api.clone(),
        runtime: lab_api.runtime.handle().clone(),
        realized: lab_api.realized.subscribe(),
        realizer: tx,
    };
    ctx.wait_realized(start_rv, START_LIMIT)?;
    eprintln!(
        "controller of lab {name} (pid {}): API server on https://{} (kubeconfig {}), node brought in line with the API in {:.1} ms",
        std::process::id(),
        lab_api.address,
        kapi::kubeconfig_path(name).display(),
        ms(t.elapsed())
    );
    let listener = bind_private(&socket(name))?;
    let sock = socket(name);
    std::thread::spawn(move || watch(&sock, &netns, &children));
    for stream in listener.incoming() {
        match stream {
            Ok(s) => handle(&ctx, s),
            Err(e) => eprintln!("accepting a connection: {e}"),
        }
    }
    drop(lab_api);
    Ok(ExitCode::SUCCESS)
}

/// The socket, made root-only whatever the umask (it runs commands as root).
fn bind_private(path: &Path) -> Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let listener = UnixListener::bind(path).context("listening on the lab's socket")?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .context("making the lab's socket root-only")?;
    Ok(listener)
}

/// What a verb needs: the API, and how to wait for the node.
pub struct Ctx {
    pub lab: String,
    pub api: Arc<palisade_apiserver::Api>,
    pub runtime: tokio::runtime::Handle,
    realized: tokio::sync::watch::Receiver<u64>,
    realizer: std::sync::mpsc::Sender<Msg>,
}

impl Ctx {
    /// Waits until the node has realized revision `rv` of the API.
    pub fn wait_realized(&self, rv: u64, limit: Duration) -> Result<()> {
        let mut rx = self.realized.clone();
        let done = self
            .runtime
            .block_on(async { tokio::time::timeout(limit, rx.wait_for(|v| *v >= rv)).await });
        match done {
            Ok(Ok(_)) => Ok(()),
            _ => bail!(
                "the lab's node did not realize the change within {limit:?} (see {})",
                log(&self.lab).display()
            ),
        }
    }

    /// Has the node read its table back and repair drift.
    pub fn read_back(&self) -> Result<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.realizer
            .send(Msg::ReadBack(tx))
            .map_err(|_| anyhow::anyhow!("the lab's node has stopped"))?;
        match rx.recv_timeout(START_LIMIT) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => bail!("{e}"),
            Err(_) => bail!("the lab's node did not answer"),
        }
    }
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
fn handle(ctx: &Ctx, mut stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::new();
    if let Err(e) = stream.read_to_end(&mut buf) {
        eprintln!("reading a request: {e}");
        return;
    }
    let reply = match serde_json::from_slice::<Request>(&buf) {
        Ok(req) => run(ctx, req),
        Err(e) => Reply::error(format!(
            "palisade: error: the lab's controller cannot read the request ({e}); if palisade was upgraded, restart the lab (lab down, lab up)"
        )),
    };
    if let Err(e) = stream.write_all(&serde_json::to_vec(&reply).unwrap_or_default()) {
        eprintln!("replying: {e}");
    }
}

/// Runs one command as API calls. A refused call changes nothing (the API
/// validates before it stores); what was stored is realized before the
/// reply.
fn run(ctx: &Ctx, req: Request) -> Reply {
    let t = Instant::now();
    let mut out = Out::new(req.verbose);
    let caller = Caller {
        cwd: req.cwd,
        env: req.env,
        stdin: req.stdin,
    };
    let code = match super::ops::execute(ctx, &caller, &mut out, req.command) {
        Ok(()) => 0,
        Err(e) => {
            out.warn(format_args!("palisade: error: {e:#}"));
            2
        }
    };
    out.trace(format_args!(
        "controller: command run in {:.1} ms (API write and the node realizing it)",
        ms(t.elapsed())
    ));
    Reply {
        stdout: out.stdout,
        stderr: out.stderr,
        code,
    }
}
