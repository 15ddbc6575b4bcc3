//! Private fused distance kernels for k-means on a "panel" layout.
//!
//! Points are stored in pairs of panels of [`LANES`] points each, feature-major inside a panel
//! (`panel[f * LANES + l]` is feature `f` of point `l`). A kernel computes the dot products of
//! two panels with a group of at most [`MAX_GROUP`] centres, keeping every accumulator in a
//! SIMD register, and folds the arg-min (or candidate distances) into the same pass, so the data
//! is read once per pass and nothing is packed. With AVX2 + FMA (detected at run time) explicit
//! 8-wide intrinsics are used (module `avx2`); elsewhere portable code computes the same thing.

// Lane-indexed loops mirror the SIMD layout on purpose.
#![allow(clippy::needless_range_loop)]

/// Points per panel (one 256-bit vector of f32).
pub(crate) const LANES: usize = 8;
/// Points per pair of panels, the unit the kernels work on.
pub(crate) const PAIR: usize = 2 * LANES;
/// Largest number of centres handled in one register group.
const MAX_GROUP: usize = 6;

/// Centred data in panel layout, padded with zero points to a multiple of [`PAIR`].
pub(crate) struct Panels {
    pub data: Vec<f32>,
    /// Squared norms of the (centred) points, padded with zeros.
    pub sq: Vec<f32>,
    pub n: usize,
    pub d: usize,
    pub n_pairs: usize,
}

impl Panels {
    /// Centres `x` (row-major `n x d`) by `offset` and converts it to panel layout.
    pub fn new(x: &[f32], n: usize, d: usize, offset: &[f32]) -> Panels {
        use rayon::prelude::*;
        let n_pairs = n.div_ceil(PAIR);
        let mut data = vec![0.0f32; n_pairs * PAIR * d];
        let mut sq = vec![0.0f32; n_pairs * PAIR];
        data.par_chunks_mut(PAIR * d)
            .zip(sq.par_chunks_mut(PAIR))
            .enumerate()
            .for_each(|(p, (pair, sq))| {
                for half in 0..2 {
                    let panel = &mut pair[half * LANES * d..(half + 1) * LANES * d];
                    for l in 0..LANES {
                        let i = p * PAIR + half * LANES + l;
                        if i >= n {
                            break;
                        }
                        let mut s = 0.0f32;
                        for (f, (&v, &o)) in x[i * d..(i + 1) * d].iter().zip(offset).enumerate() {
                            let c = v - o;
                            panel[f * LANES + l] = c;
                            s += c * c;
                        }
                        sq[half * LANES + l] = s;
                    }
                }
            });
        Panels {
            data,
            sq,
            n,
            d,
            n_pairs,
        }
    }

    /// The (centred) coordinates of point `i`, as stored in the panels.
    pub fn point(&self, i: usize) -> Vec<f32> {
        let (p, h, l) = (i / PAIR, (i % PAIR) / LANES, i % LANES);
        let panel =
            &self.data[(p * PAIR + h * LANES) * self.d..(p * PAIR + (h + 1) * LANES) * self.d];
        (0..self.d).map(|f| panel[f * LANES + l]).collect()
    }

    /// The panel pair `p` (length `PAIR * d`).
    #[inline(always)]
    fn pair(&self, p: usize) -> &[f32] {
        &self.data[p * PAIR * self.d..(p + 1) * PAIR * self.d]
    }
}

/// Centres transposed to feature-major (`ct[f * k + j]`) plus squared norms, as the kernels
/// read them.
pub(crate) struct Centres {
    pub ct: Vec<f32>,
    pub sq: Vec<f32>,
    pub k: usize,
}

impl Centres {
    /// From row-major `k x d` centres.
    pub fn new(c: &[f32], k: usize, d: usize) -> Centres {
        let mut ct = vec![0.0f32; k * d];
        for j in 0..k {
            for f in 0..d {
                ct[f * k + j] = c[j * d + f];
            }
        }
        let sq = c
            .chunks_exact(d)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect();
        Centres { ct, sq, k }
    }
}

