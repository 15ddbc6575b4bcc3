//! The fused recurrence on host buffers: forward with saved activations, and backpropagation
//! through time. One generic loop serves the three cells through [`CellMath`].
//!
//! Layouts (row-major): inputs `x` `[T, B, C]`, mask `[T, B]` (1 = valid step; a padded step
//! carries the state), states `[B, H]`, `w_ih` `[C, G*H]`, `w_hh` `[H, G*H]`, biases `[G*H]`.
//! The batch rows are independent, so each worker runs the whole sequence for a block of rows.
use super::small_gemm::{Packed, Strided, add_product, add_product_long};
use rayon::prelude::*;

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

/// The maths of one cell on one batch row; gates are stacked in blocks of `H`.
pub trait CellMath: Sync {
    /// Gate blocks `G` in the weights.
    const GATES: usize;
    /// Blocks of `H` values saved per row and step for the backward pass.
    const SAVED: usize;
    /// Whether the cell has a cell state (LSTM).
    const CELL_STATE: bool;
    /// Whether every gate adds `xp` and `gh` (RNN, LSTM), so that their gradients are equal:
    /// then [`CellMath::backward`] writes `dgx` only and leaves `dgh` empty.
    const SHARED_GATE_GRADS: bool;

    /// One step: from the projected input `xp` (`x W_ih + b_ih`) and `gh` (`h W_hh + b_hh`),
    /// both `[G*H]`, and the previous state, writes the new state and the saved values.
    fn forward(
        xp: &[f32],
        gh: &[f32],
        h: &[f32],
        c: &[f32],
        h_new: &mut [f32],
        c_new: &mut [f32],
        saved: &mut [f32],
    );

    /// The gradients of one step: from the gradients of the new state (`dh_new`, `dc_new`),
    /// writes the gradients of the projected input (`dgx`) and of `gh` (`dgh`), and adds the
    /// direct gradients of the previous state to `dh` and `dc`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        saved: &[f32],
        h: &[f32],
        c: &[f32],
        dh_new: &[f32],
        dc_new: &[f32],
        dgx: &mut [f32],
        dgh: &mut [f32],
        dh: &mut [f32],
        dc: &mut [f32],
    );
}

