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
