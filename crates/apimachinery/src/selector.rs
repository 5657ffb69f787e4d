//! Label and field selectors, as the API server reads them from
//! `?labelSelector=` and `?fieldSelector=` (the syntax of
//! `k8s.io/apimachinery/pkg/labels` and `pkg/fields`), and label selectors
//! built from a `metav1.LabelSelector` (`matchLabels` and
//! `matchExpressions`, as Deployments and ReplicaSets carry them).
//!
//! Both kinds of selector are a conjunction of requirements. A parsed
//! label selector keeps its requirements sorted by key (stable), as
//! upstream's `labels.Parse` does, so that rendering it with
//! [`std::fmt::Display`] gives the canonical query form (`app=api,tier in
//! (a,b)`), the one `kubectl` and the Scale subresource's
//! `status.selector` show.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// A selector that could not be parsed, or a `metav1.LabelSelector` that
/// is not valid. The message is the one the API server puts in its 400
/// reply (`unable to parse requirement: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SelectorError> {
    Err(SelectorError(msg.into()))
}

/// The operator of one label requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// `a=b`
    Equals,
    /// `a==b`
    DoubleEquals,
    /// `a!=b`
    NotEquals,
    /// `a in (x,y)`
    In,
    /// `a notin (x,y)`
    NotIn,
    /// `a`
    Exists,
    /// `!a`
    DoesNotExist,
    /// `a>1` (integer comparison)
    GreaterThan,
    /// `a<1` (integer comparison)
    LessThan,
}

/// One requirement of a label selector: a key, an operator and the values
/// it compares with (empty for `Exists`/`DoesNotExist`, one for the
/// equality and integer operators).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: BTreeSet<String>,
}

impl Requirement {
    /// A requirement, validated as upstream's `labels.NewRequirement`
    /// does (key and values are label keys and values; the number of
    /// values fits the operator). `path` prefixes the field paths of the
    /// messages (`<nil>` when empty, as upstream prints a nil path).
    fn new(
        key: &str,
        operator: Operator,
        values: BTreeSet<String>,
        path: &str,
    ) -> Result<Self, SelectorError> {
        let child = |c: &str| {
            if path.is_empty() {
                c.to_string()
            } else {
                format!("{path}.{c}")
            }
        };
        if let Some(e) = label_key_error(key) {
            return err(invalid(&child("key"), key, &e));
        }
        let vals = || {
            let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            format!("[]string{{{}}}", quoted.join(", "))
        };
        let problem = match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                Some("for 'in', 'notin' operators, values set can't be empty")
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                Some("exact-match compatibility requires one single value")
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                Some("values set must be empty for exists and does not exist")
            }
            Operator::GreaterThan | Operator::LessThan if values.len() != 1 => {
                Some("for 'Gt', 'Lt' operators, exactly one value is required")
            }
            _ => None,
        };
        if let Some(p) = problem {
            return err(format!(
                "{}: Invalid value: {}: {p}",
                child("values"),
                vals()
            ));
        }
        for (i, v) in values.iter().enumerate() {
            if matches!(operator, Operator::GreaterThan | Operator::LessThan)
                && v.parse::<i64>().is_err()
            {
                return err(invalid(
                    &format!("{}[{i}]", child("values")),
                    v,
                    "for 'Gt', 'Lt' operators, the value must be an integer",
                ));
            }
            if let Some(e) = label_value_error(v) {
                return err(invalid(&format!("{}[{i}][{key}]", child("values")), v, &e));
            }
        }
        Ok(Requirement {
            key: key.to_string(),
            operator,
            values,
        })
    }

    /// Whether a set of labels satisfies this requirement (upstream's
    /// `Requirement.Matches`: `!=` and `notin` match a missing key).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let got = labels.get(&self.key);
        match self.operator {
            Operator::Equals | Operator::DoubleEquals | Operator::In => {
                got.is_some_and(|v| self.values.contains(v))
            }
            Operator::NotEquals | Operator::NotIn => got.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => got.is_some(),
            Operator::DoesNotExist => got.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), Some(want)) = (
                    got.and_then(|v| v.parse::<i64>().ok()),
                    self.values
                        .iter()
                        .next()
                        .and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in (",
            Operator::NotIn => " notin (",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };
        f.write_str(op)?;
        let vals: Vec<&str> = self.values.iter().map(String::as_str).collect();
        f.write_str(&vals.join(","))?;
        if matches!(self.operator, Operator::In | Operator::NotIn) {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// `field: Invalid value: "v": detail`, as upstream's `field.Invalid`.
fn invalid(field: &str, value: &str, detail: &str) -> String {
    format!("{field}: Invalid value: {value:?}: {detail}")
}

const LABEL_KEY_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || *c == b'-')
        })
}

