//! `pods/log` bodies over a real file.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use http_body_util::BodyExt;
use palisade_apiserver::logs::{log_body, LogBody, LogOptions};

const LIMIT: Duration = Duration::from_secs(10);

fn file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// The next data chunk, or `None` at the end of the body.
async fn next(body: &mut LogBody) -> Option<String> {
    let frame = tokio::time::timeout(LIMIT, body.frame())
        .await
        .expect("in time")?;
    let data = frame.unwrap().into_data().unwrap();
    Some(String::from_utf8_lossy(&data).into_owned())
}

async fn all(mut body: LogBody) -> String {
    let mut s = String::new();
    while let Some(c) = next(&mut body).await {
        s.push_str(&c);
    }
    s
}

#[test]
fn options_from_the_query() {
    let o =
        LogOptions::from_query("container=web&follow=true&tailLines=10&timestamps=false").unwrap();
    assert_eq!(o.container.as_deref(), Some("web"));
    assert!(o.follow);
    assert_eq!(o.tail_lines, Some(10));
    assert!(!o.timestamps);
    let e = LogOptions::from_query("tailLines=-3").unwrap_err();
    assert_eq!(e.code, 400);
}

#[tokio::test]
async fn whole_file_tail_and_limit() {
    let p = file("whole.log", "one\ntwo\nthree\n");
    let never = std::future::pending::<()>;
    assert_eq!(
        all(log_body(p.clone(), &LogOptions::default(), never())).await,
        "one\ntwo\nthree\n"
    );
    let tail = |n| LogOptions {
        tail_lines: Some(n),
        ..LogOptions::default()
    };
    assert_eq!(
        all(log_body(p.clone(), &tail(2), never())).await,
        "two\nthree\n"
    );
    assert_eq!(all(log_body(p.clone(), &tail(0), never())).await, "");
    assert_eq!(
        all(log_body(p.clone(), &tail(9), never())).await,
        "one\ntwo\nthree\n"
    );
    let limit = LogOptions {
        limit_bytes: Some(5),
        ..LogOptions::default()
    };
    assert_eq!(all(log_body(p.clone(), &limit, never())).await, "one\nt");
    // A file that does not exist yet is empty.
    let missing = p.with_file_name("missing.log");
    assert_eq!(
        all(log_body(missing, &LogOptions::default(), never())).await,
        ""
    );
}

#[tokio::test]
async fn follow_streams_appended_lines_until_the_process_ends() {
    let p = file("follow.log", "first\n");
    let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<()>();
    let opts = LogOptions::from_query("follow=true").unwrap();
    let mut body = log_body(p.clone(), &opts, async move {
        let _ = ended_rx.await;
    });
    assert_eq!(next(&mut body).await.unwrap(), "first\n");
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(b"second\n").unwrap();
    assert_eq!(next(&mut body).await.unwrap(), "second\n");
    f.write_all(b"third\n").unwrap();
    assert_eq!(next(&mut body).await.unwrap(), "third\n");
    // Written just before the end: still sent, then the body ends.
    f.write_all(b"last\n").unwrap();
    ended_tx.send(()).unwrap();
    assert_eq!(all(body).await, "last\n");
}
