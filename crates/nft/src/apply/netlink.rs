//! Updates carried by netlink batches ([`Transport::Netlink`]): the full
//! program and deltas of any kind. Each returns `None` when the encoder
//! does not know something in the update (then the caller sends it as
//! text), else the number of messages sent or the kernel's refusal.

use palisade_compile::Ruleset;

use super::{ApplyError, Nft, Transport};
use crate::desired::Desired;
use crate::incremental::Changed;
use crate::netlink::{
    self, full_batch, plan_batch, plan_into, recreates, set_element_diffs, Batch,
};
use crate::state::TableState;

/// Whether the set `name` of `rs` holds intervals.
pub(super) fn interval_in(rs: &Ruleset) -> impl Fn(&str) -> bool + '_ {
    |name| rs.port_sets.contains_key(name) || rs.addr_sets.get(name).is_some_and(|s| s.interval)
}

impl Nft {
    fn netlink(&self) -> bool {
        self.transport == Transport::Netlink
    }

    /// The whole table `desired` as one batch.
    pub(super) fn full_netlink(&self, desired: &Desired) -> Option<Result<usize, ApplyError>> {
        if !self.netlink() {
            return None;
        }
        let batch = full_batch(desired, &self.table, super::reconcile::next_seq()).ok()?;
        Some(self.send(&batch))
    }

    /// The batch turning `cur` into `want` (`Some(Ok(0))`: nothing differs).
    pub(super) fn delta_netlink(
        &self,
        cur: &TableState,
        want: &Desired,
        interval: &dyn Fn(&str) -> bool,
    ) -> Option<Result<usize, ApplyError>> {
        if !self.netlink() {
            return None;
        }
        let seq = super::reconcile::next_seq();
        match plan_batch(cur, want, &self.table, interval, seq).ok()? {
            None => Some(Ok(0)),
            Some(batch) => Some(self.send(&batch)),
        }
    }

    /// The hot-path delta between two IRs over netlink. Element changes of
    /// sets that stay (the bulk of a pod change: peer sets hold every
    /// matching pod of the cluster) are merged straight from the IRs; only
    /// the other changed objects (chains, counters, maps, new or gone sets)
    /// are built as nft objects and planned, unless one must be recreated
    /// (then the whole tables are compared).
    pub(super) fn between_netlink(
        &self,
        known: &Ruleset,
        rs: &Ruleset,
        changed: &Changed,
    ) -> Option<Result<usize, ApplyError>> {
        if !self.netlink() {
            return None;
        }
        let interval = interval_in(rs);
        let mut batch = Batch::new(super::reconcile::next_seq());
        let mut rest = changed.clone();
        rest.sets = set_element_diffs(known, rs, changed, &self.table, &mut batch)?;
        rest.hairpin.clear();
        let parts = || -> Result<(TableState, Desired), ApplyError> {
            let want = Desired::from_ir_changed(rs, &rest)?;
            let cur = Desired::from_ir_changed(known, &rest)?.state();
            Ok((cur, want))
        };
        let (cur, want) = match parts() {
            Ok(parts) => parts,
            Err(e) => return Some(Err(e)),
        };
        if recreates(&cur, &want) {
            let whole = || -> Result<(TableState, Desired), ApplyError> {
                Ok((Desired::from_ir(known)?.state(), Desired::from_ir(rs)?))
            };
            return match whole() {
                Ok((cur, want)) => self.delta_netlink(&cur, &want, &interval),
                Err(e) => Some(Err(e)),
            };
        }
        plan_into(&mut batch, &cur, &want, &self.table, &interval).ok()?;
        match batch.messages.is_empty() {
            true => Some(Ok(0)),
            false => Some(self.send(&batch.finish())),
        }
    }

    fn send(&self, batch: &Batch) -> Result<usize, ApplyError> {
        netlink::send(self.netns.as_deref(), batch)?;
        Ok(batch.messages.len())
    }
}
