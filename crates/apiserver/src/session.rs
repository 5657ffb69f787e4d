//! A running process reachable as streams, independent of HTTP: what
//! `exec` runs and what `attach` connects to.
//!
//! A [`Session`] is started from a [`Spec`] (program, arguments,
//! environment, working directory; the lab passes
//! `ip netns exec <netns> <program> ...`) either on a pseudo-terminal
//! ([`Session::spawn_pty`]: the child is a session leader with the
//! terminal as its controlling terminal, so `sh` is interactive and Ctrl-C
//! reaches the foreground job) or on pipes ([`Session::spawn_pipes`]).
//!
//! Background tasks do the I/O: one writer owns the child's input (stdin
//! or the terminal), one reader per output stream, one waiter owns the
//! child. The session's handles talk to them through channels, so
//! [`Input`] is a cheap clone that can be used while another task reads
//! the output. Output ends (`None`) once the streams reach end of file, or
//! once the process has exited and no more output arrived for
//! [`DRAIN`] (a background process still holding the terminal does not
//! keep the session open).
//!
//! Dropping a [`Session`] kills the process group of its child (SIGKILL):
//! an exec whose client went away leaves nothing behind.
//!
//! An [`Attachable`] is a session started with a pod: it lives on whether
//! or not a client is attached, appends all it prints to the pod's log
//! file, keeps the last [`REPLAY`] bytes to replay on attach, and
//! publishes its exit code.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How long output is still read after the process exited, when nothing
/// more arrives.
pub const DRAIN: Duration = Duration::from_millis(200);

/// How many bytes of its latest output an [`Attachable`] replays to a
/// client that attaches.
pub const REPLAY: usize = 4096;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Set in the child's environment (after `env_clear` if set).
    pub env: Vec<(OsString, OsString)>,
    /// Start from an empty environment instead of the server's.
    pub env_clear: bool,
    pub cwd: Option<PathBuf>,
}

impl Spec {
    pub fn new(program: impl Into<OsString>) -> Self {
        Spec {
            program: program.into(),
            ..Spec::default()
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    fn has_env(&self, key: &str) -> bool {
        self.env.iter().any(|(k, _)| k == key)
    }
}

/// Which stream a chunk of output came from. With a terminal everything
/// is `Stdout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A chunk of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stream: Stream,
    pub data: Bytes,
}

/// A terminal size, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermSize {
    pub cols: u16,
    pub rows: u16,
}

#[derive(Debug)]
enum Control {
    Data(Bytes),
    Resize(TermSize),
    Close,
}

/// The input side of a session: stdin (or the terminal's keyboard),
/// resizes, end of input. Clones talk to the same process.
#[derive(Debug, Clone)]
pub struct Input {
    tx: mpsc::Sender<Control>,
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the process's input is closed")
}

impl Input {
    /// Writes to the process's stdin (or types on its terminal). Fails
    /// with `BrokenPipe` once the input is closed or the process is gone.
    pub async fn write(&self, data: impl Into<Bytes>) -> io::Result<()> {
        self.tx
            .send(Control::Data(data.into()))
            .await
            .map_err(|_| closed())
    }

    /// Resizes the terminal (ignored without one).
    pub async fn resize(&self, size: TermSize) -> io::Result<()> {
        self.tx
            .send(Control::Resize(size))
            .await
            .map_err(|_| closed())
    }

    /// Ends the input. On pipes the child reads end of file; on a terminal
    /// this types the end-of-file character (Ctrl-D, which ends `cat` or an
    /// interactive shell at an empty prompt): a terminal has no half-close.
    pub async fn close(&self) {
        let _ = self.tx.send(Control::Close).await;
    }
}

/// A running process reachable as streams.
#[derive(Debug)]
pub struct Session {
    tty: bool,
    input: Input,
    output: mpsc::Receiver<Output>,
    exit: watch::Receiver<Option<i32>>,
    // Dropped with the session: the waiter then kills the process group.
    _kill: oneshot::Sender<()>,
}

/// The exit code as Kubernetes reports it: the code, or 128 + the signal.
fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(255)
}

