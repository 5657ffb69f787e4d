//! `GET /api/v1/namespaces/NS/pods/NAME/log`: a body streaming a pod's
//! log file, all of it or its last lines, and with `follow=true` the bytes
//! appended later, until the process ended (then end of file, which ends
//! `kubectl logs -f`).
//!
//! ```ignore
//! let opts = LogOptions::from_query(req.uri().query().unwrap_or(""))?;
//! let ended = async move { let _ = exit.wait_for(Option::is_some).await; };
//! let body = log_body(log_path, &opts, ended);
//! Response::builder().header(CONTENT_TYPE, "text/plain").body(body)
//! ```
//!
//! The file is read in chunks of up to [`CHUNK`] bytes, each sent as it is
//! read; while following, it is polled every [`POLL`] for new bytes. A
//! file that shrank (rewritten) is read again from its start; a file that
//! does not exist yet reads as empty (and is waited for when following).
//! `timestamps=true` is accepted but not honoured: the log file holds no
//! times.

use std::future::Future;
use std::io::{self, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures::channel::mpsc;
use futures::SinkExt;
use http_body_util::StreamBody;
use hyper::body::Frame;
use palisade_apimachinery::status::Status;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::websocket::query_pairs;

/// How often a followed file is checked for new bytes.
pub const POLL: Duration = Duration::from_millis(100);

/// The largest chunk sent at once.
pub const CHUNK: usize = 64 * 1024;

/// The query of a `pods/log` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub container: Option<String>,
    pub follow: bool,
    /// Only the last N lines (of what exists when the request comes).
    pub tail_lines: Option<u64>,
    /// Stop after this many bytes.
    pub limit_bytes: Option<u64>,
    /// Accepted, not honoured.
    pub timestamps: bool,
    pub previous: bool,
}

fn parse_bool(key: &str, v: &str) -> Result<bool, Status> {
    match v {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Status::bad_request(format!(
            "invalid value {v:?} for {key}"
        ))),
    }
}

fn parse_count(key: &str, v: &str) -> Result<u64, Status> {
    v.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(|n| n as u64)
        .ok_or_else(|| {
            Status::bad_request(format!(
                "invalid value {v:?} for {key}: must be a non-negative integer"
            ))
        })
}

impl LogOptions {
    pub fn from_query(query: &str) -> Result<LogOptions, Status> {
        let mut o = LogOptions::default();
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "container" => o.container = Some(v),
                "follow" => o.follow = parse_bool(&k, &v)?,
                "tailLines" => o.tail_lines = Some(parse_count(&k, &v)?),
                "limitBytes" => o.limit_bytes = Some(parse_count(&k, &v)?),
                "timestamps" => o.timestamps = parse_bool(&k, &v)?,
                "previous" => o.previous = parse_bool(&k, &v)?,
                _ => {}
            }
        }
        Ok(o)
    }
}

/// The body type of [`log_body`].
pub type LogBody = StreamBody<LogStream>;

/// The frames of a log body.
pub type LogStream = mpsc::Receiver<Result<Frame<Bytes>, io::Error>>;

/// The log file at `path` as a streaming body, per `opts`. With `follow`,
/// it ends once `ended` has completed and what the file held then is sent;
/// without, `ended` is ignored. Must be called within a tokio runtime (the
/// reading runs in a task, which stops when the body is dropped).
pub fn log_body<F>(path: PathBuf, opts: &LogOptions, ended: F) -> LogBody
where
    F: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    let opts = opts.clone();
    tokio::spawn(async move {
        let mut tx = tx;
        if let Err(e) = stream_file(&path, &opts, ended, &mut tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    StreamBody::new(rx)
}

/// Where the last `n` lines of `file` start (a final line without a
/// newline counts as a line).
async fn tail_start(file: &mut tokio::fs::File, n: u64) -> io::Result<u64> {
    let len = file.metadata().await?.len();
    if n == 0 {
        return Ok(len);
    }
    let mut pos = len;
    let mut newlines = 0u64;
    let mut buf = vec![0u8; 8192];
    let mut first = true;
    while pos > 0 {
        let step = (buf.len() as u64).min(pos);
        pos -= step;
        file.seek(SeekFrom::Start(pos)).await?;
        let chunk = &mut buf[..step as usize];
        file.read_exact(chunk).await?;
        let mut end = chunk.len();
        if first {
            // A trailing newline ends the last line, it does not start one.
            if chunk.last() == Some(&b'\n') {
                end -= 1;
            }
            first = false;
        }
        for i in (0..end).rev() {
            if chunk[i] == b'\n' {
                newlines += 1;
                if newlines == n {
                    return Ok(pos + i as u64 + 1);
                }
            }
        }
    }
    Ok(0)
}

async fn open(path: &PathBuf) -> io::Result<Option<tokio::fs::File>> {
    match tokio::fs::File::open(path).await {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn stream_file<F>(
    path: &PathBuf,
    opts: &LogOptions,
    ended: F,
    tx: &mut mpsc::Sender<Result<Frame<Bytes>, io::Error>>,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let mut ended = std::pin::pin!(ended);
    let mut done = !opts.follow;
    let mut file = None;
    let mut pos = 0u64;
    let mut budget = opts.limit_bytes.unwrap_or(u64::MAX);
    let mut buf = vec![0u8; CHUNK];
    loop {
        if file.is_none() {
            file = open(path).await?;
            if let (Some(f), Some(n)) = (file.as_mut(), opts.tail_lines) {
                pos = tail_start(f, n).await?;
            }
            if let Some(f) = file.as_mut() {
                f.seek(SeekFrom::Start(pos)).await?;
            }
        }
        // Read everything there is now.
        if let Some(f) = file.as_mut() {
            if f.metadata().await?.len() < pos {
                pos = 0;
                f.seek(SeekFrom::Start(0)).await?;
            }
            loop {
                if budget == 0 {
                    return Ok(());
                }
                let want = (buf.len() as u64).min(budget) as usize;
                let n = f.read(&mut buf[..want]).await?;
                if n == 0 {
                    break;
                }
                pos += n as u64;
                budget -= n as u64;
                let frame = Frame::data(Bytes::copy_from_slice(&buf[..n]));
                if tx.send(Ok(frame)).await.is_err() {
                    // The client went away.
                    return Ok(());
                }
            }
        }
        if done {
            return Ok(());
        }
        tokio::select! {
            _ = &mut ended => done = true,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}
