//! The fused recurrence on host buffers: forward with saved activations, and backpropagation
//! through time. One generic loop serves the three cells through [`CellMath`].
//!
//! Layouts (row-major): inputs `x` `[T, B, C]`, mask `[T, B]` (1 = valid step; a padded step
//! carries the state), states `[B, H]`, `w_ih` `[C, G*H]`, `w_hh` `[H, G*H]`, biases `[G*H]`.
//! The batch rows are independent, so each worker runs the whole sequence for a block of rows.
//!
//! Each step is one product `[x_t | h] F + f` with both weight matrices stacked into `F`
//! (`(C + H)` rows) and the two biases summed into `f`, whose columns are regrouped
//! ([`Layout`]): a block of 32 columns holds every pre-activation of `U = 32 / GROUPS` hidden
//! units. The cell is applied to each register tile of the product as soon as it is summed,
//! so pre-activations never go to memory. The backward pass sums the weight gradients per
//! worker, a chunk of rows at a time while they are in cache (`Chunk`).
use super::small_gemm::{Packed, Strided, TILE_COLS, accumulate, add_product};
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

/// The maths of one cell on a few hidden units of one batch row. The pre-activations come in
/// `GROUPS` blocks of `n` values (one block per group, `n` units each).
pub trait CellMath: Sync {
    /// Gate blocks `G` of `H` columns in the weights and biases.
    const GATES: usize;
    /// Pre-activation blocks per unit in the fused product (divides 32).
    const GROUPS: usize;
    /// Blocks of `n` values saved per row and step for the backward pass.
    const SAVED: usize;
    /// Whether the cell has a cell state (LSTM).
    const CELL_STATE: bool;

    /// The weight blocks that pre-activation `group` sums: (block of `w_ih` and `b_ih`,
    /// block of `w_hh` and `b_hh`).
    fn source(group: usize) -> (Option<usize>, Option<usize>);

    /// One step: from the pre-activations `pre` and the previous state, writes the new state
    /// and the saved values (`FMA`: the caller is compiled for FMA).
    fn forward<const FMA: bool>(
        pre: &[f32],
        h: &[f32],
        c: &[f32],
        h_new: &mut [f32],
        c_new: &mut [f32],
        saved: &mut [f32],
    );

    /// The gradients of one step: from the gradients of the new state (`dh_new`, `dc_new`),
    /// writes the gradients of the pre-activations (`dpre`) and adds the direct gradients of
    /// the previous state to `dh` and `dc`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        saved: &[f32],
        h: &[f32],
        c: &[f32],
        dh_new: &[f32],
        dc_new: &[f32],
        dpre: &mut [f32],
        dh: &mut [f32],
        dc: &mut [f32],
    );
}

/// `x * y + z`, as one fused instruction where the caller is compiled for FMA (`FMA`).
#[inline(always)]
fn madd<const FMA: bool>(x: f32, y: f32, z: f32) -> f32 {
    if FMA { x.mul_add(y, z) } else { x * y + z }
}

/// `exp` without branches or calls (so that the gate loops vectorise): `2^n e^r` with
/// `|r| <= ln 2 / 2` and a degree-6 Taylor polynomial; relative error about 2e-7.
#[inline(always)]
fn exp<const FMA: bool>(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let shifted = madd::<FMA>(x, std::f32::consts::LOG2_E, ROUND);
    let n = shifted - ROUND;
    // The integer n read from the bits of `shifted` (an `as` cast would not vectorise).
    let k = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = madd::<FMA>(n, 2.121_944_4e-4, madd::<FMA>(n, -0.693_359_4, x));
    let p = 1.0 / 720.0;
    let p = madd::<FMA>(p, r, 1.0 / 120.0);
    let p = madd::<FMA>(p, r, 1.0 / 24.0);
    let p = madd::<FMA>(p, r, 1.0 / 6.0);
    let p = madd::<FMA>(p, r, 0.5);
    let p = madd::<FMA>(p, r, 1.0);
    let p = madd::<FMA>(p, r, 1.0);
    p * f32::from_bits(k.wrapping_add(127) << 23)
}

#[inline(always)]
fn sigmoid<const FMA: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp::<FMA>(-x))
}

