//! Backpropagation through time: each worker runs the reverse loop for a block of batch rows
//! and sums its rows' weight gradients in chunks that are still in cache ([`Chunk`]).
use rayon::prelude::*;
use seqae_simd::{Isa, Path};

use super::buffers::{Filling, Shared, padded_rows, put_rows};
use super::cells::CellMath;
use super::forward::Saved;
use super::layout::{BLOCK, Dims, Layout, SAVED_ROW, Weights, fuse, unfuse, units};
use super::projection::Projector;
use super::{Pass, Sequences, row_blocks, warm};
use crate::fused::small_gemm::{Packed, Strided, TILE_COLS, add_product, tile_rows};

/// Gradients of one fused call.
#[derive(Clone, Debug, Default)]
pub struct Grads {
    /// `[T, B, C]` (empty unless asked for).
    pub x: Vec<f32>,
    /// `[B, H]`.
    pub h0: Vec<f32>,
    /// `[B, H]` (zeros for cells without a cell state).
    pub c0: Vec<f32>,
    /// `[C, G*H]`.
    pub w_ih: Vec<f32>,
    /// `[H, G*H]`.
    pub w_hh: Vec<f32>,
    /// `[G*H]`.
    pub b_ih: Vec<f32>,
    /// `[G*H]`.
    pub b_hh: Vec<f32>,
    /// `[H, K]` (empty without a folded projection).
    pub w_out: Vec<f32>,
    /// `[K]` (empty without a folded projection).
    pub b_out: Vec<f32>,
}

/// Everything the backward workers share.
struct BackwardJob<'a> {
    seq: Sequences<'a>,
    dy: &'a [f32],
    saved: &'a Saved,
    /// The recurrent rows of `F`, transposed, in panels (`32 P x H`).
    f_h: &'a Packed,
    /// The input rows of `F`, transposed, in panels, where the input gradient is wanted.
    f_x: Option<&'a Packed>,
    /// The folded output projection, if any (then `dy` is the outputs' gradient).
    proj: Option<&'a Projector>,
    dx: Shared<'a>,
    dh0: Shared<'a>,
    dc0: Shared<'a>,
}

