//! What a container runs in the lab, where there is no container runtime:
//! its `command` and `args` run on the host, inside the pod's network
//! namespace, with its `env`. An image matters only when the container
//! gives no `command` (the image's entrypoint would run); then this table
//! says what runs:
//!
//! | image (last path part, tag ignored)  | runs                                   |
//! |--------------------------------------|----------------------------------------|
//! | `http-echo` (`solsson/http-echo`, `hashicorp/http-echo`, ...) | `palisade http-echo --port $PORT` (80 when unset): answers any request with what it received, logs one line per request |
//! | `busybox`                            | `args`, or `sh`, with busybox's applets first on `PATH` (`wget`, `nc`...) when the `busybox` package is installed |
//! | `alpine`, `debian`, `ubuntu`, `bash` | `args`, or `sh`                         |
//! | `pause`, `registry.k8s.io/pause`     | `sleep infinity`                       |
//! | any other                            | `args` when given; else the pod fails with reason `NoDefaultCommand` |

use std::path::{Path, PathBuf};

use serde_json::Value;

/// How a container is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// The image's name without registry, repository path, tag or digest.
pub fn base_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The container's own environment (`env[].value`; `valueFrom` is not
/// supported in the lab and left out).
fn env_of(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

/// `$(VAR)` in a command or argument, expanded from the container's env
/// as the kubelet does (`$$` escapes).
fn expand(s: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        if let Some(t) = tail.strip_prefix('$') {
            out.push('$');
            rest = t;
        } else if let Some((name, after)) = tail.strip_prefix('(').and_then(|t| t.split_once(')')) {
            match env.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = after;
        } else {
            out.push('$');
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Why a container cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoCommand(pub String);

/// What runs for `container` (the pod's first container); `palisade` is
/// this binary, `busybox_bin` a directory of busybox applets if any.
pub fn resolve(
    container: &Value,
    palisade: &Path,
    busybox_bin: Option<&Path>,
) -> Result<Run, NoCommand> {
    let image = container["image"].as_str().unwrap_or("");
    let mut env = env_of(container);
    let command = strings(&container["command"]);
    let args = strings(&container["args"]);
    let base = base_name(image);
    let argv: Vec<String> = if !command.is_empty() {
        command.iter().chain(&args).cloned().collect()
    } else if base.contains("http-echo") {
        let port = env
            .iter()
            .rev()
            .find(|(k, _)| k == "PORT")
            .map_or("80".to_string(), |(_, v)| v.clone());
        vec![
            palisade.display().to_string(),
            "http-echo".into(),
            "--port".into(),
            port,
        ]
    } else if base == "pause" {
        vec!["sleep".into(), "infinity".into()]
    } else if ["busybox", "alpine", "debian", "ubuntu", "bash"].contains(&base) {
        if base == "busybox" {
            if let Some(bin) = busybox_bin {
                let path = std::env::var("PATH").unwrap_or_default();
                env.push(("PATH".into(), format!("{}:{path}", bin.display())));
            }
        }
        if args.is_empty() {
            vec!["sh".into()]
        } else {
            args.clone()
        }
    } else if !args.is_empty() {
        args.clone()
    } else {
        return Err(NoCommand(format!(
            "the lab runs no container images: image {image:?} has no default command in the lab's table (give the container a command)"
        )));
    };
    let argv = argv.iter().map(|a| expand(a, &env)).collect();
    Ok(Run { argv, env })
}

/// A directory of links to busybox's applets (so `wget` in a busybox pod
/// is busybox's, as in the image), made once; `None` without busybox.
pub fn busybox_bin(state_dir: &Path) -> Option<PathBuf> {
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())?;
    let dir = state_dir.join("busybox-bin");
    if dir.join("wget").exists() {
        return Some(dir);
    }
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&dir)
        .ok()?;
    let list = std::process::Command::new(busybox)
        .arg("--list")
        .output()
        .ok()?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim();
        if !applet.is_empty() && !applet.contains('/') {
            let _ = std::os::unix::fs::symlink(busybox, dir.join(applet));
        }
    }
    Some(dir)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn base_names() {
        assert_eq!(base_name("solsson/http-echo"), "http-echo");
        assert_eq!(base_name("registry.k8s.io/pause:3.9"), "pause");
        assert_eq!(base_name("busybox@sha256:abc"), "busybox");
        assert_eq!(base_name("localhost:5000/busybox:1.36"), "busybox");
    }

    #[test]
    fn http_echo_listens_on_port() {
        let c = json!({"image": "solsson/http-echo", "env": [{"name": "PORT", "value": "8080"}]});
        let r = resolve(&c, Path::new("/bin/palisade"), None).unwrap();
        assert_eq!(r.argv, ["/bin/palisade", "http-echo", "--port", "8080"]);
        let c = json!({"image": "hashicorp/http-echo"});
        assert_eq!(resolve(&c, Path::new("p"), None).unwrap().argv[3], "80");
    }

    #[test]
    fn commands_args_and_shells() {
        let c = json!({"image": "busybox", "args": ["sh"]});
        assert_eq!(resolve(&c, Path::new("p"), None).unwrap().argv, ["sh"]);
        let c = json!({"image": "busybox"});
        assert_eq!(resolve(&c, Path::new("p"), None).unwrap().argv, ["sh"]);
        let c = json!({"image": "x", "command": ["echo", "$(A)", "$$(A)"], "args": ["b"],
                       "env": [{"name": "A", "value": "1"}]});
        assert_eq!(
            resolve(&c, Path::new("p"), None).unwrap().argv,
            ["echo", "1", "$(A)", "b"]
        );
        let c = json!({"image": "nginx"});
        assert!(resolve(&c, Path::new("p"), None).is_err());
    }
}