/// `tanh` through one `exp` (libm's `tanhf` is several times slower); absolute error below
/// 1e-6.
#[inline(always)]
fn tanh<const FMA: bool>(x: f32) -> f32 {
    let e = exp::<FMA>(-2.0 * x.abs());
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

/// The vanilla cell: `h' = tanh(a)`. Saves `h'`.
pub struct Rnn;

impl CellMath for Rnn {
    const GATES: usize = 1;
    const GROUPS: usize = 1;
    const SAVED: usize = 1;
    const CELL_STATE: bool = false;

    fn source(_: usize) -> (Option<usize>, Option<usize>) {
        (Some(0), Some(0))
    }

    #[inline(always)]
    fn forward<const FMA: bool>(
        pre: &[f32],
        _: &[f32],
        _: &[f32],
        h_new: &mut [f32],
        _: &mut [f32],
        saved: &mut [f32],
    ) {
        let n = h_new.len();
        let ([a], [sv]) = (blocks::<1>(pre, n), blocks_mut::<1>(saved, n));
        for j in 0..n {
            let v = tanh::<FMA>(a[j]);
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
        dpre: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
    ) {
        let n = dh_new.len();
        let ([sv], [da]) = (blocks::<1>(saved, n), blocks_mut::<1>(dpre, n));
        for j in 0..n {
            let v = sv[j];
            da[j] = dh_new[j] * (1.0 - v * v);
        }
    }
}

/// The LSTM cell (gates `i, f, g, o`). Saves `i, f, g, o, tanh(c')`.
pub struct Lstm;

impl CellMath for Lstm {
    const GATES: usize = 4;
    const GROUPS: usize = 4;
    const SAVED: usize = 5;
    const CELL_STATE: bool = true;

    fn source(group: usize) -> (Option<usize>, Option<usize>) {
        (Some(group), Some(group))
    }

    #[inline(always)]
    fn forward<const FMA: bool>(
        pre: &[f32],
        _: &[f32],
        c: &[f32],
        h_new: &mut [f32],
        c_new: &mut [f32],
        saved: &mut [f32],
    ) {
        let n = h_new.len();
        let [ai, af, ag, ao] = blocks::<4>(pre, n);
        let [si, sf, sg, so, st] = blocks_mut::<5>(saved, n);
        let (c, c_new) = (&c[..n], &mut c_new[..n]);
        for j in 0..n {
            let i = sigmoid::<FMA>(ai[j]);
            let f = sigmoid::<FMA>(af[j]);
            let g = tanh::<FMA>(ag[j]);
            let o = sigmoid::<FMA>(ao[j]);
            let cn = f * c[j] + i * g;
            let tc = tanh::<FMA>(cn);
            c_new[j] = cn;
            h_new[j] = o * tc;
            (si[j], sf[j], sg[j], so[j], st[j]) = (i, f, g, o, tc);
        }
    }

    #[inline(always)]
    fn backward(
        saved: &[f32],
        _: &[f32],
        c: &[f32],
        dh_new: &[f32],
        dc_new: &[f32],
        dpre: &mut [f32],
        _: &mut [f32],
        dc: &mut [f32],
    ) {
        let n = dh_new.len();
        let [si, sf, sg, so, st] = blocks::<5>(saved, n);
        let [di, df, dg, d_o] = blocks_mut::<4>(dpre, n);
        let (c, dc_new, dc) = (&c[..n], &dc_new[..n], &mut dc[..n]);
        for j in 0..n {
            let (i, f, g, o, tc) = (si[j], sf[j], sg[j], so[j], st[j]);
            let dcn = dc_new[j] + dh_new[j] * o * (1.0 - tc * tc);
            dc[j] += dcn * f;
            di[j] = dcn * g * i * (1.0 - i);
            df[j] = dcn * c[j] * f * (1.0 - f);
            dg[j] = dcn * i * (1.0 - g * g);
            d_o[j] = dh_new[j] * tc * o * (1.0 - o);
        }
    }
}

/// The GRU cell (gates `r, z, n`; `n = tanh(xn + r * hn)`, `h' = n + z (h - n)`). Its
/// candidate keeps the input part `xn` and the recurrent part `hn` apart, so the product has
/// four groups: `r` and `z` (both weights), `xn` (`w_ih` only), `hn` (`w_hh` only).
/// Saves `r, z, n, hn`.
pub struct Gru;

impl CellMath for Gru {
    const GATES: usize = 3;
    const GROUPS: usize = 4;
    const SAVED: usize = 4;
    const CELL_STATE: bool = false;

    fn source(group: usize) -> (Option<usize>, Option<usize>) {
        match group {
            0 | 1 => (Some(group), Some(group)),
            2 => (Some(2), None),
            _ => (None, Some(2)),
        }
    }

    #[inline(always)]
    fn forward<const FMA: bool>(
        pre: &[f32],
        h: &[f32],
        _: &[f32],
        h_new: &mut [f32],
        _: &mut [f32],
        saved: &mut [f32],
    ) {
        let n = h_new.len();
        let [ar, az, xn, hn] = blocks::<4>(pre, n);
        let [sr, sz, sn, sh] = blocks_mut::<4>(saved, n);
        let h = &h[..n];
        for j in 0..n {
            let r = sigmoid::<FMA>(ar[j]);
            let z = sigmoid::<FMA>(az[j]);
            let cand = tanh::<FMA>(xn[j] + r * hn[j]);
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
        dpre: &mut [f32],
        dh: &mut [f32],
        _: &mut [f32],
    ) {
        let n = dh_new.len();
        let [sr, sz, sn, sh] = blocks::<4>(saved, n);
        let [dr, dz, dxn, dhn] = blocks_mut::<4>(dpre, n);
        let (h, dh) = (&h[..n], &mut dh[..n]);
        for j in 0..n {
            let (r, z, cand, hnj) = (sr[j], sz[j], sn[j], sh[j]);
            let d = dh_new[j];
            dh[j] += d * z;
            dz[j] = d * (h[j] - cand) * z * (1.0 - z);
            let da = d * (1.0 - z) * (1.0 - cand * cand);
            dr[j] = da * hnj * r * (1.0 - r);
            (dxn[j], dhn[j]) = (da, da * r);
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

/// Columns of one block of the fused product: two panels, four 8-lane vectors.
const BLOCK: usize = 2 * TILE_COLS;

/// Where the fused product puts each pre-activation: block `q` (32 columns, panels `2q` and
/// `2q + 1`) holds units `q U .. q U + U` (`U = 32 / GROUPS`), group after group, so that
/// with 8 units each gate is one 8-lane vector; the states the workers carry are padded to
/// `P U` units (the padding units have zero weights and stay zero).
#[derive(Clone, Copy, Debug)]
struct Layout {
    input: usize,
    hidden: usize,
    /// Units per block `U`.
    units: usize,
    /// Blocks `P`.
    blocks: usize,
    /// Columns of the product, `32 P`.
    width: usize,
    /// Padded state width `P U`.
    padded: usize,
}

/// Units per block of cell `M` (a constant, so that the cell loops have a known length).
#[inline(always)]
const fn units<M: CellMath>() -> usize {
    BLOCK / M::GROUPS
}

impl Layout {
    fn new<M: CellMath>(d: Dims) -> Layout {
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
    fn column(&self, unit: usize, group: usize) -> usize {
        (unit / self.units) * BLOCK + group * self.units + unit % self.units
    }
}

/// The stacked weights `F` (`(C + H) x 32 P`, row-major) and summed biases `f` of the
/// product.
fn fuse<M: CellMath>(l: &Layout, w: Weights<'_>) -> (Vec<f32>, Vec<f32>) {
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

/// A raw pointer that workers share; each worker writes disjoint ranges only.
#[derive(Clone, Copy)]
struct Shared {
    ptr: *mut f32,
    /// Values the allocation holds.
    len: usize,
}
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// Copies `src` to `at..at + src.len()` (inlined, so that a copy of known length
    /// becomes a few vector moves instead of a call). A range past the end panics.
    ///
    /// # Safety
    /// No other worker may touch the range meanwhile.
    #[inline(always)]
    unsafe fn put(&self, at: usize, src: &[f32]) {
        assert!(at + src.len() <= self.len, "write past the buffer");
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr.add(at), src.len()) }
    }
}

/// A buffer of `len` values that workers fill, all of them, before it is read: allocated
/// without zeroing (zero-filling the activations cost several percent of a training step).
struct Filling {
    data: Vec<f32>,
    len: usize,
}

impl Filling {
    fn new(len: usize) -> Filling {
        Filling {
            data: Vec::with_capacity(len),
            len,
        }
    }

    fn shared(&mut self) -> Shared {
        Shared {
            ptr: self.data.as_mut_ptr(),
            len: self.len,
        }
    }

    /// The filled buffer.
    ///
    /// # Safety
    /// Every one of the `len` values has been written through [`Filling::shared`].
    unsafe fn finish(mut self) -> Vec<f32> {
        unsafe { self.data.set_len(self.len) };
        self.data
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

/// Runs `body::<FMA>` compiled for AVX2 and FMA when the CPU has them.
/// (`$body::<M, FMA>(job, r0, nb)` for rows `r0..r0 + nb`.)
macro_rules! wide_or_not {
    ($body:ident::<$m:ty>($job:ty, $j:expr, $r0:expr, $nb:expr) -> $ret:ty) => {{
        #[cfg(target_arch = "x86_64")]
        if wide() {
            #[target_feature(enable = "avx2,fma")]
            fn run<M: CellMath>(j: &$job, r0: usize, nb: usize) -> $ret {
                $body::<M, true>(j, r0, nb)
            }
            // SAFETY: the CPU has the features (checked by `wide`).
            return unsafe { run::<$m>($j, $r0, $nb) };
        }
        $body::<$m, false>($j, $r0, $nb)
    }};
}

/// What the forward pass keeps for the backward pass.
#[derive(Clone, Debug, Default)]
pub struct Saved {
    /// State before each step, `[T, B, P U]` (padded).
    pub h_prev: Vec<f32>,
    /// LSTM cell state before each step, `[T, B, P U]` (empty otherwise).
    pub c_prev: Vec<f32>,
    /// The cell's saved values, `[T, B, P, SAVED U]` (`P` blocks of `U` units).
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

/// What both passes read of the sequence batch.
#[derive(Clone, Copy)]
struct Sequences<'a> {
    l: Layout,
    steps: usize,
    batch: usize,
    x: &'a [f32],
    mask: &'a [f32],
    reverse: bool,
    /// Whether `y` holds the state of every step (else the final states only).
    all_steps: bool,
}

impl<'a> Sequences<'a> {
    fn new(
        l: Layout,
        d: Dims,
        (x, mask): (&'a [f32], &'a [f32]),
        (reverse, all_steps): (bool, bool),
    ) -> Self {
        Sequences {
            l,
            steps: d.steps,
            batch: d.batch,
            x,
            mask,
            reverse,
            all_steps,
        }
    }

    /// The block of `y` (of `B` rows) that holds the final LSTM cell state: its last.
    fn cell_block(&self) -> usize {
        output_blocks(self.steps, self.all_steps) - 1
    }
}

/// Blocks of `B` rows in [`forward`]'s `y`: every step and the final cell state with
/// `all_steps`, else the final hidden and cell states.
pub fn output_blocks(steps: usize, all_steps: bool) -> usize {
    if all_steps { steps + 1 } else { 2 }
}

/// Everything the forward workers share.
struct ForwardJob<'a> {
    seq: Sequences<'a>,
    h0: &'a [f32],
    c0: &'a [f32],
    /// `F` in panels.
    f: &'a Packed,
    bias: &'a [f32],
    save: bool,
    y: Shared,
    h_prev: Shared,
    c_prev: Shared,
    acts: Shared,
}

/// The forward pass. Returns `y`: with `all_steps`, `[T+1, B, H]`: the hidden state after
/// each step in time order, then the final LSTM cell state (zeros for other cells); without,
/// `[2, B, H]`: the final hidden state and the final cell state. With `save`, also the
/// activations for [`backward`].
#[allow(clippy::too_many_arguments)]
pub fn forward<M: CellMath>(
    d: Dims,
    x: &[f32],
    mask: &[f32],
    h0: &[f32],
    c0: &[f32],
    w: Weights<'_>,
    (reverse, all_steps): (bool, bool),
    save: bool,
) -> (Vec<f32>, Saved) {
    let l = Layout::new::<M>(d);
    let (f, bias) = fuse::<M>(&l, w);
    let f = Packed::new(&f, l.width, (l.input + l.hidden, l.width));
    let rows = d.steps * d.batch;
    let saved_len = |n: usize| if save { rows * n } else { 0 };
    let mut y = Filling::new(output_blocks(d.steps, all_steps) * d.batch * d.hidden);
    let mut h_prev = Filling::new(saved_len(l.padded));
    let mut c_prev = Filling::new(if M::CELL_STATE {
        saved_len(l.padded)
    } else {
        0
    });
    let mut acts = Filling::new(saved_len(l.blocks * M::SAVED * l.units));
    let job = ForwardJob {
        seq: Sequences::new(l, d, (x, mask), (reverse, all_steps)),
        h0,
        c0,
        f: &f,
        bias: &bias,
        save,
        y: y.shared(),
        h_prev: h_prev.shared(),
        c_prev: c_prev.shared(),
        acts: acts.shared(),
    };
    row_blocks(d.batch)
        .into_par_iter()
        .for_each(|(r0, nb)| wide_or_not!(forward_rows::<M>(ForwardJob<'_>, &job, r0, nb) -> ()));
    // SAFETY: the workers wrote every step of every row of each buffer (and `y`'s last
    // block), see `forward_rows`.
    unsafe {
        (
            y.finish(),
            Saved {
                h_prev: h_prev.finish(),
                c_prev: c_prev.finish(),
                acts: acts.finish(),
            },
        )
    }
}

/// The forward pass of rows `r0..r0 + nb`.
#[inline(always)]
fn forward_rows<M: CellMath, const FMA: bool>(j: &ForwardJob<'_>, r0: usize, nb: usize) {
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
    for k in 0..j.seq.steps {
        let t = time(k, j.seq.steps, j.seq.reverse);
        let first = t * j.seq.batch + r0;
        if j.save {
            // SAFETY: rows first..first+nb of step t belong to this worker alone.
            unsafe { j.h_prev.put(first * padded, &h) };
            if M::CELL_STATE {
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
            // Tiles of two rows by one block: 8 accumulators, 4 panel vectors, a broadcast
            // (three rows, 12 accumulators, ran out of registers and was slower).
            let mut r = 0;
            while r + 2 <= nb {
                step_tile::<M, 2, FMA>(j, &mut s, xs, q, r);
                r += 2;
            }
            if r < nb {
                step_tile::<M, 1, FMA>(j, &mut s, xs, q, r);
            }
        }
        std::mem::swap(&mut h, &mut h_next);
        std::mem::swap(&mut c, &mut c_next);
        if j.seq.all_steps {
            // SAFETY: as above.
            unsafe { put_rows(j.y, first * hidden, &h, (padded, hidden)) };
        }
    }
    // SAFETY (both): the final blocks' rows r0..r0+nb belong to this worker alone.
    if !j.seq.all_steps {
        unsafe { put_rows(j.y, r0 * hidden, &h, (padded, hidden)) };
    }
    let last = j.seq.cell_block() * j.seq.batch + r0;
    unsafe { put_rows(j.y, last * hidden, &c, (padded, hidden)) };
}

/// `rows` rows of `width` values from the front of `src`, each padded with zeros to `padded`
/// (the layout the workers carry states in; [`put_rows`] is the way back).
fn padded_rows(src: &[f32], rows: usize, (width, padded): (usize, usize)) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * padded];
    for (dst, row) in out.chunks_exact_mut(padded).zip(src.chunks_exact(width)) {
        dst[..width].copy_from_slice(row);
    }
    out
}

/// Copies the first `width` values of each row of `src` (rows of `stride`) to consecutive
/// rows of `width` at `at`.
///
/// # Safety
/// As [`Shared::put`], for the whole range written.
unsafe fn put_rows(dst: Shared, at: usize, src: &[f32], (stride, width): (usize, usize)) {
    unsafe {
        if stride == width {
            dst.put(at, src);
        } else {
            for (b, row) in src.chunks_exact(stride).enumerate() {
                dst.put(at + b * width, &row[..width]);
            }
        }
    }
}

/// The states of one step of one worker: read `h`, `c`; write `h_next`, `c_next`.
struct StepState<'s> {
    first: usize,
    h: &'s [f32],
    c: &'s [f32],
    h_next: &'s mut [f32],
    c_next: &'s mut [f32],
}

/// Rows `r..r + R` (of the worker) and block `q` of one step: the product tile from the
/// bias, then the cell on each row, the mask, and the saved values.
#[inline(always)]
fn step_tile<M: CellMath, const R: usize, const FMA: bool>(
    j: &ForwardJob<'_>,
    s: &mut StepState<'_>,
    xs: &[f32],
    q: usize,
    r: usize,
) {
    let Layout {
        input,
        hidden,
        blocks,
        padded,
        ..
    } = j.seq.l;
    let units = units::<M>();
    let (x0, h0) = j.f.panel(2 * q).split_at(input * TILE_COLS);
    let (x1, h1) = j.f.panel(2 * q + 1).split_at(input * TILE_COLS);
    let bias = &j.bias[q * BLOCK..][..BLOCK];
    let mut acc = [[[0.0f32; TILE_COLS]; 2]; R];
    for row in acc.iter_mut() {
        row.as_flattened_mut().copy_from_slice(bias);
    }
    let xa = Strided::rows(&xs[r * input..], input);
    accumulate::<R, 2, FMA>(&mut acc, xa, input, [x0, x1]);
    let ha = Strided::rows(&s.h[r * padded..], padded);
    accumulate::<R, 2, FMA>(&mut acc, ha, hidden, [h0, h1]);
    // The cell runs on the R rows at once (blocks of `R U` values): independent chains side
    // by side, where one row's chain of exponentials and divisions would leave the core
    // waiting. Stack copies in and out (they alias nothing, so the loops vectorise).
    const { assert!(R <= 2, "the stack arrays hold two rows") };
    let n = R * units;
    let mut pre = [0.0f32; 2 * BLOCK];
    let mut h = [0.0f32; 2 * BLOCK];
    let mut c = [0.0f32; 2 * BLOCK];
    for (i, row) in acc.iter().enumerate() {
        let row = row.as_flattened();
        for g in 0..M::GROUPS {
            pre[g * n + i * units..][..units].copy_from_slice(&row[g * units..][..units]);
        }
        let o = (r + i) * padded + q * units;
        h[i * units..][..units].copy_from_slice(&s.h[o..o + units]);
        if M::CELL_STATE {
            c[i * units..][..units].copy_from_slice(&s.c[o..o + units]);
        }
    }
    let mut hn = [0.0f32; 2 * BLOCK];
    let mut cn = [0.0f32; 2 * BLOCK];
    let mut sv = [0.0f32; 5 * BLOCK];
    M::forward::<FMA>(
        &pre[..M::GROUPS * n],
        &h[..n],
        &c[..n],
        &mut hn[..n],
        &mut cn[..n],
        &mut sv[..M::SAVED * n],
    );
    let sw = M::SAVED * units;
    for i in 0..R {
        let row = r + i;
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
            s.c_next[o..o + units].copy_from_slice(&cn[part.clone()]);
        }
        if j.save {
            let mut saved = [0.0f32; 5 * BLOCK];
            for g in 0..M::SAVED {
                saved[g * units..][..units].copy_from_slice(&sv[g * n + i * units..][..units]);
            }
            // SAFETY: row first+row, block q belongs to this worker alone.
            unsafe {
                j.acts
                    .put(((s.first + row) * blocks + q) * sw, &saved[..sw])
            };
        }
    }
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

/// Everything the backward workers share.
struct BackwardJob<'a> {
    seq: Sequences<'a>,
    dy: &'a [f32],
    saved: &'a Saved,
    /// The recurrent rows of `F`, transposed, in panels (`32 P x H`).
    f_h: &'a Packed,
    /// The input rows of `F`, transposed, in panels, where the input gradient is wanted.
    f_x: Option<&'a Packed>,
    dx: Shared,
    dh0: Shared,
    dc0: Shared,
}

/// Backpropagation through time from `dy` (the gradient of [`forward`]'s `y`, of the same
/// layout: every step with `all_steps`, else the final states); the input gradient only with
/// `need_x`.
#[allow(clippy::too_many_arguments)]
pub fn backward<M: CellMath>(
    d: Dims,
    x: &[f32],
    mask: &[f32],
    w: Weights<'_>,
    saved: &Saved,
    dy: &[f32],
    (reverse, all_steps): (bool, bool),
    need_x: bool,
) -> Grads {
    let l = Layout::new::<M>(d);
    let (c, h) = (l.input, l.hidden);
    let (f, _) = fuse::<M>(&l, w);
    let f_h = Packed::transposed(&f[c * l.width..], (l.width, h));
    let f_x = need_x.then(|| Packed::transposed(&f[..c * l.width], (l.width, c)));
    let rows = d.steps * d.batch;
    let mut dx = Filling::new(if need_x { rows * c } else { 0 });
    let mut dh0 = Filling::new(d.batch * h);
    let mut dc0 = Filling::new(d.batch * h);
    let job = BackwardJob {
        seq: Sequences::new(l, d, (x, mask), (reverse, all_steps)),
        dy,
        saved,
        f_h: &f_h,
        f_x: f_x.as_ref(),
        dx: dx.shared(),
        dh0: dh0.shared(),
        dc0: dc0.shared(),
    };
    let sum = |mut a: Vec<f32>, b: Vec<f32>| {
        a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
        a
    };
    // Each worker sums the weight gradients of its rows: [x | h]^T dpre, then the bias row.
    let df = row_blocks(d.batch)
        .into_par_iter()
        .map(|(r0, nb)| wide_or_not!(backward_rows::<M>(BackwardJob<'_>, &job, r0, nb) -> Vec<f32>))
        .reduce_with(sum)
        .unwrap_or_default();
    // SAFETY: the workers wrote every step of every row (see `backward_rows`).
    let (x_grad, h0, c0) = unsafe { (dx.finish(), dh0.finish(), dc0.finish()) };
    let mut g = Grads {
        x: x_grad,
        h0,
        c0,
        ..Grads::default()
    };
    let (df, df_bias) = df.split_at(df.len() - l.width);
    unfuse::<M>(&l, df, df_bias, &mut g);
    g
}

/// The gradients of `F` and `f` back into the gradients of the weights and biases they were
/// built from (the inverse of [`fuse`]'s gathering).
fn unfuse<M: CellMath>(l: &Layout, df: &[f32], df_bias: &[f32], g: &mut Grads) {
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

/// Rows of the sum in one weight-gradient product of a worker (a few steps of its rows).
const CHUNK_ROWS: usize = 256;

/// The backward pass of rows `r0..r0 + nb`: the reverse loop, each step the cell's gradients
/// row by row and block by block, then `dh += dpre F_h^T` for the whole block of rows. The
/// pre-activation gradients and the inputs of the last few steps are kept in chunks laid out
/// for the weight-gradient product, which runs whenever a chunk is full (while both are in
/// cache). Returns this worker's `[x | h]^T dpre` (`C + H` rows of `32 P`) followed by the
/// column sums of `dpre` (`32 P`).
#[inline(always)]
fn backward_rows<M: CellMath, const FMA: bool>(
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
    let mut dc = if M::CELL_STATE {
        let at = (j.seq.cell_block() * j.seq.batch + r0) * hidden;
        padded_rows(&j.dy[at..], nb, (hidden, padded))
    } else {
        vec![0.0f32; nb * padded]
    };
    let mut step = vec![0.0f32; nb * width];
    let mut dx_step = vec![0.0f32; if j.f_x.is_some() { nb * input } else { 0 }];
    let mut chunk = Chunk::new(input + hidden, width, nb);
    let zeros = [0.0f32; BLOCK];
    for k in (0..j.seq.steps).rev() {
        let t = time(k, j.seq.steps, j.seq.reverse);
        let first = t * j.seq.batch + r0;
        for row in 0..nb {
            let m = j.seq.mask[first + row];
            let at = first + row;
            // The gradient of the state after this step: from `y`'s row of the step, or
            // from the final state's row at the last step processed.
            let dy_at = if j.seq.all_steps {
                Some(at)
            } else {
                (k + 1 == j.seq.steps).then_some(r0 + row)
            };
            let dy = dy_at.map_or(&[][..], |a| &j.dy[a * hidden..(a + 1) * hidden]);
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
                let c_prev = if M::CELL_STATE {
                    &j.saved.c_prev[s..s + units]
                } else {
                    &zeros[..units]
                };
                M::backward(
                    &j.saved.acts[(at * blocks + q) * sw..][..sw],
                    &j.saved.h_prev[s..s + units],
                    c_prev,
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
            chunk.flush();
        }
        add_product(
            (nb, hidden, width),
            Strided::rows(&step, width),
            (j.f_h, 0),
            &mut dh,
            padded,
        );
        if let Some(f_x) = j.f_x {
            dx_step.fill(0.0);
            add_product(
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
    chunk.flush();
    chunk.finish()
}

/// A worker's running weight gradient `A^T D` (`A`: rows `[x | h]`, `D`: the pre-activation
/// gradients of the same rows), fed row by row and multiplied out a chunk of rows at a time:
/// `A^T` in row panels of 4 (the left operand of a 4-row tile, read front to back) and `D` in
/// column panels of 16.
struct Chunk {
    /// Features `C + H`.
    features: usize,
    width: usize,
    /// Rows a chunk holds.
    cap: usize,
    /// Rows held now.
    len: usize,
    /// `A^T`: panel `i` holds features `4 i .. 4 i + 4` of every row (`[cap, 4]`).
    a: Vec<f32>,
    /// One row of `A` being added (`features` rounded up to 4; the rounding stays zero).
    row: Vec<f32>,
    /// `D` in column panels of `cap` rows.
    d: Packed,
    /// The sum: `features` rows (rounded up to a multiple of 4) of `width`, then the column
    /// sums of `D`.
    sum: Vec<f32>,
}

impl Chunk {
    fn new(features: usize, width: usize, rows_per_step: usize) -> Chunk {
        let steps = (CHUNK_ROWS / rows_per_step).max(1);
        let cap = steps * rows_per_step;
        let padded = features.next_multiple_of(4);
        Chunk {
            features,
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
        for (ib, quad) in self.row.chunks_exact(4).enumerate() {
            self.a[(ib * self.cap + p) * 4..][..4].copy_from_slice(quad);
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
    fn flush(&mut self) {
        for ib in 0..self.features.div_ceil(4) {
            let a = Strided {
                data: &self.a[ib * 4 * self.cap..(ib + 1) * 4 * self.cap],
                row: 1,
                col: 4,
            };
            let c = &mut self.sum[ib * 4 * self.width..(ib + 1) * 4 * self.width];
            add_product((4, self.width, self.len), a, (&self.d, 0), c, self.width);
        }
        self.len = 0;
    }

    /// The sum: `[x | h]^T dpre` rows, then the column sums.
    fn finish(self) -> Vec<f32> {
        let padded = self.features.next_multiple_of(4);
        let mut sum = self.sum;
        // Drop the rounding rows, keep the column sums.
        sum.drain(self.features * self.width..padded * self.width);
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_and_tanh_are_accurate() {
        fn check<const FMA: bool>() {
            for k in -2000..=2000 {
                let x = k as f32 * 0.02;
                let (e, want) = (exp::<FMA>(x), x.exp());
                assert!(
                    (e - want).abs() <= 1e-6 * want,
                    "exp({x}) = {e}, not {want}"
                );
                assert!((tanh::<FMA>(x) - x.tanh()).abs() <= 1e-6, "tanh({x})");
                assert!(
                    (sigmoid::<FMA>(x) - 1.0 / (1.0 + (-x).exp())).abs() <= 1e-6,
                    "sigmoid({x})"
                );
            }
            assert_eq!(tanh::<FMA>(0.0), 0.0);
            assert!(exp::<FMA>(-200.0) < 1e-37 && exp::<FMA>(200.0).is_finite());
        }
        check::<false>();
        check::<true>();
    }
}