/// Splits `k` centres into balanced groups of at most [`MAX_GROUP`]: `(first, size)`.
fn groups(k: usize) -> Vec<(usize, usize)> {
    let n_groups = k.div_ceil(MAX_GROUP).max(1);
    let (base, rem) = (k / n_groups, k % n_groups);
    let mut out = Vec::with_capacity(n_groups);
    let mut j0 = 0;
    for g in 0..n_groups {
        let size = base + usize::from(g < rem);
        out.push((j0, size));
        j0 += size;
    }
    out
}

/// Dot products of the two panels of `pair` with centres `j0..j0 + G`.
#[inline(always)]
fn dots<const G: usize>(
    pair: &[f32],
    ct: &[f32],
    k: usize,
    j0: usize,
    d: usize,
) -> [[[f32; LANES]; G]; 2] {
    let mut acc = [[[0.0f32; LANES]; G]; 2];
    let (pa, pb) = pair.split_at(LANES * d);
    for ((xa, xb), c) in pa
        .chunks_exact(LANES)
        .zip(pb.chunks_exact(LANES))
        .zip(ct.chunks_exact(k))
    {
        let c = &c[j0..j0 + G];
        for g in 0..G {
            let cv = c[g];
            for l in 0..LANES {
                acc[0][g][l] += xa[l] * cv;
                acc[1][g][l] += xb[l] * cv;
            }
        }
    }
    acc
}

/// Nearest centre group update for one pair: `best_v`/`best_i` hold the running minimum of
/// `|c|^2 - 2 x.c` for the 16 points.
#[inline(always)]
fn nearest_group<const G: usize>(
    pair: &[f32],
    c: &Centres,
    j0: usize,
    d: usize,
    best_v: &mut [[f32; LANES]; 2],
    best_i: &mut [[u32; LANES]; 2],
) {
    let acc = dots::<G>(pair, &c.ct, c.k, j0, d);
    for h in 0..2 {
        for g in 0..G {
            let cs = c.sq[j0 + g];
            let j = (j0 + g) as u32;
            for l in 0..LANES {
                let v = cs - 2.0 * acc[h][g][l];
                let less = v < best_v[h][l];
                best_v[h][l] = if less { v } else { best_v[h][l] };
                best_i[h][l] = if less { j } else { best_i[h][l] };
            }
        }
    }
}

#[inline(always)]
fn nearest_impl(
    x: &Panels,
    c: &Centres,
    pairs: std::ops::Range<usize>,
    out: &mut [u32],
    mut sums: Option<&mut [f64]>,
) {
    let d = x.d;
    let gs = groups(c.k);
    for (p, o) in pairs.zip(out.chunks_exact_mut(PAIR)) {
        let pair = x.pair(p);
        let mut best_v = [[f32::INFINITY; LANES]; 2];
        let mut best_i = [[0u32; LANES]; 2];
        for &(j0, g) in &gs {
            match g {
                1 => nearest_group::<1>(pair, c, j0, d, &mut best_v, &mut best_i),
                2 => nearest_group::<2>(pair, c, j0, d, &mut best_v, &mut best_i),
                3 => nearest_group::<3>(pair, c, j0, d, &mut best_v, &mut best_i),
                4 => nearest_group::<4>(pair, c, j0, d, &mut best_v, &mut best_i),
                5 => nearest_group::<5>(pair, c, j0, d, &mut best_v, &mut best_i),
                _ => nearest_group::<6>(pair, c, j0, d, &mut best_v, &mut best_i),
            }
        }
        o[..LANES].copy_from_slice(&best_i[0]);
        o[LANES..].copy_from_slice(&best_i[1]);
        if let Some(s) = sums.as_deref_mut() {
            for (h, panel) in pair.chunks_exact(LANES * d).enumerate() {
                for (l, &j) in o[h * LANES..(h + 1) * LANES].iter().enumerate() {
                    let row = &mut s[j as usize * d..(j as usize + 1) * d];
                    for (f, acc) in row.iter_mut().enumerate() {
                        *acc += panel[f * LANES + l] as f64;
                    }
                }
            }
        }
    }
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Index of the nearest centre (first minimum on ties) for every point of the pairs in
/// `pairs`; `out` has `PAIR` entries per pair (padding points included). When `sums`
/// (`k x d`) is given, every point's (centred) coordinates are added, in f64, to the row of
/// its nearest centre; padding points are zero vectors and add nothing.
pub(crate) fn nearest(
    x: &Panels,
    c: &Centres,
    pairs: std::ops::Range<usize>,
    out: &mut [u32],
    sums: Option<&mut [f64]>,
) {
    debug_assert_eq!(out.len(), pairs.len() * PAIR);
    debug_assert!(sums.as_ref().is_none_or(|s| s.len() == c.k * x.d));
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::nearest(x, c, pairs, out, sums) };
        return;
    }
    nearest_impl(x, c, pairs, out, sums)
}