/// The problems of a label key (upstream's `IsLabelKey`), joined by `; `.
fn label_key_error(key: &str) -> Option<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else if !is_dns1123_subdomain(prefix) {
                if prefix.len() > 253 {
                    errs.push("prefix part must be no more than 253 bytes".to_string());
                } else {
                    errs.push(format!("prefix part {SUBDOMAIN_ERR}"));
                }
            }
            *name
        }
        _ => {
            return Some(format!(
                "a valid label key {LABEL_KEY_ERR} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ))
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 bytes".to_string());
    }
    if !is_label_name(name) {
        errs.push(format!("name part {LABEL_KEY_ERR}"));
    }
    (!errs.is_empty()).then(|| errs.join("; "))
}

/// The problems of a label value (upstream's `IsLabelValue`).
fn label_value_error(v: &str) -> Option<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 bytes".to_string());
    }
    if !v.is_empty() && !is_label_name(v) {
        errs.push(LABEL_VALUE_ERR.to_string());
    }
    (!errs.is_empty()).then(|| errs.join("; "))
}

/// A label selector: every requirement must hold. The empty selector
/// matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `in`, `notin`: operators after a key, identifiers among values.
    In,
    NotIn,
    Bang,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
    End,
}

impl Token {
    fn literal(&self) -> &str {
        match self {
            Token::Ident(s) => s,
            Token::In => "in",
            Token::NotIn => "notin",
            Token::Bang => "!",
            Token::Eq => "=",
            Token::DoubleEq => "==",
            Token::NotEq => "!=",
            Token::Gt => ">",
            Token::Lt => "<",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
            Token::End => "",
        }
    }

