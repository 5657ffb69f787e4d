//! What each `lab` command does: change the state, then reconcile.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use palisade_compile::LocalPods;
use palisade_lab::Node;
use palisade_model::PodId;
use palisade_nft::Nft;
use palisade_reconcile::{Outcome, Reconciler};

use super::cli::{Command, CreateWhat, DeleteWhat, LabelWhat};
use super::state::{LabState, Locked, LAB_NODE};
use super::{apply, demo, events, get, import, known, labels, pods, services};
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

/// An open lab: its locked state and its node.
pub struct Lab {
    pub locked: Locked,
    pub node: Node,
}

impl Lab {
    pub fn open(name: &str) -> Result<Lab> {
        let t = Instant::now();
        let locked = Locked::open(name, false)?;
        tracing_line(&format!(
            "state loaded: {} pods, {} policies, {:.1} ms",
            locked.state.pods.len(),
            locked.state.policies.len(),
            ms(t.elapsed())
        ));
        let node = Node::open(&prefix(name)?)
            .context("the lab's node is gone: run `palisade lab down` then `palisade lab up`")?;
        Ok(Lab { locked, node })
    }

    pub fn state(&mut self) -> &mut LabState {
        &mut self.locked.state
    }

    /// Brings the kernel in line with the state (policies through the shared
    /// reconcile core, then Services and DNS), and saves the state only if
    /// that worked: a rejected update changes neither kernel nor state.
    pub fn commit(&mut self) -> Result<()> {
        let t = Instant::now();
        reconcile(&self.node, &self.locked.state, Known::Trust)?;
        let reconciled = t.elapsed();
        services::sync(&self.node, &self.locked.state)?;
        let synced = t.elapsed();
        self.locked.save()?;
        tracing_line(&format!(
            "commit: reconcile {:.1} ms, services {:.1} ms, state saved {:.1} ms",
            ms(reconciled),
            ms(synced - reconciled),
            ms(t.elapsed() - synced)
        ));
        Ok(())
    }
}

/// How a reconcile learns what the kernel holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Trust `known.json` (what the last update left) and send only the
    /// delta; read back when it is missing. Every ordinary lab command.
    Trust,
    /// Read the table back (`nft -j list`) and repair any drift: `lab up`,
    /// `lab repair`.
    ReadBack,
}

/// A cluster handed over once, without the clone `impl StateSource for Cluster` makes.
struct Once(Option<palisade_model::Cluster>);

impl palisade_reconcile::StateSource for Once {
    fn snapshot(&mut self) -> Option<palisade_model::Cluster> {
        self.0.take()
    }
}