/// Candidate distances for one group: `out[(j0 + g) * stride + i]` for the 16 points at
/// offset `i`, clamped at 0 and minimised with `closest`; returns nothing, pots are summed by
/// the caller.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cand_group<const G: usize>(
    pair: &[f32],
    xsq: &[f32],
    closest: Option<&[f32]>,
    c: &Centres,
    j0: usize,
    d: usize,
    out: &mut [f32],
    stride: usize,
    i: usize,
) {
    let acc = dots::<G>(pair, &c.ct, c.k, j0, d);
    for g in 0..G {
        let cs = c.sq[j0 + g];
        let o = &mut out[(j0 + g) * stride + i..(j0 + g) * stride + i + PAIR];
        for h in 0..2 {
            for l in 0..LANES {
                let t = h * LANES + l;
                let mut v = (xsq[t] + cs - 2.0 * acc[h][g][l]).max(0.0);
                if let Some(cl) = closest {
                    v = v.min(cl[t]);
                }
                o[t] = v;
            }
        }
    }
}

#[inline(always)]
fn candidates_impl(
    x: &Panels,
    c: &Centres,
    closest: Option<&[f32]>,
    pairs: std::ops::Range<usize>,
    out: &mut [f32],
) {
    let d = x.d;
    let stride = pairs.len() * PAIR;
    let gs = groups(c.k);
    let first = pairs.start;
    for p in pairs {
        let pair = x.pair(p);
        let xsq = &x.sq[p * PAIR..(p + 1) * PAIR];
        let cl = closest.map(|cl| &cl[(p - first) * PAIR..(p - first + 1) * PAIR]);
        let i = (p - first) * PAIR;
        for &(j0, g) in &gs {
            match g {
                1 => cand_group::<1>(pair, xsq, cl, c, j0, d, out, stride, i),
                2 => cand_group::<2>(pair, xsq, cl, c, j0, d, out, stride, i),
                3 => cand_group::<3>(pair, xsq, cl, c, j0, d, out, stride, i),
                4 => cand_group::<4>(pair, xsq, cl, c, j0, d, out, stride, i),
                5 => cand_group::<5>(pair, xsq, cl, c, j0, d, out, stride, i),
                _ => cand_group::<6>(pair, xsq, cl, c, j0, d, out, stride, i),
            }
        }
    }
}

/// Squared distances of the points of `pairs` to each of the `c.k` candidates, clamped at 0
/// and element-wise minimised with `closest` when given (`pairs.len() * PAIR` values, the
/// first for the first point of `pairs`).
/// `out` is candidate-major: `out[j * (pairs.len() * PAIR) + i]`.
pub(crate) fn candidates(
    x: &Panels,
    c: &Centres,
    closest: Option<&[f32]>,
    pairs: std::ops::Range<usize>,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), c.k * pairs.len() * PAIR);
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::candidates(x, c, closest, pairs, out) };
        return;
    }
    candidates_impl(x, c, closest, pairs, out)
}

