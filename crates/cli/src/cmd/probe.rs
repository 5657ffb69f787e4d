//! `palisade probe`: a small HTTP client for the lab (`wget -S`-like output).

use std::process::ExitCode;
use std::time::Duration;

use palisade_lab::http_client;

/// Send one HTTP request and print the status line and headers, like `wget -S`.
///
/// Run it inside a lab pod: palisade lab exec busybox -n ns-1 -- palisade probe
/// http://http-echo.ns-1.svc.cluster.local/test --post-data hello --timeout 2s
///
/// Exit codes (as wget): 0 success, 4 network failure (timeout, refused), 8 the
/// server answered with an error status.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// http://HOST[:PORT]/PATH; HOST resolves through /etc/hosts (the pod's, in the lab).
    url: String,
    /// Send a POST with this body (default: GET).
    #[arg(long)]
    post_data: Option<String>,
    /// Give up after this long: 500ms, 2s, 1m.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    timeout: Duration,
    /// Also print the response body.
    #[arg(long)]
    body: bool,
}

/// `500ms`, `2s`, `1m`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| c.is_alphabetic())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (e.g. 500ms, 2s, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("invalid duration unit in {s:?} (ms, s or m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match http_client::probe(&a.url, a.post_data.as_deref(), a.timeout) {
        Ok(resp) => {
            print!("{}", http_client::format_like_wget_s(&resp));
            if a.body {
                println!("{}", resp.body_text());
            }
            Ok(if resp.status < 400 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(8)
            })
        }
        Err(e) => {
            eprintln!("palisade probe: {e}");
            Ok(ExitCode::from(4))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(
            super::parse_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(super::parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(super::parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(super::parse_duration("2h").is_err());
    }
}
