//! The forward pass: each worker runs the whole sequence for a block of batch rows, one
//! product tile and the cell on it at a time, and keeps what the backward pass needs.
use rayon::prelude::*;
use seqae_simd::{Isa, Path};

use super::buffers::{Filling, Shared, padded_rows, put_rows};
use super::cells::{CellMath, MAX_CELL_ROWS};
use super::layout::{BLOCK, Dims, Layout, SAVED_ROW, Weights, fuse, units};
#[cfg(target_arch = "x86_64")]
use super::lstm_avx512;
use super::projection::Projector;
use super::{Pass, Sequences, output_shape, row_blocks, warm};
use crate::fused::small_gemm::{Packed, Strided, TILE_COLS, accumulate};

/// Rows of one step tile on the AVX-512 path: 16 accumulators of its 32 registers.
const WIDE_TILE_ROWS: usize = 8;

/// What the forward pass keeps for the backward pass.
#[derive(Clone, Debug, Default)]
pub struct Saved {
    /// State before each step, `[T, B, P U]` (padded).
    pub h_prev: Vec<f32>,
    /// LSTM cell state before each step, `[T, B, P U]` (empty otherwise).
    pub c_prev: Vec<f32>,
    /// The cell's saved values, `[T, B, P, SAVED U]` (`P` blocks of `U` units).
    pub acts: Vec<f32>,
    /// The state after the last step, `[B, P U]` (padded; with a folded projection and
    /// `save` only, else empty).
    pub h_final: Vec<f32>,
}

/// Everything the forward workers share.
pub(super) struct ForwardJob<'a> {
    pub(super) seq: Sequences<'a>,
    h0: &'a [f32],
    c0: &'a [f32],
    /// `F` in panels.
    f: &'a Packed,
    bias: &'a [f32],
    /// The folded output projection, if any.
    proj: Option<&'a Projector>,
    pub(super) save: bool,
    y: Shared<'a>,
    h_prev: Shared<'a>,
    c_prev: Shared<'a>,
    pub(super) acts: Shared<'a>,
    h_final: Shared<'a>,
}

