//! Private fused distance kernels for k-means on a "panel" layout.
//!
//! Points are stored in pairs of panels of [`LANES`] points each, feature-major inside a panel
//! (`panel[f * LANES + l]` is feature `f` of point `l`). A kernel computes the dot products of
//! two panels with a group of at most [`Points::MAX_GROUP`] centres, keeping every accumulator in a
//! SIMD register, and folds the arg-min (or candidate distances) into the same pass, so the data
//! is read once per pass and nothing is packed.
//!
//! Each kernel has one body, generic over the operations of a path on the 16 points of a pair
//! ([`Points`]): plain arrays ([`Portable`]), AVX2 registers reached only through an
//! [`Avx2Fma`](seqae_simd::Avx2Fma) token and compiled inside a
//! `#[target_feature(enable = "avx2,fma")]` function (module `avx2`), or one AVX-512 register
//! per 16 points, through an [`Avx512`](seqae_simd::Avx512) token (module `avx512`: the
//! distance kernels only; the f64 sums keep their AVX2 bodies there). The entry points take the
//! [`Isa`] to run.

// Lane-indexed loops mirror the SIMD layout on purpose.
#![allow(clippy::needless_range_loop)]

use std::ops::Range;

mod lanes;

use seqae_simd::{Isa, Portable};

use lanes::Points;
pub(crate) use lanes::{LANES, PAIR};

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