#[inline(always)]
fn sqrt_dists_impl(row: &mut [f64], sq_i: f64, sq: &[f64]) {
    for (v, &s) in row.iter_mut().zip(sq) {
        *v = (*v + sq_i + s).max(0.0).sqrt();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sqrt_dists_avx2(row: &mut [f64], sq_i: f64, sq: &[f64]) {
    sqrt_dists_impl(row, sq_i, sq)
}

/// `row[j] = sqrt(max(0, row[j] + sq_i + sq[j]))`: Euclidean distances from `-2 x_i . x_j`.
pub(crate) fn sqrt_dists(row: &mut [f64], sq_i: f64, sq: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        return unsafe { sqrt_dists_avx2(row, sq_i, sq) };
    }
    sqrt_dists_impl(row, sq_i, sq)
}

#[inline(always)]
fn sum_f64_impl(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut c = v.chunks_exact(8);
    for x in &mut c {
        for l in 0..8 {
            acc[l] += x[l];
        }
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for &x in c.remainder() {
        s += x;
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sum_f64_avx2(v: &[f64]) -> f64 {
    sum_f64_impl(v)
}

/// Sum of f64 values with eight independent partial sums.
pub(crate) fn sum_f64(v: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        return unsafe { sum_f64_avx2(v) };
    }
    sum_f64_impl(v)
}

/// Sum of f32 values in f64 with eight independent partial sums.
pub(crate) fn sum_as_f64(v: &[f32]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut c = v.chunks_exact(8);
    for x in &mut c {
        for l in 0..8 {
            acc[l] += x[l] as f64;
        }
    }
    let mut s: f64 = acc.iter().sum();
    for &x in c.remainder() {
        s += x as f64;
    }
    s
}

/// AVX2 + FMA versions of the kernels. Callers must check the CPU features first.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Centres, LANES, PAIR, Panels, groups};
    use std::arch::x86_64::*;

    /// Dot products of the two panels of `pair` with centres `j0..j0 + G`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn dots<const G: usize>(
        pair: &[f32],
        ct: &[f32],
        k: usize,
        j0: usize,
        d: usize,
    ) -> ([__m256; G], [__m256; G]) {
        assert!(pair.len() >= PAIR * d && ct.len() >= d * k && j0 + G <= k);
        let mut a = [_mm256_setzero_ps(); G];
        let mut b = [_mm256_setzero_ps(); G];
        let pa = pair.as_ptr();
        let cp = ct.as_ptr();
        for f in 0..d {
            // SAFETY: f * LANES + 8 <= LANES * d and LANES * d + f * LANES + 8 <= PAIR * d
            // (pair length asserted); f * k + j0 + g < d * k (asserted).
            unsafe {
                let xa = _mm256_loadu_ps(pa.add(f * LANES));
                let xb = _mm256_loadu_ps(pa.add(LANES * d + f * LANES));
                let crow = cp.add(f * k + j0);
                for g in 0..G {
                    let cv = _mm256_broadcast_ss(&*crow.add(g));
                    a[g] = _mm256_fmadd_ps(xa, cv, a[g]);
                    b[g] = _mm256_fmadd_ps(xb, cv, b[g]);
                }
            }
        }
        (a, b)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn nearest_group<const G: usize>(
        pair: &[f32],
        c: &Centres,
        j0: usize,
        d: usize,
        bv: &mut [__m256; 2],
        bi: &mut [__m256; 2],
    ) {
        let (a, b) = dots::<G>(pair, &c.ct, c.k, j0, d);
        let two = _mm256_set1_ps(2.0);
        for g in 0..G {
            let cs = _mm256_set1_ps(c.sq[j0 + g]);
            let jv = _mm256_castsi256_ps(_mm256_set1_epi32((j0 + g) as i32));
            for (h, acc) in [a[g], b[g]].into_iter().enumerate() {
                let dv = _mm256_fnmadd_ps(two, acc, cs);
                let m = _mm256_cmp_ps::<_CMP_LT_OQ>(dv, bv[h]);
                bv[h] = _mm256_blendv_ps(bv[h], dv, m);
                bi[h] = _mm256_blendv_ps(bi[h], jv, m);
            }
        }
    }

    /// Adds the 8 points of `panel` (feature-major, `d` features) to `sums` rows `lab[l]`:
    /// 8 x 8 blocks are transposed in registers so each point's features are added as
    /// contiguous f64 vectors.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn accumulate_panel(panel: &[f32], lab: &[u32], d: usize, sums: &mut [f64]) {
        assert!(panel.len() >= LANES * d && lab.len() >= LANES);
        let d8 = d / 8 * 8;
        let p = panel.as_ptr();
        let mut fb = 0;
        while fb < d8 {
            // SAFETY: rows fb..fb + 8 of the panel exist (fb + 8 <= d); sums rows are bounds
            // checked through the slice indexing below.
            let r: [__m256; 8] =
                std::array::from_fn(|f| unsafe { _mm256_loadu_ps(p.add((fb + f) * LANES)) });
            // 8 x 8 transpose: t[l] = features fb..fb + 8 of point l.
            let a0 = _mm256_unpacklo_ps(r[0], r[1]);
            let a1 = _mm256_unpackhi_ps(r[0], r[1]);
            let a2 = _mm256_unpacklo_ps(r[2], r[3]);
            let a3 = _mm256_unpackhi_ps(r[2], r[3]);
            let a4 = _mm256_unpacklo_ps(r[4], r[5]);
            let a5 = _mm256_unpackhi_ps(r[4], r[5]);
            let a6 = _mm256_unpacklo_ps(r[6], r[7]);
            let a7 = _mm256_unpackhi_ps(r[6], r[7]);
            let b0 = _mm256_shuffle_ps::<0x44>(a0, a2);
            let b1 = _mm256_shuffle_ps::<0xEE>(a0, a2);
            let b2 = _mm256_shuffle_ps::<0x44>(a1, a3);
            let b3 = _mm256_shuffle_ps::<0xEE>(a1, a3);
            let b4 = _mm256_shuffle_ps::<0x44>(a4, a6);
            let b5 = _mm256_shuffle_ps::<0xEE>(a4, a6);
            let b6 = _mm256_shuffle_ps::<0x44>(a5, a7);
            let b7 = _mm256_shuffle_ps::<0xEE>(a5, a7);
            let t = [
                _mm256_permute2f128_ps::<0x20>(b0, b4),
                _mm256_permute2f128_ps::<0x20>(b1, b5),
                _mm256_permute2f128_ps::<0x20>(b2, b6),
                _mm256_permute2f128_ps::<0x20>(b3, b7),
                _mm256_permute2f128_ps::<0x31>(b0, b4),
                _mm256_permute2f128_ps::<0x31>(b1, b5),
                _mm256_permute2f128_ps::<0x31>(b2, b6),
                _mm256_permute2f128_ps::<0x31>(b3, b7),
            ];
            for (l, tl) in t.into_iter().enumerate() {
                let j = lab[l] as usize;
                let row = &mut sums[j * d + fb..j * d + fb + 8];
                let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(tl));
                let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(tl));
                // SAFETY: `row` has 8 f64.
                unsafe {
                    let q = row.as_mut_ptr();
                    _mm256_storeu_pd(q, _mm256_add_pd(_mm256_loadu_pd(q), lo));
                    _mm256_storeu_pd(q.add(4), _mm256_add_pd(_mm256_loadu_pd(q.add(4)), hi));
                }
            }
            fb += 8;
        }
        for f in d8..d {
            for (l, &j) in lab.iter().enumerate().take(LANES) {
                sums[j as usize * d + f] += panel[f * LANES + l] as f64;
            }
        }
    }

    /// See [`super::nearest`].
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn nearest(
        x: &Panels,
        c: &Centres,
        pairs: std::ops::Range<usize>,
        out: &mut [u32],
        mut sums: Option<&mut [f64]>,
    ) {
        let gs = groups(c.k);
        let d = x.d;
        for (p, o) in pairs.zip(out.chunks_exact_mut(PAIR)) {
            let pair = x.pair(p);
            let mut bv = [_mm256_set1_ps(f32::INFINITY); 2];
            let mut bi = [_mm256_setzero_ps(); 2];
            for &(j0, g) in &gs {
                match g {
                    1 => nearest_group::<1>(pair, c, j0, d, &mut bv, &mut bi),
                    2 => nearest_group::<2>(pair, c, j0, d, &mut bv, &mut bi),
                    3 => nearest_group::<3>(pair, c, j0, d, &mut bv, &mut bi),
                    4 => nearest_group::<4>(pair, c, j0, d, &mut bv, &mut bi),
                    5 => nearest_group::<5>(pair, c, j0, d, &mut bv, &mut bi),
                    _ => nearest_group::<6>(pair, c, j0, d, &mut bv, &mut bi),
                }
            }
            // SAFETY: `o` has PAIR = 16 u32 slots.
            unsafe {
                _mm256_storeu_si256(o.as_mut_ptr().cast(), _mm256_castps_si256(bi[0]));
                _mm256_storeu_si256(o.as_mut_ptr().add(LANES).cast(), _mm256_castps_si256(bi[1]));
            }
            if let Some(s) = sums.as_deref_mut() {
                let (pa, pb) = pair.split_at(LANES * d);
                accumulate_panel(pa, &o[..LANES], d, s);
                accumulate_panel(pb, &o[LANES..], d, s);
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    fn cand_group<const G: usize>(
        pair: &[f32],
        xsq: &[f32],
        closest: Option<&[f32]>,
        c: &Centres,
        j0: usize,
        d: usize,
        out: &mut [f32],
        at: usize,
        stride: usize,
    ) {
        let (a, b) = dots::<G>(pair, &c.ct, c.k, j0, d);
        let two = _mm256_set1_ps(2.0);
        let zero = _mm256_setzero_ps();
        for g in 0..G {
            let cs = _mm256_set1_ps(c.sq[j0 + g]);
            let o = &mut out[(j0 + g) * stride + at..(j0 + g) * stride + at + PAIR];
            for (h, acc) in [a[g], b[g]].into_iter().enumerate() {
                // SAFETY: xsq, closest and o hold PAIR values; h * LANES + 8 <= PAIR.
                unsafe {
                    let xs = _mm256_loadu_ps(xsq.as_ptr().add(h * LANES));
                    let mut v =
                        _mm256_max_ps(_mm256_add_ps(xs, _mm256_fnmadd_ps(two, acc, cs)), zero);
                    if let Some(cl) = closest {
                        v = _mm256_min_ps(v, _mm256_loadu_ps(cl.as_ptr().add(h * LANES)));
                    }
                    _mm256_storeu_ps(o.as_mut_ptr().add(h * LANES), v);
                }
            }
        }
    }

    /// See [`super::candidates`].
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn candidates(
        x: &Panels,
        c: &Centres,
        closest: Option<&[f32]>,
        pairs: std::ops::Range<usize>,
        out: &mut [f32],
    ) {
        let d = x.d;
        let stride = pairs.len() * PAIR;
        let gs = groups(c.k);
        let first = pairs.start;
        for p in pairs {
            let pair = x.pair(p);
            let xsq = &x.sq[p * PAIR..(p + 1) * PAIR];
            let cl = closest.map(|cl| &cl[(p - first) * PAIR..(p - first + 1) * PAIR]);
            let at = (p - first) * PAIR;
            for &(j0, g) in &gs {
                match g {
                    1 => cand_group::<1>(pair, xsq, cl, c, j0, d, out, at, stride),
                    2 => cand_group::<2>(pair, xsq, cl, c, j0, d, out, at, stride),
                    3 => cand_group::<3>(pair, xsq, cl, c, j0, d, out, at, stride),
                    4 => cand_group::<4>(pair, xsq, cl, c, j0, d, out, at, stride),
                    5 => cand_group::<5>(pair, xsq, cl, c, j0, d, out, at, stride),
                    _ => cand_group::<6>(pair, xsq, cl, c, j0, d, out, at, stride),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_sq(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn groups_are_balanced() {
        assert_eq!(groups(1), vec![(0, 1)]);
        assert_eq!(groups(6), vec![(0, 6)]);
        assert_eq!(groups(10), vec![(0, 5), (5, 5)]);
        assert_eq!(groups(13), vec![(0, 5), (5, 4), (9, 4)]);
    }

    #[test]
    fn kernels_match_naive_distances() {
        for &(n, d, k) in &[
            (1usize, 1usize, 1usize),
            (17, 3, 2),
            (40, 7, 10),
            (33, 32, 13),
        ] {
            let x: Vec<f32> = (0..n * d)
                .map(|i| ((i * 37 % 101) as f32) * 0.1 - 5.0)
                .collect();
            let c: Vec<f32> = (0..k * d)
                .map(|i| ((i * 53 % 97) as f32) * 0.1 - 4.0)
                .collect();
            let offset = vec![0.0f32; d];
            let p = Panels::new(&x, n, d, &offset);
            let cs = Centres::new(&c, k, d);
            let mut lab = vec![0u32; p.n_pairs * PAIR];
            nearest(&p, &cs, 0..p.n_pairs, &mut lab, None);
            let mut sums = vec![0.0f64; k * d];
            let mut lab2 = vec![0u32; p.n_pairs * PAIR];
            nearest(&p, &cs, 0..p.n_pairs, &mut lab2, Some(&mut sums));
            assert_eq!(lab, lab2);
            let mut want = vec![0.0f64; k * d];
            for i in 0..n {
                for f in 0..d {
                    want[lab[i] as usize * d + f] += x[i * d + f] as f64;
                }
            }
            for (a, b) in sums.iter().zip(&want) {
                assert!((a - b).abs() < 1e-9, "sums {a} vs {b}");
            }
            let mut dist = vec![0.0f32; k * p.n_pairs * PAIR];
            candidates(&p, &cs, None, 0..p.n_pairs, &mut dist);
            let stride = p.n_pairs * PAIR;
            for i in 0..n {
                let xi = &x[i * d..(i + 1) * d];
                let dd: Vec<f32> = (0..k)
                    .map(|j| naive_sq(xi, &c[j * d..(j + 1) * d]))
                    .collect();
                let best = dd.iter().copied().fold(f32::INFINITY, f32::min);
                let j = lab[i] as usize;
                assert!(
                    dd[j] <= best + 1e-3 * best.max(1.0),
                    "n {n} d {d} k {k} point {i}"
                );
                for jj in 0..k {
                    let got = dist[jj * stride + i];
                    assert!((got - dd[jj]).abs() <= 1e-3 * dd[jj].max(1.0));
                }
                assert!((p.sq[i] - naive_sq(xi, &offset)).abs() <= 1e-3 * p.sq[i].max(1.0));
            }
            // the portable path agrees with the dispatched one
            let mut lab3 = vec![0u32; p.n_pairs * PAIR];
            let mut sums3 = vec![0.0f64; k * d];
            nearest_impl(&p, &cs, 0..p.n_pairs, &mut lab3, Some(&mut sums3));
            for i in 0..n {
                let xi = &x[i * d..(i + 1) * d];
                let (a, b) = (lab[i] as usize, lab3[i] as usize);
                let (da, db) = (
                    naive_sq(xi, &c[a * d..(a + 1) * d]),
                    naive_sq(xi, &c[b * d..(b + 1) * d]),
                );
                assert!((da - db).abs() <= 1e-3 * da.max(1.0));
            }
            let mut dist3 = vec![0.0f32; k * p.n_pairs * PAIR];
            candidates_impl(&p, &cs, None, 0..p.n_pairs, &mut dist3);
            for (a, b) in dist.iter().zip(&dist3) {
                assert!((a - b).abs() <= 1e-3 * a.max(1.0));
            }
            // closest clamps
            let closest = vec![0.5f32; p.n_pairs * PAIR];
            candidates(&p, &cs, Some(&closest), 0..p.n_pairs, &mut dist);
            assert!(dist.iter().all(|&v| v <= 0.5));
        }
    }
}
