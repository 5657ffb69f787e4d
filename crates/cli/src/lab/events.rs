//! `palisade lab events [-f]`: the denied-flow log of the lab.
//!
//! The lab has no agent, so `lab up` starts a small detached recorder
//! (`palisade lab flow-recorder`, hidden) in the node's network namespace.
//! It binds the NFLOG group of the ruleset (`palisade_nft::flowlog`),
//! attributes each logged packet with the lab's current state (re-read
//! whenever `state.json` or `known.json` changes: pods by address from the
//! state, chains to their isolating policies through the ruleset the
//! controller last applied), deduplicates, and appends one
//! JSON record per line to `events.jsonl` in the lab's state directory.
//! `lab events` prints that file as a table (or `-o json`, the records as
//! the agent's `/flows` API has them); `-f` follows it.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use palisade_flowlog::{Attributor, FlowLog, FlowRecord};
use palisade_lab::process::{self, ProcessHandle, ProcessSpec};
use palisade_lab::Node;
use palisade_nft::flowlog::FLOW_LOG_GROUP;

use super::known;
use super::state::LabState;

const EVENTS: &str = "events.jsonl";
/// The previous file, after a rotation.
const EVENTS_PREVIOUS: &str = "events.jsonl.1";
/// The size at which the recorder rotates `events.jsonl` to
/// `events.jsonl.1` (replacing the previous one), unless
/// `PALISADE_LAB_EVENTS_MAX_BYTES` says otherwise: the log holds at most
/// twice this.
pub const EVENTS_MAX_BYTES: u64 = 16 << 20;