/// `exp` without branches or calls (so that the gate loops vectorise): `2^n e^r` with
/// `|r| <= ln 2 / 2` and a degree-6 Taylor polynomial; relative error about 2e-7.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // The integer n read from the bits of `shifted` (an `as` cast would not vectorise).
    let k = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    p * f32::from_bits(k.wrapping_add(127) << 23)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh` through one `exp` (libm's `tanhf` is several times slower); absolute error below
/// 1e-6.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    let e = exp(-2.0 * x.abs());
    ((1.0 - e) / (1.0 + e)).copysign(x)
}

/// `K` consecutive blocks of `n` values (exact lengths, so that the gate loops vectorise).
#[inline(always)]
fn blocks<const K: usize>(s: &[f32], n: usize) -> [&[f32]; K] {
    std::array::from_fn(|k| &s[k * n..(k + 1) * n])
}

/// Mutable [`blocks`].
#[inline(always)]
fn blocks_mut<const K: usize>(s: &mut [f32], n: usize) -> [&mut [f32]; K] {
    let mut rest = &mut s[..K * n];
    std::array::from_fn(|_| {
        let (a, b) = std::mem::take(&mut rest).split_at_mut(n);
        rest = b;
        a
    })
}

/// The vanilla cell: `h' = tanh(xp + gh)`. Saves `h'`.
pub struct Rnn;

impl CellMath for Rnn {
    const GATES: usize = 1;
    const SAVED: usize = 1;
    const CELL_STATE: bool = false;
    const SHARED_GATE_GRADS: bool = true;

    #[inline(always)]
    fn forward(
        xp: &[f32],
        gh: &[f32],
        _: &[f32],
        _: &[f32],
        h_new: &mut [f32],
        _: &mut [f32],
        saved: &mut [f32],
    ) {
        let n = h_new.len();
        let ([xp], [gh], [sv]) = (
            blocks::<1>(xp, n),
            blocks::<1>(gh, n),
            blocks_mut::<1>(saved, n),
        );
        for j in 0..n {
            let v = tanh(xp[j] + gh[j]);
            h_new[j] = v;
            sv[j] = v;
        }
    }

    #[inline(always)]
    fn backward(
        saved: &[f32],
        _: &[f32],
        _: &[f32],
        dh_new: &[f32],
        _: &[f32],
        dgx: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
    ) {
        let n = dh_new.len();
        let ([sv], [gx]) = (blocks::<1>(saved, n), blocks_mut::<1>(dgx, n));
        for j in 0..n {
            let v = sv[j];
            gx[j] = dh_new[j] * (1.0 - v * v);
        }
    }
}

/// The LSTM cell (gates `i, f, g, o`). Saves `i, f, g, o, tanh(c')`.
pub struct Lstm;

impl CellMath for Lstm {
    const GATES: usize = 4;
    const SAVED: usize = 5;
    const CELL_STATE: bool = true;
    const SHARED_GATE_GRADS: bool = true;

    #[inline(always)]
    fn forward(
        xp: &[f32],
        gh: &[f32],
        _: &[f32],
        c: &[f32],
        h_new: &mut [f32],
        c_new: &mut [f32],
        saved: &mut [f32],
    ) {
        let n = h_new.len();
        let [xi, xf, xg, xo] = blocks::<4>(xp, n);
        let [hi, hf, hg, ho] = blocks::<4>(gh, n);
        let [si, sf, sg, so, st] = blocks_mut::<5>(saved, n);
        let (c, c_new) = (&c[..n], &mut c_new[..n]);
        for j in 0..n {
            let i = sigmoid(xi[j] + hi[j]);
            let f = sigmoid(xf[j] + hf[j]);
            let g = tanh(xg[j] + hg[j]);
            let o = sigmoid(xo[j] + ho[j]);
            let cn = f * c[j] + i * g;
            let tc = tanh(cn);
            c_new[j] = cn;
            h_new[j] = o * tc;
            si[j] = i;
            sf[j] = f;
            sg[j] = g;
            so[j] = o;
            st[j] = tc;
        }
    }

    #[inline(always)]
    fn backward(
        saved: &[f32],
        _: &[f32],
        c: &[f32],
        dh_new: &[f32],
        dc_new: &[f32],
        dgx: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
        dc: &mut [f32],
    ) {
        let n = dh_new.len();
        let [si, sf, sg, so, st] = blocks::<5>(saved, n);
        let [xi, xf, xg, xo] = blocks_mut::<4>(dgx, n);
        let (c, dc_new, dc) = (&c[..n], &dc_new[..n], &mut dc[..n]);
        for j in 0..n {
            let (i, f, g, o, tc) = (si[j], sf[j], sg[j], so[j], st[j]);
            let d_o = dh_new[j] * tc;
            let dcn = dc_new[j] + dh_new[j] * o * (1.0 - tc * tc);
            dc[j] += dcn * f;
            let pi = dcn * g * i * (1.0 - i);
            let pf = dcn * c[j] * f * (1.0 - f);
            let pg = dcn * i * (1.0 - g * g);
            let po = d_o * o * (1.0 - o);
            (xi[j], xf[j], xg[j], xo[j]) = (pi, pf, pg, po);
        }
    }
}

/// The GRU cell (gates `r, z, n`; `n = tanh(xn + r * hn)`, `h' = n + z (h - n)`).
/// Saves `r, z, n` and the recurrent part `hn` of the candidate.
pub struct Gru;

impl CellMath for Gru {
    const GATES: usize = 3;
    const SAVED: usize = 4;
    const CELL_STATE: bool = false;
    const SHARED_GATE_GRADS: bool = false;

    #[inline(always)]
    fn forward(
        xp: &[f32],
        gh: &[f32],
        h: &[f32],
        _: &[f32],
        h_new: &mut [f32],
        _: &mut [f32],
        saved: &mut [f32],
    ) {
        let n = h_new.len();
        let [xr, xz, xn] = blocks::<3>(xp, n);
        let [hr, hz, hn] = blocks::<3>(gh, n);
        let [sr, sz, sn, sh] = blocks_mut::<4>(saved, n);
        let h = &h[..n];
        for j in 0..n {
            let r = sigmoid(xr[j] + hr[j]);
            let z = sigmoid(xz[j] + hz[j]);
            let cand = tanh(xn[j] + r * hn[j]);
            h_new[j] = cand + z * (h[j] - cand);
            (sr[j], sz[j], sn[j], sh[j]) = (r, z, cand, hn[j]);
        }
    }

    #[inline(always)]
    fn backward(
        saved: &[f32],
        h: &[f32],
        _: &[f32],
        dh_new: &[f32],
        _: &[f32],
        dgx: &mut [f32],
        dgh: &mut [f32],
        dh: &mut [f32],
        _: &mut [f32],
    ) {
        let n = dh_new.len();
        let [sr, sz, sn, sh] = blocks::<4>(saved, n);
        let [xr, xz, xn] = blocks_mut::<3>(dgx, n);
        let [hr, hz, hn] = blocks_mut::<3>(dgh, n);
        let (h, dh) = (&h[..n], &mut dh[..n]);
        for j in 0..n {
            let (r, z, cand, hnj) = (sr[j], sz[j], sn[j], sh[j]);
            let d = dh_new[j];
            dh[j] += d * z;
            let dz = d * (h[j] - cand) * z * (1.0 - z);
            let da = d * (1.0 - z) * (1.0 - cand * cand);
            let dr = da * hnj * r * (1.0 - r);
            (xr[j], xz[j], xn[j]) = (dr, dz, da);
            (hr[j], hz[j], hn[j]) = (dr, dz, da * r);
        }
    }
}

/// Whether the CPU has AVX2 and FMA (checked once).
pub(super) fn wide() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static WIDE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *WIDE.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// [`CellMath::forward`] compiled for AVX2 (8 lanes) when the CPU has it. The operations are
/// the same (no contraction into FMA), so results do not depend on the path.
#[inline(always)]
fn forward_row<M: CellMath>(
    xp: &[f32],
    gh: &[f32],
    h: &[f32],
    c: &[f32],
    h_new: &mut [f32],
    c_new: &mut [f32],
    saved: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if wide() {
        #[target_feature(enable = "avx2,fma")]
        fn run<M: CellMath>(
            xp: &[f32],
            gh: &[f32],
            h: &[f32],
            c: &[f32],
            h_new: &mut [f32],
            c_new: &mut [f32],
            saved: &mut [f32],
        ) {
            M::forward(xp, gh, h, c, h_new, c_new, saved)
        }
        // SAFETY: the CPU has the features (checked by `wide`).
        return unsafe { run::<M>(xp, gh, h, c, h_new, c_new, saved) };
    }
    M::forward(xp, gh, h, c, h_new, c_new, saved)
}

/// [`CellMath::backward`], compiled for AVX2 when the CPU has it (see [`forward_row`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_row<M: CellMath>(
    saved: &[f32],
    h: &[f32],
    c: &[f32],
    dh_new: &[f32],
    dc_new: &[f32],
    dgx: &mut [f32],
    dgh: &mut [f32],
    dh: &mut [f32],
    dc: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if wide() {
        #[allow(clippy::too_many_arguments)]
        #[target_feature(enable = "avx2,fma")]
        fn run<M: CellMath>(
            saved: &[f32],
            h: &[f32],
            c: &[f32],
            dh_new: &[f32],
            dc_new: &[f32],
            dgx: &mut [f32],
            dgh: &mut [f32],
            dh: &mut [f32],
            dc: &mut [f32],
        ) {
            M::backward(saved, h, c, dh_new, dc_new, dgx, dgh, dh, dc)
        }
        // SAFETY: the CPU has the features (checked by `wide`).
        return unsafe { run::<M>(saved, h, c, dh_new, dc_new, dgx, dgh, dh, dc) };
    }
    M::backward(saved, h, c, dh_new, dc_new, dgx, dgh, dh, dc)
}

