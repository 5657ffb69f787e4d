//! Output formats shared by subcommands.

/// How `check` prints its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// The verdict and its explanation, for people.
    Text,
    /// The verdict with its provenance, as one JSON document.
    Json,
}

/// How `matrix` prints the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For machines: one JSON document.
    Json,
    /// Comma-separated values.
    Csv,
    /// A Markdown table.
    Md,
}

/// Writes `text` to stdout. Unlike `print!`, a closed pipe (`palisade render
/// ... | head`) is returned as an error (which `main` treats as a quiet
/// exit) instead of a panic.
pub fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
