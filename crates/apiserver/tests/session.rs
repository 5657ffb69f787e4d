//! Real processes on a pseudo-terminal and on pipes.

use std::time::Duration;

use palisade_apiserver::session::{
    AttachOptions, Attachable, Output, Session, Spec, Stream, TermSize,
};

const LIMIT: Duration = Duration::from_secs(10);

/// Reads output until `needle` appears in what `stream` printed; all
/// output read so far.
async fn read_until(s: &mut Session, stream: Stream, needle: &str) -> String {
    let mut seen = String::new();
    tokio::time::timeout(LIMIT, async {
        while let Some(Output { stream: st, data }) = s.read_output().await {
            if st == stream {
                seen.push_str(&String::from_utf8_lossy(&data));
                if seen.contains(needle) {
                    return;
                }
            }
        }
        panic!("output ended before {needle:?}: {seen:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {needle:?} in time: {seen:?}"));
    seen
}

async fn drain(s: &mut Session) -> String {
    let mut seen = String::new();
    tokio::time::timeout(LIMIT, async {
        while let Some(o) = s.read_output().await {
            seen.push_str(&String::from_utf8_lossy(&o.data));
        }
    })
    .await
    .expect("output ends");
    seen
}

#[tokio::test]
async fn pty_shell_echoes_and_exits_3() {
    let mut s = Session::spawn_pty(&Spec::new("sh"), Some(TermSize { cols: 90, rows: 33 }))
        .expect("spawn sh");
    assert!(s.is_tty());
    // The shell's output is computed, not the echo of the input.
    s.write_stdin(&b"echo $((40+2))x\r"[..]).await.unwrap();
    read_until(&mut s, Stream::Stdout, "42x").await;
    // The terminal has the size asked for, and takes resizes.
    s.write_stdin(&b"stty size\r"[..]).await.unwrap();
    read_until(&mut s, Stream::Stdout, "33 90").await;
    s.resize(TermSize {
        cols: 120,
        rows: 40,
    })
    .await
    .unwrap();
    s.write_stdin(&b"stty size\r"[..]).await.unwrap();
    read_until(&mut s, Stream::Stdout, "40 120").await;
    s.write_stdin(&b"exit 3\r"[..]).await.unwrap();
    drain(&mut s).await;
    assert_eq!(s.wait().await.unwrap(), 3);
}

#[tokio::test]
async fn pty_is_the_controlling_terminal_ctrl_c_interrupts() {
    let mut s = Session::spawn_pty(&Spec::new("sh"), None).expect("spawn sh");
    s.write_stdin(&b"sleep 30\r"[..]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Ctrl-C: the terminal sends SIGINT to its foreground job, well
    // before the 30 s (the reads time out after 10).
    s.write_stdin(&b"\x03"[..]).await.unwrap();
    s.write_stdin(&b"echo status=$?\r"[..]).await.unwrap();
    read_until(&mut s, Stream::Stdout, "status=130").await;
    // Ctrl-D at an empty prompt ends the shell.
    s.close_stdin().await;
    drain(&mut s).await;
    assert_eq!(s.wait().await.unwrap(), 0);
}

#[tokio::test]
async fn pipes_cat_round_trips_and_half_closes() {
    let mut s = Session::spawn_pipes(&Spec::new("cat")).expect("spawn cat");
    assert!(!s.is_tty());
    s.write_stdin(&b"hello\n"[..]).await.unwrap();
    let seen = read_until(&mut s, Stream::Stdout, "hello\n").await;
    assert_eq!(seen, "hello\n");
    s.close_stdin().await;
    assert_eq!(drain(&mut s).await, "");
    assert_eq!(s.wait().await.unwrap(), 0);
    // Input after the close is refused.
    assert!(s.write_stdin(&b"late\n"[..]).await.is_err());
}

#[tokio::test]
async fn pipes_keep_stderr_apart_env_and_cwd() {
    let spec = Spec::new("sh")
        .arg("-c")
        .arg("echo out=$FOO; pwd; echo err >&2; exit 7")
        .env("FOO", "bar")
        .current_dir("/tmp");
    let mut s = Session::spawn_pipes(&spec).expect("spawn");
    let (mut out, mut err) = (String::new(), String::new());
    while let Some(o) = tokio::time::timeout(LIMIT, s.read_output()).await.unwrap() {
        let text = String::from_utf8_lossy(&o.data).into_owned();
        match o.stream {
            Stream::Stdout => out.push_str(&text),
            Stream::Stderr => err.push_str(&text),
        }
    }
    assert_eq!(out, "out=bar\n/tmp\n");
    assert_eq!(err, "err\n");
    assert_eq!(s.wait().await.unwrap(), 7);
}

#[tokio::test]
async fn dropping_a_session_kills_its_process_group() {
    let s = Session::spawn_pipes(&Spec::new("sh").arg("-c").arg("sleep 30 & wait")).expect("spawn");
    let mut exit = s.exit_watch();
    drop(s);
    let code = tokio::time::timeout(LIMIT, exit.wait_for(Option::is_some))
        .await
        .expect("killed in time")
        .unwrap()
        .unwrap();
    assert_eq!(code, 128 + 9);
}

#[tokio::test]
async fn attachable_logs_replays_and_reports_its_exit() {
    let dir = std::env::temp_dir().join(format!("palisade-attach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("bb.log");
    let _ = std::fs::remove_file(&log);
    let session = Session::spawn_pipes(
        &Spec::new("sh")
            .arg("-c")
            .arg("echo before; read x; echo got $x; exit 4"),
    )
    .unwrap();
    let a = Attachable::start(session, &log, AttachOptions { stdin_once: true }).unwrap();
    // Printed while nobody is attached: in the log and in the replay.
    tokio::time::timeout(LIMIT, async {
        while std::fs::read_to_string(&log).unwrap_or_default() != "before\n" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("log written");
    let mut at = a.attach(true);
    assert_eq!(&at.take_replay()[..], b"before\n");
    at.input().unwrap().write(&b"hi\n"[..]).await.unwrap();
    let out = tokio::time::timeout(LIMIT, at.read_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&out.data[..], b"got hi\n");
    assert_eq!(
        tokio::time::timeout(LIMIT, at.read_output()).await.unwrap(),
        None
    );
    assert_eq!(a.wait().await.unwrap(), 4);
    assert_eq!(*a.exit_watch().borrow(), Some(4));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "before\ngot hi\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn attachable_stdin_once_closes_input_when_the_client_leaves() {
    let dir = std::env::temp_dir().join(format!("palisade-once-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("cat.log");
    let session = Session::spawn_pipes(&Spec::new("cat")).unwrap();
    let a = Attachable::start(session, &log, AttachOptions { stdin_once: true }).unwrap();
    let mut at = a.attach(true);
    at.input().unwrap().write(&b"one\n"[..]).await.unwrap();
    assert_eq!(&at.read_output().await.unwrap().data[..], b"one\n");
    at.detach_stdin().await;
    // cat read end of file: the process ends.
    let code = tokio::time::timeout(LIMIT, a.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code, 0);
    // A later client gets no input.
    assert!(a.attach(true).input().is_none());
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\n");
    std::fs::remove_dir_all(&dir).unwrap();
}
