//! The thin client: a `lab` command that changes the lab is sent to the
//! lab's controller over its unix socket, and its reply (output and exit
//! code) printed as if the command had run here. No state is read and
//! nothing is compiled in this process.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::cli::Command;
use super::controller::{self, Status};
use super::out::{ms, verbose_env};
use super::state::{LabState, STATE_FILE};

/// How long a client waits for a controller that runs but does not listen
/// yet (it is still starting).
const CONNECT_LIMIT: Duration = Duration::from_secs(30);

/// A command and what it needs of the caller's process.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub command: Command,
    /// Relative paths (`-f`) and pods' working directory.
    pub cwd: PathBuf,
    /// The environment a pod started by `lab run` gets.
    pub env: Vec<(String, String)>,
    /// Standard input, read here when a file argument is `-`.
    pub stdin: Option<String>,
    /// `PALISADE_LAB_VERBOSE` is set: say where the time went.
    pub verbose: bool,
}

/// What the command printed, and its exit code.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reply {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

impl Reply {
    pub fn error(line: String) -> Self {
        Reply {
            stdout: String::new(),
            stderr: line + "\n",
            code: 2,
        }
    }
}

/// Sends `command` to the controller of lab `lab` and prints its reply.
pub fn send(lab: &str, command: Command) -> Result<ExitCode> {
    let t = Instant::now();
    let stdin = match reads_stdin(&command) {
        true => Some(std::io::read_to_string(std::io::stdin()).context("reading standard input")?),
        false => None,
    };
    let request = Request {
        command,
        cwd: std::env::current_dir().unwrap_or_else(|_| "/".into()),
        env: std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect(),
        stdin,
        verbose: verbose_env(),
    };
    let mut stream = connect(lab)?;
    let connected = t.elapsed();
    stream.write_all(&serde_json::to_vec(&request)?)?;
    stream.shutdown(Shutdown::Write)?;
    let mut buf = Vec::new();
    stream
        .read_to_end(&mut buf)
        .context("reading the controller's reply")?;
    if buf.is_empty() {
        bail!(
            "lab {lab}: its controller stopped while running the command (see {}); `palisade lab repair --lab {lab}` restarts it and brings the kernel in line with the saved state",
            controller::log(lab).display()
        );
    }
    let reply: Reply = serde_json::from_slice(&buf).context("reading the controller's reply")?;
    print!("{}", reply.stdout);
    eprint!("{}", reply.stderr);
    if request.verbose {
        eprintln!(
            "palisade: client: connected in {:.1} ms, reply after {:.1} ms",
            ms(connected),
            ms(t.elapsed())
        );
    }
    Ok(ExitCode::from(reply.code))
}

/// `-f -`: the command reads the caller's standard input.
fn reads_stdin(command: &Command) -> bool {
    match command {
        Command::Apply { file, .. } => file.as_os_str() == "-",
        Command::Import { files, .. } => files.iter().any(|f| f.as_os_str() == "-"),
        _ => false,
    }
}

/// Connects to the controller, with a clear message when there is none.
fn connect(lab: &str) -> Result<UnixStream> {
    if !LabState::dir(lab).join(STATE_FILE).exists() {
        bail!("lab {lab:?} is not up (start it with: palisade lab up)");
    }
    let sock = controller::socket(lab);
    let deadline = Instant::now() + CONNECT_LIMIT;
    loop {
        let e = match UnixStream::connect(&sock) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                bail!("connecting to {}: {e} (the lab needs root)", sock.display())
            }
            Err(e) => e,
        };
        match controller::status(lab) {
            Status::Running if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Status::Running => bail!(
                "lab {lab}: its controller runs but does not answer on {}: {e}",
                sock.display()
            ),
            status => bail!("{}", status.not_running(lab)),
        }
    }
}