    /// In the values context `in` and `notin` are plain identifiers.
    fn as_value(&self) -> Option<&str> {
        match self {
            Token::Ident(s) => Some(s),
            Token::In => Some("in"),
            Token::NotIn => Some("notin"),
            _ => None,
        }
    }
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn symbol(s: &[u8]) -> Option<Token> {
    Some(match s {
        b"=" => Token::Eq,
        b"==" => Token::DoubleEq,
        b"!=" => Token::NotEq,
        b"!" => Token::Bang,
        b"(" => Token::Open,
        b")" => Token::Close,
        b"," => Token::Comma,
        b">" => Token::Gt,
        b"<" => Token::Lt,
        _ => return None,
    })
}

/// Upstream's lexer: identifiers run to a special symbol or whitespace;
/// special symbols are read greedily while they form a known token.
fn lex(s: &str) -> Result<Vec<Token>, SelectorError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if i == b.len() {
            out.push(Token::End);
            return Ok(out);
        }
        if is_special(b[i]) {
            let start = i;
            let mut last: Option<(Token, usize)> = None;
            while i < b.len() && is_special(b[i]) {
                i += 1;
                if let Some(t) = symbol(&b[start..i]) {
                    last = Some((t, i));
                } else if last.is_some() {
                    break;
                }
            }
            match last {
                Some((t, end)) => {
                    i = end;
                    out.push(t);
                }
                None => {
                    return err(format!(
                        "unable to parse requirement: found 'error expected: keyword found '{}'', expected: identifier",
                        &s[start..i]
                    ))
                }
            }
        } else {
            let start = i;
            while i < b.len() && !is_special(b[i]) && !is_space(b[i]) {
                i += 1;
            }
            out.push(match &s[start..i] {
                "in" => Token::In,
                "notin" => Token::NotIn,
                w => Token::Ident(w.to_string()),
            });
        }
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let mut t = self.next();
        let negated = t == Token::Bang;
        if negated {
            t = self.next();
        }
        let Some(key) = t.as_value().map(str::to_string) else {
            return Err(format!("found '{}', expected: identifier", t.literal()));
        };
        if let Some(e) = label_key_error(&key) {
            return Err(invalid("<nil>", &key, &e));
        }
        let at_end = matches!(self.peek(), Token::End | Token::Comma);
        if negated || at_end {
            // `!a` followed by an operator is caught by the caller
            // (`found '=', expected: ',' or 'end of string'`).
            let op = if negated {
                Operator::DoesNotExist
            } else {
                Operator::Exists
            };
            return Requirement::new(&key, op, BTreeSet::new(), "").map_err(|e| e.0);
        }
        let op = match self.next() {
            Token::In => Operator::In,
            Token::NotIn => Operator::NotIn,
            Token::Eq => Operator::Equals,
            Token::DoubleEq => Operator::DoubleEquals,
            Token::NotEq => Operator::NotEquals,
            Token::Gt => Operator::GreaterThan,
            Token::Lt => Operator::LessThan,
            t => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    t.literal()
                ))
            }
        };
        let values = match op {
            Operator::In | Operator::NotIn => self.set()?,
            _ => self.exact()?,
        };
        Requirement::new(&key, op, values, "").map_err(|e| e.0)
    }

    /// `(x,y)`, where empty entries (`(,a)`, `()`) are the empty value.
    fn set(&mut self) -> Result<BTreeSet<String>, String> {
        let t = self.next();
        if t != Token::Open {
            return Err(format!("found '{}' expected: '('", t.literal()));
        }
        let mut values = BTreeSet::new();
        match self.peek().clone() {
            Token::Close => {
                self.next();
                values.insert(String::new());
                return Ok(values);
            }
            t if t.as_value().is_some() || t == Token::Comma => {}
            t => {
                return Err(format!(
                    "found '{}', expected: ',', ')' or identifier",
                    t.literal()
                ))
            }
        }
        loop {
            let t = self.next();
            if let Some(v) = t.as_value() {
                values.insert(v.to_string());
                match self.peek() {
                    Token::Comma => continue,
                    Token::Close => {
                        self.next();
                        return Ok(values);
                    }
                    t => return Err(format!("found '{}', expected: ',' or ')'", t.literal())),
                }
            } else if t == Token::Comma {
                if values.is_empty() {
                    values.insert(String::new());
                }
                match self.peek() {
                    Token::Close => {
                        values.insert(String::new());
                        self.next();
                        return Ok(values);
                    }
                    Token::Comma => {
                        values.insert(String::new());
                    }
                    _ => {}
                }
            } else {
                return Err(format!(
                    "found '{}', expected: ',', or identifier",
                    t.literal()
                ));
            }
        }
    }

    /// The value of `=`, `==`, `!=`, `>`, `<`; missing means empty.
    fn exact(&mut self) -> Result<BTreeSet<String>, String> {
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Ok(BTreeSet::from([String::new()]));
        }
        let t = self.next();
        match t.as_value() {
            Some(v) => Ok(BTreeSet::from([v.to_string()])),
            None => Err(format!("found '{}', expected: identifier", t.literal())),
        }
    }
}

impl LabelSelector {
    /// The selector that matches everything (no requirement).
    pub fn everything() -> Self {
        Self::default()
    }

    /// A selector of these requirements, sorted by key (stable).
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector { requirements }
    }

    /// Parses the `?labelSelector=` syntax. The empty string (or only
    /// whitespace) is the selector that matches everything.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut p = Parser {
            toks: lex(s)?,
            pos: 0,
        };
        let mut reqs = Vec::new();
        loop {
            match p.peek().clone() {
                Token::End => break,
                t if t.as_value().is_some() || t == Token::Bang => {
                    let r = p
                        .requirement()
                        .map_err(|e| SelectorError(format!("unable to parse requirement: {e}")))?;
                    reqs.push(r);
                    match p.next() {
                        Token::End => break,
                        Token::Comma => {
                            let t = p.peek();
                            if t.as_value().is_none() && *t != Token::Bang {
                                return err(format!(
                                    "found '{}', expected: identifier after ','",
                                    t.literal()
                                ));
                            }
                        }
                        t => {
                            return err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                t.literal()
                            ))
                        }
                    }
                }
                t => {
                    return err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        t.literal()
                    ))
                }
            }
        }
        Ok(Self::from_requirements(reqs))
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether the selector has no requirement (matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Matches an object's `metadata.labels` (missing labels are none;
    /// non-string values are ignored).
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(&object_labels(obj))
    }
}

