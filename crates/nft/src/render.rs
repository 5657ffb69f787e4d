//! The whole table as one transaction: `add table` / `delete table` /
//! `table inet T { ... }`, which replaces any previous table atomically.
//!
//! Layout: named counters, sets (address, port and named-port sets), the
//! subject chains, the dispatch maps, then the base chains (see
//! [`crate::layout`]).

use palisade_compile::Ruleset;

use crate::desired::{Desired, DesiredChain, DesiredSet, RenderError};
use crate::element::{datatypes, render};
use crate::layout::hook_spec;
use crate::script::{Script, ScriptBuilder};
use crate::state::{MapState, SetState};

/// Renders `rs` as one transaction that (re)creates table `inet table`.
pub fn full(rs: &Ruleset, table: &str) -> Result<Script, RenderError> {
    check_table(table)?;
    Ok(full_desired(&Desired::from_ir(rs)?, table))
}

/// Checks a table name: an ASCII letter, then letters, digits, underscores.
pub(crate) fn check_table(table: &str) -> Result<(), RenderError> {
    let mut chars = table.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    match ok {
        true => Ok(()),
        false => Err(RenderError::InvalidName {
            kind: "table",
            name: table.into(),
        }),
    }
}

pub(crate) fn full_desired(d: &Desired, table: &str) -> Script {
    let mut b = ScriptBuilder::default();
    let label = format!("table inet {table}");
    b.push(
        &label,
        &[
            format!("add table inet {table}"),
            format!("delete table inet {table}"),
        ],
    );
    let start = b.line_count() + 1;
    b.push_plain(&format!("table inet {table} {{"));
    for (name, label) in &d.counters {
        b.push(label, &[format!("\tcounter {name} {{ }}")]);
    }
    for (name, set) in &d.sets {
        b.push(&set.label, &set_block(name, set));
    }
    let (base, subject): (Vec<_>, Vec<_>) = d.chains.iter().partition(|(_, c)| c.hook.is_some());
    for (name, chain) in subject {
        b.push(&chain.label, &chain_block(name, chain));
    }
    for (name, (map, label)) in &d.maps {
        b.push(label, &map_block(name, map));
    }
    for (name, chain) in base {
        b.push(&chain.label, &chain_block(name, chain));
    }
    b.push_plain("}");
    b.span(start..b.line_count() + 1, &label);
    b.finish()
}

fn set_block(name: &str, set: &DesiredSet) -> Vec<String> {
    let mut lines = vec![
        format!("\tset {name} {{"),
        format!("\t\t{}", set_decl(&set.state, &set.comment)),
    ];
    lines.extend(elements_block(
        "\t\telements = {",
        &element_items(&set.state),
        "\t\t\t",
        "\t\t}",
    ));
    lines.push("\t}".into());
    lines
}

fn map_block(name: &str, map: &MapState) -> Vec<String> {
    let mut lines = vec![
        format!("\tmap {name} {{"),
        format!("\t\ttype {};", map.key_type),
    ];
    lines.extend(elements_block(
        "\t\telements = {",
        &map_items(map.elements.iter()),
        "\t\t\t",
        "\t\t}",
    ));
    lines.push("\t}".into());
    lines
}

fn chain_block(name: &str, chain: &DesiredChain) -> Vec<String> {
    let mut lines = vec![format!("\tchain {name} {{")];
    lines.extend(chain.hook.as_ref().map(|h| format!("\t\t{}", hook_spec(h))));
    lines.extend(chain.rules.iter().map(|r| format!("\t\t{}", r.line())));
    lines.push("\t}".into());
    lines
}

/// `type K; [flags interval; | size N; flags dynamic,timeout; timeout T; ]comment "C";`
pub(crate) fn set_decl(set: &SetState, comment: &str) -> String {
    let flags = match (set.interval, set.dynamic) {
        (_, true) => " size 65535; flags dynamic,timeout; timeout 1m;",
        (true, false) => " flags interval;",
        (false, false) => "",
    };
    format!("type {};{flags} comment \"{comment}\";", set.key_type)
}

/// The elements of a set, rendered for its key type.
pub(crate) fn element_items(set: &SetState) -> Vec<String> {
    let fields = datatypes(&set.key_type).unwrap_or_default();
    set.elements.iter().map(|e| render(e, &fields)).collect()
}

/// Map elements `ADDR : jump CHAIN`.
pub(crate) fn map_items<'a>(
    elements: impl Iterator<Item = (&'a String, &'a String)>,
) -> Vec<String> {
    elements
        .map(|(key, chain)| format!("{key} : jump {chain}"))
        .collect()
}

/// `open`, one item per line (indented by `indent`) separated by commas,
/// `close`; nothing when there are no items.
pub(crate) fn elements_block(
    open: &str,
    items: &[String],
    indent: &str,
    close: &str,
) -> Vec<String> {
    if items.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::with_capacity(items.len() + 2);
    lines.push(open.to_string());
    let last = items.len() - 1;
    lines.extend(items.iter().enumerate().map(|(i, item)| match i == last {
        true => format!("{indent}{item}"),
        false => format!("{indent}{item},"),
    }));
    lines.push(close.to_string());
    lines
}

#[cfg(test)]
mod tests;
