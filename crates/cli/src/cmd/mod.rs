//! One module per subcommand.

pub mod check;
pub mod conformance;
pub mod matrix;
pub mod validate;
