//! `key=value` / `key-` arguments, with kubectl's overwrite rule.

use anyhow::{bail, Result};
use palisade_model::Labels;

/// One label change from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(String, String),
    Remove(String),
}

pub fn parse(arg: &str) -> Result<Change> {
    if let Some(key) = arg.strip_suffix('-') {
        Labels::validate(key, "")?;
        return Ok(Change::Remove(key.into()));
    }
    let Some((k, v)) = arg.split_once('=') else {
        bail!("expected KEY=VALUE or KEY- (to remove), got {arg:?}");
    };
    Labels::validate(k, v)?;
    Ok(Change::Set(k.into(), v.into()))
}

/// Applies changes like `kubectl label`: changing an existing value needs `overwrite`.
pub fn apply(labels: &mut Labels, changes: &[Change], overwrite: bool) -> Result<()> {
    for c in changes {
        match c {
            Change::Set(k, v) => {
                if let Some(old) = labels.get(k).filter(|old| *old != v && !overwrite) {
                    bail!("'{k}' already has a value ({old}), and --overwrite is false");
                }
                labels.insert(k, v)?;
            }
            Change::Remove(k) => {
                labels.remove(k);
            }
        }
    }
    Ok(())
}

/// `key=value,key2=value2` (the `--labels` flag of `lab run`).
pub fn parse_list(s: &str) -> Result<Labels> {
    let mut l = Labels::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match parse(part)? {
            Change::Set(k, v) => l.insert(&k, &v)?,
            Change::Remove(_) => bail!("--labels takes KEY=VALUE pairs, got {part:?}"),
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_label_semantics() {
        let mut l = parse_list("run=busybox").unwrap();
        apply(&mut l, &[parse("app=busybox").unwrap()], false).unwrap();
        assert_eq!(l.get("app"), Some("busybox"));
        assert!(apply(&mut l, &[parse("app=other").unwrap()], false).is_err());
        apply(&mut l, &[parse("app=other").unwrap()], true).unwrap();
        apply(&mut l, &[parse("app-").unwrap()], false).unwrap();
        assert_eq!(l.get("app"), None);
        assert!(parse("bad key=x").is_err());
        assert!(parse("novalue").is_err());
    }
}
