//! The small vocabularies labels, selectors and ports are drawn from.
//!
//! Small on purpose: selectors written from them match a useful fraction of
//! the pods. Some values (`"1"`, `"y"`, `"true"`, `"1.10"`) would be read as
//! numbers or booleans by a YAML reader if not quoted.

/// Namespace label `team`.
pub(crate) const TEAMS: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
/// Namespace label `env` (absent on some namespaces).
pub(crate) const ENVS: [&str; 3] = ["prod", "staging", "dev"];
/// Namespace label `monitoring` (on some namespaces).
pub(crate) const MONITORING: [&str; 2] = ["y", "n"];

/// Pod label `app`; also the prefix of pod names.
pub(crate) const APPS: [&str; 8] = [
    "web", "api", "db", "cache", "queue", "auth", "search", "worker",
];
/// Pod label `tier`.
pub(crate) const TIERS: [&str; 3] = ["frontend", "backend", "data"];
/// Pod label `version` (on some pods).
pub(crate) const VERSIONS: [&str; 3] = ["1", "2", "1.10"];
/// Pod label `canary` (on some pods).
pub(crate) const CANARY: [&str; 2] = ["true", "false"];
/// Pod label `app.kubernetes.io/part-of` (on some pods).
pub(crate) const PART_OF: [&str; 2] = ["shop", "search"];

/// The prefixed pod label key.
pub(crate) const PART_OF_KEY: &str = "app.kubernetes.io/part-of";

/// Pod label keys that are optional, for `Exists` / `DoesNotExist`.
pub(crate) const OPTIONAL_POD_KEYS: [&str; 3] = ["version", "canary", PART_OF_KEY];

/// The `tier` an `app` usually runs in.
pub(crate) fn tier_of(app: &str) -> &'static str {
    match app {
        "web" | "auth" => "frontend",
        "db" | "cache" | "search" => "data",
        _ => "backend",
    }
}

/// TCP port numbers policies mention.
pub(crate) const TCP_PORTS: [u16; 5] = [80, 443, 8080, 9090, 5432];
/// `port`..=`endPort` ranges policies mention.
pub(crate) const TCP_RANGES: [(u16, u16); 3] = [(8000, 8100), (30000, 32767), (9000, 9099)];

/// Container port names and what they are on most pods.
pub(crate) const HTTP: &str = "http";
pub(crate) const METRICS: &str = "metrics";
pub(crate) const DNS: &str = "dns";
pub(crate) const DIAMETER: &str = "diameter";