/// A raw pointer that workers share; each worker touches disjoint rows only.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    fn new(v: &mut [f32]) -> Shared {
        Shared(v.as_mut_ptr())
    }
    /// Rows `first..first + rows` of width `width`.
    ///
    /// # Safety
    /// The range must be in bounds and not borrowed by another worker at the same time.
    #[allow(clippy::mut_from_ref)]
    unsafe fn rows(&self, first: usize, rows: usize, width: usize) -> &mut [f32] {
        unsafe { std::slice::from_raw_parts_mut(self.0.add(first * width), rows * width) }
    }
}

/// Blocks of batch rows, one per worker (at least 8 rows each).
fn row_blocks(batch: usize) -> Vec<(usize, usize)> {
    let workers = rayon::current_num_threads().min(batch.div_ceil(8)).max(1);
    let per = batch.div_ceil(workers);
    (0..batch)
        .step_by(per)
        .map(|r| (r, per.min(batch - r)))
        .collect()
}

/// The time index of processing step `k`.
fn time(k: usize, steps: usize, reverse: bool) -> usize {
    if reverse { steps - 1 - k } else { k }
}

/// What the forward pass keeps for the backward pass.
#[derive(Clone, Debug, Default)]
pub struct Saved {
    /// State before each step, `[T, B, H]`.
    pub h_prev: Vec<f32>,
    /// LSTM cell state before each step, `[T, B, H]` (empty otherwise).
    pub c_prev: Vec<f32>,
    /// The cell's saved values, `[T, B, SAVED*H]`.
    pub acts: Vec<f32>,
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

/// The forward pass. Returns `y` `[T+1, B, H]`: the hidden state after each step in time
/// order, then the final LSTM cell state (zeros for other cells); and, with `save`, the
/// activations for [`backward`].
#[allow(clippy::too_many_arguments)]
pub fn forward<M: CellMath>(
    d: Dims,
    x: &[f32],
    mask: &[f32],
    h0: &[f32],
    c0: &[f32],
    w: Weights<'_>,
    reverse: bool,
    save: bool,
) -> (Vec<f32>, Saved) {
    let Dims {
        steps,
        batch,
        input,
        hidden,
    } = d;
    let gh_w = M::GATES * hidden;
    let sw = M::SAVED * hidden;
    let mut y = vec![0.0f32; (steps + 1) * batch * hidden];
    let mut saved = Saved::default();
    if save {
        saved.h_prev = vec![0.0; steps * batch * hidden];
        saved.acts = vec![0.0; steps * batch * sw];
        if M::CELL_STATE {
            saved.c_prev = vec![0.0; steps * batch * hidden];
        }
    }
    let (py, ph, pc, pa) = (
        Shared::new(&mut y),
        Shared::new(&mut saved.h_prev),
        Shared::new(&mut saved.c_prev),
        Shared::new(&mut saved.acts),
    );
    let w_hh = Packed::new(w.w_hh, gh_w, (hidden, gh_w));
    // The input projection runs step by step inside each worker, on rows it has just read:
    // a projection of all steps at once would write and read back `T * B * G * H` values
    // (268 MB for an LSTM at length 1024, batch 256), which made long sequences memory-bound.
    let w_ih = Packed::new(w.w_ih, gh_w, (input, gh_w));
    row_blocks(batch).into_par_iter().for_each(|(r0, nb)| {
        let mut h = h0[r0 * hidden..(r0 + nb) * hidden].to_vec();
        let mut c = if M::CELL_STATE {
            c0[r0 * hidden..(r0 + nb) * hidden].to_vec()
        } else {
            vec![0.0; nb * hidden]
        };
        let mut gh = vec![0.0f32; nb * gh_w];
        let mut xp = vec![0.0f32; nb * gh_w];
        let mut h_new = vec![0.0f32; hidden];
        let mut c_new = vec![0.0f32; hidden];
        let mut scratch = vec![0.0f32; sw];
        for k in 0..steps {
            let t = time(k, steps, reverse);
            let first = t * batch + r0;
            if save {
                // SAFETY: rows first..first+nb of step t belong to this worker alone.
                unsafe { ph.rows(first, nb, hidden) }.copy_from_slice(&h);
                if M::CELL_STATE {
                    unsafe { pc.rows(first, nb, hidden) }.copy_from_slice(&c);
                }
            }
            for (xr, hr) in xp.chunks_exact_mut(gh_w).zip(gh.chunks_exact_mut(gh_w)) {
                xr.copy_from_slice(w.b_ih);
                hr.copy_from_slice(w.b_hh);
            }
            add_product(
                (nb, gh_w, input),
                Strided::rows(&x[first * input..(first + nb) * input], input),
                (&w_ih, 0),
                &mut xp,
                gh_w,
            );
            add_product(
                (nb, gh_w, hidden),
                Strided::rows(&h, hidden),
                (&w_hh, 0),
                &mut gh,
                gh_w,
            );
            let mut acts = if save {
                Some(unsafe { pa.rows(first, nb, sw) })
            } else {
                None
            };
            let out = unsafe { py.rows(first, nb, hidden) };
            for b in 0..nb {
                let hs = b * hidden..(b + 1) * hidden;
                let sv = match acts.as_deref_mut() {
                    Some(a) => &mut a[b * sw..(b + 1) * sw],
                    None => &mut scratch[..],
                };
                forward_row::<M>(
                    &xp[b * gh_w..(b + 1) * gh_w],
                    &gh[b * gh_w..(b + 1) * gh_w],
                    &h[hs.clone()],
                    &c[hs.clone()],
                    &mut h_new,
                    &mut c_new,
                    sv,
                );
                let m = mask[first + b];
                for j in 0..hidden {
                    let i = b * hidden + j;
                    h[i] += m * (h_new[j] - h[i]);
                    if M::CELL_STATE {
                        c[i] += m * (c_new[j] - c[i]);
                    }
                }
                out[hs.clone()].copy_from_slice(&h[hs]);
            }
        }
        if M::CELL_STATE {
            unsafe { py.rows(steps * batch + r0, nb, hidden) }.copy_from_slice(&c);
        }
    });
    (y, saved)
}

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
}

