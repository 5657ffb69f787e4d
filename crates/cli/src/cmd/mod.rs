//! One module per subcommand.

pub mod analyze_fmt;
pub mod bench;
pub mod check;
pub mod conformance;
pub mod connectivity;
pub mod diff;
pub mod lint;
pub mod matrix;
pub mod probe;
pub mod render;
pub mod servers;
pub mod validate;
