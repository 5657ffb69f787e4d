//! The lab's local surfaces (root only): its state directory is
//! owner-only whatever the umask, and a lab name that is not a valid name
//! is refused before any file or network namespace is touched.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

mod common;

use common::{can_run, Lab};

const DENY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n";

/// Every file under `dir` with its mode.
fn modes(dir: &Path, out: &mut Vec<(String, u32)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let meta = std::fs::symlink_metadata(e.path()).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        out.push((
            e.path().display().to_string(),
            meta.permissions().mode() & 0o777,
        ));
        if meta.is_dir() {
            modes(&e.path(), out);
        }
    }
}

#[test]
fn the_state_directory_is_owner_only_whatever_the_umask() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::named("um");
    let exe = env!("CARGO_BIN_EXE_palisade");
    let sh = |cmd: &str| {
        let o = Command::new("sh")
            .args(["-c", &format!("umask 000; {cmd}")])
            .env("PALISADE_LAB", &lab.0)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let policy = std::env::temp_dir().join(format!("{}-deny.yaml", lab.0));
    std::fs::write(&policy, DENY).unwrap();
    sh(&format!("{exe} lab up"));
    sh(&format!("{exe} lab create ns ns-1"));
    sh(&format!("{exe} lab run web -n ns-1 -- sleep 60"));
    sh(&format!("{exe} lab apply -f {} -n ns-1", policy.display()));
    let dir = Path::new("/run/palisade/lab").join(&lab.0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the state directory");
    assert_eq!(mode(&dir.join("logs")), 0o700, "its logs");
    assert_eq!(mode(dir.parent().unwrap()) & 0o022, 0, "/run/palisade/lab");
    // objects.json is written by the controller's saver shortly after a
    // change.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !dir.join("objects.json").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut all = vec![];
    modes(&dir, &mut all);
    for name in [
        "state.json",
        "known.json",
        "objects.json",
        "kubeconfig",
        "events.jsonl",
    ] {
        assert!(
            all.iter().any(|(p, _)| p.ends_with(name)),
            "{name} in {all:?}"
        );
    }
    assert!(
        all.iter().any(|(p, _)| p.ends_with("controller.log")),
        "{all:?}"
    );
    let open: Vec<_> = all.iter().filter(|(_, m)| m & 0o077 != 0).collect();
    let _ = lab.run(&["down"]);
    let _ = std::fs::remove_file(&policy);
    assert!(open.is_empty(), "readable or writable by others: {open:?}");
}

/// `lab down --lab ../x` once stopped the process named by
/// `/run/palisade/x/controller.pid` before it refused the name.
#[test]
fn an_invalid_lab_name_is_refused_before_anything_is_touched() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let tag = format!("pl-name-test-{}", std::process::id());
    let outside = Path::new("/run/palisade").join(&tag);
    std::fs::create_dir_all(&outside).unwrap();
    // A process of its own group (the controller is stopped by group).
    let mut victim = Command::new("sleep")
        .arg("60")
        .process_group(0)
        .spawn()
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", victim.id())).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let start_time: u64 = after.split(' ').nth(19).unwrap().parse().unwrap();
    std::fs::write(
        outside.join("controller.pid"),
        format!("{{\"pid\":{},\"start_time\":{start_time}}}", victim.id()),
    )
    .unwrap();
    std::fs::write(outside.join("state.json"), "{}").unwrap();
    let name = format!("../{tag}");
    let mut refused = vec![];
    for verb in [
        &["down"][..],
        &["up"],
        &["repair"],
        &["kubeconfig"],
        &["env"],
        &["get", "pods"],
        &["events"],
        &["ruleset"],
        &["create", "ns", "x"],
    ] {
        let o = Lab(name.clone()).run(verb);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        refused.push((verb, o.status.success(), err));
    }
    let alive = victim.try_wait().unwrap().is_none();
    let files: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let _ = victim.kill();
    let _ = victim.wait();
    let _ = std::fs::remove_dir_all(&outside);
    assert!(
        alive,
        "lab down --lab {name} stopped the process its pid file names"
    );
    let mut files = files;
    files.sort();
    assert_eq!(
        files,
        ["controller.pid", "state.json"],
        "nothing was created"
    );
    for (verb, ok, err) in refused {
        assert!(!ok && err.contains("invalid lab name"), "{verb:?}: {err}");
    }
}
