//! The cells' maths on a few hidden units of one batch row ([`CellMath`]: [`Rnn`], [`Lstm`],
//! [`Gru`]), with branch-free `exp`, `sigmoid` and `tanh` so that the gate loops vectorise.
use super::layout::BLOCK;
use seqae_simd::Path;

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
    /// Whether this is the LSTM, whose forward step the AVX-512 path runs in registers, two
    /// tile rows at a time (the forward pass's `lstm_avx512`, which computes the LSTM's
    /// maths: only [`Lstm`] sets it), where other paths and tiles of odd height call
    /// [`CellMath::forward`] row by row.
    #[doc(hidden)]
    const AVX512_CELL: bool = false;

    /// The weight blocks that pre-activation `group` sums: (block of `w_ih` and `b_ih`,
    /// block of `w_hh` and `b_hh`).
    fn source(group: usize) -> (Option<usize>, Option<usize>);

    /// One step: from the pre-activations `pre` and the previous state, writes the new state
    /// and the saved values (`P`: the code path it is compiled for).
    fn forward<P: Path>(
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

/// Most batch rows one call of a cell's [`CellMath::forward`] runs on (`n` is at most this
/// many rows of `32 / GROUPS` units).
pub(super) const MAX_CELL_ROWS: usize = 2;

/// The constants of [`exp`], which the AVX-512 LSTM cell's `exp` shares.
pub(super) mod exp_consts {
    /// `1.5 * 2^23`: adding it rounds to an integer.
    pub(in crate::fused::host) const ROUND: f32 = 12_582_912.0;
    /// The clamp of the argument, `[MIN, MAX]`.
    pub(in crate::fused::host) const MIN: f32 = -87.0;
    /// See [`MIN`].
    pub(in crate::fused::host) const MAX: f32 = 88.0;
    /// `-ln 2` in two parts (`r = x + n LN2_HI + n LN2_LO`).
    pub(in crate::fused::host) const LN2_HI: f32 = -0.693_359_4;
    /// See [`LN2_HI`].
    pub(in crate::fused::host) const LN2_LO: f32 = 2.121_944_4e-4;
    /// The Taylor polynomial of `e^r` by Horner's rule: the coefficient of `r^6` first.
    pub(in crate::fused::host) const POLY: [f32; 7] = [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ];
}

/// `exp` without branches or calls (so that the gate loops vectorise): `2^n e^r` with
/// `|r| <= ln 2 / 2` and a degree-6 Taylor polynomial; relative error about 2e-7.
#[inline(always)]
pub(super) fn exp<P: Path>(x: f32) -> f32 {
    use exp_consts::{LN2_HI, LN2_LO, MAX, MIN, POLY, ROUND};
    let x = x.clamp(MIN, MAX);
    let shifted = P::madd(x, std::f32::consts::LOG2_E, ROUND);
    let n = shifted - ROUND;
    // The integer n read from the bits of `shifted` (an `as` cast would not vectorise).
    let k = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = P::madd(n, LN2_LO, P::madd(n, LN2_HI, x));
    let mut p = POLY[0];
    for c in &POLY[1..] {
        p = P::madd(p, r, *c);
    }
    p * f32::from_bits(k.wrapping_add(127) << 23)
}

#[inline(always)]
pub(super) fn sigmoid<P: Path>(x: f32) -> f32 {
    sigmoid_or_tanh::<P>(x, false)
}

/// `tanh` through one `exp` (libm's `tanhf` is several times slower); absolute error below
/// 1e-6.
#[inline(always)]
pub(super) fn tanh<P: Path>(x: f32) -> f32 {
    sigmoid_or_tanh::<P>(x, true)
}

/// `tanh(x)` where `is_tanh`, else the sigmoid: one exponential and one division either way,
/// so that a loop choosing per value (the LSTM's gates) vectorises over both.
#[inline(always)]
fn sigmoid_or_tanh<P: Path>(x: f32, is_tanh: bool) -> f32 {
    let e = exp::<P>(if is_tanh { -2.0 * x.abs() } else { -x });
    let r = (if is_tanh { 1.0 - e } else { 1.0 }) / (1.0 + e);
    if is_tanh { r.copysign(x) } else { r }
}

/// `K` consecutive blocks of `n` values (exact lengths, so that the gate loops vectorise:
/// built by a plain loop, which inlines, where `array::from_fn` was left a call and its
/// slices' lengths unknown, which kept the backward loops scalar).
#[inline(always)]
pub(super) fn blocks<const K: usize>(s: &[f32], n: usize) -> [&[f32]; K] {
    let s = &s[..K * n];
    let mut out = [&s[..0]; K];
    for (k, o) in out.iter_mut().enumerate() {
        *o = &s[k * n..][..n];
    }
    out
}

/// Mutable [`blocks`].
#[inline(always)]
pub(super) fn blocks_mut<const K: usize>(s: &mut [f32], n: usize) -> [&mut [f32]; K] {
    let mut rest = &mut s[..K * n];
    let mut out: [&mut [f32]; K] = std::array::from_fn(|_| &mut [][..]);
    for o in out.iter_mut() {
        let (a, b) = std::mem::take(&mut rest).split_at_mut(n);
        *o = a;
        rest = b;
    }
    out
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
    fn forward<P: Path>(
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
            let v = tanh::<P>(a[j]);
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
    const AVX512_CELL: bool = true;

    fn source(group: usize) -> (Option<usize>, Option<usize>) {
        (Some(group), Some(group))
    }

    #[inline(always)]
    fn forward<P: Path>(
        pre: &[f32],
        _: &[f32],
        c: &[f32],
        h_new: &mut [f32],
        c_new: &mut [f32],
        saved: &mut [f32],
    ) {
        let n = h_new.len();
        // The four gates in one pass over the `4 n` values: the sigmoid of `i`, `f`, `o` and
        // the tanh of `g` (the same results as gate by gate), so that a 16-lane path runs
        // two gates per instruction instead of one.
        let pre = &pre[..4 * n];
        let mut act = [0.0f32; MAX_CELL_ROWS * BLOCK];
        let act = &mut act[..4 * n];
        for (j, (a, &x)) in act.iter_mut().zip(pre).enumerate() {
            *a = sigmoid_or_tanh::<P>(x, (2 * n..3 * n).contains(&j));
        }
        let [ai, af, ag, ao] = blocks::<4>(act, n);
        let [si, sf, sg, so, st] = blocks_mut::<5>(saved, n);
        let (c, c_new) = (&c[..n], &mut c_new[..n]);
        for j in 0..n {
            let (i, f, g, o) = (ai[j], af[j], ag[j], ao[j]);
            let cn = f * c[j] + i * g;
            let tc = tanh::<P>(cn);
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
    fn forward<P: Path>(
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
            let r = sigmoid::<P>(ar[j]);
            let z = sigmoid::<P>(az[j]);
            let cand = tanh::<P>(xn[j] + r * hn[j]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_and_tanh_are_accurate() {
        fn check<P: Path>() {
            for k in -2000..=2000 {
                let x = k as f32 * 0.02;
                let (e, want) = (exp::<P>(x), x.exp());
                assert!(
                    (e - want).abs() <= 1e-6 * want,
                    "exp({x}) = {e}, not {want}"
                );
                assert!((tanh::<P>(x) - x.tanh()).abs() <= 1e-6, "tanh({x})");
                assert!(
                    (sigmoid::<P>(x) - 1.0 / (1.0 + (-x).exp())).abs() <= 1e-6,
                    "sigmoid({x})"
                );
            }
            assert_eq!(tanh::<P>(0.0), 0.0);
            assert!(exp::<P>(-200.0) < 1e-37 && exp::<P>(200.0).is_finite());
        }
        check::<seqae_simd::Portable>();
        check::<seqae_simd::Avx2Fma>();
        check::<seqae_simd::Avx512>();
    }
}