/// The forward pass. Returns `y`: with a folded projection (`w.out`, which needs
/// `all_steps`), `[T, B, K]`: the projected outputs of each step in time order; else with
/// `all_steps`, `[T+1, B, H]`: the hidden state after each step in time order, then the final
/// LSTM cell state (zeros for other cells); without, `[2, B, H]`: the final hidden state and
/// the final cell state. With `save`, also the activations for [`super::backward()`]. `isa`
/// picks the code path.
#[allow(clippy::too_many_arguments)]
pub fn forward<M: CellMath>(
    d: Dims,
    x: &[f32],
    mask: &[f32],
    h0: &[f32],
    c0: &[f32],
    w: Weights<'_>,
    pass: Pass,
    save: bool,
    isa: Isa,
) -> (Vec<f32>, Saved) {
    let l = Layout::new::<M>(d);
    let (f, bias) = fuse::<M>(&l, w);
    let f = Packed::new(&f, l.width, (l.input + l.hidden, l.width));
    assert!(
        w.out.is_none() || pass.all_steps,
        "a folded projection needs every step"
    );
    let proj = w.out.map(|o| Projector::new(&l, o));
    let rows = d.steps * d.batch;
    let saved_len = |n: usize| if save { rows * n } else { 0 };
    let shape = output_shape(d, pass, proj.as_ref().map(|p| p.outputs));
    let mut y = Filling::new(shape.iter().product());
    let mut h_prev = Filling::new(saved_len(l.padded));
    let mut c_prev = Filling::new(if M::CELL_STATE {
        saved_len(l.padded)
    } else {
        0
    });
    let mut acts = Filling::new(saved_len(l.blocks * M::SAVED * l.units));
    let mut h_final = Filling::new(if save && proj.is_some() {
        d.batch * l.padded
    } else {
        0
    });
    let job = ForwardJob {
        seq: Sequences::new(l, d, (x, mask), pass),
        h0,
        c0,
        f: &f,
        bias: &bias,
        proj: proj.as_ref(),
        save,
        y: y.shared(),
        h_prev: h_prev.shared(),
        c_prev: c_prev.shared(),
        acts: acts.shared(),
        h_final: h_final.shared(),
    };
    warm::section(|| {
        row_blocks(d.batch).into_par_iter().for_each(
            |(r0, nb)| on_path!(isa, forward_rows::<M>(ForwardJob<'_>, &job, r0, nb) -> ()),
        )
    });
    // SAFETY: the workers wrote every step of every row of each buffer (and `y`'s last
    // block, or with a projection every step's outputs and `h_final`'s rows), see
    // `forward_rows`.
    unsafe {
        (
            y.finish(),
            Saved {
                h_prev: h_prev.finish(),
                c_prev: c_prev.finish(),
                acts: acts.finish(),
                h_final: h_final.finish(),
            },
        )
    }
}

/// The forward pass of rows `r0..r0 + nb`.
#[inline(always)]
fn forward_rows<M: CellMath, P: Path>(p: P, j: &ForwardJob<'_>, r0: usize, nb: usize) {
    let Layout {
        input,
        hidden,
        padded,
        ..
    } = j.seq.l;
    let mut h = padded_rows(&j.h0[r0 * hidden..], nb, (hidden, padded));
    // Zeros for cells without a cell state, which never write it.
    let mut c = if M::CELL_STATE {
        padded_rows(&j.c0[r0 * hidden..], nb, (hidden, padded))
    } else {
        vec![0.0f32; nb * padded]
    };
    let (mut h_next, mut c_next) = (h.clone(), c.clone());
    let mut out = vec![0.0f32; j.proj.map_or(0, |p| nb * p.outputs)];
    for k in 0..j.seq.steps {
        let t = j.seq.time(k);
        let first = t * j.seq.batch + r0;
        if j.save {
            // SAFETY: rows first..first+nb of step t belong to this worker alone.
            unsafe { j.h_prev.put(first * padded, &h) };
            if M::CELL_STATE {
                // SAFETY: as above.
                unsafe { j.c_prev.put(first * padded, &c) };
            }
        }
        let xs = &j.seq.x[first * input..(first + nb) * input];
        let mut s = StepState {
            first,
            h: &h,
            c: &c,
            h_next: &mut h_next,
            c_next: &mut c_next,
        };
        for q in 0..j.seq.l.blocks {
            // Tiles of two rows by one block on AVX2: 8 accumulators, 4 panel vectors, a
            // broadcast (three rows, 12 accumulators, ran out of its 16 registers and was
            // slower). AVX-512 holds a row of a block in 2 of its 32 registers: eight rows.
            let mut r = 0;
            if p.avx512().is_some() {
                while r + WIDE_TILE_ROWS <= nb {
                    step_tile::<M, WIDE_TILE_ROWS, P>(p, j, &mut s, xs, q, r);
                    r += WIDE_TILE_ROWS;
                }
                if r + 4 <= nb {
                    step_tile::<M, 4, P>(p, j, &mut s, xs, q, r);
                    r += 4;
                }
            }
            while r + 2 <= nb {
                step_tile::<M, 2, P>(p, j, &mut s, xs, q, r);
                r += 2;
            }
            if r < nb {
                step_tile::<M, 1, P>(p, j, &mut s, xs, q, r);
            }
        }
        std::mem::swap(&mut h, &mut h_next);
        std::mem::swap(&mut c, &mut c_next);
        if let Some(proj) = j.proj {
            proj.apply(&h, &mut out);
            // SAFETY: as above.
            unsafe { j.y.put(first * proj.outputs, &out) };
        } else if j.seq.pass.all_steps {
            // SAFETY: as above.
            unsafe { put_rows(j.y, first * hidden, &h, (padded, hidden)) };
        }
    }
    if j.proj.is_some() {
        if j.save {
            // SAFETY: rows r0..r0+nb belong to this worker alone.
            unsafe { j.h_final.put(r0 * padded, &h) };
        }
        return;
    }
    if !j.seq.pass.all_steps {
        // SAFETY: the final blocks' rows r0..r0+nb belong to this worker alone.
        unsafe { put_rows(j.y, r0 * hidden, &h, (padded, hidden)) };
    }
    let last = j.seq.cell_block() * j.seq.batch + r0;
    // SAFETY: as above, for the block of the final cell state.
    unsafe { put_rows(j.y, last * hidden, &c, (padded, hidden)) };
}

/// The states of one step of one worker: read `h`, `c`; write `h_next`, `c_next`.
pub(super) struct StepState<'s> {
    pub(super) first: usize,
    pub(super) h: &'s [f32],
    pub(super) c: &'s [f32],
    pub(super) h_next: &'s mut [f32],
    pub(super) c_next: &'s mut [f32],
}

/// Rows `r..r + R` (of the worker) and block `q` of one step: the product tile from the
/// bias, then the cell on each row, the mask, and the saved values.
#[inline(always)]
fn step_tile<M: CellMath, const R: usize, P: Path>(
    p: P,
    j: &ForwardJob<'_>,
    s: &mut StepState<'_>,
    xs: &[f32],
    q: usize,
    r: usize,
) {
    let Layout {
        input,
        hidden,
        padded,
        ..
    } = j.seq.l;
    let (x0, h0) = j.f.panel(2 * q).split_at(input * TILE_COLS);
    let (x1, h1) = j.f.panel(2 * q + 1).split_at(input * TILE_COLS);
    let bias = &j.bias[q * BLOCK..][..BLOCK];
    let mut acc = [[[0.0f32; TILE_COLS]; 2]; R];
    for row in acc.iter_mut() {
        row.as_flattened_mut().copy_from_slice(bias);
    }
    let xa = Strided::rows(&xs[r * input..], input);
    accumulate::<R, 2, P>(p, &mut acc, xa, input, [x0, x1]);
    let ha = Strided::rows(&s.h[r * padded..], padded);
    accumulate::<R, 2, P>(p, &mut acc, ha, hidden, [h0, h1]);
    // The LSTM on AVX-512: the cell in registers, two rows at a time.
    #[cfg(target_arch = "x86_64")]
    if M::AVX512_CELL
        && R.is_multiple_of(2)
        && let Some(token) = p.avx512()
    {
        // SAFETY: the token proves that the CPU has AVX-512F, AVX2 and FMA.
        return unsafe { lstm_avx512::forward_cells::<R>(token, j, s, &acc, r, q) };
    }
    // Row by row where the cell loops vectorise on one row (the AVX2 and AVX-512 paths): a
    // row holds `GROUPS` blocks of `U` pre-activations, the layout the cell reads, and its
    // saved values come out in the layout they are kept in (regrouped rows made the AVX-512
    // loops read 16 values where 8 had just been written, which stalled them). The portable
    // path regroups the tile's rows into blocks of `R U` values, where one row's loops stayed
    // scalar (4x slower).
    // (The portable path's tiles have at most `MAX_CELL_ROWS` rows; both branches are
    // compiled for every path, so that bound is checked where it is run.)
    if p.avx2_fma().is_some() {
        cells::<M, R, 1, P>(j, s, &acc, r, q);
    } else {
        assert!(R <= MAX_CELL_ROWS, "portable tiles have at most two rows");
        cells::<M, R, R, P>(j, s, &acc, r, q);
    }
}

/// The cell, the mask and the saved values of the `R` tile rows `acc` (worker rows
/// `r..r + R`, block `q`), `G` rows at a time (`G` divides `R`): with `G > 1` the rows are
/// regrouped into blocks of `G U` values, so that each loop runs over `G` rows. The states go
/// through stack copies (they alias nothing, so the loops vectorise), declared once for the
/// tile: each group overwrites what it reads.
#[inline(always)]
fn cells<M: CellMath, const R: usize, const G: usize, P: Path>(
    j: &ForwardJob<'_>,
    s: &mut StepState<'_>,
    acc: &[[[f32; TILE_COLS]; 2]; R],
    r: usize,
    q: usize,
) {
    const {
        assert!(
            M::SAVED * BLOCK / M::GROUPS <= SAVED_ROW && R.is_multiple_of(G),
            "saved values fit, groups divide the tile"
        )
    };
    let Layout { blocks, padded, .. } = j.seq.l;
    let units = units::<M>();
    let (n, sw) = (G * units, M::SAVED * units);
    let mut regrouped = [[0.0f32; BLOCK]; G];
    let (mut h, mut c) = ([[0.0f32; BLOCK]; G], [[0.0f32; BLOCK]; G]);
    let (mut hn, mut cn) = ([[0.0f32; BLOCK]; G], [[0.0f32; BLOCK]; G]);
    let mut sv = [[0.0f32; SAVED_ROW]; G];
    let (h, c) = (h.as_flattened_mut(), c.as_flattened_mut());
    let (hn, cn, sv) = (
        hn.as_flattened_mut(),
        cn.as_flattened_mut(),
        sv.as_flattened_mut(),
    );
    for (k, rows) in acc.chunks_exact(G).enumerate() {
        let first = r + k * G;
        let pre: &[f32] = if G == 1 {
            rows[0].as_flattened()
        } else {
            let pre = regrouped.as_flattened_mut();
            for (i, row) in rows.iter().enumerate() {
                let row = row.as_flattened();
                for g in 0..M::GROUPS {
                    pre[g * n + i * units..][..units].copy_from_slice(&row[g * units..][..units]);
                }
            }
            pre
        };
        for i in 0..G {
            let o = (first + i) * padded + q * units;
            h[i * units..][..units].copy_from_slice(&s.h[o..o + units]);
            if M::CELL_STATE {
                c[i * units..][..units].copy_from_slice(&s.c[o..o + units]);
            }
        }
        M::forward::<P>(
            &pre[..M::GROUPS * n],
            &h[..n],
            &c[..n],
            &mut hn[..n],
            &mut cn[..n],
            &mut sv[..M::SAVED * n],
        );
        for i in 0..G {
            let row = first + i;
            let o = row * padded + q * units;
            let m = j.seq.mask[s.first + row];
            let part = i * units..(i + 1) * units;
            for (new, &old) in hn[part.clone()].iter_mut().zip(&h[part.clone()]) {
                *new = old + m * (*new - old);
            }
            s.h_next[o..o + units].copy_from_slice(&hn[part.clone()]);
            if M::CELL_STATE {
                for (new, &old) in cn[part.clone()].iter_mut().zip(&c[part.clone()]) {
                    *new = old + m * (*new - old);
                }
                s.c_next[o..o + units].copy_from_slice(&cn[part]);
            }
            if j.save {
                let mut saved = [0.0f32; SAVED_ROW];
                let row_saved: &[f32] = if G == 1 {
                    &sv[..sw]
                } else {
                    for g in 0..M::SAVED {
                        saved[g * units..][..units]
                            .copy_from_slice(&sv[g * n + i * units..][..units]);
                    }
                    &saved[..sw]
                };
                // SAFETY: row first+row, block q belongs to this worker alone.
                unsafe { j.acts.put(((s.first + row) * blocks + q) * sw, row_saved) };
            }
        }
    }
}
