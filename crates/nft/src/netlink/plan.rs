//! placeholder
use super::encode::Batch;
use super::Unsupported;
use crate::desired::Desired;
use crate::state::TableState;

pub(crate) fn plan_batch(
    _cur: &TableState,
    _want: &Desired,
    _table: &str,
    _interval: super::expr::IsInterval,
    _seq: u32,
) -> Result<Option<Batch>, Unsupported> {
    Err(Unsupported("todo"))
}
