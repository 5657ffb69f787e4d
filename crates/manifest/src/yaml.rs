//! A YAML 1.2 reader that keeps the position of every node.
//!
//! JSON is YAML 1.2, so `.json` files go through the same reader. Built on
//! `saphyr-parser`'s event stream; scalars are resolved with the core schema.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// A 1-based line and column in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A node's value. Mappings keep their source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A value with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// For strings: written as a plain (unquoted) scalar. Lets callers warn
    /// about `yes`/`no`/`y`/`n`, which YAML 1.1 readers such as kubectl take
    /// for booleans.
    pub plain: bool,
}

impl Node {
    /// A short name of the node's type, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of key `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A syntax error, with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

/// Parses every document of a YAML (or JSON) stream. Empty documents are skipped.
pub fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError {
            pos: Pos {
                line: e.marker().line(),
                col: e.marker().col() + 1,
            },
            message: e.info().to_string(),
        })?;
        builder.event(event, pos_of(&span))?;
    }
    Ok(builder.docs)
}

enum Frame {
    Seq(Node, usize),
    Map(Node, usize, Option<Node>),
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<(), YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let node = scalar(&text, style, tag.as_deref(), pos)?;
                self.push(node, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                self.stack
                    .push(Frame::Seq(node(Value::Seq(Vec::new()), pos), anchor));
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.stack
                    .push(Frame::Map(node(Value::Map(Vec::new()), pos), anchor, None));
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(n, a)) | Some(Frame::Map(n, a, None)) => self.push(n, a),
                _ => Err(YamlError {
                    pos,
                    message: "unbalanced collection".into(),
                }),
            },
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(n) => self.push(n, 0),
                None => Err(YamlError {
                    pos,
                    message: "alias to an unknown anchor".into(),
                }),
            },
            _ => Ok(()),
        }
    }

    fn push(&mut self, n: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, n.clone());
        }
        match self.stack.last_mut() {
            None if n.value == Value::Null => Ok(()),
            None => {
                self.docs.push(n);
                Ok(())
            }
            Some(Frame::Seq(seq, _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(n);
                }
                Ok(())
            }
            Some(Frame::Map(map, _, pending)) => match pending.take() {
                None => {
                    *pending = Some(n);
                    Ok(())
                }
                Some(key) => {
                    if let Value::Map(entries) = &mut map.value {
                        if let Some(dup) = entries.iter().find(|(k, _)| k.value == key.value) {
                            let message =
                                format!("duplicate key (first at line {})", dup.0.pos.line);
                            return Err(YamlError {
                                pos: key.pos,
                                message,
                            });
                        }
                        entries.push((key, n));
                    }
                    Ok(())
                }
            },
        }
    }
}

fn node(value: Value, pos: Pos) -> Node {
    Node {
        value,
        pos,
        plain: false,
    }
}

/// Resolves a scalar with the YAML 1.2 core schema (plain scalars only;
/// quoted ones are strings; `!!str`, `!!int`... tags are honoured).
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>, pos: Pos) -> Result<Node, YamlError> {
    let plain = matches!(style, ScalarStyle::Plain);
    let forced = tag
        .filter(|t| t.is_yaml_core_schema())
        .map(|t| t.suffix.as_str());
    let value = match forced {
        Some("str") => Value::Str(text.to_string()),
        Some(kind) => match resolve(text) {
            v @ Value::Int(_) if kind == "int" => v,
            v @ (Value::Float(_) | Value::Int(_)) if kind == "float" => v,
            v @ Value::Bool(_) if kind == "bool" => v,
            v @ Value::Null if kind == "null" => v,
            _ => {
                return Err(YamlError {
                    pos,
                    message: format!("{text:?} is not a valid !!{kind}"),
                })
            }
        },
        None if plain => resolve(text),
        None => Value::Str(text.to_string()),
    };
    Ok(Node { value, pos, plain })
}

fn resolve(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    let looks_numeric = text.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c));
    match text.parse::<f64>() {
        Ok(f) if looks_numeric && !text.eq_ignore_ascii_case("inf") => Value::Float(f),
        _ => Value::Str(text.to_string()),
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let docs = parse("a: 1\nb:\n  - x\n  - 'y'\n").unwrap();
        let b = docs[0].get("b").unwrap();
        let Value::Seq(items) = &b.value else {
            panic!()
        };
        assert_eq!(items[1].pos, Pos { line: 4, col: 5 });
        assert!(items[0].plain && !items[1].plain);
        assert_eq!(docs[0].get("a").unwrap().value, Value::Int(1));
    }

    #[test]
    fn multi_document_and_json() {
        let docs = parse("---\nkind: A\n---\n---\nkind: B\n").unwrap();
        assert_eq!(docs.len(), 2);
        let json =
            "{\n\t\"kind\": \"List\",\n\t\"items\": [{\"port\": 80}, {\"port\": \"80\"}]\n}\n";
        let docs = parse(json).unwrap();
        let Value::Seq(items) = &docs[0].get("items").unwrap().value else {
            panic!()
        };
        assert_eq!(items[0].get("port").unwrap().value, Value::Int(80));
        assert_eq!(items[1].get("port").unwrap().value, Value::Str("80".into()));
    }

    #[test]
    fn core_schema_scalars() {
        let docs = parse("[~, TRUE, 0x1F, -3, 1.5, y, '1', !!str 2, 10.0.0.0/8]").unwrap();
        let Value::Seq(v) = &docs[0].value else {
            panic!()
        };
        let values: Vec<&Value> = v.iter().map(|n| &n.value).collect();
        assert_eq!(
            values,
            [
                &Value::Null,
                &Value::Bool(true),
                &Value::Int(31),
                &Value::Int(-3),
                &Value::Float(1.5),
                &Value::Str("y".into()),
                &Value::Str("1".into()),
                &Value::Str("2".into()),
                &Value::Str("10.0.0.0/8".into()),
            ]
        );
    }

    #[test]
    fn errors_and_duplicates_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1, "{e}");
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, col: 1 });
        assert!(e.message.contains("line 1"));
    }

    #[test]
    fn anchors_and_aliases() {
        let docs = parse("x: &l {app: web}\ny: *l\n").unwrap();
        assert_eq!(
            docs[0].get("y").unwrap().get("app").unwrap().as_str(),
            Some("web")
        );
    }
}