fn events_max_bytes() -> u64 {
    std::env::var("PALISADE_LAB_EVENTS_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(EVENTS_MAX_BYTES)
}

/// The log's files, oldest first (`events.jsonl.1`, `events.jsonl`).
pub fn files(dir: &Path) -> [PathBuf; 2] {
    [dir.join(EVENTS_PREVIOUS), dir.join(EVENTS)]
}
const RECORDER_PID: &str = "recorder.pid";

/// Starts the recorder in the node's netns unless one runs already, and
/// waits until it has bound the NFLOG group (it then creates the file).
pub fn start_recorder(lab: &str, node: &Node) -> Result<()> {
    let dir = LabState::dir(lab);
    let pid_file = dir.join(RECORDER_PID);
    if let Some(h) = read_handle(&pid_file) {
        if h.is_alive() {
            return Ok(());
        }
    }
    let _ = fs::remove_file(dir.join(EVENTS));
    let exe = std::env::current_exe().context("locating the palisade binary")?;
    let spec = ProcessSpec {
        cwd: None,
        netns: node.netns(),
        program: exe.to_string_lossy().into_owned(),
        args: vec![
            "lab".into(),
            "--lab".into(),
            lab.into(),
            "flow-recorder".into(),
        ],
        env: vec![],
        log: dir.join("logs").join("flow-recorder.log"),
    };
    let handle = process::spawn(&spec).context("starting the flow recorder")?;
    palisade_apiserver::tls::write_private(&pid_file, serde_json::to_string(&handle)?.as_bytes())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dir.join(EVENTS).exists() {
        if Instant::now() > deadline || !handle.is_alive() {
            bail!(
                "the flow recorder did not start; see {}",
                spec.log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn read_handle(path: &Path) -> Option<ProcessHandle> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// The recorder's loop (runs inside the node's netns until killed by
/// `lab down`).
pub fn record(lab: &str) -> Result<ExitCode> {
    let dir = LabState::dir(lab);
    let mut log = FlowLog::open(FLOW_LOG_GROUP, Duration::from_millis(200))
        .context("binding the NFLOG group in the lab's node")?;
    let open = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(dir.join(EVENTS))
    };
    let mut out = open()?;
    let max = events_max_bytes();
    let mut size = out.metadata()?.len();
    let mut state = StateWatch::new(&dir);
    loop {
        let received = log.recv()?;
        state.refresh();
        let batch = log.records(received, &state.attributor);
        if batch.overrun {
            eprintln!("flow recorder: socket overrun, some denials were not recorded");
        }
        for r in &batch.records {
            let line = format!("{}\n", r.to_json());
            if size > 0 && size + line.len() as u64 > max {
                // Rotate: one previous file, replaced.
                out.flush()?;
                fs::rename(dir.join(EVENTS), dir.join(EVENTS_PREVIOUS))?;
                out = open()?;
                size = 0;
            }
            out.write_all(line.as_bytes())?;
            size += line.len() as u64;
        }
        out.flush()?;
    }
}

/// The attributor for the lab's state file and the ruleset the controller
/// applied (`known.json`), rebuilt when either file changes.
struct StateWatch {
    /// The lab's state directory.
    dir: PathBuf,
    /// Modification times of the two files at the last rebuild.
    seen: Option<(SystemTime, SystemTime)>,
    attributor: Attributor,
}

impl StateWatch {
    fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            seen: None,
            attributor: Attributor::new(),
        }
    }

    fn refresh(&mut self) {
        let modified = |p: PathBuf| fs::metadata(p).and_then(|m| m.modified()).ok();
        let state_path = self.dir.join("state.json");
        // known.json is absent while an update is in flight: keep the
        // previous attributor and look again on the next round.
        let (Some(state_at), Some(known_at)) = (
            modified(state_path.clone()),
            modified(known::path(&self.dir)),
        ) else {
            return;
        };
        if self.seen == Some((state_at, known_at)) {
            return;
        }
        // Both files are replaced atomically (rename): a read sees one version.
        let Ok(state) = fs::read_to_string(&state_path)
            .map_err(anyhow::Error::from)
            .and_then(|t| Ok(serde_json::from_str::<LabState>(&t)?))
        else {
            return;
        };
        let Some(rs) = known::load(&self.dir) else {
            return;
        };
        self.attributor.update(&state.to_cluster(), &rs);
        self.seen = Some((state_at, known_at));
    }
}

/// `lab events`: prints the records (namespace filter: either end), the
/// previous file's first; `-f` follows the log across rotations.
pub fn show(lab: &str, namespace: Option<&str>, json: bool, follow: bool) -> Result<ExitCode> {
    use std::os::unix::fs::MetadataExt;
    let dir = LabState::dir(lab);
    let [previous, path] = files(&dir);
    let file = File::open(&path).with_context(|| {
        format!(
            "opening {} (is the lab up? `palisade lab up` starts the recorder)",
            path.display()
        )
    })?;
    let mut stdout = std::io::stdout().lock();
    if !json {
        writeln!(stdout, "{}", row(&HEADER.map(String::from)))?;
    }
    let print = |line: &str, stdout: &mut std::io::StdoutLock| -> Result<()> {
        let r: FlowRecord = serde_json::from_str(line.trim_end())
            .with_context(|| format!("reading {}", path.display()))?;
        if namespace.is_some_and(|ns| !r.involves(ns)) {
            return Ok(());
        }
        match json {
            true => writeln!(stdout, "{}", r.to_json())?,
            false => writeln!(stdout, "{}", row(&columns(&r)))?,
        }
        Ok(())
    };
    // The previous file, unless it was rotated after `file` was opened.
    if let Ok(prev) = File::open(&previous) {
        if prev.metadata()?.ino() != file.metadata()?.ino() {
            for line in BufReader::new(prev).lines() {
                let line = line?;
                if !line.trim().is_empty() {
                    print(&line, &mut stdout)?;
                }
            }
        }
    }
    let mut ino = file.metadata()?.ino();
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || !line.ends_with('\n') {
            if !follow {
                return Ok(ExitCode::SUCCESS);
            }
            // A partial line is read again once complete.
            let back = line.len() as i64;
            reader.seek(SeekFrom::Current(-back))?;
            stdout.flush()?;
            // Rotated: the rest of this file was read; on to the new one.
            if back == 0 {
                if let Ok(now) = fs::metadata(&path) {
                    if now.ino() != ino {
                        let f = File::open(&path)?;
                        ino = f.metadata()?.ino();
                        reader = BufReader::new(f);
                        continue;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        print(&line, &mut stdout)?;
    }
}

const HEADER: [&str; 7] = [
    "TIME",
    "MODE",
    "DIRECTION",
    "PROTOCOL",
    "SOURCE",
    "DESTINATION",
    "POLICIES",
];

fn columns(r: &FlowRecord) -> [String; 7] {
    [
        serde_json::to_value(r.time)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        r.mode.as_str().into(),
        r.direction.as_str().into(),
        r.protocol.clone(),
        r.src.label(),
        r.dst.label(),
        match r.policies.is_empty() {
            true => "-".into(),
            false => r.policies.join(","),
        },
    ]
}

fn row(cols: &[String; 7]) -> String {
    let widths = [24, 5, 9, 8, 28, 28, 0];
    cols.iter()
        .zip(widths)
        .map(|(c, w)| format!("{c:<w$}"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end()
        .to_string()
}

/// `-o`: `json`, or the table (`None`, `table`).
pub fn json_output(o: Option<&str>) -> Result<bool> {
    match o {
        None | Some("table") => Ok(false),
        Some("json") => Ok(true),
        Some(other) => bail!("unknown output format {other:?} (expected table or json)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_row_of_a_record() {
        let r: FlowRecord = serde_json::from_str(r#"{"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP","src":{"namespace":"ns-1","pod":"busybox","ip":"10.0.0.5","port":41234},"dst":{"namespace":"ns-1","pod":"http-echo","ip":"10.0.0.6","port":80},"policies":["ns-1/deny-all-by-default"]}"#).unwrap();
        assert_eq!(
            row(&columns(&r)),
            "2026-11-24T20:00:00.123Z deny  ingress   TCP      ns-1/busybox:41234           ns-1/http-echo:80            ns-1/deny-all-by-default"
        );
    }
}