/// Compiles the lab's cluster for the lab node's pods and applies the
/// difference to the node's table (see `known.rs` for what it is diffed against).
pub fn reconcile(node: &Node, state: &LabState, how: Known) -> Result<()> {
    let started = Instant::now();
    let dir = LabState::dir(&state.name);
    let known = match how {
        Known::Trust => known::load(&dir),
        Known::ReadBack => None,
    };
    let loaded = started.elapsed();
    known::forget(&dir)?;
    let reconciler = Reconciler::new(
        Nft::new(TABLE, Some(&node.netns())),
        LocalPods::Node(LAB_NODE.into()),
    );
    let t = Instant::now();
    let mut source = Once(Some(state.to_cluster()));
    let built = t.elapsed();
    let outcome = match &known {
        Some(k) => reconciler.reconcile_from(&mut source, k),
        None => reconciler.reconcile(&mut source),
    }
    .context("programming the node's nftables")?;
    let Outcome::Applied {
        ruleset,
        report,
        compile_time,
    } = outcome
    else {
        return Ok(());
    };
    let applied = started.elapsed();
    known::save(&dir, &ruleset)?;
    tracing_line(&format!(
        "ruleset {:?} against {}: {} lines; known state read {:.1} ms, cluster built {:.1} ms, compile {:.1} ms, nft {:.1} ms, known state saved {:.1} ms",
        report.kind,
        if known.is_some() { "known state" } else { "read-back" },
        report.lines,
        ms(loaded),
        ms(built),
        ms(compile_time),
        ms(report.duration),
        ms(started.elapsed() - applied),
    ));
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A one-line note on stderr when PALISADE_LAB_VERBOSE is set.
pub fn tracing_line(msg: &str) {
    if std::env::var_os("PALISADE_LAB_VERBOSE").is_some() {
        eprintln!("palisade: {msg}");
    }
}

pub fn dispatch(lab: &str, cmd: Command) -> Result<ExitCode> {
    crate::lab::require_root()?;
    match cmd {
        Command::Up => up(lab),
        Command::Down => down(lab),
        Command::Demo => demo::run(),
        Command::Dashboard { listen } => super::dashboard::run(lab, listen),
        Command::Create {
            what: CreateWhat::Ns { name },
        } => create_ns(lab, &name),
        Command::Delete { what } => delete(lab, what),
        Command::Run {
            name,
            namespace,
            labels,
            ports,
            command,
        } => pods::run(
            &mut Lab::open(lab)?,
            &namespace,
            &name,
            labels.as_deref(),
            &ports,
            &command,
        ),
        Command::Label { what } => label(lab, what),
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
                &mut Lab::open(lab)?,
                &namespace,
                &pod,
                name.as_deref(),
                (port, target),
                &protocol,
            )
        }
        Command::Logs {
            pod,
            namespace,
            follow,
        } => pods::logs(
            &Locked::open(lab, false)?,
            &PodId::new(&namespace, &pod),
            follow,
        ),
        Command::Exec {
            pod,
            namespace,
            command,
        } => pods::exec(&Lab::open(lab)?, &PodId::new(&namespace, &pod), &command),
        Command::Apply { file, namespace } => apply_policies(lab, &file, &namespace),
        Command::Get {
            what,
            namespace,
            output,
        } => get::run(
            &Locked::open(lab, false)?.state,
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
        Command::FlowRecorder => events::record(lab),
        Command::Import { files, local } => import::run(&mut Lab::open(lab)?, &files, local),
        Command::Repair => {
            let l = Lab::open(lab)?;
            reconcile(&l.node, &l.locked.state, Known::ReadBack)?;
            println!("lab {lab}: the node's table was read back and brought in line");
            Ok(ExitCode::SUCCESS)
        }
        Command::Ruleset => {
            let lab = Lab::open(lab)?;
            print!("{}", lab.node.nft(&["list", "table", "inet", TABLE])?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn up(lab: &str) -> Result<ExitCode> {
    let mut locked = Locked::open(lab, true)?;
    let prefix = prefix(lab)?;
    let node = match Node::open(&prefix) {
        Ok(node) => node,
        Err(_) => Node::create(&prefix).context("creating the lab's node")?,
    };
    locked.state.name = lab.to_string();
    locked.save()?;
    reconcile(&node, &locked.state, Known::ReadBack)?;
    events::start_recorder(lab, &node)?;
    println!("lab {lab} is up: node network namespace {}", node.netns());
    Ok(ExitCode::SUCCESS)
}

/// Removes everything with the lab's prefix, whatever the state file says.
pub fn down(lab: &str) -> Result<ExitCode> {
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

fn create_ns(lab: &str, name: &str) -> Result<ExitCode> {
    palisade_model::names::dns1123_label(name)
        .map_err(|e| anyhow::anyhow!("invalid namespace name {name:?}: {e}"))?;
    let mut l = Lab::open(lab)?;
    if l.state().namespaces.contains_key(name) {
        bail!("namespaces {name:?} already exists");
    }
    l.state().namespaces.insert(name.into(), Default::default());
    l.commit()?;
    println!("namespace/{name} created");
    Ok(ExitCode::SUCCESS)
}

fn delete(lab: &str, what: DeleteWhat) -> Result<ExitCode> {
    let mut l = Lab::open(lab)?;
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
                pods::remove(&mut l, &id)?;
            }
            l.state().services.retain(|id, _| id.namespace != name);
            l.state().policies.retain(|id, _| id.namespace != name);
            l.state().namespaces.remove(&name);
            l.commit()?;
            println!("namespace \"{name}\" deleted");
        }
        DeleteWhat::Pod { name, namespace } => {
            pods::remove(&mut l, &PodId::new(&namespace, &name))?;
            l.commit()?;
            println!("pod \"{name}\" deleted");
        }
        DeleteWhat::Svc { name, namespace } => {
            services::remove(&mut l, &PodId::new(&namespace, &name))?;
            l.commit()?;
            println!("service \"{name}\" deleted");
        }
        DeleteWhat::Netpol { name, namespace } => {
            if l.state()
                .policies
                .remove(&PodId::new(&namespace, &name))
                .is_none()
            {
                bail!("networkpolicies.networking.k8s.io {name:?} not found in namespace {namespace:?}");
            }
            l.commit()?;
            println!("networkpolicy.networking.k8s.io \"{name}\" deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn label(lab: &str, what: LabelWhat) -> Result<ExitCode> {
    let mut l = Lab::open(lab)?;
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
            format!("pod/{name}")
        }
        LabelWhat::Ns { name, .. } => {
            let ns = l
                .state()
                .namespaces
                .get_mut(&name)
                .with_context(|| format!("namespaces {name:?} not found"))?;
            labels::apply(ns, &changes, overwrite)?;
            format!("namespace/{name}")
        }
    };
    l.commit()?;
    println!("{shown} labeled");
    Ok(ExitCode::SUCCESS)
}

fn apply_policies(lab: &str, file: &std::path::Path, ns: &str) -> Result<ExitCode> {
    let mut l = Lab::open(lab)?;
    l.state().require_namespace(ns)?;
    let policies = apply::read_policies(file, ns)?;
    let mut lines = Vec::new();
    for p in policies {
        let verb = if l.state().policies.contains_key(&p.reference()) {
            "configured"
        } else {
            "created"
        };
        lines.push(format!("networkpolicy.networking.k8s.io/{} {verb}", p.name));
        l.state().policies.insert(p.reference(), p);
    }
    l.commit()?;
    lines.iter().for_each(|line| println!("{line}"));
    Ok(ExitCode::SUCCESS)
}