/// Splits `k` centres into balanced groups of at most `max`: `(first, size)`.
fn groups(k: usize, max: usize) -> Vec<(usize, usize)> {
    let n_groups = k.div_ceil(max).max(1);
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

/// Calls `$f::<G, S>($args)` with `G` the group size `$g` (1 to 12, the largest
/// [`Points::MAX_GROUP`]) as a constant.
macro_rules! by_group_size {
    ($g:expr, $f:ident::<S>($($arg:expr),* $(,)?)) => {
        match $g {
            1 => $f::<1, S>($($arg),*),
            2 => $f::<2, S>($($arg),*),
            3 => $f::<3, S>($($arg),*),
            4 => $f::<4, S>($($arg),*),
            5 => $f::<5, S>($($arg),*),
            6 => $f::<6, S>($($arg),*),
            7 => $f::<7, S>($($arg),*),
            8 => $f::<8, S>($($arg),*),
            9 => $f::<9, S>($($arg),*),
            10 => $f::<10, S>($($arg),*),
            11 => $f::<11, S>($($arg),*),
            _ => $f::<12, S>($($arg),*),
        }
    };
}

/// The `i`-th run of [`LANES`] values of `v`.
#[inline(always)]
fn lanes_at(v: &[f32], i: usize) -> &[f32; LANES] {
    v[i * LANES..(i + 1) * LANES].try_into().expect("8 lanes")
}

/// The `i`-th run of [`PAIR`] values of `v`.
#[inline(always)]
fn pair_at(v: &[f32], i: usize) -> &[f32; PAIR] {
    v[i * PAIR..(i + 1) * PAIR].try_into().expect("16 points")
}

/// Dot products of the 16 points of `pair` with centres `j0..j0 + G`.
#[inline(always)]
fn dots<const G: usize, S: Points>(
    s: S,
    pair: &[f32],
    ct: &[f32],
    k: usize,
    j0: usize,
    d: usize,
) -> [S::P; G] {
    let mut acc = [s.splat(0.0); G];
    let (pa, pb) = pair.split_at(LANES * d);
    for ((xa, xb), c) in pa
        .chunks_exact(LANES)
        .zip(pb.chunks_exact(LANES))
        .zip(ct.chunks_exact(k))
    {
        let x = s.load_panels(
            xa.try_into().expect("8 lanes"),
            xb.try_into().expect("8 lanes"),
        );
        let c = &c[j0..j0 + G];
        for g in 0..G {
            acc[g] = s.madd(x, s.splat(c[g]), acc[g]);
        }
    }
    acc
}

/// Nearest centre group update for one pair: `best_v`/`best_i` hold the running minimum of
/// `|c|^2 - 2 x.c` for the 16 points and its centre index (as bits).
#[inline(always)]
fn nearest_group<const G: usize, S: Points>(
    s: S,
    pair: &[f32],
    c: &Centres,
    j0: usize,
    d: usize,
    best_v: &mut S::P,
    best_i: &mut S::P,
) {
    let acc = dots::<G, S>(s, pair, &c.ct, c.k, j0, d);
    let m2 = s.splat(-2.0);
    for (g, &dot) in acc.iter().enumerate() {
        let cs = s.splat(c.sq[j0 + g]);
        let j = s.splat_bits((j0 + g) as u32);
        let v = s.madd(m2, dot, cs);
        *best_i = s.select_lt(v, *best_v, j, *best_i);
        *best_v = s.select_lt(v, *best_v, v, *best_v);
    }
}

/// Adds the 8 points of `panel` (feature-major, `d` features) to `sums` rows `lab[l]`, in f64:
/// 8 x 8 blocks are transposed first (with shuffles on the AVX2 and AVX-512 paths; value by
/// value they took most of an assignment pass) so each point's features are added as
/// contiguous runs.
#[inline(always)]
fn add_panel<S: Points>(s: S, panel: &[f32], lab: &[u32], d: usize, sums: &mut [f64]) {
    let d8 = d / 8 * 8;
    for fb in (0..d8).step_by(8) {
        // t[l] = features fb..fb + 8 of point l.
        let row = |f: usize| lanes_at(panel, fb + f);
        let t = s.transpose([
            row(0),
            row(1),
            row(2),
            row(3),
            row(4),
            row(5),
            row(6),
            row(7),
        ]);
        for (tl, &j) in t.iter().zip(lab) {
            let j = j as usize;
            for (acc, &v) in sums[j * d + fb..j * d + fb + 8].iter_mut().zip(tl) {
                *acc += v as f64;
            }
        }
    }
    for f in d8..d {
        for (l, &j) in lab.iter().enumerate().take(LANES) {
            sums[j as usize * d + f] += panel[f * LANES + l] as f64;
        }
    }
}

#[inline(always)]
fn nearest_body<S: Points>(
    s: S,
    x: &Panels,
    c: &Centres,
    pairs: Range<usize>,
    out: &mut [u32],
    mut sums: Option<&mut [f64]>,
) {
    const { assert!(S::MAX_GROUP <= 12, "by_group_size goes to 12") };
    let d = x.d;
    let gs = groups(c.k, S::MAX_GROUP);
    for (p, o) in pairs.zip(out.chunks_exact_mut(PAIR)) {
        let pair = x.pair(p);
        let mut best_v = s.splat(f32::INFINITY);
        let mut best_i = s.splat_bits(0);
        for &(j0, g) in &gs {
            by_group_size!(
                g,
                nearest_group::<S>(s, pair, c, j0, d, &mut best_v, &mut best_i)
            );
        }
        s.store_bits(best_i, o.try_into().expect("16 points"));
        if let Some(sums) = sums.as_deref_mut() {
            let (oa, ob) = o.split_at(LANES);
            let (pa, pb) = pair.split_at(LANES * d);
            add_panel(s, pa, oa, d, sums);
            add_panel(s, pb, ob, d, sums);
        }
    }
}

/// Index of the nearest centre (first minimum on ties) for every point of the pairs in
/// `pairs`; `out` has `PAIR` entries per pair (padding points included). When `sums`
/// (`k x d`) is given, every point's (centred) coordinates are added, in f64, to the row of
/// its nearest centre; padding points are zero vectors and add nothing.
pub(crate) fn nearest(
    isa: Isa,
    x: &Panels,
    c: &Centres,
    pairs: Range<usize>,
    out: &mut [u32],
    sums: Option<&mut [f64]>,
) {
    debug_assert_eq!(out.len(), pairs.len() * PAIR);
    debug_assert!(sums.as_ref().is_none_or(|s| s.len() == c.k * x.d));
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = isa.avx512() {
        return avx512::nearest(token, x, c, pairs, out, sums);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = isa.avx2_fma() {
        return avx2::nearest(token, x, c, pairs, out, sums);
    }
    nearest_body(Portable, x, c, pairs, out, sums)
}

/// Candidate distances for one group: `out[(j0 + g) * stride + i]` for the 16 points at
/// offset `i`, clamped at 0 and minimised with `closest`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cand_group<const G: usize, S: Points>(
    s: S,
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
    let acc = dots::<G, S>(s, pair, &c.ct, c.k, j0, d);
    let (m2, two, zero) = (s.splat(-2.0), s.splat(2.0), s.splat(0.0));
    let xs = s.load(pair_at(xsq, 0));
    for (g, &dot) in acc.iter().enumerate() {
        let cs = s.splat(c.sq[j0 + g]);
        let at = (j0 + g) * stride + i;
        // Each path keeps the association it has always had (same results bit for bit).
        let v = if S::FMA {
            s.add(xs, s.madd(m2, dot, cs))
        } else {
            s.sub(s.add(xs, cs), s.mul(two, dot))
        };
        let mut v = s.max(v, zero);
        if let Some(cl) = closest {
            v = s.min(v, s.load(pair_at(cl, 0)));
        }
        s.store(v, (&mut out[at..at + PAIR]).try_into().expect("16 points"));
    }
}

#[inline(always)]
fn candidates_body<S: Points>(
    s: S,
    x: &Panels,
    c: &Centres,
    closest: Option<&[f32]>,
    pairs: Range<usize>,
    out: &mut [f32],
) {
    const { assert!(S::MAX_GROUP <= 12, "by_group_size goes to 12") };
    let d = x.d;
    let stride = pairs.len() * PAIR;
    let gs = groups(c.k, S::MAX_GROUP);
    let first = pairs.start;
    for p in pairs {
        let pair = x.pair(p);
        let xsq = &x.sq[p * PAIR..(p + 1) * PAIR];
        let cl = closest.map(|cl| &cl[(p - first) * PAIR..(p - first + 1) * PAIR]);
        let i = (p - first) * PAIR;
        for &(j0, g) in &gs {
            by_group_size!(
                g,
                cand_group::<S>(s, pair, xsq, cl, c, j0, d, out, stride, i)
            );
        }
    }
}

/// Squared distances of the points of `pairs` to each of the `c.k` candidates, clamped at 0
/// and element-wise minimised with `closest` when given (`pairs.len() * PAIR` values, the
/// first for the first point of `pairs`).
/// `out` is candidate-major: `out[j * (pairs.len() * PAIR) + i]`.
pub(crate) fn candidates(
    isa: Isa,
    x: &Panels,
    c: &Centres,
    closest: Option<&[f32]>,
    pairs: Range<usize>,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), c.k * pairs.len() * PAIR);
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = isa.avx512() {
        return avx512::candidates(token, x, c, closest, pairs, out);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = isa.avx2_fma() {
        return avx2::candidates(token, x, c, closest, pairs, out);
    }
    candidates_body(Portable, x, c, closest, pairs, out)
}

