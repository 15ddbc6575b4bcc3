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
    /// The output projection folded into the call, if any (then the call returns the
    /// projected outputs of every step only).
    pub out: Option<Projection<'a>>,
}

/// An output projection `out_t = h_t W + b` on the host.
#[derive(Clone, Copy, Debug)]
pub struct Projection<'a> {
    /// `[H, K]`.
    pub w: &'a [f32],
    /// `[K]`.
    pub b: &'a [f32],
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

/// One run of consecutive units that one weight block fills in `F`: units `j..j + n` of
/// block `b` of `w_ih` (`x`) or `w_hh` go to columns `col..col + n` of every row of `F`'s
/// input or recurrent part, and the same units of the bias to the same columns of `f`.
struct Run {
    x: bool,
    /// Offset of the run within a row of the weights and in the bias: `b H + j`.
    at: usize,
    col: usize,
    n: usize,
}

/// The runs of [`Run`] that fill `F` for cell `M`: a block of `U` units at a time.
fn runs<M: CellMath>(l: &Layout) -> impl Iterator<Item = Run> + '_ {
    (0..M::GROUPS).flat_map(move |g| {
        let (from_x, from_h) = M::source(g);
        let sources = [(true, from_x), (false, from_h)];
        sources.into_iter().flat_map(move |(x, b)| {
            b.into_iter().flat_map(move |b| {
                (0..l.hidden).step_by(l.units).map(move |j| Run {
                    x,
                    at: b * l.hidden + j,
                    col: l.column(j, g),
                    n: l.units.min(l.hidden - j),
                })
            })
        })
    })
}

/// The rows of `F` that a run of `x` (`true`: the input part) fills: their count and first
/// row.
fn part(l: &Layout, x: bool) -> (usize, usize) {
    if x { (l.input, 0) } else { (l.hidden, l.input) }
}

/// The stacked weights `F` (`(C + H) x 32 P`, row-major) and summed biases `f` of the
/// product.
pub(super) fn fuse<M: CellMath>(l: &Layout, w: Weights<'_>) -> (Vec<f32>, Vec<f32>) {
    let gw = M::GATES * l.hidden;
    let mut f = vec![0.0f32; (l.input + l.hidden) * l.width];
    let mut bias = vec![0.0f32; l.width];
    for r in runs::<M>(l) {
        let (src, b) = if r.x {
            (w.w_ih, w.b_ih)
        } else {
            (w.w_hh, w.b_hh)
        };
        let (rows, first) = part(l, r.x);
        for p in 0..rows {
            f[(first + p) * l.width + r.col..][..r.n].copy_from_slice(&src[p * gw + r.at..][..r.n]);
        }
        for (d, v) in bias[r.col..r.col + r.n]
            .iter_mut()
            .zip(&b[r.at..r.at + r.n])
        {
            *d += v;
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
    for r in runs::<M>(l) {
        let (dst, b) = if r.x {
            (&mut g.w_ih, &mut g.b_ih)
        } else {
            (&mut g.w_hh, &mut g.b_hh)
        };
        let (rows, first) = part(l, r.x);
        for p in 0..rows {
            dst[p * gw + r.at..][..r.n]
                .copy_from_slice(&df[(first + p) * l.width + r.col..][..r.n]);
        }
        b[r.at..r.at + r.n].copy_from_slice(&df_bias[r.col..r.col + r.n]);
    }
}
