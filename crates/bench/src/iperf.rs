//! Bulk TCP throughput with iperf3 (Debian package `iperf3`), between two
//! network namespaces.

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

/// Runs the client inside `netns_name` for `secs` seconds; returns bits/s received.
pub fn run(netns_name: &str, server: IpAddr, port: u16, secs: u32) -> Result<f64, IperfError> {
    let mut last = String::new();
    for _ in 0..3 {
        let out = netns::command(netns_name, IPERF3)
            .args([
                "-c",
                &server.to_string(),
                "-p",
                &port.to_string(),
                "-t",
                &secs.to_string(),
                "-J",
            ])
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
    fn parses_the_received_rate() {
        let j = r#"{"end": {"sum_received": {"bits_per_second": 1.5e10}}}"#;
        assert_eq!(super::parse(j).unwrap(), 1.5e10);
        assert!(super::parse("{}").is_err());
    }
}
