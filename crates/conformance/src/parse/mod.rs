//! Reading a case file into a [`Case`], with every error located by file,
//! line, column and field path (`steps[2].expect[0].table`).

mod ctx;
mod expect;
mod fields;
mod step;

use palisade_manifest::yaml::{self, Node, Pos};
use palisade_manifest::{decode_document, Diagnostic, Object, Severity};
use palisade_model::NetworkPolicy;

use crate::case::Case;
use ctx::{index, Ctx};
pub(crate) use fields::check_pod_id;

const CASE_KEYS: &[&str] = &[
    "name",
    "description",
    "world",
    "objects",
    "policies",
    "expect",
    "steps",
];

/// Parses and validates one case file. `file` names it in diagnostics.
///
/// On success the case's non-fatal findings are in [`Case::warnings`]; on
/// failure every error found is returned, each with its location.
pub fn parse_case(file: &str, text: &str) -> Result<Case, Vec<Diagnostic>> {
    let docs = yaml::parse(text)
        .map_err(|e| vec![Diagnostic::new(Severity::Error, file, e.pos, "", e.message)])?;
    let mut cx = Ctx::new(file, text);
    let case = match docs.as_slice() {
        [doc] => cx.case(doc),
        [] => cx.error(Pos { line: 1, col: 1 }, "", "empty case file"),
        [_, second, ..] => cx.error(
            second.pos,
            "",
            "a case file holds exactly one YAML document",
        ),
    };
    match case {
        Some(case) if cx.errors.is_empty() => Ok(Case {
            warnings: cx.warnings,
            ..case
        }),
        _ => Err(cx.errors),
    }
}

impl Ctx<'_> {
    fn case(&mut self, doc: &Node) -> Option<Case> {
        self.mapping(doc, "", CASE_KEYS)?;
        let name = self
            .required(doc, "name", "name")
            .and_then(|n| self.slug(n));
        let description = doc
            .get("description")
            .and_then(|n| self.string(n, "description"));
        let world_standard = self.world(doc.get("world"));
        let objects = self.objects(doc.get("objects"));
        let policies = self.policies(doc.get("policies"));
        let expect = self.expect_list(doc.get("expect"), "expect");
        let steps = self.steps(doc.get("steps"));
        Some(Case {
            name: name?,
            description: description.unwrap_or_default(),
            file: self.file.to_string(),
            world_standard: world_standard?,
            objects,
            policies,
            expect,
            steps,
            warnings: Vec::new(),
        })
    }

    fn slug(&mut self, node: &Node) -> Option<String> {
        let name = self.string(node, "name")?;
        match palisade_model::names::dns1123_label(&name) {
            Ok(()) => Some(name),
            Err(e) => self.error(
                node.pos,
                "name",
                format!("the case name must be a slug: {e}"),
            ),
        }
    }

    fn world(&mut self, node: Option<&Node>) -> Option<bool> {
        let Some(node) = node else { return Some(false) };
        match self.string(node, "world")?.as_str() {
            "standard" => Some(true),
            other => self.error(
                node.pos,
                "world",
                format!("unknown world {other:?} (expected \"standard\")"),
            ),
        }
    }

    /// Decodes one manifest, passing its findings through under `field`.
    fn manifest(&mut self, node: &Node, field: &str) -> Vec<Object> {
        let loaded = decode_document(self.file, node);
        for d in loaded.diagnostics {
            self.pass_through(d, field);
        }
        loaded.objects
    }

    fn objects(&mut self, node: Option<&Node>) -> Vec<Object> {
        let Some(items) = node.and_then(|n| self.seq(n, "objects")) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = index("objects", i);
            for object in self.manifest(item, &field) {
                match object {
                    Object::NetworkPolicy(_) => {
                        self.error::<()>(
                            item.pos,
                            &field,
                            "NetworkPolicies belong under `policies`",
                        );
                    }
                    other => out.push(other),
                }
            }
        }
        out
    }

    fn policies(&mut self, node: Option<&Node>) -> Vec<NetworkPolicy> {
        let Some(items) = node.and_then(|n| self.seq(n, "policies")) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = index("policies", i);
            for object in self.manifest(item, &field) {
                match object {
                    Object::NetworkPolicy(p) => out.push(p),
                    other => {
                        let message = format!(
                            "expected a NetworkPolicy, found {} (put it under `objects`)",
                            other.kind()
                        );
                        self.error::<()>(item.pos, &field, message);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
