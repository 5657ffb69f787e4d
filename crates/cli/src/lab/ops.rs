//! What each `lab` command does. Commands that change the lab run in its
//! controller against the resident lab (`execute`: change the state, then
//! commit, which reconciles and saves); the CLI process sends them there
//! (`dispatch`). Read-only commands run in the CLI process.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use palisade_lab::Node;
use palisade_model::PodId;

use super::cli::{Command, CreateWhat, DeleteWhat, LabelWhat};
use super::resident::{Known, Lab, Touch};
use super::state::{LabState, STATE_FILE};
use super::{apply, client, controller, demo, events, get, import, labels, pods, services};
use crate::cmd::render::TABLE;

/// Kernel names of lab `lab` start with `pl-<lab>-`.
pub fn prefix(lab: &str) -> Result<String> {
    palisade_model::names::dns1123_label(lab)
        .map_err(|e| anyhow::anyhow!("invalid lab name {lab:?}: {e}"))?;
    if lab.len() > 16 {
        bail!("lab name {lab:?} is longer than 16 characters");
    }
    Ok(format!("pl-{lab}-"))
}

/// Runs a command that changes the lab, against the controller's resident
/// lab (`controller.rs` calls this for every request). What it prints goes
/// to `lab.out`.
pub fn execute(lab: &mut Lab, cmd: Command) -> Result<()> {
    match cmd {
        Command::Up => {
            lab.reconcile(Known::ReadBack)?;
            lab.persist()?;
        }
        Command::Repair => {
            lab.reconcile(Known::ReadBack)?;
            lab.persist()?;
            let name = lab.state.name.clone();
            lab.out.say(format_args!(
                "lab {name}: the node's table was read back and brought in line"
            ));
        }
        Command::Create {
            what: CreateWhat::Ns { name },
        } => create_ns(lab, &name)?,
        Command::Delete { what } => delete(lab, what)?,
        Command::Run {
            name,
            namespace,
            labels,
            ports,
            command,
        } => pods::run(lab, &namespace, &name, labels.as_deref(), &ports, &command)?,
        Command::Label { what } => label(lab, what)?,
        Command::Expose {
            pod,
            namespace,
            port,
            target_port,
            protocol,
            name,
        } => {
            let target = target_port.unwrap_or(port);
            services::expose(
                lab,
                &namespace,
                &pod,
                name.as_deref(),
                (port, target),
                &protocol,
            )?
        }
        Command::Apply { file, namespace } => apply_policies(lab, &file, &namespace)?,
        Command::Import { files, local } => import::run(lab, &files, local)?,
        other => bail!("the lab's controller does not run {other:?}"),
    }
    Ok(())
}

/// Runs a `lab` command: those that change the lab go to its controller
/// (`client.rs`); the rest read the state file or the kernel here.
pub fn dispatch(lab: &str, cmd: Command) -> Result<ExitCode> {
    crate::lab::require_root()?;
    match cmd {
        Command::Up => up(lab),
        Command::Down => down(lab),
        Command::Repair => repair(lab),
        Command::Demo => demo::run(),
        Command::Dashboard { listen } => super::dashboard::run(lab, listen),
        Command::Controller => controller::serve(lab),
        Command::FlowRecorder => events::record(lab),
        Command::Logs {
            pod,
            namespace,
            follow,
        } => pods::logs(lab, &PodId::new(&namespace, &pod), follow),
        Command::Exec {
            pod,
            namespace,
            command,
        } => pods::exec(lab, &PodId::new(&namespace, &pod), &command),
        Command::Get {
            what,
            namespace,
            output,
        } => get::run(
            &LabState::read(lab)?,
            what,
            namespace.as_deref(),
            output.as_deref(),
        ),
        Command::Events {
            namespace,
            output,
            follow,
        } => events::show(
            lab,
            namespace.as_deref(),
            events::json_output(output.as_deref())?,
            follow,
        ),
        Command::Ruleset => {
            let node = open_node(lab)?;
            print!("{}", node.nft(&["list", "table", "inet", TABLE])?);
            Ok(ExitCode::SUCCESS)
        }
        change => client::send(lab, change),
    }
}

/// The node of a lab that is up.
fn open_node(lab: &str) -> Result<Node> {
    if !LabState::dir(lab).exists() {
        bail!("lab {lab:?} is not up (start it with: palisade lab up)");
    }
    Node::open(&prefix(lab)?)
        .context("the lab's node is gone: run `palisade lab down` then `palisade lab up`")
}

/// Creates the node (if needed), starts the controller (which reads the
/// table back and brings it in line with the state) or, when it runs
/// already, has it read the table back; then the flow recorder.
fn up(lab: &str) -> Result<ExitCode> {
    let prefix = prefix(lab)?;
    let _serial = controller::starting(lab)?;
    let node = match Node::open(&prefix) {
        Ok(node) => node,
        Err(_) => Node::create(&prefix).context("creating the lab's node")?,
    };
    if !LabState::dir(lab).join(STATE_FILE).exists() {
        LabState::new(lab).write()?;
    }
    match controller::status(lab) {
        controller::Status::Running => {
            let code = client::send(lab, Command::Up)?;
            if code != ExitCode::SUCCESS {
                return Ok(code);
            }
        }
        status => {
            status.report_restart(lab);
            controller::start(lab)?;
        }
    }
    events::start_recorder(lab, &node)?;
    println!("lab {lab} is up: node network namespace {}", node.netns());
    Ok(ExitCode::SUCCESS)
}

