//! One direction's role tables, laid out per view: a row per feature and a
//! column per role of the view's namespace. What a class pair gets from one
//! side is one cell; what every role of a namespace allows toward one peer
//! is one contiguous row (which is what counting walks).

use palisade_model::Direction;

use crate::hash::FxMap;
use crate::ports::{MaskId, Masks, PortAtoms, ALL};
use crate::roles::{Role, OPEN};
use crate::tables::columns;
use crate::views::{Ctx, View};

#[derive(Debug, Clone)]
pub(crate) struct Side {
    /// Views of the namespaces that have isolated classes.
    pub views: Vec<View>,
    /// Per role: (view, column); `None` for the open role.
    pub roles: Vec<Option<(u32, u32)>>,
    /// Per view: `features x width` masks, row-major.
    pub cells: Vec<Vec<MaskId>>,
    /// Per view: its number of roles (columns).
    pub width: Vec<usize>,
}

impl Side {
    pub(crate) fn new(
        ctx: &Ctx<'_, '_>,
        atoms: &PortAtoms,
        masks: &mut Masks,
        roles: &[Role],
        d: Direction,
    ) -> Self {
        let mut side = Side {
            views: Vec::new(),
            roles: vec![None],
            cells: Vec::new(),
            width: Vec::new(),
        };
        let mut view_of_ns: FxMap<u32, usize> = FxMap::default();
        let mut of_view: Vec<Vec<u32>> = Vec::new();
        for (r, role) in roles.iter().enumerate().skip(OPEN as usize + 1) {
            let v = *view_of_ns.entry(role.ns).or_insert_with(|| {
                side.views.push(View::new(ctx, role.ns, d));
                of_view.push(Vec::new());
                of_view.len() - 1
            });
            side.roles.push(Some((v as u32, of_view[v].len() as u32)));
            of_view[v].push(r as u32);
        }
        for (view, rs) in side.views.iter().zip(&of_view) {
            let rs: Vec<&Role> = rs.iter().map(|&r| &roles[r as usize]).collect();
            let cols = columns(ctx, atoms, masks, view, &rs, d);
            side.cells.push(interleave(&cols, view.features.len()));
            side.width.push(rs.len());
        }
        side
    }

    /// The ports role `role` allows toward (or from) class `peer`.
    #[inline]
    pub(crate) fn allows(&self, role: u32, peer: u32) -> MaskId {
        match self.roles[role as usize] {
            None => ALL,
            Some((v, col)) => {
                let f = self.views[v as usize].of_class[peer as usize];
                self.row(v, f)[col as usize]
            }
        }
    }

    /// What every role of view `v` allows toward feature `f`.
    #[inline]
    pub(crate) fn row(&self, v: u32, f: u32) -> &[MaskId] {
        let w = self.width[v as usize];
        &self.cells[v as usize][f as usize * w..(f as usize + 1) * w]
    }
}

/// Columns (one per role, one entry per feature) into row-major cells.
fn interleave(cols: &[Vec<MaskId>], rows: usize) -> Vec<MaskId> {
    (0..rows)
        .flat_map(|f| cols.iter().map(move |c| c[f]))
        .collect()
}
