//! The LSTM's forward cell on the AVX-512 path, in registers: a tile row holds the four gates
//! of 8 units in two 16-lane vectors (`i f` and `g o`), so the gates run 16 lanes at a time,
//! and the per-unit work (`c' = f c + i g`, `tanh(c')`, `h' = o tanh(c')`, the mask) runs on
//! two rows at once, one in each half of a vector. Written row by row
//! ([`Lstm`](crate::fused::host::Lstm)'s `forward`, which the other paths run), that work ran
//! on 8 lanes and through stack copies. These are the same operations in the same order, so
//! the results are the row-by-row cell's bit for bit as the AVX2 and AVX-512 paths compile it
//! (with fused multiply-adds; the portable path's differ in rounding); the test below checks it against the
//! AVX2 path, and the backward pass (whose cell stays row by row: two rows per register there
//! measured 6% slower) along with it.
use std::arch::x86_64::{
    __m256, __m512, __mmask16, _mm256_castpd_ps, _mm256_castps_pd, _mm256_loadu_ps,
    _mm256_storeu_ps, _mm512_add_ps, _mm512_and_si512, _mm512_castpd_ps, _mm512_castps_pd,
    _mm512_castps_si512, _mm512_castps256_ps512, _mm512_castps512_ps256, _mm512_castsi512_ps,
    _mm512_div_ps, _mm512_extractf64x4_pd, _mm512_fmadd_ps, _mm512_insertf64x4, _mm512_loadu_ps,
    _mm512_mask_blend_ps, _mm512_max_ps, _mm512_min_ps, _mm512_mul_ps, _mm512_or_si512,
    _mm512_scalef_ps, _mm512_set1_epi32, _mm512_set1_ps, _mm512_shuffle_f32x4, _mm512_storeu_ps,
    _mm512_sub_ps, _mm512_xor_si512,
};

use super::forward::{ForwardJob, StepState};
use super::layout::{Layout, SAVED_ROW};
use crate::fused::small_gemm::TILE_COLS;
use seqae_simd::Avx512;

/// Units of one block (the LSTM's four gates of 8 units fill the 32 columns).
const UNITS: usize = 8;

/// The forward cell, the mask and the saved values of the `R` rows `acc` of a step tile
/// (worker rows `r..r + R`, block `q`), two rows at a time (`R` even).
///
/// # Safety
/// The caller must be compiled for AVX-512F, AVX2 and FMA or hold the token (it does).
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
pub(super) unsafe fn forward_cells<const R: usize>(
    _token: Avx512,
    j: &ForwardJob<'_>,
    s: &mut StepState<'_>,
    acc: &[[[f32; TILE_COLS]; 2]; R],
    r: usize,
    q: usize,
) {
    const {
        assert!(
            2 * TILE_COLS == 4 * UNITS && 5 * UNITS == SAVED_ROW,
            "a row is the four gates of 8 units; 5 x 8 values saved"
        )
    };
    assert!(R.is_multiple_of(2), "the rows go in pairs");
    let Layout {
        blocks,
        padded,
        units,
        ..
    } = j.seq.l;
    assert_eq!(units, UNITS, "the LSTM's blocks hold 8 units");
    for (k, rows) in acc.chunks_exact(2).enumerate() {
        let row = [r + 2 * k, r + 2 * k + 1];
        let at = row.map(|b| b * padded + q * UNITS);
        let m = row.map(|b| j.seq.mask[s.first + b]);
        // [i f] and [g o] of each row, activated.
        let act = [activate(&rows[0]), activate(&rows[1])];
        // Each gate of both rows: the low halves of a vector of each row, or the high ones.
        let i = _mm512_shuffle_f32x4::<0x44>(act[0][0], act[1][0]);
        let f = _mm512_shuffle_f32x4::<0xee>(act[0][0], act[1][0]);
        let g = _mm512_shuffle_f32x4::<0x44>(act[0][1], act[1][1]);
        let o = _mm512_shuffle_f32x4::<0xee>(act[0][1], act[1][1]);
        let (h, c) = (load_pair(s.h, at), load_pair(s.c, at));
        let cn = _mm512_add_ps(_mm512_mul_ps(f, c), _mm512_mul_ps(i, g));
        let tc = gate(cn, 0xffff);
        let hn = _mm512_mul_ps(o, tc);
        let mask = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(m[0]), _mm512_set1_ps(m[1]));
        store_pair(s.h_next, at, carry(mask, hn, h));
        store_pair(s.c_next, at, carry(mask, cn, c));
        if j.save {
            let tc = halves(tc);
            for (b, &worker_row) in row.iter().enumerate() {
                let at = ((s.first + worker_row) * blocks + q) * SAVED_ROW;
                // SAFETY: row `first + worker_row`, block q belongs to this worker alone, and
                // the three stores write its 40 values; the intrinsics need AVX-512F, which
                // the caller has.
                unsafe {
                    let dst = j.acts.range_ptr(at, SAVED_ROW);
                    _mm512_storeu_ps(dst, act[b][0]);
                    _mm512_storeu_ps(dst.add(2 * UNITS), act[b][1]);
                    _mm256_storeu_ps(dst.add(4 * UNITS), tc[b]);
                }
            }
        }
    }
}

