//! The `Table` format (`meta.k8s.io/v1`) `kubectl get` asks for: column
//! definitions and one row of server-computed cells per object.

/// A column of a kind's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `date`.
    pub kind: &'static str,
    /// `name` for the Name column, else empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0: shown by default; 1: with `-o wide`.
    pub priority: u8,
}
