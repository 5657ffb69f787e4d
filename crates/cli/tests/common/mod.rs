//! Shared by the root-only CLI tests: whether they can run, and a lab
//! driven through the `palisade lab` command.

#![allow(dead_code)]

use std::process::{Command, Output};

/// True as root with the lab's tools (and `extra` programs, each answering
/// `--version`). In CI (`CI` set) a missing requirement is a failure, not
/// a skip.
pub fn can_run(extra: &[&str]) -> bool {
    let mut missing: Vec<String> = (palisade_lab::missing_requirements().iter())
        .map(ToString::to_string)
        .collect();
    for tool in extra {
        if Command::new(tool).arg("--version").output().is_err() {
            missing.push((*tool).to_string());
        }
    }
    if !missing.is_empty() && std::env::var_os("CI").is_some() {
        panic!("this test needs {} in CI", missing.join(", "));
    }
    missing.is_empty()
}

/// A lab by name; `palisade lab ...` runs against it.
pub struct Lab(pub String);

impl Lab {
    /// A lab named after this process and `tag`, not yet up.
    pub fn named(tag: &str) -> Lab {
        Lab(format!("t{}{tag}", std::process::id() % 100000))
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_palisade"))
            .arg("lab")
            .args(args)
            .env("PALISADE_LAB", &self.0)
            .output()
            .unwrap()
    }

    /// Runs a lab command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "lab {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}
