//! `palisade lab dashboard`: the web dashboard over the lab's state file
//! (namespaces, pods, policies) and its denied-flow log (`events.jsonl`,
//! appended by the lab's flow recorder).

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use palisade_dashboard::{broadcast, FlowLog, FlowRecord, Source};
use palisade_model::Cluster;

use super::state::LabState;

/// How often the event log is checked for new records.
const TAIL_EVERY: Duration = Duration::from_millis(200);
/// Records kept for `/flows` and the page's first load.
const KEEP: usize = 10_000;

pub fn run(lab: &str, listen: SocketAddr) -> Result<ExitCode> {
    let dir = LabState::dir(lab);
    if !dir.join("state.json").exists() {
        bail!("lab {lab:?} is not up (start it with: palisade lab up --lab {lab})");
    }
    let source = Arc::new(LabSource::new(&dir));
    let log = source.log.clone();
    let events = events_file::path(&dir);
    std::thread::spawn(move || events_file::follow(&events, &log));
    palisade_dashboard::run_blocking(listen, source, |addr| {
        println!("palisade dashboard for lab {lab}: http://{addr}/  (Ctrl-C to stop)");
    })
    .with_context(|| format!("serving the dashboard on {listen}"))?;
    Ok(ExitCode::SUCCESS)
}

/// The state file's (modification time, length) and the cluster read from it.
type Read = ((SystemTime, u64), Arc<Cluster>);

/// The lab's cluster, re-read when its state file changes, and its flows.
struct LabSource {
    state: PathBuf,
    last: Mutex<Option<Read>>,
    log: Arc<FlowLog>,
}

impl LabSource {
    fn new(dir: &Path) -> Self {
        Self {
            state: dir.join("state.json"),
            last: Mutex::new(None),
            log: Arc::new(FlowLog::new(KEEP)),
        }
    }

    /// Reads the state file without taking the lab's lock: commands replace
    /// it atomically (write + rename), so any read sees a whole state, and a
    /// long `lab exec` holding the lock does not stall the page.
    fn read(&self) -> Option<Read> {
        let meta = fs::metadata(&self.state).ok()?;
        let stamp = (meta.modified().ok()?, meta.len());
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = last.as_ref().filter(|(s, _)| *s == stamp) {
            return Some(hit.clone());
        }
        let text = fs::read_to_string(&self.state).ok()?;
        let state: LabState = serde_json::from_str(&text).ok()?;
        let fresh = (stamp, Arc::new(state.to_cluster()));
        *last = Some(fresh.clone());
        Some(fresh)
    }
}

impl Source for LabSource {
    /// `None` once the lab is down (its state file is gone).
    fn cluster(&self) -> Option<Arc<Cluster>> {
        self.read().map(|(_, c)| c)
    }
    fn flows(&self, q: &palisade_dashboard::Query) -> Vec<FlowRecord> {
        self.log.query(q)
    }
    fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.log.subscribe()
    }
}

/// The lab's denied-flow log: where it is and how it is read. The lab's
/// recorder (`palisade lab events`) appends one JSON record per line.
mod events_file {
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom};
    use std::path::{Path, PathBuf};

    use palisade_dashboard::{FlowLog, FlowRecord};

    /// `/run/palisade/lab/NAME/events.jsonl`.
    pub fn path(lab_dir: &Path) -> PathBuf {
        lab_dir.join("events.jsonl")
    }

    /// Pushes every record of the log into `log` (the previous file's
    /// first, `events.jsonl.1`), then each new one as it is appended,
    /// forever (the file may not exist yet, be recreated, or be rotated:
    /// then the rest of the rotated file is read first).
    pub fn follow(path: &Path, log: &FlowLog) {
        use std::os::unix::fs::MetadataExt;
        let previous = path.with_extension("jsonl.1");
        let ino = |p: &Path| std::fs::metadata(p).map(|m| m.ino()).ok();
        let mut offset = 0;
        let mut current = ino(path);
        let mut start = 0;
        for r in read_new(&previous, &mut start) {
            log.push(r);
        }
        loop {
            let now = ino(path);
            if now != current {
                // Rotated: what was appended to the old file before it.
                if current.is_some() && ino(&previous) == current {
                    for r in read_new(&previous, &mut offset) {
                        log.push(r);
                    }
                }
                offset = 0;
                current = now;
            }
            for r in read_new(path, &mut offset) {
                log.push(r);
            }
            std::thread::sleep(super::TAIL_EVERY);
        }
    }

    /// The complete lines appended since `offset` (advanced past them),
    /// parsed; a line that is not a record is reported and skipped. A file
    /// shorter than `offset` was recreated: it is read from the start.
    pub fn read_new(path: &Path, offset: &mut u64) -> Vec<FlowRecord> {
        let Ok(mut f) = File::open(path) else {
            return Vec::new();
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < *offset {
            *offset = 0;
        }
        let mut text = Vec::new();
        if f.seek(SeekFrom::Start(*offset)).is_err() || f.read_to_end(&mut text).is_err() {
            return Vec::new();
        }
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        *offset += complete as u64;
        let lines = String::from_utf8_lossy(&text[..complete]).into_owned();
        let parse = |line: &str| match serde_json::from_str(line) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!(
                    "palisade: {}: skipping a line that is not a flow record: {e}",
                    path.display()
                );
                None
            }
        };
        lines
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(parse)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::events_file::read_new;

    const RECORD: &str = r#"{"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP","src":{"namespace":"ns-1","pod":"busybox","ip":"10.244.1.11","port":41234},"dst":{"namespace":"ns-1","pod":"http-echo","ip":"10.244.1.10","port":80},"policies":["ns-1/deny-all-by-default"]}"#;

    #[test]
    fn tailing_reads_whole_lines_once_skips_junk_and_follows_recreation() {
        let dir = std::env::temp_dir().join(format!("palisade-dash-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.jsonl");
        let mut offset = 0;
        assert!(read_new(&path, &mut offset).is_empty(), "no file yet");
        let mut f = std::fs::File::create(&path).unwrap();
        write!(f, "{RECORD}\nnot json\n{}", &RECORD[..40]).unwrap();
        let got = read_new(&path, &mut offset);
        assert_eq!(
            got.len(),
            1,
            "the junk line is skipped, the partial one waits"
        );
        assert_eq!(got[0].policies, ["ns-1/deny-all-by-default"]);
        writeln!(f, "{}", &RECORD[40..]).unwrap();
        assert_eq!(
            read_new(&path, &mut offset).len(),
            1,
            "the line, once complete"
        );
        assert!(read_new(&path, &mut offset).is_empty(), "nothing twice");
        std::fs::write(&path, format!("{RECORD}\n")).unwrap();
        assert_eq!(
            read_new(&path, &mut offset).len(),
            1,
            "a recreated file is read again"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