#[inline(always)]
fn sqrt_dists_body(row: &mut [f64], sq_i: f64, sq: &[f64]) {
    for (v, &s) in row.iter_mut().zip(sq) {
        *v = (*v + sq_i + s).max(0.0).sqrt();
    }
}

/// `row[j] = sqrt(max(0, row[j] + sq_i + sq[j]))`: Euclidean distances from `-2 x_i . x_j`.
pub(crate) fn sqrt_dists(isa: Isa, row: &mut [f64], sq_i: f64, sq: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = isa.avx2_fma() {
        return avx2::sqrt_dists(token, row, sq_i, sq);
    }
    sqrt_dists_body(row, sq_i, sq)
}

#[inline(always)]
fn sum_f64_body(v: &[f64]) -> f64 {
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

/// Sum of f64 values with eight independent partial sums.
pub(crate) fn sum_f64(isa: Isa, v: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = isa.avx2_fma() {
        return avx2::sum_f64(token, v);
    }
    sum_f64_body(v)
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

/// `nearest` and `candidates` for one path: wrappers that take the path's token (the proof
/// that the CPU has `$features`, so no safe caller can reach the instructions without them)
/// and run the bodies inside a `#[target_feature]` function.
#[cfg(target_arch = "x86_64")]
macro_rules! distance_kernels {
    ($token:ident, $features:literal) => {
        /// [`super::nearest`] on this path.
        pub(super) fn nearest(
            token: $token,
            x: &Panels,
            c: &Centres,
            pairs: Range<usize>,
            out: &mut [u32],
            sums: Option<&mut [f64]>,
        ) {
            #[target_feature(enable = $features)]
            fn run(
                t: $token,
                x: &Panels,
                c: &Centres,
                p: Range<usize>,
                o: &mut [u32],
                s: Option<&mut [f64]>,
            ) {
                super::nearest_body(t, x, c, p, o, s)
            }
            // SAFETY: the token proves that the CPU has the features enabled.
            unsafe { run(token, x, c, pairs, out, sums) }
        }

        /// [`super::candidates`] on this path.
        pub(super) fn candidates(
            token: $token,
            x: &Panels,
            c: &Centres,
            closest: Option<&[f32]>,
            pairs: Range<usize>,
            out: &mut [f32],
        ) {
            #[target_feature(enable = $features)]
            fn run(
                t: $token,
                x: &Panels,
                c: &Centres,
                cl: Option<&[f32]>,
                p: Range<usize>,
                o: &mut [f32],
            ) {
                super::candidates_body(t, x, c, cl, p, o)
            }
            // SAFETY: the token proves that the CPU has the features enabled.
            unsafe { run(token, x, c, closest, pairs, out) }
        }
    };
}

/// The distance kernels on 16-lane registers (the f64 sums run their AVX2 bodies on this
/// path: they are a few per cent of a clustering run).
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::ops::Range;

    use seqae_simd::Avx512;

    use super::{Centres, Panels};

    distance_kernels!(Avx512, "avx512f,avx2,fma");
}

/// The bodies compiled for AVX2 + FMA. Each wrapper takes an [`Avx2Fma`](seqae_simd::Avx2Fma)
/// token, the proof that the CPU has the features, so no safe caller can reach the
/// instructions without them.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::ops::Range;

    use seqae_simd::Avx2Fma;

    use super::{Centres, Panels};

    distance_kernels!(Avx2Fma, "avx2,fma");

    /// [`super::sqrt_dists`] on the AVX2 path.
    pub(super) fn sqrt_dists(_: Avx2Fma, row: &mut [f64], sq_i: f64, sq: &[f64]) {
        #[target_feature(enable = "avx2,fma")]
        fn run(row: &mut [f64], sq_i: f64, sq: &[f64]) {
            super::sqrt_dists_body(row, sq_i, sq)
        }
        // SAFETY: the token proves that the CPU has AVX2 and FMA.
        unsafe { run(row, sq_i, sq) }
    }

    /// [`super::sum_f64`] on the AVX2 path.
    pub(super) fn sum_f64(_: Avx2Fma, v: &[f64]) -> f64 {
        #[target_feature(enable = "avx2,fma")]
        fn run(v: &[f64]) -> f64 {
            super::sum_f64_body(v)
        }
        // SAFETY: the token proves that the CPU has AVX2 and FMA.
        unsafe { run(v) }
    }
}

/// The paths a test can run here: the portable one always, the AVX2 and AVX-512 ones when the
/// CPU has them (a skipped path is reported on stderr, never passed silently).
#[cfg(test)]
pub(crate) fn test_paths() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| {
            let ok = isa.supported();
            if !ok {
                eprintln!("{isa} path not run: CPU lacks it");
            }
            ok
        })
        .collect()
}

#[cfg(test)]
mod tests;
