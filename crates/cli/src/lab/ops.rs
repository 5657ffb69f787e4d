//! What each `lab` command does. Commands that change the lab run in its
//! controller as calls to the lab's API (`execute`), and return once the
//! node has realized them; the CLI process sends them there (`dispatch`).
//! Read-only commands run in the CLI process.

use std::process::ExitCode;

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use palisade_apimachinery::store::{resource_version, Kind};
use palisade_lab::Node;
use palisade_model::{NetworkPolicy, PodId};
use serde_json::{json, Value};

use super::cli::{Command, CreateWhat, DeleteWhat, LabelWhat};
use super::controller::Ctx;
use super::out::Out;
use super::resident::Caller;
use super::state::{LabState, STATE_FILE};
use super::{apply, client, controller, demo, events, get, import, kapi, labels, pods};
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

/// Runs a command that changes the lab, as calls to the lab's API
/// (`controller.rs` calls this for every request), and waits until the
/// node has realized what it stored. What it prints goes to `out`.
pub fn execute(ctx: &Ctx, caller: &Caller, out: &mut Out, cmd: Command) -> Result<()> {
    let api = &ctx.api;
    let rv = match cmd {
        Command::Up | Command::Repair => {
            ctx.read_back()?;
            if matches!(cmd, Command::Repair) {
                out.say(format_args!(
                    "lab {}: the node's table was read back and brought in line",
                    ctx.lab
                ));
            }
            return Ok(());
        }
        Command::Create {
            what: CreateWhat::Ns { name },
        } => {
            let o = api.create(
                kind(ctx, "", "namespaces"),
                "",
                json!({"metadata": {"name": name}}),
                false,
            )?;
            out.say(format_args!("namespace/{name} created"));
            resource_version(&o)
        }
        Command::Delete { what } => return delete(ctx, out, what),
        Command::Run {
            name,
            namespace,
            labels,
            ports,
            command,
        } => {
            let pod = lab_pod(&name, labels.as_deref(), &ports, &command, caller)?;
            let o = api.create(kind(ctx, "", "pods"), &namespace, pod, false)?;
            out.say(format_args!("pod/{name} created"));
            resource_version(&o)
        }
        Command::Label { what } => label(ctx, out, what)?,
        Command::Expose {
            pod,
            namespace,
            port,
            target_port,
            protocol,
            name,
        } => {
            let labels =
                api.get(kind(ctx, "", "pods"), &namespace, &pod)?["metadata"]["labels"].clone();
            if labels.as_object().is_none_or(|m| m.is_empty()) {
                bail!("the pod {pod:?} has no labels and cannot be exposed");
            }
            let name = name.unwrap_or(pod);
            let protocol = protocol.to_ascii_uppercase();
            let svc = json!({
                "metadata": {"name": name, "labels": labels},
                "spec": {"selector": labels, "ports": [{"port": port, "targetPort": target_port.unwrap_or(port), "protocol": protocol}]},
            });
            let o = api.create(kind(ctx, "", "services"), &namespace, svc, false)?;
            out.say(format_args!("service/{name} exposed"));
            resource_version(&o)
        }
        Command::Apply { file, namespace } => {
            let file = if file.as_os_str() == "-" {
                file
            } else {
                caller.cwd.join(file)
            };
            api.get(kind(ctx, "", "namespaces"), "", &namespace)?;
            let policies = apply::read_policies(&file, &namespace, caller.stdin.as_deref(), out)?;
            apply_policies(ctx, out, &namespace, policies)?
        }
        Command::Import { files, local } => {
            let files: Vec<_> = files
                .iter()
                .map(|f| {
                    if f.as_os_str() == "-" {
                        f.clone()
                    } else {
                        caller.cwd.join(f)
                    }
                })
                .collect();
            import::run(ctx, &files, local, caller.stdin.as_deref(), out)?
        }
        other => bail!("the lab's controller does not run {other:?}"),
    };
    ctx.wait_realized(rv, REALIZE_LIMIT)
}

/// How long a verb waits for the node to realize its change.
const REALIZE_LIMIT: Duration = Duration::from_secs(120);

fn kind(ctx: &Ctx, group: &str, plural: &str) -> Kind {
    ctx.api.kind(group, "v1", plural).expect("a built-in kind")
}

/// The Pod `lab run` creates: one container running `command` in the
/// caller's working directory with the caller's environment.
fn lab_pod(
    name: &str,
    labels: Option<&str>,
    ports: &[String],
    command: &[String],
    caller: &Caller,
) -> Result<Value> {
    let labels = match labels {
        Some(l) => labels::parse_list(l)?,
        None => labels::parse_list(&format!("run={name}"))?,
    };
    let labels = kapi::labels_json(&labels);
    let ports: Vec<Value> = ports
        .iter()
        .map(|p| Ok(kapi::port_json(&pods::parse_port(p)?)))
        .collect::<Result<_>>()?;
    let env: Vec<Value> = caller
        .env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    Ok(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{
            "name": name, "image": "palisade-lab/command", "command": command,
            "ports": ports, "env": env, "workingDir": caller.cwd,
        }]},
    }))
}

