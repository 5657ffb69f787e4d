//! Bulk TCP throughput with iperf3 (Debian package `iperf3`), between two
//! network namespaces.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use palisade_lab::netns;

/// Where iperf3 is expected.
pub const IPERF3: &str = "iperf3";

/// What went wrong running iperf3.
#[derive(Debug, thiserror::Error)]
pub enum IperfError {
    #[error("running iperf3: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("iperf3 failed: {0}")]
    Failed(String),
    #[error("iperf3 printed no end.sum_received.bits_per_second: {0}")]
    Output(String),
}

/// An iperf3 server running inside a netns; stopped (by its pid) on drop.
#[derive(Debug)]
pub struct IperfServer {
    child: Child,
}

impl IperfServer {
    pub fn start(netns_name: &str, port: u16) -> Result<IperfServer, IperfError> {
        let child = netns::command(netns_name, IPERF3)
            .args(["-s", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // Give it time to listen; the client retries below anyway.
        std::thread::sleep(Duration::from_millis(200));
        Ok(IperfServer { child })
    }
}

impl Drop for IperfServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `-c SERVER -p PORT -t SECS`.
fn client_args(server: IpAddr, port: u16, secs: u32) -> [String; 6] {
    [
        "-c".into(),
        server.to_string(),
        "-p".into(),
        port.to_string(),
        "-t".into(),
        secs.to_string(),
    ]
}

/// Runs the client inside `netns_name` for `secs` seconds; returns bits/s received.
pub fn run(netns_name: &str, server: IpAddr, port: u16, secs: u32) -> Result<f64, IperfError> {
    let mut last = String::new();
    for _ in 0..3 {
        let out = netns::command(netns_name, IPERF3)
            .args(client_args(server, port, secs))
            .arg("-J")
            .stdin(Stdio::null())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            return parse(&text);
        }
        last = format!(
            "{}{}",
            text.chars().take(300).collect::<String>(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    Err(IperfError::Failed(last))
}

/// One periodic report of a running iperf3 client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Seconds since the test started.
    pub start: f64,
    pub end: f64,
    pub bits_per_second: f64,
}

/// Runs the client inside `netns_name` for `secs` seconds with a report
/// every `interval` seconds, and calls `after` with each report as soon as
/// iperf3 prints it (`--forceflush`), so the caller can change something
/// at a report boundary. Returns every report, in order.
pub fn run_reporting(
    netns_name: &str,
    server: IpAddr,
    port: u16,
    secs: u32,
    interval: f64,
    mut after: impl FnMut(&Report) -> Result<(), String>,
) -> Result<Vec<Report>, IperfError> {
    let mut child = netns::command(netns_name, IPERF3)
        .args(client_args(server, port, secs))
        .args(["-i", &interval.to_string(), "-f", "m", "--forceflush"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut reports = Vec::new();
    let mut failure = None;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Some(r) = parse_report(&line) else {
            continue;
        };
        if failure.is_none() {
            failure = after(&r).err();
        }
        reports.push(r);
    }
    let out = child.wait_with_output()?;
    if let Some(why) = failure {
        return Err(IperfError::Failed(why));
    }
    if !out.status.success() || reports.is_empty() {
        return Err(IperfError::Failed(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(reports)
}

/// A periodic report line of `iperf3 -f m` (`[  5]   0.10-0.20   sec   130
/// MBytes  10918 Mbits/sec    0   1.39 MBytes`); `None` for any other line,
/// the final `sender` / `receiver` summaries included.
pub fn parse_report(line: &str) -> Option<Report> {
    if !line.starts_with('[') || line.contains("sender") || line.contains("receiver") {
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.contains('-') && w.contains('.'))?;
    let (start, end) = words[at].split_once('-')?;
    let rate = words.iter().position(|w| *w == "Mbits/sec")?;
    Some(Report {
        start: start.parse().ok()?,
        end: end.parse().ok()?,
        bits_per_second: words.get(rate.checked_sub(1)?)?.parse::<f64>().ok()? * 1e6,
    })
}

/// `end.sum_received.bits_per_second` of `iperf3 -J` output.
pub fn parse(json: &str) -> Result<f64, IperfError> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| IperfError::Output(e.to_string()))?;
    v.pointer("/end/sum_received/bits_per_second")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| IperfError::Output(json.chars().take(200).collect()))
}

/// True when iperf3 is installed.
pub fn available() -> bool {
    Command::new(IPERF3)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_report_lines_only() {
        let r = super::parse_report(
            "[  5]   0.10-0.20   sec   130 MBytes  10918 Mbits/sec    0   1.39 MBytes       ",
        )
        .unwrap();
        assert_eq!((r.start, r.end, r.bits_per_second), (0.1, 0.2, 10918e6));
        for other in [
            "[  5]   0.00-2.00   sec  2.55 GBytes  10950 Mbits/sec    0             sender",
            "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd",
            "Connecting to host 10.0.0.2, port 5201",
            "- - - - - - - - - - - - - - - - - - - - - - - - -",
        ] {
            assert_eq!(super::parse_report(other), None, "{other}");
        }
    }

    #[test]
    fn parses_the_received_rate() {
        let j = r#"{"end": {"sum_received": {"bits_per_second": 1.5e10}}}"#;
        assert_eq!(super::parse(j).unwrap(), 1.5e10);
        assert!(super::parse("{}").is_err());
    }
}
