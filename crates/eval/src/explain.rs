//! Human-readable explanations of verdicts.

use std::fmt::{self, Write};

use palisade_model::PolicyRef;

use crate::verdict::{RuleMatch, Side, SideVerdict, Verdict};

fn join(refs: &[PolicyRef]) -> String {
    refs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn rule_text(m: &RuleMatch) -> String {
    let peer = m.peer.map_or(String::new(), |j| format!(", peer {j}"));
    let port = m.port.map_or(String::new(), |k| format!(", port {k}"));
    format!(
        "{} {} rule {}{peer}{port} ({}; {})",
        m.policy, m.direction, m.rule, m.peer_text, m.port_text
    )
}

impl Side {
    /// One sentence: why this side allows or denies.
    pub fn summary(&self) -> String {
        let (s, d) = (&self.subject, self.direction);
        match &self.verdict {
            SideVerdict::NotApplicable { reason } => {
                format!("no {d} policy applies to {s}: {reason}")
            }
            SideVerdict::NotIsolated => {
                format!("{s} is not isolated for {d} (no policy selects it for {d})")
            }
            SideVerdict::Allowed {
                isolated_by,
                matches,
            } => format!(
                "{s} is isolated for {d} by {}; allowed by {}",
                join(isolated_by),
                rule_text(&matches[0])
            ),
            SideVerdict::Denied(den) => {
                let them = if den.isolated_by.len() == 1 {
                    "it"
                } else {
                    "them"
                };
                format!(
                    "{s} is isolated for {d} by {} and no rule of {them} matches {}",
                    join(&den.isolated_by),
                    self.peer
                )
            }
            SideVerdict::Audited(den) => {
                let policy = if den.isolated_by.len() == 1 {
                    "policy"
                } else {
                    "policies"
                };
                format!(
                    "allowed: {s} is isolated for {d} only by audit {policy} {} (would be denied: no rule matches {})",
                    join(&den.isolated_by),
                    self.peer
                )
            }
        }
    }

    fn details(&self, out: &mut String) -> fmt::Result {
        match &self.verdict {
            SideVerdict::Allowed { matches, .. } if matches.len() > 1 => {
                for m in &matches[1..] {
                    writeln!(out, "      also allowed by {}", rule_text(m))?;
                }
            }
            SideVerdict::Denied(den) | SideVerdict::Audited(den) => {
                for miss in &den.misses {
                    let rule = miss.rule.map_or(String::new(), |r| format!(" rule {r}"));
                    writeln!(
                        out,
                        "      {} {}{rule}: {}",
                        miss.policy, self.direction, miss.reason
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Verdict {
    /// `ns-1/busybox -> ns-1/http-echo 80/TCP`.
    pub fn connection_text(&self) -> String {
        format!(
            "{} -> {} {}/{}",
            self.from, self.to, self.port, self.protocol
        )
    }

    /// The verdict and, for each side, why; rule by rule for denials.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        self.write_explanation(&mut out)
            .expect("writing to a String cannot fail");
        out
    }

    fn write_explanation(&self, out: &mut String) -> fmt::Result {
        let word = match (self.allowed, self.audited()) {
            (true, true) => "ALLOWED (audit: would be denied)",
            (true, false) => "ALLOWED",
            (false, _) => "DENIED",
        };
        writeln!(out, "{}: {word}", self.connection_text())?;
        if self.same_pod {
            writeln!(
                out,
                "  a pod may always reach itself: the traffic never leaves its network namespace"
            )?;
            return Ok(());
        }
        for side in [&self.egress, &self.ingress] {
            let mark = match &side.verdict {
                SideVerdict::Denied(_) => "DENY",
                SideVerdict::Audited(_) => "AUDIT",
                _ => "ok  ",
            };
            writeln!(out, "  {mark} {}", side.summary())?;
            side.details(out)?;
        }
        Ok(())
    }
}
