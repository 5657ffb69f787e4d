//! `expect` lists: reachability tables and external probes.

use palisade_manifest::yaml::Node;

use super::ctx::{index, join, Ctx};
use crate::case::{Expectation, ExternalProbe, Table};
use crate::table::{locate, parse_grid};

const TABLE_KEYS: &[&str] = &["port", "protocol", "table"];
const EXTERNAL_KEYS: &[&str] = &["external"];
const PROBE_KEYS: &[&str] = &["from", "to", "port", "protocol", "allowed"];

impl Ctx<'_> {
    /// An `expect` list; absent means no expectations.
    pub fn expect_list(&mut self, node: Option<&Node>, field: &str) -> Vec<Expectation> {
        let Some(items) = node.and_then(|n| self.seq(n, field)) else {
            return Vec::new();
        };
        let items: Vec<Option<Expectation>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.expectation(item, &index(field, i)))
            .collect();
        items.into_iter().flatten().collect()
    }

    fn expectation(&mut self, node: &Node, field: &str) -> Option<Expectation> {
        if node.get("external").is_some() {
            self.mapping(node, field, EXTERNAL_KEYS)?;
            return self.external(node, field).map(Expectation::External);
        }
        self.mapping(node, field, TABLE_KEYS)?;
        self.table(node, field).map(Expectation::Table)
    }

    fn table(&mut self, node: &Node, field: &str) -> Option<Table> {
        let port = self
            .required(node, "port", field)
            .and_then(|n| self.port_ref(n, &join(field, "port")));
        let protocol = self
            .required(node, "protocol", field)
            .and_then(|n| self.protocol(n, &join(field, "protocol")));
        let grid = self
            .required(node, "table", field)
            .and_then(|n| self.grid(n, &join(field, "table")))?;
        Some(Table {
            line: node.pos.line,
            port: port?,
            protocol: protocol?,
            rows: grid.rows,
            cols: grid.cols,
            cells: grid.cells,
        })
    }

    fn grid(&mut self, node: &Node, field: &str) -> Option<crate::table::Grid> {
        let text = self.string(node, field)?;
        let lines = match locate(&text, node.pos, &self.lines) {
            Ok(lines) => lines,
            Err(e) => return self.error(e.pos, field, e.message),
        };
        match parse_grid(&lines, node.pos) {
            Ok(grid) => Some(grid),
            Err(errors) => {
                for e in errors {
                    self.error::<()>(e.pos, field, e.message);
                }
                None
            }
        }
    }

    fn external(&mut self, node: &Node, field: &str) -> Option<Vec<ExternalProbe>> {
        let field = join(field, "external");
        let items = self
            .required(node, "external", &field)
            .and_then(|n| self.seq(n, &field))?;
        let probes: Vec<Option<ExternalProbe>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.probe(item, &index(&field, i)))
            .collect();
        probes.into_iter().collect()
    }

    fn probe(&mut self, node: &Node, field: &str) -> Option<ExternalProbe> {
        self.mapping(node, field, PROBE_KEYS)?;
        let mut get = |key: &str| {
            self.required(node, key, field)
                .map(|n| (n, join(field, key)))
        };
        let (from, to, port, protocol, allowed) = (
            get("from"),
            get("to"),
            get("port"),
            get("protocol"),
            get("allowed"),
        );
        let from = from.and_then(|(n, f)| self.endpoint(n, &f));
        let to = to.and_then(|(n, f)| self.endpoint(n, &f));
        let port = port.and_then(|(n, f)| self.port_number(n, &f));
        let protocol = protocol.and_then(|(n, f)| self.protocol(n, &f));
        let allowed = allowed.and_then(|(n, f)| self.boolean(n, &f));
        Some(ExternalProbe {
            line: node.pos.line,
            from: from?,
            to: to?,
            port: port?,
            protocol: protocol?,
            allowed: allowed?,
        })
    }
}