/// Backpropagation through time from `dy` (the gradient of [`super::forward()`]'s `y`, of the same
/// layout: the projected outputs with a folded projection, else every step with `all_steps`,
/// else the final states); the input gradient only with `need_x`. `isa` picks the code path.
#[allow(clippy::too_many_arguments)]
pub fn backward<M: CellMath>(
    d: Dims,
    x: &[f32],
    mask: &[f32],
    w: Weights<'_>,
    saved: &Saved,
    dy: &[f32],
    pass: Pass,
    need_x: bool,
    isa: Isa,
) -> Grads {
    let l = Layout::new::<M>(d);
    let (c, h) = (l.input, l.hidden);
    let (f, _) = fuse::<M>(&l, w);
    let f_h = Packed::transposed(&f[c * l.width..], (l.width, h));
    let f_x = need_x.then(|| Packed::transposed(&f[..c * l.width], (l.width, c)));
    let proj = w.out.map(|o| Projector::new(&l, o));
    let rows = d.steps * d.batch;
    let mut dx = Filling::new(if need_x { rows * c } else { 0 });
    let mut dh0 = Filling::new(d.batch * h);
    let mut dc0 = Filling::new(d.batch * h);
    let job = BackwardJob {
        seq: Sequences::new(l, d, (x, mask), pass),
        dy,
        saved,
        f_h: &f_h,
        f_x: f_x.as_ref(),
        proj: proj.as_ref(),
        dx: dx.shared(),
        dh0: dh0.shared(),
        dc0: dc0.shared(),
    };
    let sum = |mut a: Vec<f32>, b: Vec<f32>| {
        a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
        a
    };
    // Each worker sums the weight gradients of its rows: [x | h]^T dpre, then the bias row,
    // then the projection's.
    let df = warm::section(|| {
        row_blocks(d.batch)
            .into_par_iter()
            .map(
                |(r0, nb)| on_path!(isa, backward_rows::<M>(BackwardJob<'_>, &job, r0, nb) -> Vec<f32>),
            )
            .reduce_with(sum)
            .unwrap_or_default()
    });
    // SAFETY: the workers wrote every step of every row (see `backward_rows`).
    let (x_grad, h0, c0) = unsafe { (dx.finish(), dh0.finish(), dc0.finish()) };
    let mut g = Grads {
        x: x_grad,
        h0,
        c0,
        ..Grads::default()
    };
    let (df, proj_sum) = df.split_at(df.len() - proj.as_ref().map_or(0, |p| p.grad_len()));
    if let Some(p) = &proj {
        (g.w_out, g.b_out) = p.weight_grads(proj_sum, h);
    }
    let (df, df_bias) = df.split_at(df.len() - l.width);
    unfuse::<M>(&l, df, df_bias, &mut g);
    g
}

/// Rows of the sum in one weight-gradient product of a worker (a few steps of its rows).
const CHUNK_ROWS: usize = 256;

/// The backward pass of rows `r0..r0 + nb`: the reverse loop, each step the cell's gradients
/// row by row and block by block, then `dh += dpre F_h^T` for the whole block of rows. The
/// pre-activation gradients and the inputs of the last few steps are kept in chunks laid out
/// for the weight-gradient product, which runs whenever a chunk is full (while both are in
/// cache). Returns this worker's `[x | h]^T dpre` (`C + H` rows of `32 P`) followed by the
/// column sums of `dpre` (`32 P`) and, with a folded projection, its weight gradients.
#[inline(always)]
fn backward_rows<M: CellMath, P: Path>(
    p: P,
    j: &BackwardJob<'_>,
    r0: usize,
    nb: usize,
) -> Vec<f32> {
    let Layout {
        input,
        hidden,
        blocks,
        width,
        padded,
        ..
    } = j.seq.l;
    let units = units::<M>();
    let sw = M::SAVED * units;
    let mut dh = vec![0.0f32; nb * padded];
    // (A folded projection leaves the final cell state without a gradient.)
    let mut dc = if M::CELL_STATE && j.proj.is_none() {
        let at = (j.seq.cell_block() * j.seq.batch + r0) * hidden;
        padded_rows(&j.dy[at..], nb, (hidden, padded))
    } else {
        vec![0.0f32; nb * padded]
    };
    let mut step = vec![0.0f32; nb * width];
    let mut dx_step = vec![0.0f32; if j.f_x.is_some() { nb * input } else { 0 }];
    // Features per panel of `A^T`: the rows of one product tile.
    let mut chunk = Chunk::new(input + hidden, width, nb, tile_rows(p));
    let mut proj_dy = vec![0.0f32; if j.proj.is_some() { padded } else { 0 }];
    let mut proj_sum = vec![0.0f32; j.proj.map_or(0, |p| p.grad_len())];
    for k in (0..j.seq.steps).rev() {
        let t = j.seq.time(k);
        let first = t * j.seq.batch + r0;
        for row in 0..nb {
            let m = j.seq.mask[first + row];
            let at = first + row;
            // The gradient of the state after this step: through the projection of the
            // step's outputs, from `y`'s row of the step, or from the final state's row at
            // the last step processed.
            let dy = if let Some(proj) = j.proj {
                let dout = &j.dy[at * proj.outputs..][..proj.outputs];
                // The state after this step: saved before the next step, or the final one.
                let h_after = if k + 1 < j.seq.steps {
                    let next = j.seq.time(k + 1) * j.seq.batch + r0 + row;
                    &j.saved.h_prev[next * padded..][..padded]
                } else {
                    &j.saved.h_final[(r0 + row) * padded..][..padded]
                };
                proj.add_weight_grad(dout, h_after, &mut proj_sum);
                proj.state_grad(dout, &mut proj_dy);
                &proj_dy[..hidden]
            } else {
                let dy_at = if j.seq.pass.all_steps {
                    Some(at)
                } else {
                    (k + 1 == j.seq.steps).then_some(r0 + row)
                };
                dy_at.map_or(&[][..], |a| &j.dy[a * hidden..(a + 1) * hidden])
            };
            for q in 0..blocks {
                let (u0, o) = (q * units, row * padded + q * units);
                let nu = units.min(hidden - u0);
                // The cell runs on copies in stack arrays: they alias nothing, so the loops
                // vectorise without run-time overlap checks.
                let mut dh_new = [0.0f32; BLOCK];
                let mut dc_new = [0.0f32; BLOCK];
                let mut dyq = [0.0f32; BLOCK];
                let mut dhq = [0.0f32; BLOCK];
                let mut dcq = [0.0f32; BLOCK];
                let mut dp = [0.0f32; BLOCK];
                if !dy.is_empty() {
                    // (A whole block is a copy of known length: a few moves, not a call.)
                    if nu == units {
                        dyq[..units].copy_from_slice(&dy[u0..u0 + units]);
                    } else {
                        dyq[..nu].copy_from_slice(&dy[u0..u0 + nu]);
                    }
                }
                dhq[..units].copy_from_slice(&dh[o..o + units]);
                for u in 0..units {
                    let g = dhq[u] + dyq[u];
                    dh_new[u] = m * g;
                    dhq[u] = (1.0 - m) * g;
                }
                if M::CELL_STATE {
                    dcq[..units].copy_from_slice(&dc[o..o + units]);
                    for u in 0..units {
                        dc_new[u] = m * dcq[u];
                        dcq[u] *= 1.0 - m;
                    }
                }
                let s = at * padded + u0;
                // The saved values too: read through the shared buffers, the cell loop
                // stayed scalar.
                let mut acts = [0.0f32; SAVED_ROW];
                acts[..sw].copy_from_slice(&j.saved.acts[(at * blocks + q) * sw..][..sw]);
                let mut h_prev = [0.0f32; BLOCK];
                h_prev[..units].copy_from_slice(&j.saved.h_prev[s..s + units]);
                let mut c_prev = [0.0f32; BLOCK];
                if M::CELL_STATE {
                    c_prev[..units].copy_from_slice(&j.saved.c_prev[s..s + units]);
                }
                M::backward(
                    &acts[..sw],
                    &h_prev[..units],
                    &c_prev[..units],
                    &dh_new[..units],
                    &dc_new[..units],
                    &mut dp,
                    &mut dhq[..units],
                    &mut dcq[..units],
                );
                dh[o..o + units].copy_from_slice(&dhq[..units]);
                if M::CELL_STATE {
                    dc[o..o + units].copy_from_slice(&dcq[..units]);
                }
                step[row * width + q * BLOCK..][..BLOCK].copy_from_slice(&dp);
            }
            let x_row = &j.seq.x[at * input..(at + 1) * input];
            let h_row = &j.saved.h_prev[at * padded..][..hidden];
            chunk.push(x_row, h_row, &step[row * width..(row + 1) * width]);
        }
        if chunk.is_full() {
            chunk.flush(p);
        }
        add_product(
            p,
            (nb, hidden, width),
            Strided::rows(&step, width),
            (j.f_h, 0),
            &mut dh,
            padded,
        );
        if let Some(f_x) = j.f_x {
            dx_step.fill(0.0);
            add_product(
                p,
                (nb, input, width),
                Strided::rows(&step, width),
                (f_x, 0),
                &mut dx_step,
                input,
            );
            // SAFETY: rows first..first+nb of step t belong to this worker alone.
            unsafe { j.dx.put(first * input, &dx_step) };
        }
    }
    // SAFETY: rows r0..r0+nb belong to this worker alone.
    unsafe {
        put_rows(j.dh0, r0 * hidden, &dh, (padded, hidden));
        put_rows(j.dc0, r0 * hidden, &dc, (padded, hidden));
    }
    chunk.flush(p);
    let mut sums = chunk.finish();
    sums.extend_from_slice(&proj_sum);
    sums
}

/// A worker's running weight gradient `A^T D` (`A`: rows `[x | h]`, `D`: the pre-activation
/// gradients of the same rows), fed row by row and multiplied out a chunk of rows at a time:
/// `A^T` in row panels of `quad` features (the left operand of a tile of as many rows, read
/// front to back) and `D` in column panels of 16.
struct Chunk {
    /// Features `C + H`.
    features: usize,
    /// Features per panel of `A^T` (4, or 8 on the AVX-512 path).
    quad: usize,
    width: usize,
    /// Rows a chunk holds.
    cap: usize,
    /// Rows held now.
    len: usize,
    /// `A^T`: panel `i` holds features `quad i .. quad (i + 1)` of every row (`[cap, quad]`).
    a: Vec<f32>,
    /// One row of `A` being added (`features` rounded up to `quad`; the rounding stays zero).
    row: Vec<f32>,
    /// `D` in column panels of `cap` rows.
    d: Packed,
    /// The sum: `features` rows (rounded up to a multiple of `quad`) of `width`, then the
    /// column sums of `D`.
    sum: Vec<f32>,
}

impl Chunk {
    fn new(features: usize, width: usize, rows_per_step: usize, quad: usize) -> Chunk {
        let steps = (CHUNK_ROWS / rows_per_step).max(1);
        let cap = steps * rows_per_step;
        let padded = features.next_multiple_of(quad);
        Chunk {
            features,
            quad,
            width,
            cap,
            len: 0,
            a: vec![0.0; padded * cap],
            row: vec![0.0; padded],
            d: Packed::from_panels(vec![0.0; width * cap], (cap, width)),
            sum: vec![0.0; (padded + 1) * width],
        }
    }

    fn is_full(&self) -> bool {
        self.len == self.cap
    }

    /// Adds one row: its input, its previous state and its pre-activation gradients.
    #[inline(always)]
    fn push(&mut self, x: &[f32], h: &[f32], dpre: &[f32]) {
        let p = self.len;
        self.row[..x.len()].copy_from_slice(x);
        self.row[x.len()..self.features].copy_from_slice(h);
        let q = self.quad;
        for (ib, part) in self.row.chunks_exact(q).enumerate() {
            self.a[(ib * self.cap + p) * q..][..q].copy_from_slice(part);
        }
        for (q, part) in dpre.chunks_exact(TILE_COLS).enumerate() {
            self.d.panel_mut(q)[p * TILE_COLS..][..TILE_COLS].copy_from_slice(part);
        }
        let at = self.sum.len() - self.width;
        let bias = &mut self.sum[at..];
        for (s, v) in bias.iter_mut().zip(dpre) {
            *s += v;
        }
        self.len += 1;
    }

    /// Adds `A^T D` of the rows held to the sum and empties the chunk (row block by row
    /// block; running it panel by panel instead, to keep a panel of `D` in L1, was no
    /// faster).
    fn flush<P: Path>(&mut self, p: P) {
        let q = self.quad;
        for ib in 0..self.features.div_ceil(q) {
            let a = Strided {
                data: &self.a[ib * q * self.cap..(ib + 1) * q * self.cap],
                row: 1,
                col: q,
            };
            let c = &mut self.sum[ib * q * self.width..(ib + 1) * q * self.width];
            add_product(p, (q, self.width, self.len), a, (&self.d, 0), c, self.width);
        }
        self.len = 0;
    }

    /// The sum: `[x | h]^T dpre` rows, then the column sums.
    fn finish(self) -> Vec<f32> {
        let padded = self.features.next_multiple_of(self.quad);
        let mut sum = self.sum;
        // Drop the rounding rows, keep the column sums.
        sum.drain(self.features * self.width..padded * self.width);
        sum
    }
}