/// The string labels of an object's `metadata.labels`.
pub fn object_labels(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// A `metav1.LabelSelector` (`{"matchLabels": {...}, "matchExpressions":
/// [{"key", "operator", "values"}]}`) as a matcher, as upstream's
/// `LabelSelectorAsSelector`: `matchLabels` entries become `key=value`,
/// expressions `In`/`NotIn`/`Exists`/`DoesNotExist`; an empty selector
/// matches everything. A `null` selector (which upstream turns into the
/// selector matching nothing) is refused here, as is any other shape
/// that is not an object.
pub fn from_label_selector(sel: &Value) -> Result<LabelSelector, SelectorError> {
    let Some(obj) = sel.as_object() else {
        return err(format!("invalid label selector: {sel}"));
    };
    let mut reqs = Vec::new();
    match obj.get("matchLabels") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let Some(v) = v.as_str() else {
                    return err(format!(
                        "matchLabels.{k}: value must be a string, found {v}"
                    ));
                };
                reqs.push(Requirement::new(
                    k,
                    Operator::Equals,
                    BTreeSet::from([v.to_string()]),
                    "",
                )?);
            }
        }
        Some(v) => return err(format!("matchLabels must be an object, found {v}")),
    }
    match obj.get("matchExpressions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(exprs)) => {
            for e in exprs {
                let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
                let op = match e.get("operator").and_then(Value::as_str) {
                    Some("In") => Operator::In,
                    Some("NotIn") => Operator::NotIn,
                    Some("Exists") => Operator::Exists,
                    Some("DoesNotExist") => Operator::DoesNotExist,
                    other => {
                        return err(format!(
                            "{:?} is not a valid label selector operator",
                            other.unwrap_or_default()
                        ))
                    }
                };
                let values = match e.get("values") {
                    None | Some(Value::Null) => BTreeSet::new(),
                    Some(Value::Array(vs)) => vs
                        .iter()
                        .map(|v| {
                            v.as_str().map(str::to_string).ok_or_else(|| {
                                SelectorError(format!(
                                    "matchExpressions values must be strings, found {v}"
                                ))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    Some(v) => {
                        return err(format!("matchExpressions values must be a list, found {v}"))
                    }
                };
                reqs.push(Requirement::new(key, op, values, "")?);
            }
        }
        Some(v) => return err(format!("matchExpressions must be a list, found {v}")),
    }
    Ok(LabelSelector::from_requirements(reqs))
}

/// The operator of a field selector term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `path=value` or `path==value`
    Equals,
    /// `path!=value`
    NotEquals,
}

/// One term of a field selector: a dotted path into the object, the
/// operator, and the (unescaped) value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldTerm {
    pub path: String,
    pub operator: FieldOperator,
    pub value: String,
}

impl FieldTerm {
    pub fn matches(&self, obj: &Value) -> bool {
        let have = field_value(obj, &self.path);
        (have == self.value) == (self.operator == FieldOperator::Equals)
    }
}