/// Has the controller read the table back and repair drift; restarts a
/// controller that stopped (it reads the table back when it starts).
fn repair(lab: &str) -> Result<ExitCode> {
    if !LabState::dir(lab).join(STATE_FILE).exists() {
        bail!("lab {lab:?} is not up (start it with: palisade lab up)");
    }
    let _serial = controller::starting(lab)?;
    match controller::status(lab) {
        controller::Status::Running => client::send(lab, Command::Repair),
        status => {
            open_node(lab)?;
            status.report_restart(lab);
            controller::start(lab)?;
            println!("lab {lab}: the node's table was read back and brought in line");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Removes everything with the lab's prefix, whatever the state file says.
pub fn down(lab: &str) -> Result<ExitCode> {
    controller::stop(lab)?;
    let t = palisade_lab::teardown(&prefix(lab)?).context("tearing the lab down")?;
    let dir = LabState::dir(lab);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    println!(
        "lab {lab} is down: removed {} network namespaces, stopped {} processes",
        t.netns.len(),
        t.killed.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn create_ns(l: &mut Lab, name: &str) -> Result<()> {
    palisade_model::names::dns1123_label(name)
        .map_err(|e| anyhow::anyhow!("invalid namespace name {name:?}: {e}"))?;
    if l.state().namespaces.contains_key(name) {
        bail!("namespaces {name:?} already exists");
    }
    l.state().namespaces.insert(name.into(), Default::default());
    l.touch(Touch::Namespace(name.into()));
    l.commit()?;
    l.out.say(format_args!("namespace/{name} created"));
    Ok(())
}

fn delete(l: &mut Lab, what: DeleteWhat) -> Result<()> {
    match what {
        DeleteWhat::Ns { name } => {
            l.state().require_namespace(&name)?;
            let pods: Vec<PodId> = l
                .state()
                .pods
                .keys()
                .filter(|id| id.namespace == name)
                .cloned()
                .collect();
            for id in pods {
                pods::remove(l, &id)?;
            }
            l.state().services.retain(|id, _| id.namespace != name);
            l.state().policies.retain(|id, _| id.namespace != name);
            l.state().namespaces.remove(&name);
            l.touch(Touch::Namespace(name.clone()));
            l.commit()?;
            l.out.say(format_args!("namespace \"{name}\" deleted"));
        }
        DeleteWhat::Pod { name, namespace } => {
            pods::remove(l, &PodId::new(&namespace, &name))?;
            l.commit()?;
            l.out.say(format_args!("pod \"{name}\" deleted"));
        }
        DeleteWhat::Svc { name, namespace } => {
            services::remove(l, &PodId::new(&namespace, &name))?;
            l.commit()?;
            l.out.say(format_args!("service \"{name}\" deleted"));
        }
        DeleteWhat::Netpol { name, namespace } => {
            let id = PodId::new(&namespace, &name);
            if l.state().policies.remove(&id).is_none() {
                bail!("networkpolicies.networking.k8s.io {name:?} not found in namespace {namespace:?}");
            }
            l.touch(Touch::Policy(id));
            l.commit()?;
            l.out.say(format_args!(
                "networkpolicy.networking.k8s.io \"{name}\" deleted"
            ));
        }
    }
    Ok(())
}

fn label(l: &mut Lab, what: LabelWhat) -> Result<()> {
    let (changes, overwrite) = match &what {
        LabelWhat::Pod {
            labels, overwrite, ..
        }
        | LabelWhat::Ns {
            labels, overwrite, ..
        } => (labels, *overwrite),
    };
    let changes = changes
        .iter()
        .map(|c| labels::parse(c))
        .collect::<Result<Vec<_>>>()?;
    let shown = match what {
        LabelWhat::Pod {
            name, namespace, ..
        } => {
            let id = PodId::new(&namespace, &name);
            let pod =
                l.state().pods.get_mut(&id).with_context(|| {
                    format!("pods {name:?} not found in namespace {namespace:?}")
                })?;
            labels::apply(&mut pod.labels, &changes, overwrite)?;
            l.touch(Touch::Pod(id));
            format!("pod/{name}")
        }
        LabelWhat::Ns { name, .. } => {
            let ns = l
                .state()
                .namespaces
                .get_mut(&name)
                .with_context(|| format!("namespaces {name:?} not found"))?;
            labels::apply(ns, &changes, overwrite)?;
            l.touch(Touch::Namespace(name.clone()));
            format!("namespace/{name}")
        }
    };
    l.commit()?;
    l.out.say(format_args!("{shown} labeled"));
    Ok(())
}

fn apply_policies(l: &mut Lab, file: &std::path::Path, ns: &str) -> Result<()> {
    l.state().require_namespace(ns)?;
    let policies = apply::read_policies(file, ns, l.caller.stdin.as_deref(), &mut l.out)?;
    let mut lines = Vec::new();
    for p in policies {
        let verb = if l.state().policies.contains_key(&p.reference()) {
            "configured"
        } else {
            "created"
        };
        lines.push(format!("networkpolicy.networking.k8s.io/{} {verb}", p.name));
        l.touch(Touch::Policy(p.reference()));
        l.state().policies.insert(p.reference(), p);
    }
    l.commit()?;
    lines.iter().for_each(|line| l.out.say(line));
    Ok(())
}
