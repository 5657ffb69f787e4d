//! Reads `nft -j list table inet T` into a [`TableState`].
//!
//! Elements arrive as plain strings or numbers, `{"prefix": {"addr",
//! "len"}}`, `{"range": [a, b]}`, `{"concat": [...]}` (whose parts may be
//! ranges or prefixes), possibly wrapped in `{"elem": {"val": ...}}`; map
//! elements as `[key, {"jump": {"target": "c"}}]`. Objects of a set type
//! palisade never creates are kept with no elements, so they compare unequal
//! and get replaced.

use serde_json::Value;

use crate::element::{datatypes, normalize, Datatype, Element};
use crate::fingerprint::from_comment;
use crate::state::{Hook, MapState, SetState, TableState};

/// nft's JSON did not have the shape we expect.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("nft printed invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unexpected nft JSON in {object}: {detail}")]
    Shape { object: String, detail: String },
}

type Result<T> = std::result::Result<T, ParseError>;

fn shape(object: &str, detail: impl Into<String>) -> ParseError {
    ParseError::Shape {
        object: object.into(),
        detail: detail.into(),
    }
}

/// Parses `nft -j list table inet TABLE` output; `None` when the output
/// holds no such table.
pub fn from_json(json: &str, table: &str) -> Result<Option<TableState>> {
    let root: Value = serde_json::from_str(json)?;
    let items = root
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or_else(|| shape("the output", "no \"nftables\" array"))?;
    let mut state = TableState::default();
    let mut found = false;
    for item in items {
        let Some((kind, body)) = item.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        if kind == "table" {
            found |=
                str_field(body, "family") == Some("inet") && str_field(body, "name") == Some(table);
        } else if in_table(body, table) {
            add_object(&mut state, kind, body)?;
        }
    }
    Ok(found.then_some(state))
}

fn in_table(body: &Value, table: &str) -> bool {
    str_field(body, "family") == Some("inet") && str_field(body, "table") == Some(table)
}

fn add_object(state: &mut TableState, kind: &str, body: &Value) -> Result<()> {
    let name = || name_of(kind, body);
    match kind {
        "set" => {
            state.sets.insert(name()?, set(body)?);
        }
        "map" => {
            state.maps.insert(name()?, map(body)?);
        }
        "counter" => {
            state.counters.insert(name()?);
        }
        "chain" => state.chains.entry(name()?).or_default().hook = hook(body),
        "rule" => add_rule(state, body)?,
        _ => {}
    }
    Ok(())
}

