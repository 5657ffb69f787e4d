//! Running the helper programs the lab shells out to (`ip`, `nft`, `sysctl`).

use std::io::{self, Write};
use std::process::{Command, Output, Stdio};

/// A helper program that could not be started or that failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The program could not be started (not installed, not executable, ...).
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line, for the message.
        command: String,
        /// Why it could not start.
        source: io::Error,
    },
    /// The program ran and exited unsuccessfully.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        /// The command line, for the message.
        command: String,
        /// The exit status as the OS describes it.
        status: String,
        /// What the program wrote to stderr, trimmed.
        stderr: String,
    },
}

/// Runs `program args...` and returns its stdout.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<String, CommandError> {
    run_with_input(program, args, None)
}

/// Runs `program args...` with `input` on stdin (if any) and returns its stdout.
pub(crate) fn run_with_input(
    program: &str,
    args: &[&str],
    input: Option<&str>,
) -> Result<String, CommandError> {
    let command = describe(program, args);
    let output = spawn_and_wait(program, args, input).map_err(|source| CommandError::Spawn {
        command: command.clone(),
        source,
    })?;
    if !output.status.success() {
        return Err(CommandError::Failed {
            command,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn spawn_and_wait(program: &str, args: &[&str], input: Option<&str>) -> io::Result<Output> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes())?;
    }
    child.wait_with_output()
}

/// `program arg1 arg2` for error messages.
fn describe(program: &str, args: &[&str]) -> String {
    std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ")
}

/// True if `program` can be found on `PATH` (used to gate root tests).
pub fn program_exists(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}

/// Where `program` is on this process's `PATH` (the name itself when not
/// found): for commands started with an environment of their own, whose
/// `PATH` (a busybox pod's, say) must not decide which `ip` runs.
pub fn locate(program: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| program.into())
}
