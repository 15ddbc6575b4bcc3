//! Sizes of a fused call and the layout of its product: the stacked weights `F`, whose
//! 32-column blocks hold every gate of a few hidden units ([`Layout`]), and the way back for
//! their gradients.
use super::backward::Grads;
use super::cells::CellMath;
use crate::fused::small_gemm::TILE_COLS;

/// Sizes of one fused call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Steps `T`.
    pub steps: usize,
    /// Batch rows `B`.
    pub batch: usize,
    /// Input size `C`.
    pub input: usize,
    /// Hidden size `H`.
    pub hidden: usize,
}

/// Weights of one cell on the host.
#[derive(Clone, Copy, Debug)]
pub struct Weights<'a> {
    /// `[C, G*H]`.
    pub w_ih: &'a [f32],
    /// `[H, G*H]`.
    pub w_hh: &'a [f32],
    /// `[G*H]`.
    pub b_ih: &'a [f32],
    /// `[G*H]`.
    pub b_hh: &'a [f32],
}

/// Columns of one block of the fused product: two panels, four 8-lane vectors.
pub(super) const BLOCK: usize = 2 * TILE_COLS;
/// Saved values of one row and block, at most (`SAVED U`: 5 x 8 for the LSTM).
pub(super) const SAVED_ROW: usize = 40;

/// Where the fused product puts each pre-activation: block `q` (32 columns, panels `2q` and
/// `2q + 1`) holds units `q U .. q U + U` (`U = 32 / GROUPS`), group after group, so that
/// with 8 units each gate is one 8-lane vector; the states the workers carry are padded to
/// `P U` units (the padding units have zero weights and stay zero).
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    pub(super) input: usize,
    pub(super) hidden: usize,
    /// Units per block `U`.
    pub(super) units: usize,
    /// Blocks `P`.
    pub(super) blocks: usize,
    /// Columns of the product, `32 P`.
    pub(super) width: usize,
    /// Padded state width `P U`.
    pub(super) padded: usize,
}

/// Units per block of cell `M` (a constant, so that the cell loops have a known length).
#[inline(always)]
pub(super) const fn units<M: CellMath>() -> usize {
    BLOCK / M::GROUPS
}

impl Layout {
    pub(super) fn new<M: CellMath>(d: Dims) -> Layout {
        assert!(
            BLOCK.is_multiple_of(M::GROUPS),
            "groups must divide a block"
        );
        let units = units::<M>();
        let blocks = d.hidden.div_ceil(units);
        Layout {
            input: d.input,
            hidden: d.hidden,
            units,
            blocks,
            width: blocks * BLOCK,
            padded: blocks * units,
        }
    }

    /// The product column of `unit`'s pre-activation `group`.
    pub(super) fn column(&self, unit: usize, group: usize) -> usize {
        (unit / self.units) * BLOCK + group * self.units + unit % self.units
    }
}

/// The stacked weights `F` (`(C + H) x 32 P`, row-major) and summed biases `f` of the
/// product.
pub(super) fn fuse<M: CellMath>(l: &Layout, w: Weights<'_>) -> (Vec<f32>, Vec<f32>) {
    let (c, h, gw) = (l.input, l.hidden, M::GATES * l.hidden);
    let mut f = vec![0.0f32; (c + h) * l.width];
    let mut bias = vec![0.0f32; l.width];
    for g in 0..M::GROUPS {
        let (from_x, from_h) = M::source(g);
        for j in 0..h {
            let col = l.column(j, g);
            if let Some(b) = from_x {
                for p in 0..c {
                    f[p * l.width + col] = w.w_ih[p * gw + b * h + j];
                }
                bias[col] += w.b_ih[b * h + j];
            }
            if let Some(b) = from_h {
                for p in 0..h {
                    f[(c + p) * l.width + col] = w.w_hh[p * gw + b * h + j];
                }
                bias[col] += w.b_hh[b * h + j];
            }
        }
    }
    (f, bias)
}

/// The gradients of `F` and `f` back into the gradients of the weights and biases they were
/// built from (the inverse of [`fuse`]'s gathering).
pub(super) fn unfuse<M: CellMath>(l: &Layout, df: &[f32], df_bias: &[f32], g: &mut Grads) {
    let (c, h, gw) = (l.input, l.hidden, M::GATES * l.hidden);
    g.w_ih = vec![0.0; c * gw];
    g.w_hh = vec![0.0; h * gw];
    g.b_ih = vec![0.0; gw];
    g.b_hh = vec![0.0; gw];
    for group in 0..M::GROUPS {
        let (from_x, from_h) = M::source(group);
        for j in 0..h {
            let col = l.column(j, group);
            if let Some(b) = from_x {
                for p in 0..c {
                    g.w_ih[p * gw + b * h + j] = df[p * l.width + col];
                }
                g.b_ih[b * h + j] = df_bias[col];
            }
            if let Some(b) = from_h {
                for p in 0..h {
                    g.w_hh[p * gw + b * h + j] = df[(c + p) * l.width + col];
                }
                g.b_hh[b * h + j] = df_bias[col];
            }
        }
    }
}
