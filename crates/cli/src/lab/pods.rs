//! Pods: `lab run`, `lab delete pod`, `lab logs`, `lab exec`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use palisade_model::{ContainerPort, PodId, Protocol};

use palisade_lab::Node;

use super::resident::{Lab, Touch};
use super::state::LabState;

/// `[NAME:]PORT[/PROTO]`, e.g. `80`, `http:80`, `dns:53/udp`.
pub fn parse_port(s: &str) -> Result<ContainerPort> {
    let (name, rest) = match s.split_once(':') {
        Some((n, r)) => (Some(n.to_string()), r),
        None => (None, s),
    };
    let (port, proto) = rest.split_once('/').unwrap_or((rest, "tcp"));
    let protocol: Protocol = proto.to_ascii_uppercase().parse()?;
    let port = palisade_model::port_number(
        port.parse()
            .with_context(|| format!("invalid port {s:?}"))?,
    )?;
    if let Some(n) = &name {
        palisade_model::names::iana_svc_name(n)
            .map_err(|e| anyhow::anyhow!("invalid port name {n:?}: {e}"))?;
    }
    Ok(ContainerPort {
        name,
        port,
        protocol,
    })
}

/// Stops the pod's process and removes its network; the caller commits.
pub fn remove(lab: &mut Lab, id: &PodId) -> Result<()> {
    let pod = lab.state().pods.remove(id).with_context(|| {
        format!(
            "pods {:?} not found in namespace {:?}",
            id.name, id.namespace
        )
    })?;
    lab.touch(Touch::Pod(id.clone()));
    if !pod.is_real() {
        return Ok(());
    }
    lab.node
        .remove_pod(&id.to_string())
        .context("removing the pod's network")?;
    let _ = std::fs::remove_file(lab.log_path(id));
    Ok(())
}

/// Prints the pod's log; with `follow`, keeps printing until interrupted.
pub fn logs(lab: &str, id: &PodId, follow: bool) -> Result<ExitCode> {
    let state = LabState::read(lab)?;
    require_real(&state, id)?;
    if !state.pods.contains_key(id) {
        bail!(
            "pods {:?} not found in namespace {:?}",
            id.name,
            id.namespace
        );
    }
    let path = LabState::log_path(lab, id);
    let mut file =
        std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = std::io::stdout();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        file.read_to_end(&mut buf)?;
        out.write_all(&buf)?;
        out.flush()?;
        if !follow {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(200));
        let pos = file.stream_position()?;
        if std::fs::metadata(&path)?.len() < pos {
            file.seek(SeekFrom::Start(0))?;
        }
    }
}

/// Runs a command inside the pod's network namespace, with the pod's
/// hosts file; exits with the command's status.
pub fn exec(lab: &str, id: &PodId, command: &[String]) -> Result<ExitCode> {
    let state = LabState::read(lab)?;
    require_real(&state, id)?;
    if !state.pods.contains_key(id) {
        bail!(
            "pods {:?} not found in namespace {:?}",
            id.name,
            id.namespace
        );
    }
    let netns = Node::open(&super::ops::prefix(lab)?)
        .context("the lab's node is gone: run `palisade lab down` then `palisade lab up`")?
        .pod_netns(&id.to_string());
    let status = palisade_lab::netns::command(&netns, &command[0])
        .args(&command[1..])
        .status()
        .with_context(|| format!("running {:?} in {netns}", command.join(" ")))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// State-only pods (`lab import`) have no network namespace to enter.
fn require_real(state: &LabState, id: &PodId) -> Result<()> {
    match state.pods.get(id) {
        Some(p) if !p.is_real() => bail!(
            "pod {id} is cluster state only (lab import): it has no network namespace or process"
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn port_forms() {
        let p = super::parse_port("dns:53/udp").unwrap();
        assert_eq!(
            (p.name.as_deref(), p.port, p.protocol),
            (Some("dns"), 53, palisade_model::Protocol::Udp)
        );
        assert_eq!(super::parse_port("80").unwrap().port, 80);
        assert!(super::parse_port("0").is_err());
        assert!(super::parse_port("Bad:80").is_err());
        assert!(super::parse_port("80/icmp").is_err());
    }
}