/// Backpropagation through time from `dy` (the gradient of [`forward`]'s `y`).
#[allow(clippy::too_many_arguments)]
pub fn backward<M: CellMath>(
    d: Dims,
    x: &[f32],
    mask: &[f32],
    w: Weights<'_>,
    saved: &Saved,
    dy: &[f32],
    reverse: bool,
    need_x: bool,
) -> Grads {
    let Dims {
        steps,
        batch,
        input,
        hidden,
    } = d;
    let gh_w = M::GATES * hidden;
    let sw = M::SAVED * hidden;
    let mut dgx = vec![0.0f32; steps * batch * gh_w];
    let mut dgh = if M::SHARED_GATE_GRADS {
        Vec::new()
    } else {
        vec![0.0f32; steps * batch * gh_w]
    };
    // W_hh^T `[G*H, H]` for the per-step product.
    let w_hh_t = Packed::transposed(w.w_hh, (gh_w, hidden));
    let mut dh0 = vec![0.0f32; batch * hidden];
    let mut dc0 = vec![0.0f32; batch * hidden];
    let (pgx, pgh, ph0, pc0) = (
        Shared::new(&mut dgx),
        Shared::new(&mut dgh),
        Shared::new(&mut dh0),
        Shared::new(&mut dc0),
    );
    row_blocks(batch).into_par_iter().for_each(|(r0, nb)| {
        let mut dh = vec![0.0f32; nb * hidden];
        let mut dc = vec![0.0f32; nb * hidden];
        if M::CELL_STATE {
            dc.copy_from_slice(
                &dy[(steps * batch + r0) * hidden..(steps * batch + r0 + nb) * hidden],
            );
        }
        let mut dh_new = vec![0.0f32; hidden];
        let mut dc_new = vec![0.0f32; hidden];
        let empty = vec![0.0f32; hidden];
        for k in (0..steps).rev() {
            let t = time(k, steps, reverse);
            let first = t * batch + r0;
            // SAFETY: rows first..first+nb of step t belong to this worker alone.
            let gx = unsafe { pgx.rows(first, nb, gh_w) };
            let gh = if M::SHARED_GATE_GRADS {
                &mut [][..]
            } else {
                unsafe { pgh.rows(first, nb, gh_w) }
            };
            for b in 0..nb {
                let hs = b * hidden..(b + 1) * hidden;
                let m = mask[first + b];
                let row = (first + b) * hidden;
                for j in 0..hidden {
                    let i = b * hidden + j;
                    let g = dh[i] + dy[row + j];
                    dh_new[j] = m * g;
                    dh[i] = (1.0 - m) * g;
                    if M::CELL_STATE {
                        dc_new[j] = m * dc[i];
                        dc[i] *= 1.0 - m;
                    }
                }
                let c_prev = if M::CELL_STATE {
                    &saved.c_prev[row..row + hidden]
                } else {
                    &empty[..]
                };
                backward_row::<M>(
                    &saved.acts[(first + b) * sw..(first + b + 1) * sw],
                    &saved.h_prev[row..row + hidden],
                    c_prev,
                    &dh_new,
                    &dc_new,
                    &mut gx[b * gh_w..(b + 1) * gh_w],
                    gh.get_mut(b * gh_w..(b + 1) * gh_w).unwrap_or_default(),
                    &mut dh[hs.clone()],
                    &mut dc[hs],
                );
            }
            // dh += dgh W_hh^T
            add_product(
                (nb, hidden, gh_w),
                Strided::rows(if M::SHARED_GATE_GRADS { gx } else { gh }, gh_w),
                (&w_hh_t, 0),
                &mut dh,
                hidden,
            );
        }
        unsafe { ph0.rows(r0, nb, hidden) }.copy_from_slice(&dh);
        unsafe { pc0.rows(r0, nb, hidden) }.copy_from_slice(&dc);
    });
    let rows = steps * batch;
    let mut g = Grads {
        x: Vec::new(),
        h0: dh0,
        c0: dc0,
        w_ih: vec![0.0; input * gh_w],
        w_hh: vec![0.0; hidden * gh_w],
        b_ih: vec![0.0; gh_w],
        b_hh: vec![0.0; gh_w],
    };
    // Weight gradients as products over all steps at once.
    let dgx_packed = Packed::new(&dgx, gh_w, (rows, gh_w));
    let dgh_packed = (!M::SHARED_GATE_GRADS).then(|| Packed::new(&dgh, gh_w, (rows, gh_w)));
    add_product_long(
        (input, gh_w, rows),
        Strided::transposed(x, input),
        &dgx_packed,
        &mut g.w_ih,
    );
    add_product_long(
        (hidden, gh_w, rows),
        Strided::transposed(&saved.h_prev, hidden),
        dgh_packed.as_ref().unwrap_or(&dgx_packed),
        &mut g.w_hh,
    );
    let dgh = if M::SHARED_GATE_GRADS { &dgx } else { &dgh };
    // The input gradient only where the input is a tracked tensor (a layer below): the first
    // layer reads data, and with few channels this product is mostly tile padding.
    if need_x {
        g.x = vec![0.0; rows * input];
        add_product_long(
            (rows, input, gh_w),
            Strided::rows(&dgx, gh_w),
            &Packed::transposed(w.w_ih, (gh_w, input)),
            &mut g.x,
        );
    }
    add_column_sums(&dgx, &mut g.b_ih);
    if M::SHARED_GATE_GRADS {
        g.b_hh.copy_from_slice(&g.b_ih);
    } else {
        add_column_sums(dgh, &mut g.b_hh);
    }
    g
}

/// `dst[j] += sum_i src[i, j]` for `src` row-major with rows as long as `dst`.
fn add_column_sums(src: &[f32], dst: &mut [f32]) {
    for row in src.chunks_exact(dst.len()) {
        for (a, b) in dst.iter_mut().zip(row) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_and_tanh_are_accurate() {
        for k in -2000..=2000 {
            let x = k as f32 * 0.02;
            let (e, want) = (exp(x), x.exp());
            assert!(
                (e - want).abs() <= 1e-6 * want,
                "exp({x}) = {e}, not {want}"
            );
            assert!((tanh(x) - x.tanh()).abs() <= 1e-6, "tanh({x})");
            assert!(
                (sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() <= 1e-6,
                "sigmoid({x})"
            );
        }
        assert_eq!(tanh(0.0), 0.0);
        assert!(exp(-200.0) < 1e-37 && exp(200.0).is_finite());
    }
}