fn name_of(kind: &str, body: &Value) -> Result<String> {
    str_field(body, "name")
        .map(String::from)
        .ok_or_else(|| shape(kind, "no name"))
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// `"type": "ipv4_addr"` or `"type": ["inet_proto", "inet_service"]`.
fn type_of(body: &Value) -> String {
    match body.get("type") {
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" . "),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn has_flag(body: &Value, flag: &str) -> bool {
    match body.get("flags") {
        Some(Value::Array(flags)) => flags.iter().any(|f| f.as_str() == Some(flag)),
        Some(Value::String(f)) => f == flag,
        _ => false,
    }
}

fn elements(body: &Value) -> &[Value] {
    body.get("elem")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Unwraps `{"elem": {"val": X, ...}}` (elements with timeouts, comments).
fn unwrap_elem(value: &Value) -> &Value {
    value
        .get("elem")
        .and_then(|e| e.get("val"))
        .unwrap_or(value)
}

fn set(body: &Value) -> Result<SetState> {
    let key_type = type_of(body);
    let interval = has_flag(body, "interval");
    // nft lists a `flags dynamic,timeout` set with `timeout` only; palisade
    // creates timeout sets only as dynamic ones (crate::flowlog).
    let dynamic = has_flag(body, "timeout");
    let Some(fields) = datatypes(&key_type).filter(|_| !dynamic) else {
        return Ok(SetState {
            key_type,
            interval,
            dynamic,
            elements: Default::default(),
        });
    };
    let object = format!("set {}", str_field(body, "name").unwrap_or("?"));
    let parsed: Result<Vec<Element>> = elements(body)
        .iter()
        .map(|e| element(unwrap_elem(e), &fields, &object))
        .collect();
    Ok(SetState {
        key_type,
        interval,
        dynamic,
        elements: normalize(parsed?, interval),
    })
}

fn element(value: &Value, fields: &[Datatype], object: &str) -> Result<Element> {
    if let [only] = fields {
        return Ok(Element(vec![field(value, *only, object)?]));
    }
    let parts = value
        .get("concat")
        .and_then(Value::as_array)
        .filter(|parts| parts.len() == fields.len())
        .ok_or_else(|| {
            shape(
                object,
                format!(
                    "expected a {}-part concatenation, got {value}",
                    fields.len()
                ),
            )
        })?;
    let ranges: Result<Vec<_>> = parts
        .iter()
        .zip(fields)
        .map(|(p, d)| field(p, *d, object))
        .collect();
    Ok(Element(ranges?))
}

/// One key field as an inclusive range.
fn field(value: &Value, datatype: Datatype, object: &str) -> Result<(u128, u128)> {
    let bad = || {
        shape(
            object,
            format!("cannot read {value} as {}", datatype.name()),
        )
    };
    if let Some(range) = value.get("range").and_then(Value::as_array) {
        return match range.as_slice() {
            [lo, hi] => Ok((
                scalar(lo, datatype).ok_or_else(bad)?,
                scalar(hi, datatype).ok_or_else(bad)?,
            )),
            _ => Err(bad()),
        };
    }
    if let Some(prefix) = value.get("prefix") {
        return prefix_range(prefix, datatype).ok_or_else(bad);
    }
    scalar(value, datatype).map(|v| (v, v)).ok_or_else(bad)
}

fn scalar(value: &Value, datatype: Datatype) -> Option<u128> {
    match value {
        Value::String(s) => datatype.parse(s),
        Value::Number(n) => n.as_u64().map(u128::from),
        _ => None,
    }
}

fn prefix_range(prefix: &Value, datatype: Datatype) -> Option<(u128, u128)> {
    let base = scalar(prefix.get("addr")?, datatype)?;
    let len = u32::try_from(prefix.get("len")?.as_u64()?).ok()?;
    let host_bits = datatype.bits().checked_sub(len)?;
    let mask = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    Some((base & !mask, base | mask))
}

fn map(body: &Value) -> Result<MapState> {
    let value_type = str_field(body, "map").unwrap_or("?");
    let key_type = format!("{} : {value_type}", type_of(body));
    let object = format!("map {}", str_field(body, "name").unwrap_or("?"));
    let mut state = MapState {
        key_type,
        elements: Default::default(),
    };
    for pair in elements(body) {
        let [key, verdict] = pair.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(shape(
                &object,
                format!("expected [key, verdict], got {pair}"),
            ));
        };
        state
            .elements
            .insert(map_key(unwrap_elem(key), &object)?, target(verdict));
    }
    Ok(state)
}

/// A canonical address (nft and `IpAddr` may spell IPv6 differently).
fn map_key(key: &Value, object: &str) -> Result<String> {
    let text = key
        .as_str()
        .ok_or_else(|| shape(object, format!("expected an address key, got {key}")))?;
    Ok(text
        .parse::<std::net::IpAddr>()
        .map_or_else(|_| text.to_string(), |ip| ip.to_string()))
}

fn target(verdict: &Value) -> String {
    match verdict.get("jump").and_then(|j| str_field(j, "target")) {
        Some(chain) => chain.to_string(),
        None => format!("verdict {verdict}"),
    }
}

fn hook(body: &Value) -> Option<Hook> {
    Some(Hook {
        kind: str_field(body, "type")?.to_string(),
        hook: str_field(body, "hook")?.to_string(),
        priority: body.get("prio")?.as_i64()?,
        policy: str_field(body, "policy").unwrap_or("accept").to_string(),
    })
}

fn add_rule(state: &mut TableState, body: &Value) -> Result<()> {
    let chain = str_field(body, "chain").ok_or_else(|| shape("rule", "no chain"))?;
    let fingerprint = match str_field(body, "comment").and_then(from_comment) {
        Some(ours) => ours.to_string(),
        None => format!(
            "foreign rule, handle {}",
            body.get("handle").unwrap_or(&Value::Null)
        ),
    };
    state
        .chains
        .entry(chain.to_string())
        .or_default()
        .rules
        .push(fingerprint);
    Ok(())
}

#[cfg(test)]
mod tests;