/// The gates of one tile row, `[i f]` and `[g o]`: the sigmoid of each but `g`, whose tanh
/// is taken (helpers are functions, not closures: a closure was left a call).
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn activate(row: &[[f32; TILE_COLS]; 2]) -> [__m512; 2] {
    // SAFETY: each load reads one 16-value array.
    let (a, b) = unsafe {
        (
            _mm512_loadu_ps(row[0].as_ptr()),
            _mm512_loadu_ps(row[1].as_ptr()),
        )
    };
    [gate(a, 0), gate(b, 0x00ff)]
}

/// The 8 units at `at[0]` of `src` in the low half, those at `at[1]` in the high half.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn load_pair(src: &[f32], at: [usize; 2]) -> __m512 {
    let (a, b) = (&src[at[0]..][..UNITS], &src[at[1]..][..UNITS]);
    // SAFETY: `a` and `b` hold the 8 values read from each.
    unsafe { pair(_mm256_loadu_ps(a.as_ptr()), _mm256_loadu_ps(b.as_ptr())) }
}

/// [`load_pair`]'s way back: the low half of `v` to `at[0]` of `dst`, the high half to `at[1]`.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn store_pair(dst: &mut [f32], at: [usize; 2], v: __m512) {
    for (o, half) in at.into_iter().zip(halves(v)) {
        let d = &mut dst[o..][..UNITS];
        // SAFETY: `d` holds the 8 values written.
        unsafe { _mm256_storeu_ps(d.as_mut_ptr(), half) }
    }
}

/// The state carried by the mask: `old + m (new - old)`, as the row-by-row cell writes it.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn carry(mask: __m512, new: __m512, old: __m512) -> __m512 {
    _mm512_add_ps(old, _mm512_mul_ps(mask, _mm512_sub_ps(new, old)))
}

/// The 16 lanes `[lo | hi]`.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn pair(lo: __m256, hi: __m256) -> __m512 {
    _mm512_castpd_ps(_mm512_insertf64x4::<1>(
        _mm512_castps_pd(_mm512_castps256_ps512(lo)),
        _mm256_castps_pd(hi),
    ))
}

/// The two 8-lane halves of `v`.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn halves(v: __m512) -> [__m256; 2] {
    [
        _mm512_castps512_ps256(v),
        _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v))),
    ]
}

/// The sigmoid of each lane of `x`, or its tanh where `tanh` has the lane: the operations of
/// the cells' `sigmoid_or_tanh`.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn gate(x: __m512, tanh: __mmask16) -> __m512 {
    let bits = _mm512_castps_si512(x);
    let sign = _mm512_set1_epi32(i32::MIN);
    let abs = _mm512_castsi512_ps(_mm512_and_si512(bits, _mm512_set1_epi32(i32::MAX)));
    let neg = _mm512_castsi512_ps(_mm512_xor_si512(bits, sign));
    let e = exp(_mm512_mask_blend_ps(
        tanh,
        neg,
        _mm512_mul_ps(_mm512_set1_ps(-2.0), abs),
    ));
    let one = _mm512_set1_ps(1.0);
    let num = _mm512_mask_blend_ps(tanh, one, _mm512_sub_ps(one, e));
    let r = _mm512_div_ps(num, _mm512_add_ps(one, e));
    // copysign(r, x) (r is not negative).
    let signed = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(r),
        _mm512_and_si512(bits, sign),
    ));
    _mm512_mask_blend_ps(tanh, r, signed)
}