impl Session {
    /// Starts `spec` on a new pseudo-terminal of `size` (80x24 if none),
    /// as a session leader with the terminal as its controlling terminal.
    /// `TERM=xterm` is set unless `spec` sets `TERM`.
    pub fn spawn_pty(spec: &Spec, size: Option<TermSize>) -> io::Result<Session> {
        let (pty, pts) = pty_process::open().map_err(io::Error::other)?;
        let size = size.unwrap_or(TermSize { cols: 80, rows: 24 });
        pty.resize(pty_process::Size::new(size.rows, size.cols))
            .map_err(io::Error::other)?;
        let mut cmd = pty_process::Command::new(&spec.program).args(&spec.args);
        if spec.env_clear {
            cmd = cmd.env_clear();
        }
        if !spec.has_env("TERM") {
            cmd = cmd.env("TERM", "xterm");
        }
        cmd = cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &spec.cwd {
            cmd = cmd.current_dir(dir);
        }
        let child = cmd.spawn(pts).map_err(|e| match e {
            pty_process::Error::Io(e) => e,
            e => io::Error::other(e),
        })?;
        let (read, write) = pty.into_split();
        let (ctl_tx, ctl_rx) = mpsc::channel(64);
        let (out_tx, out_rx) = mpsc::channel(64);
        let (exit_tx, exit_rx) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel();
        tokio::spawn(write_pty(write, ctl_rx));
        tokio::spawn(read_stream(read, Stream::Stdout, out_tx, exit_rx.clone()));
        tokio::spawn(wait_child(child, kill_rx, exit_tx));
        Ok(Session {
            tty: true,
            input: Input { tx: ctl_tx },
            output: out_rx,
            exit: exit_rx,
            _kill: kill_tx,
        })
    }

    /// Starts `spec` with stdin, stdout and stderr on pipes, in a process
    /// group of its own.
    pub fn spawn_pipes(spec: &Spec) -> io::Result<Session> {
        let mut cmd = tokio::process::Command::new(&spec.program);
        cmd.args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if spec.env_clear {
            cmd.env_clear();
        }
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (ctl_tx, ctl_rx) = mpsc::channel(64);
        let (out_tx, out_rx) = mpsc::channel(64);
        let (exit_tx, exit_rx) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel();
        tokio::spawn(write_pipe(stdin, ctl_rx));
        tokio::spawn(read_stream(
            stdout,
            Stream::Stdout,
            out_tx.clone(),
            exit_rx.clone(),
        ));
        tokio::spawn(read_stream(stderr, Stream::Stderr, out_tx, exit_rx.clone()));
        tokio::spawn(wait_child(child, kill_rx, exit_tx));
        Ok(Session {
            tty: false,
            input: Input { tx: ctl_tx },
            output: out_rx,
            exit: exit_rx,
            _kill: kill_tx,
        })
    }

    /// Whether the process runs on a terminal.
    pub fn is_tty(&self) -> bool {
        self.tty
    }

    /// A handle on the process's input, usable while output is read.
    pub fn input(&self) -> Input {
        self.input.clone()
    }

    pub async fn write_stdin(&self, data: impl Into<Bytes>) -> io::Result<()> {
        self.input.write(data).await
    }

    pub async fn resize(&self, size: TermSize) -> io::Result<()> {
        self.input.resize(size).await
    }

    pub async fn close_stdin(&self) {
        self.input.close().await
    }

    /// The next chunk of output, or `None` once all output is read.
    pub async fn read_output(&mut self) -> Option<Output> {
        self.output.recv().await
    }

    /// The exit code (128 + signal for a killed process), once it exited.
    pub async fn wait(&mut self) -> io::Result<i32> {
        exit_of(&mut self.exit).await
    }

    /// The exit code as a watch: `None` while the process runs.
    pub fn exit_watch(&self) -> watch::Receiver<Option<i32>> {
        self.exit.clone()
    }
}

async fn exit_of(exit: &mut watch::Receiver<Option<i32>>) -> io::Result<i32> {
    match exit.wait_for(Option::is_some).await {
        Ok(code) => Ok(code.expect("waited for Some")),
        Err(_) => Err(io::Error::other("the process's waiter is gone")),
    }
}

