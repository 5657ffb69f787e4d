//! Peak memory while reading a large JSON List (as `kubectl get pods -o
//! json` writes it): the process's peak resident size (VmHWM, reset just
//! before through /proc/self/clear_refs) over its size before. The only
//! test of this binary, so nothing else runs meanwhile. The old reader
//! peaked at 35 × this text (11 × now): the parser tokenized a JSON
//! document whole before its first event.

use std::fmt::Write as _;

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn pods_list(n: usize) -> String {
    let mut s =
        String::from("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n");
    for i in 0..n {
        let sep = if i + 1 == n { "" } else { "," };
        let _ = write!(
            s,
            "    {{\n      \"apiVersion\": \"v1\",\n      \"kind\": \"Pod\",\n      \"metadata\": {{\n        \
             \"name\": \"web-{i}\",\n        \"namespace\": \"ns-{}\",\n        \"uid\": \"8f2c{i:08x}-1d2e-4c3b\",\n        \
             \"labels\": {{\"app\": \"web-{}\", \"tier\": \"front\", \"pod-template-hash\": \"5d8f7c9b6\"}}\n      }},\n      \
             \"spec\": {{\n        \"nodeName\": \"node-1\",\n        \"containers\": [{{\"name\": \"main\", \"image\": \"nginx:1.{}\", \
             \"ports\": [{{\"name\": \"http\", \"containerPort\": 8080, \"protocol\": \"TCP\"}}]}}]\n      }},\n      \
             \"status\": {{\"phase\": \"Running\", \"podIP\": \"10.0.{}.{}\", \"conditions\": [{{\"type\": \"Ready\", \"status\": \"True\"}}]}}\n    }}{sep}\n",
            i % 10,
            i % 50,
            i % 9,
            (i >> 8) & 255,
            i & 255
        );
    }
    s.push_str("  ]\n}\n");
    s
}

#[test]
fn a_large_json_list_is_read_in_less_than_16_times_its_size() {
    let text = pods_list(8_000);
    // Reset the peak to the current size (Linux 4.0 and later).
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("cannot reset the peak resident size: not measured");
        return;
    }
    let (Some(before), Some(_)) = (status_kib("VmRSS:"), status_kib("VmHWM:")) else {
        return;
    };
    let loaded = palisade_manifest::parse_str("pods.json", &text);
    let peak = status_kib("VmHWM:").unwrap() - before;
    assert_eq!(
        loaded.objects.len(),
        8_000,
        "{:?}",
        loaded.diagnostics.first()
    );
    let ratio = (peak * 1024) as f64 / text.len() as f64;
    println!(
        "text {} bytes, peak {peak} KiB over the start: {ratio:.1} x",
        text.len()
    );
    assert!(ratio < 16.0, "peak {ratio:.1} × the text");
}
