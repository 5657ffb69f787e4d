//! Output formats shared by subcommands.

/// How to print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For machines: one JSON document.
    Json,
    /// Comma-separated values (matrix only).
    Csv,
    /// A Markdown table (matrix only).
    Md,
}