async fn write_pty(mut w: pty_process::OwnedWritePty, mut rx: mpsc::Receiver<Control>) {
    while let Some(c) = rx.recv().await {
        let r = match c {
            Control::Data(d) => w.write_all(&d).await.and(w.flush().await),
            Control::Resize(s) => {
                // A failed resize is no reason to end the session.
                let _ = w.resize(pty_process::Size::new(s.rows, s.cols));
                Ok(())
            }
            // VEOF (Ctrl-D) in canonical mode.
            Control::Close => w.write_all(b"\x04").await.and(w.flush().await),
        };
        if r.is_err() {
            return;
        }
    }
}

async fn write_pipe(w: tokio::process::ChildStdin, mut rx: mpsc::Receiver<Control>) {
    let mut w = Some(w);
    while let Some(c) = rx.recv().await {
        match c {
            Control::Data(d) => {
                let Some(pipe) = w.as_mut() else { return };
                if pipe.write_all(&d).await.is_err() || pipe.flush().await.is_err() {
                    return;
                }
            }
            Control::Resize(_) => {}
            // Dropping the pipe is the end of file; later writes fail.
            Control::Close => return,
        }
    }
}

async fn read_stream<R: AsyncRead + Unpin>(
    mut r: R,
    stream: Stream,
    tx: mpsc::Sender<Output>,
    mut exit: watch::Receiver<Option<i32>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut exited = false;
    loop {
        let n = if exited {
            match tokio::time::timeout(DRAIN, r.read(&mut buf)).await {
                Ok(n) => n,
                Err(_) => return,
            }
        } else {
            tokio::select! {
                n = r.read(&mut buf) => n,
                _ = exit.wait_for(Option::is_some) => {
                    exited = true;
                    continue;
                }
            }
        };
        // A terminal whose last holder closed it reads EIO: the end.
        match n {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let out = Output {
                    stream,
                    data: Bytes::copy_from_slice(&buf[..n]),
                };
                if tx.send(out).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn kill_group(child: &Child) {
    if let Some(pid) = child
        .id()
        .and_then(|p| rustix::process::Pid::from_raw(p as i32))
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

async fn wait_child(
    mut child: Child,
    kill: oneshot::Receiver<()>,
    exit: watch::Sender<Option<i32>>,
) {
    let status = tokio::select! {
        s = child.wait() => s,
        _ = kill => {
            kill_group(&child);
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let code = status.map(exit_code).unwrap_or(255);
    let _ = exit.send(Some(code));
}

/// Options of an [`Attachable`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AttachOptions {
    /// The container's `stdinOnce`: the input is closed when the first
    /// client that attached with stdin goes away (or closes its stdin).
    pub stdin_once: bool,
}

#[derive(Debug)]
struct Shared {
    /// The last [`REPLAY`] bytes of output, and the feed to attached
    /// clients (`None` once the process ended), under one lock so a client
    /// that attaches gets each byte once: in the replay or in the feed.
    state: Mutex<Feed>,
    /// Set once a client that attached with stdin went away, with
    /// `stdin_once`.
    stdin_used: Mutex<bool>,
}

#[derive(Debug)]
struct Feed {
    tail: VecDeque<u8>,
    tx: Option<broadcast::Sender<Output>>,
}

/// A session started with its pod (`stdin: true` / `tty: true`), living on
/// whether or not a client is attached. Dropping it kills the process.
#[derive(Debug)]
pub struct Attachable {
    tty: bool,
    input: Input,
    options: AttachOptions,
    shared: Arc<Shared>,
    exit: watch::Receiver<Option<i32>>,
    _stop: oneshot::Sender<()>,
}

impl Attachable {
    /// Takes over `session`: its output is appended to `log` (created if
    /// missing) and sent to the attached clients. Must be called within a
    /// tokio runtime.
    pub fn start(session: Session, log: &Path, options: AttachOptions) -> io::Result<Attachable> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(Feed {
                tail: VecDeque::with_capacity(REPLAY),
                tx: Some(broadcast::channel(256).0),
            }),
            stdin_used: Mutex::new(false),
        });
        let (exit_tx, exit_rx) = watch::channel(None);
        let (stop_tx, stop_rx) = oneshot::channel();
        let tty = session.is_tty();
        let input = session.input();
        tokio::spawn(pump(
            session,
            tokio::fs::File::from_std(file),
            shared.clone(),
            stop_rx,
            exit_tx,
        ));
        Ok(Attachable {
            tty,
            input,
            options,
            shared,
            exit: exit_rx,
            _stop: stop_tx,
        })
    }

    pub fn is_tty(&self) -> bool {
        self.tty
    }

    /// The exit code, published once the process ended and all its output
    /// is in the log file: `None` while it runs.
    pub fn exit_watch(&self) -> watch::Receiver<Option<i32>> {
        self.exit.clone()
    }

    /// Waits for the exit code.
    pub async fn wait(&self) -> io::Result<i32> {
        exit_of(&mut self.exit.clone()).await
    }

    /// The process's input, e.g. to resize its terminal.
    pub fn input(&self) -> Input {
        self.input.clone()
    }

    /// Connects a client: the output from now on (after a replay of the
    /// latest [`REPLAY`] bytes), and the input if `stdin` (and, with
    /// `stdin_once`, no earlier client used it).
    pub fn attach(&self, stdin: bool) -> Attachment {
        let feed = self.shared.state.lock().expect("feed lock");
        let replay = Bytes::from(feed.tail.iter().copied().collect::<Vec<u8>>());
        let rx = feed.tx.as_ref().map(broadcast::Sender::subscribe);
        drop(feed);
        let stdin =
            stdin && !(self.options.stdin_once && *self.shared.stdin_used.lock().expect("lock"));
        Attachment {
            tty: self.tty,
            replay,
            rx,
            input: stdin.then(|| self.input.clone()),
            stdin_once: self.options.stdin_once,
            shared: self.shared.clone(),
        }
    }
}

async fn pump(
    mut session: Session,
    mut log: tokio::fs::File,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
    exit: watch::Sender<Option<i32>>,
) {
    let mut exit_rx = session.exit_watch();
    loop {
        let out = tokio::select! {
            out = session.read_output() => out,
            // The owner dropped the Attachable: dropping the session kills.
            _ = &mut stop => {
                drop(session);
                break;
            }
        };
        let Some(out) = out else { break };
        // The log is best effort: a full disk does not stop the process.
        let _ = log.write_all(&out.data).await;
        let _ = log.flush().await;
        let mut feed = shared.state.lock().expect("feed lock");
        let held = feed.tail.len();
        let over = (held + out.data.len()).saturating_sub(REPLAY);
        feed.tail.drain(..over.min(held));
        let skip = out.data.len().saturating_sub(REPLAY);
        feed.tail.extend(&out.data[skip..]);
        if let Some(tx) = &feed.tx {
            // No receiver: nobody is attached, the output is dropped.
            let _ = tx.send(out);
        }
    }
    let code = exit_of(&mut exit_rx).await.unwrap_or(255);
    let _ = log.sync_data().await;
    shared.state.lock().expect("feed lock").tx = None;
    let _ = exit.send(Some(code));
}

/// A client's connection to an [`Attachable`].
#[derive(Debug)]
pub struct Attachment {
    tty: bool,
    replay: Bytes,
    rx: Option<broadcast::Receiver<Output>>,
    input: Option<Input>,
    stdin_once: bool,
    shared: Arc<Shared>,
}

impl Attachment {
    pub fn is_tty(&self) -> bool {
        self.tty
    }

    /// The latest output from before the client attached.
    pub fn take_replay(&mut self) -> Bytes {
        std::mem::take(&mut self.replay)
    }

    /// The next chunk of output; `None` once the process ended. A client
    /// too slow to keep up loses the chunks it fell behind on.
    pub async fn read_output(&mut self) -> Option<Output> {
        let rx = self.rx.as_mut()?;
        loop {
            match rx.recv().await {
                Ok(out) => return Some(out),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The process's input, if this client attached with stdin.
    pub fn input(&self) -> Option<&Input> {
        self.input.as_ref()
    }

    /// The client closed its stdin or went away: with `stdin_once`, the
    /// process's input is closed for good.
    pub async fn detach_stdin(&mut self) {
        if let Some(input) = self.input.take() {
            if self.stdin_once {
                *self.shared.stdin_used.lock().expect("lock") = true;
                input.close().await;
            }
        }
    }
}
