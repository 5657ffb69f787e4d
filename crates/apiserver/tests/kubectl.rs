//! The real `kubectl exec` against a tiny server (discovery, one pod, its
//! exec subresource). Skipped when `kubectl` is not on the PATH.

use std::convert::Infallible;
use std::io::Write;
use std::process::{Command, Stdio};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use palisade_apiserver::session::{Session, Spec};
use palisade_apiserver::websocket::{ExecParams, Upgrade};
use serde_json::json;
use tokio::net::TcpListener;

fn json_reply(code: u16, v: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
    r.headers_mut()
        .insert("Content-Type", "application/json".parse().unwrap());
    r
}

async fn route(mut req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    Ok(match path.as_str() {
        "/api" => json_reply(200, json!({"kind": "APIVersions", "versions": ["v1"]})),
        "/apis" => json_reply(
            200,
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
        ),
        "/api/v1" => json_reply(
            200,
            json!({
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
            "resources": [
                {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
                 "verbs": ["get", "list"], "shortNames": ["po"]},
                {"name": "pods/exec", "singularName": "", "namespaced": true, "kind": "PodExecOptions", "verbs": ["create", "get"]},
            ]}),
        ),
        "/api/v1/namespaces/lab/pods/web" => json_reply(
            200,
            json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "web", "namespace": "lab", "uid": "1"},
            "spec": {"containers": [{"name": "web", "image": "busybox"}]},
            "status": {"phase": "Running"}}),
        ),
        "/api/v1/namespaces/lab/pods/web/exec" => {
            let r = (|| {
                let params = ExecParams::from_query(&query, true)?;
                let upgrade = Upgrade::from_request(&mut req)?;
                let spec = Spec::new(&params.command[0]).args(&params.command[1..]);
                let session = if params.tty {
                    Session::spawn_pty(&spec, None)
                } else {
                    Session::spawn_pipes(&spec)
                }
                .map_err(|e| palisade_apimachinery::status::Status::internal(e.to_string()))?;
                Ok::<_, palisade_apimachinery::status::Status>(
                    upgrade.exec(session, params.streams()),
                )
            })();
            r.unwrap_or_else(|s| json_reply(s.code, s.to_json()))
        }
        _ => json_reply(
            404,
            palisade_apimachinery::status::Status::no_route().to_json(),
        ),
    })
}

/// Starts the server; the directory (HOME) and the kubeconfig for it.
async fn setup(name: &str) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl not on the PATH: skipped");
        return None;
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service_fn(route))
                    .with_upgrades()
                    .await;
            });
        }
    });
    let dir = std::env::temp_dir().join(format!("palisade-kubectl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: http://{addr}\n\
             contexts:\n- name: lab\n  context:\n    cluster: lab\n    namespace: lab\n    user: lab\n\
             users:\n- name: lab\n  user: {{}}\ncurrent-context: lab\n"
        ),
    )
    .unwrap();
    Some((dir, kubeconfig))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_stdin_stdout_and_exit_code() {
    let Some((dir, kubeconfig)) = setup("i").await else {
        return;
    };
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("kubectl")
            .args([
                "exec",
                "-i",
                "web",
                "--",
                "sh",
                "-c",
                "cat; echo err >&2; exit 3",
            ])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
        let out = child.wait_with_output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        out
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello\n",
        "stderr: {stderr}"
    );
    assert!(stderr.contains("err\n"), "{stderr}");
    assert!(
        stderr.contains("command terminated with exit code 3"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(3));
}

/// `kubectl exec -it` on a terminal (`script` gives kubectl one): the
/// shell runs on a pty, its output comes back, `exit 3` is kubectl's exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_it_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("script not on the PATH: skipped");
        return;
    }
    let Some((dir, kubeconfig)) = setup("it").await else {
        return;
    };
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("script")
            .args(["-qec", "kubectl exec -it web -- sh", "/dev/null"])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        stdin.write_all(b"echo $((6*7))x\r").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        stdin.write_all(b"exit 3\r").unwrap();
        let out = child.wait_with_output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        out
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("42x"), "{stdout}");
    assert!(
        stdout.contains("command terminated with exit code 3"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}");
}
