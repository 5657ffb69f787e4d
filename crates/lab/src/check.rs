//! What the lab needs from the machine, for a clear message before starting.

/// The requirements this machine lacks: `root`, `ip (iproute2)`, `nft`, `setsid`.
pub fn missing_requirements() -> Vec<&'static str> {
    let checks = [
        (nix::unistd::geteuid().is_root(), "root"),
        (crate::cmd::program_exists("ip"), "ip (iproute2)"),
        (crate::cmd::program_exists("nft"), "nft"),
        (crate::cmd::program_exists("setsid"), "setsid"),
    ];
    checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|&(_, what)| what)
        .collect()
}
