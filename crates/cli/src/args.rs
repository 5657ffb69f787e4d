//! Shared argument types: input files and `--port` values.

use std::path::PathBuf;

use palisade_eval::PortRef;
use palisade_model::Protocol;

/// Where manifests come from.
#[derive(Debug, clap::Args)]
pub struct Input {
    /// Manifest file or directory (recursive: *.yaml, *.yml, *.json); `-` reads stdin. Repeatable.
    /// Limits (size, depth, aliases, keys): PALISADE_MANIFEST_LIMITS, see `palisade --help`.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
}

/// A destination port with its protocol: `80` (TCP), `80/udp`, `81/sctp`,
/// `http` (a named port, resolved on the destination pod), `dns/udp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortArg {
    pub port: PortRef,
    pub protocol: Protocol,
}

impl std::str::FromStr for PortArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (port, proto) = s.split_once('/').unwrap_or((s, "tcp"));
        let protocol = proto
            .to_ascii_uppercase()
            .parse::<Protocol>()
            .map_err(|_| {
                format!("unknown protocol {proto:?} in {s:?} (expected tcp, udp or sctp)")
            })?;
        let port = match port.parse::<u32>() {
            Ok(n) => PortRef::Number(
                u16::try_from(n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("port {n} out of range 1-65535"))?,
            ),
            Err(_) => {
                palisade_model::names::iana_svc_name(port)
                    .map_err(|e| format!("invalid port name {port:?}: {e}"))?;
                PortRef::Named(port.to_string())
            }
        };
        Ok(PortArg { port, protocol })
    }
}

impl std::fmt::Display for PortArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_forms() {
        let p: PortArg = "80".parse().unwrap();
        assert_eq!((p.port, p.protocol), (PortRef::Number(80), Protocol::Tcp));
        let p: PortArg = "81/sctp".parse().unwrap();
        assert_eq!((p.port, p.protocol), (PortRef::Number(81), Protocol::Sctp));
        let p: PortArg = "dns/UDP".parse().unwrap();
        assert_eq!(
            (p.port, p.protocol),
            (PortRef::Named("dns".into()), Protocol::Udp)
        );
        assert!("0".parse::<PortArg>().is_err());
        assert!("70000".parse::<PortArg>().is_err());
        assert!("80/icmp".parse::<PortArg>().is_err());
        assert!("Bad_Name".parse::<PortArg>().is_err());
    }
}
