//! Intersections of egress and ingress port masks, precomputed.
//!
//! The egress tables produce a few distinct masks and so do the ingress
//! tables; their intersections are tabulated once, so a class pair costs
//! table lookups only. Should the product of the two counts be huge, only
//! the combinations that occur are kept (found by visiting class pairs).

use crate::hash::FxMap;
use crate::ports::{MaskId, Masks, ALL, EMPTY};
use crate::side::Side;

/// More cells than this and the table is kept sparse.
const DENSE_LIMIT: usize = 1 << 24;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(crate) enum Meet {
    Dense {
        /// Mask id -> row (egress masks) / column (ingress masks).
        row: Vec<u32>,
        col: Vec<u32>,
        cols: usize,
        cells: Vec<MaskId>,
    },
    Sparse(FxMap<(MaskId, MaskId), MaskId>),
}

/// The distinct masks of a side's tables, numbered.
fn index(side: &Side, masks: usize) -> (Vec<u32>, Vec<MaskId>) {
    let mut index = vec![NONE; masks];
    let mut ids = Vec::new();
    for &m in side.cells.iter().flatten() {
        if index[m as usize] == NONE {
            index[m as usize] = ids.len() as u32;
            ids.push(m);
        }
    }
    (index, ids)
}

impl Meet {
    /// `pairs` lists the (egress, ingress) masks of every class pair; it is
    /// only called when the dense table would be too large.
    pub(crate) fn new<I: Iterator<Item = (MaskId, MaskId)>>(
        masks: &mut Masks,
        sides: [&Side; 2],
        pairs: impl FnOnce() -> I,
        limit: Option<usize>,
    ) -> Self {
        let (row, rows) = index(sides[0], masks.len());
        let (col, cols) = index(sides[1], masks.len());
        if rows.len() * cols.len() > limit.unwrap_or(DENSE_LIMIT) {
            let mut sparse = FxMap::default();
            for (e, i) in pairs() {
                sparse.entry((e, i)).or_insert_with(|| masks.and(e, i));
            }
            return Meet::Sparse(sparse);
        }
        let mut cells = Vec::with_capacity(rows.len() * cols.len());
        for &e in &rows {
            cells.extend(cols.iter().map(|&i| masks.and(e, i)));
        }
        Meet::Dense {
            row,
            col,
            cols: cols.len(),
            cells,
        }
    }

    /// The ports in both masks.
    #[inline]
    pub(crate) fn get(&self, e: MaskId, i: MaskId) -> MaskId {
        match (e, i, self) {
            (EMPTY, _, _) | (_, EMPTY, _) => EMPTY,
            (ALL, x, _) | (x, ALL, _) => x,
            (_, _, Meet::Sparse(map)) => map[&(e, i)],
            (
                _,
                _,
                Meet::Dense {
                    row,
                    col,
                    cols,
                    cells,
                },
            ) => {
                let (r, c) = (row[e as usize] as usize, col[i as usize] as usize);
                cells[r * cols + c]
            }
        }
    }
}
