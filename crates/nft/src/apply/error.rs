//! Apply errors, and which object of a script nft's error points at.

use crate::desired::RenderError;
use crate::json::ParseError;
use crate::script::Script;

/// Why an update or a read-back failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// nft refused the transaction; the previous ruleset is still in force.
    #[error("nft rejected the update{}:\n{}", at(.objects), .stderr.trim_end())]
    Rejected {
        objects: Vec<String>,
        stderr: String,
    },
    #[error("nft could not list table inet {table}: {}", .stderr.trim_end())]
    List { table: String, stderr: String },
    #[error("could not read table inet {table} back: {source}")]
    Parse {
        table: String,
        #[source]
        source: ParseError,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The kernel refused a netlink batch (naming the objects) or the
    /// socket failed; the previous ruleset is still in force.
    #[error(transparent)]
    Netlink(#[from] crate::netlink::NetlinkError),
    /// The update could not be encoded as a netlink batch.
    #[error("{0}")]
    Encode(String),
}

fn at(objects: &[String]) -> String {
    match objects.is_empty() {
        true => String::new(),
        false => format!(" at {}", objects.join("; ")),
    }
}

/// The objects whose lines nft's errors point at (`/dev/stdin:LINE:COL`),
/// innermost first, each once.
pub(super) fn culprits(script: &Script, stderr: &str) -> Vec<String> {
    let mut objects: Vec<String> = Vec::new();
    for line in error_lines(stderr) {
        if let Some(object) = script.objects_at(line).first() {
            if !objects.iter().any(|o| o == object) {
                objects.push((*object).to_string());
            }
        }
    }
    objects
}

fn error_lines(stderr: &str) -> impl Iterator<Item = usize> + '_ {
    stderr
        .split("/dev/stdin:")
        .skip(1)
        .filter_map(|rest| rest.split(':').next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::ScriptBuilder;

    #[test]
    fn attributes_errors_to_the_objects_on_their_lines() {
        let mut b = ScriptBuilder::default();
        b.push(
            "set s_a (ipBlock 10.0.0.0/8)",
            &["add set inet t s_a { type ipv4_addr; }".into()],
        );
        b.push(
            "chain c_b (ingress of pods isolated by ns/p)",
            &["add chain inet t c_b".into(), "x".into()],
        );
        let script = b.finish();
        let stderr = "/dev/stdin:3:1-1: Error: syntax error\nx\n^\n/dev/stdin:1:5-7: Error: bad\n/dev/stdin:3:2: Error: again\n";
        assert_eq!(
            culprits(&script, stderr),
            [
                "chain c_b (ingress of pods isolated by ns/p)",
                "set s_a (ipBlock 10.0.0.0/8)"
            ]
        );
        let err = ApplyError::Rejected {
            objects: culprits(&script, stderr),
            stderr: stderr.into(),
        };
        assert!(
            err.to_string()
                .starts_with("nft rejected the update at chain c_b"),
            "{err}"
        );
    }
}