/// The value at a dotted path, as a field selector compares it: strings
/// as they are, numbers and booleans as JSON writes them, a missing
/// field or `null` as the empty string (objects and lists as their JSON).
pub fn field_value(obj: &Value, path: &str) -> String {
    let mut v = obj;
    for seg in path.split('.') {
        match v.get(seg) {
            Some(next) => v = next,
            None => return String::new(),
        }
    }
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A field selector (`?fieldSelector=`): every term must hold. Any
/// dotted path is accepted. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// Upstream's `splitTerms`: commas split terms, except when escaped.
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// Undoes [`escape_field_value`]: `\\`, `\,` and `\=` are the
/// characters; any other escape, or a bare `,` or `=`, is an error.
fn unescape_field_value(s: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                other => {
                    let seq: String = std::iter::once('\\').chain(other).collect();
                    return err(format!(
                        "invalid field selector: invalid escape sequence: {seq}"
                    ));
                }
            },
            ',' | '=' => {
                return err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                ))
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Escapes `\`, `,` and `=` in a field selector value.
pub fn escape_field_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('=', "\\=")
}

impl FieldSelector {
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses the `?fieldSelector=` syntax (`path=value`, `path==value`,
    /// `path!=value`, comma-separated). Terms are kept sorted by their
    /// text, as upstream does.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let split = part.char_indices().find_map(|(i, _)| {
                let rest = &part[i..];
                [
                    ("!=", FieldOperator::NotEquals),
                    ("==", FieldOperator::Equals),
                    ("=", FieldOperator::Equals),
                ]
                .into_iter()
                .find(|(op, _)| rest.starts_with(op))
                .map(|(op, o)| (&part[..i], o, &rest[op.len()..]))
            });
            let Some((path, operator, rhs)) = split else {
                return err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            terms.push(FieldTerm {
                path: path.to_string(),
                operator,
                value: unescape_field_value(rhs)?,
            });
        }
        Ok(FieldSelector { terms })
    }

    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|t| t.matches(obj))
    }

    /// The value a term requires of `path` (`path=value`), if any: lets
    /// a caller narrow a list (`metadata.name=web`) before matching.
    pub fn requires_exact(&self, path: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.path == path && t.operator == FieldOperator::Equals)
            .map(|t| t.value.as_str())
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match t.operator {
                FieldOperator::Equals => "=",
                FieldOperator::NotEquals => "!=",
            };
            write!(f, "{}{op}{}", t.path, escape_field_value(&t.value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator() {
        let s = LabelSelector::parse(
            " tier in (b, a) , app=api,env==prod, x!=y ,k notin (p),has,!gone,n>3,m<10",
        )
        .unwrap();
        assert_eq!(
            s.to_string(),
            "app=api,env==prod,!gone,has,k notin (p),m<10,n>3,tier in (a,b),x!=y"
        );
        let l = labels(&[
            ("app", "api"),
            ("env", "prod"),
            ("tier", "a"),
            ("has", ""),
            ("n", "4"),
            ("m", "9"),
        ]);
        assert!(s.matches(&l));
        let mut l2 = l.clone();
        l2.insert("gone".into(), "x".into());
        assert!(!s.matches(&l2));
        let mut l3 = l.clone();
        l3.insert("n".into(), "3".into());
        assert!(!s.matches(&l3));
        let mut l4 = l;
        l4.insert("x".into(), "y".into());
        assert!(!s.matches(&l4));
    }

    #[test]
    fn empty_selector_matches_everything() {
        for s in ["", "   "] {
            let sel = LabelSelector::parse(s).unwrap();
            assert!(sel.is_empty());
            assert!(sel.matches(&labels(&[])));
            assert_eq!(sel.to_string(), "");
        }
    }

    #[test]
    fn not_equals_and_notin_match_missing_keys() {
        let s = LabelSelector::parse("a!=b,c notin (d)").unwrap();
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("a", "x"), ("c", "y")])));
        assert!(!s.matches(&labels(&[("c", "d")])));
    }

    #[test]
    fn empty_values() {
        let s = LabelSelector::parse("a=,b in (),c in (,x)").unwrap();
        assert_eq!(s.to_string(), "a=,b in (),c in (,x)");
        assert!(s.matches(&labels(&[("a", ""), ("b", ""), ("c", "x")])));
        // `in` and `notin` are values in value position.
        let s = LabelSelector::parse("a in (in,notin)").unwrap();
        assert!(s.matches(&labels(&[("a", "notin")])));
    }

    #[test]
    fn parse_errors_read_like_the_api_server() {
        let cases = [
            ("a=b,", "found '', expected: identifier after ','"),
            (
                "a b",
                "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
            ),
            ("=a", "found '=', expected: !, identifier, or 'end of string'"),
            ("a in b", "unable to parse requirement: found 'b' expected: '('"),
            ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
            ("!a=b", "found '=', expected: ',' or 'end of string'"),
            (
                "a=b c",
                "found 'c', expected: ',' or 'end of string'",
            ),
            (
                "a>x",
                "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer",
            ),
        ];
        for (input, msg) in cases {
            assert_eq!(LabelSelector::parse(input).unwrap_err().0, msg, "{input}");
        }
        let e = LabelSelector::parse("app=a$b").unwrap_err().0;
        assert!(
            e.starts_with(
                "unable to parse requirement: values[0][app]: Invalid value: \"a$b\": a valid label must be an empty string"
            ),
            "{e}"
        );
        let e = LabelSelector::parse("a$b=c").unwrap_err().0;
        assert!(
            e.starts_with("unable to parse requirement: <nil>: Invalid value: \"a$b\": name part must consist of"),
            "{e}"
        );
        let e = LabelSelector::parse("Example.com/a=c").unwrap_err().0;
        assert!(
            e.contains("prefix part a lowercase RFC 1123 subdomain"),
            "{e}"
        );
        assert!(LabelSelector::parse("example.com/a=c").is_ok());
        assert!(LabelSelector::parse(&format!("a={}", "v".repeat(64))).is_err());
    }

    #[test]
    fn matches_object_reads_metadata_labels() {
        let s = LabelSelector::parse("app=web").unwrap();
        assert!(s.matches_object(&json!({"metadata": {"labels": {"app": "web"}}})));
        assert!(!s.matches_object(&json!({"metadata": {}})));
        assert!(!s.matches_object(&json!({})));
        assert!(LabelSelector::parse("!app")
            .unwrap()
            .matches_object(&json!({"metadata": {"name": "x"}})));
    }

    #[test]
    fn structured_selectors() {
        let s = from_label_selector(&json!({
            "matchLabels": {"app": "api"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "Exists"},
                {"key": "env", "operator": "NotIn", "values": ["dev"]}
            ]
        }))
        .unwrap();
        assert_eq!(
            s.to_string(),
            "app=api,!canary,env notin (dev),tier in (a,b),zone"
        );
        assert!(s.matches(&labels(&[("app", "api"), ("tier", "a"), ("zone", "z")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("tier", "a")])));
        assert_eq!(s, LabelSelector::parse(&s.to_string()).unwrap());
        assert!(from_label_selector(&json!({})).unwrap().is_empty());
        let e = from_label_selector(
            &json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}),
        )
        .unwrap_err();
        assert_eq!(e.0, "\"Gt\" is not a valid label selector operator");
        let e = from_label_selector(
            &json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}),
        )
        .unwrap_err();
        assert!(e.0.contains("values set can't be empty"), "{e}");
        assert!(from_label_selector(
            &json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})
        )
        .is_err());
        assert!(from_label_selector(&Value::Null).is_err());
        assert!(from_label_selector(&json!({"matchLabels": {"a": 1}})).is_err());
    }

    #[test]
    fn field_selectors() {
        let pod = json!({
            "metadata": {"name": "web", "namespace": "lab"},
            "spec": {"nodeName": "n1", "replicas": 3},
            "status": {"phase": "Running"}
        });
        for (sel, want) in [
            ("metadata.name=web", true),
            ("metadata.name==web,metadata.namespace=lab", true),
            ("metadata.name!=web", false),
            ("status.phase!=Pending,spec.nodeName=n1", true),
            ("spec.nodeName=", false),
            ("spec.missing=", true),
            ("spec.missing!=", false),
            ("spec.replicas=3", true),
            ("involvedObject.name=web", false),
            ("", true),
        ] {
            let s = FieldSelector::parse(sel).unwrap();
            assert_eq!(s.matches(&pod), want, "{sel}");
        }
        let s = FieldSelector::parse("metadata.name=a\\,b\\=c\\\\").unwrap();
        assert_eq!(s.terms()[0].value, "a,b=c\\");
        assert_eq!(s.to_string(), "metadata.name=a\\,b\\=c\\\\");
        assert_eq!(s.requires_exact("metadata.name"), Some("a,b=c\\"));
        assert_eq!(
            FieldSelector::parse("metadata.name").unwrap_err().0,
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
        );
        assert_eq!(
            FieldSelector::parse("a=b=c").unwrap_err().0,
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(
            FieldSelector::parse("a=b\\x").unwrap_err().0,
            "invalid field selector: invalid escape sequence: \\x"
        );
        let s = FieldSelector::parse("b=1,a!=2").unwrap();
        assert_eq!(s.to_string(), "a!=2,b=1");
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("app".to_string()),
            Just("tier".to_string()),
            Just("example.com/team".to_string()),
            "[a-z][a-z0-9._-]{0,6}[a-z0-9]",
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("in".to_string()),
            "[a-z0-9]",
            "[A-Za-z0-9][A-Za-z0-9._-]{0,5}[A-Za-z0-9]",
        ]
    }

    fn requirement() -> impl Strategy<Value = Requirement> {
        let op = prop_oneof![
            Just(Operator::Equals),
            Just(Operator::DoubleEquals),
            Just(Operator::NotEquals),
            Just(Operator::In),
            Just(Operator::NotIn),
            Just(Operator::Exists),
            Just(Operator::DoesNotExist),
            Just(Operator::GreaterThan),
            Just(Operator::LessThan),
        ];
        (
            key(),
            op,
            proptest::collection::btree_set(value(), 1..4),
            0u32..100,
        )
            .prop_map(|(key, operator, set, n)| {
                let values = match operator {
                    Operator::In | Operator::NotIn => set,
                    Operator::Exists | Operator::DoesNotExist => BTreeSet::new(),
                    Operator::GreaterThan | Operator::LessThan => BTreeSet::from([n.to_string()]),
                    _ => BTreeSet::from([set.into_iter().next().unwrap()]),
                };
                Requirement {
                    key,
                    operator,
                    values,
                }
            })
    }

    /// The meaning of a requirement, written out independently.
    fn oracle(r: &Requirement, l: &BTreeMap<String, String>) -> bool {
        let v = l.get(&r.key);
        let one = r.values.iter().next().cloned().unwrap_or_default();
        let int = |s: &str| s.parse::<i64>().ok();
        match r.operator {
            Operator::Equals | Operator::DoubleEquals => v == Some(&one),
            Operator::NotEquals => v != Some(&one),
            Operator::In => v.is_some_and(|v| r.values.iter().any(|x| x == v)),
            Operator::NotIn => !v.is_some_and(|v| r.values.iter().any(|x| x == v)),
            Operator::Exists => v.is_some(),
            Operator::DoesNotExist => v.is_none(),
            Operator::GreaterThan => {
                matches!((v.and_then(|v| int(v)), int(&one)), (Some(a), Some(b)) if a > b)
            }
            Operator::LessThan => {
                matches!((v.and_then(|v| int(v)), int(&one)), (Some(a), Some(b)) if a < b)
            }
        }
    }

    proptest! {
        #[test]
        fn parse_render_roundtrip(reqs in proptest::collection::vec(requirement(), 0..5)) {
            let sel = LabelSelector::from_requirements(reqs);
            let text = sel.to_string();
            let back = LabelSelector::parse(&text).unwrap();
            prop_assert_eq!(&back, &sel, "{}", text);
            prop_assert_eq!(back.to_string(), text);
        }

        #[test]
        fn matching_agrees_with_the_oracle(
            reqs in proptest::collection::vec(requirement(), 0..4),
            labels in proptest::collection::btree_map(key(), prop_oneof![value(), (0u32..100).prop_map(|n| n.to_string())], 0..4),
        ) {
            let sel = LabelSelector::parse(&LabelSelector::from_requirements(reqs.clone()).to_string()).unwrap();
            let want = reqs.iter().all(|r| oracle(r, &labels));
            prop_assert_eq!(sel.matches(&labels), want);
            let obj = json!({"metadata": {"labels": labels}});
            prop_assert_eq!(sel.matches_object(&obj), want);
        }

        #[test]
        fn field_value_escaping_roundtrips(v in "[a-z,=\\\\ ]{0,8}") {
            let text = format!("metadata.name={}", escape_field_value(&v));
            let sel = FieldSelector::parse(&text).unwrap();
            prop_assert_eq!(&sel.terms()[0].value, &v);
            let obj = json!({"metadata": {"name": v}});
            prop_assert!(sel.matches(&obj));
        }
    }
}