/// The cells' `exp` on 16 lanes: the same `2^n e^r` and polynomial, with `2^n` applied by
/// `vscalefps` (exact, as is the cells' multiplication by the power of two built from bits).
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn exp(x: __m512) -> __m512 {
    use super::cells::exp_consts::{LN2_HI, LN2_LO, MAX, MIN, POLY, ROUND};
    let set = _mm512_set1_ps;
    // clamp(x, MIN, MAX), a NaN kept.
    let x = _mm512_min_ps(set(MAX), _mm512_max_ps(set(MIN), x));
    let n = _mm512_sub_ps(
        _mm512_fmadd_ps(x, set(std::f32::consts::LOG2_E), set(ROUND)),
        set(ROUND),
    );
    let r = _mm512_fmadd_ps(n, set(LN2_LO), _mm512_fmadd_ps(n, set(LN2_HI), x));
    let mut p = set(POLY[0]);
    for &c in &POLY[1..] {
        p = _mm512_fmadd_ps(p, r, set(c));
    }
    _mm512_scalef_ps(p, n)
}

#[cfg(test)]
mod tests {
    use crate::fused::host::{Dims, Lstm, Pass, Weights, backward, forward};
    use seqae_simd::Isa;

    /// Deterministic values in `[-scale, scale)`.
    fn values(n: usize, seed: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0 - 1.0) * scale)
            .collect()
    }

    /// The cell in registers gives the row-by-row cell's results bit for bit (the AVX2 path
    /// runs that one): states, outputs and saved values, with padded steps, odd row counts
    /// (tiles of 8, 4, 2 and 1 rows) and a partly filled block.
    #[test]
    fn the_avx512_cell_matches_the_row_by_row_cell_exactly() {
        if !Isa::Avx512.supported() || !Isa::Avx2Fma.supported() {
            eprintln!("avx512 LSTM cell not compared: this CPU lacks AVX-512F or AVX2");
            return;
        }
        for (batch, hidden) in [(1, 8), (7, 13), (23, 64), (40, 20)] {
            let (steps, input) = (9, 3);
            let d = Dims {
                steps,
                batch,
                input,
                hidden,
            };
            let gh = 4 * hidden;
            let (w_ih, w_hh) = (values(input * gh, 1, 0.6), values(hidden * gh, 2, 0.4));
            let (b_ih, b_hh) = (values(gh, 3, 0.5), values(gh, 4, 0.5));
            let w = Weights {
                w_ih: &w_ih,
                w_hh: &w_hh,
                b_ih: &b_ih,
                b_hh: &b_hh,
                out: None,
            };
            // Large inputs, so that gates saturate (both ends of the exponential's clamp).
            let x = values(steps * batch * input, 5, 40.0);
            // Row b is valid for its first steps - b % 4 steps.
            let mask: Vec<f32> = (0..steps * batch)
                .map(|i| ((i / batch) + (i % batch) % 4 < steps) as u8 as f32)
                .collect();
            let (h0, c0) = (
                values(batch * hidden, 6, 0.9),
                values(batch * hidden, 7, 2.0),
            );
            for (save, all_steps, reverse) in [(true, true, false), (false, false, true)] {
                let pass = Pass { reverse, all_steps };
                let run = |isa| forward::<Lstm>(d, &x, &mask, &h0, &c0, w, pass, save, isa);
                let ((ya, sa), (yb, sb)) = (run(Isa::Avx2Fma), run(Isa::Avx512));
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let case = format!("batch {batch} hidden {hidden} save {save}");
                assert_eq!(bits(&ya), bits(&yb), "{case}: outputs");
                assert_eq!(bits(&sa.h_prev), bits(&sb.h_prev), "{case}: saved states");
                assert_eq!(
                    bits(&sa.c_prev),
                    bits(&sb.c_prev),
                    "{case}: saved cell states"
                );
                assert_eq!(bits(&sa.acts), bits(&sb.acts), "{case}: saved activations");
                if save {
                    let dy = values(ya.len(), 8, 1.0);
                    let grads =
                        |isa, saved| backward::<Lstm>(d, &x, &mask, w, saved, &dy, pass, true, isa);
                    let (ga, gb) = (grads(Isa::Avx2Fma, &sa), grads(Isa::Avx512, &sb));
                    for (what, u, v) in [
                        ("x", &ga.x, &gb.x),
                        ("h0", &ga.h0, &gb.h0),
                        ("c0", &ga.c0, &gb.c0),
                        ("w_ih", &ga.w_ih, &gb.w_ih),
                        ("w_hh", &ga.w_hh, &gb.w_hh),
                        ("b_ih", &ga.b_ih, &gb.b_ih),
                        ("b_hh", &ga.b_hh, &gb.b_hh),
                    ] {
                        assert_eq!(bits(u), bits(v), "{case}: gradient of {what}");
                    }
                }
            }
        }
    }
}