fn delete(ctx: &Ctx, out: &mut Out, what: DeleteWhat) -> Result<()> {
    let (k, ns, name, shown) = match what {
        DeleteWhat::Ns { name } => (
            kind(ctx, "", "namespaces"),
            String::new(),
            name,
            "namespace",
        ),
        DeleteWhat::Pod { name, namespace } => (kind(ctx, "", "pods"), namespace, name, "pod"),
        DeleteWhat::Svc { name, namespace } => {
            (kind(ctx, "", "services"), namespace, name, "service")
        }
        DeleteWhat::Netpol { name, namespace } => (
            kind(ctx, "networking.k8s.io", "networkpolicies"),
            namespace,
            name,
            "networkpolicy.networking.k8s.io",
        ),
    };
    let gone = palisade_apiserver::controllers::delete(&ctx.api, k, &ns, &name, &json!({}), false)?;
    ctx.wait_realized(resource_version(&gone), REALIZE_LIMIT)?;
    // A namespace is emptied, then removed: wait for it, as kubectl does.
    let deadline = Instant::now() + REALIZE_LIMIT;
    while ctx.api.get(k, &ns, &name).is_ok() {
        if Instant::now() > deadline {
            bail!("{shown} {name:?} is still being deleted");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ctx.wait_realized(ctx.api.store().revision(), REALIZE_LIMIT)?;
    out.say(format_args!("{shown} \"{name}\" deleted"));
    Ok(())
}

fn label(ctx: &Ctx, out: &mut Out, what: LabelWhat) -> Result<u64> {
    let (k, ns, name, changes, overwrite, shown) = match what {
        LabelWhat::Pod {
            name,
            labels,
            namespace,
            overwrite,
        } => (
            kind(ctx, "", "pods"),
            namespace,
            name.clone(),
            labels,
            overwrite,
            format!("pod/{name}"),
        ),
        LabelWhat::Ns {
            name,
            labels,
            overwrite,
        } => (
            kind(ctx, "", "namespaces"),
            String::new(),
            name.clone(),
            labels,
            overwrite,
            format!("namespace/{name}"),
        ),
    };
    let changes = changes
        .iter()
        .map(|c| labels::parse(c))
        .collect::<Result<Vec<_>>>()?;
    let mut refused = None;
    let o = ctx.api.modify(k, &ns, &name, false, |old| {
        let mut current = kapi::labels_of(old);
        if let Err(e) = labels::apply(&mut current, &changes, overwrite) {
            refused = Some(e);
            return Err(palisade_apimachinery::Status::bad_request("refused"));
        }
        let mut new = old.clone();
        new["metadata"]["labels"] = kapi::labels_json(&current);
        Ok(new)
    });
    if let Some(e) = refused {
        return Err(e);
    }
    let o = o?;
    out.say(format_args!("{shown} labeled"));
    Ok(resource_version(&o))
}

/// Creates or replaces each policy (all were validated first: a file with
/// an invalid policy applies none).
fn apply_policies(
    ctx: &Ctx,
    out: &mut Out,
    ns: &str,
    policies: Vec<(NetworkPolicy, Value)>,
) -> Result<u64> {
    let k = kind(ctx, "networking.k8s.io", "networkpolicies");
    let mut rv = 0;
    let mut lines = vec![];
    for (p, obj) in policies {
        let (verb, o) = match ctx.api.get(k, ns, &p.name) {
            Ok(_) => (
                "configured",
                ctx.api.modify(k, ns, &p.name, false, |old| {
                    let mut new = obj.clone();
                    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
                    Ok(new)
                })?,
            ),
            Err(_) => ("created", ctx.api.create(k, ns, obj, false)?),
        };
        rv = rv.max(resource_version(&o));
        lines.push(format!("networkpolicy.networking.k8s.io/{} {verb}", p.name));
    }
    lines.iter().for_each(|l| out.say(l));
    Ok(rv)
}

/// Runs a `lab` command: those that change the lab go to its controller
/// (`client.rs`); the rest read the state file or the kernel here.
pub fn dispatch(lab: &str, cmd: Command) -> Result<ExitCode> {
    // The name becomes paths (`/run/palisade/lab/<lab>`) and network
    // namespace names: no verb touches either before it is known valid.
    prefix(lab)?;
    crate::lab::require_root()?;
    match cmd {
        Command::Up => up(lab),
        Command::Down => down(lab),
        Command::Repair => repair(lab),
        Command::Demo => demo::run(),
        Command::Kubeconfig | Command::Env => {
            let path = super::kapi::kubeconfig_path(lab);
            if !path.exists() {
                bail!("lab {lab:?} is not up (start it with: palisade lab up)");
            }
            match cmd {
                Command::Env => println!("export KUBECONFIG={}", path.display()),
                _ => println!("{}", path.display()),
            }
            Ok(ExitCode::SUCCESS)
        }
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
    let prefix = prefix(lab)?;
    controller::stop(lab)?;
    let t = palisade_lab::teardown(&prefix).context("tearing the lab down")?;
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
