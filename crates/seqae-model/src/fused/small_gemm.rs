//! The products of the recurrence: `c += a b` where `c` is narrow enough to tile, namely the
//! per-step products (one worker's batch rows, a few dozen, times a weight matrix) and the
//! recurrent weight gradient (`h^T dg`, summed over every step). `b` is first rearranged into
//! column panels ([`Packed`]), so that the tile loop reads it front to back (row-major weights
//! have a power-of-two row length, and reading down their columns thrashes the L1 cache); a
//! tile of `c` (4 rows by 16 columns, 8 rows on the AVX-512 path, whose 32 registers hold 16
//! values each) stays in registers over the whole sum. The loop is compiled for the code path
//! the caller's [`Path`] value proves (AVX-512, AVX2 and FMA, or portable).
use rayon::prelude::*;
use seqae_simd::{Avx2Fma, Avx512, Path, Portable};

/// Rows of `c` in one register tile (AVX2 and portable paths).
const TILE_ROWS: usize = 4;
/// Rows of `c` in one register tile on the AVX-512 path.
const WIDE_TILE_ROWS: usize = 8;
/// Columns of `c` in one register tile (two 8-lane vectors), and of a [`Packed`] panel.
pub(super) const TILE_COLS: usize = 16;

/// The left operand: element `(i, p)` is `data[i * row + p * col]` (so a transposed
/// row-major matrix is `row = 1`, `col = its row length`).
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a> {
    /// The values.
    pub data: &'a [f32],
    /// Distance between consecutive rows.
    pub row: usize,
    /// Distance between consecutive columns.
    pub col: usize,
}

impl<'a> Strided<'a> {
    /// A row-major operand.
    pub fn rows(data: &'a [f32], stride: usize) -> Self {
        Strided {
            data,
            row: stride,
            col: 1,
        }
    }
}

/// The right operand `b` (`k x n`) in column panels of 16: panel `q` holds, row after row,
/// columns `16 q .. 16 q + 16` (zeros past `n`).
#[derive(Clone, Debug)]
pub struct Packed {
    data: Vec<f32>,
    k: usize,
    n: usize,
}

impl Packed {
    /// Packs `b` (`k x n`, `a.data[i * stride + j]` is element `(i, j)`).
    pub fn new(b: &[f32], stride: usize, (k, n): (usize, usize)) -> Packed {
        let total = n.div_ceil(TILE_COLS) * k * TILE_COLS;
        // Written value by value into fresh capacity: zero-filling first cost a tenth of the
        // backward pass, which packs every step's gate gradients.
        let mut data = Vec::with_capacity(total);
        if total > 0 {
            assert!(b.len() >= (k - 1) * stride + n, "b is too short");
            data.spare_capacity_mut()[..total]
                .par_chunks_mut(k * TILE_COLS)
                .enumerate()
                .for_each(|(q, panel)| {
                    let (j0, w) = (q * TILE_COLS, TILE_COLS.min(n - q * TILE_COLS));
                    for (p, dst) in panel.chunks_exact_mut(TILE_COLS).enumerate() {
                        let (head, pad) = dst.split_at_mut(w);
                        for (d, &v) in head.iter_mut().zip(&b[p * stride + j0..][..w]) {
                            d.write(v);
                        }
                        for d in pad {
                            d.write(0.0);
                        }
                    }
                });
            // SAFETY: the loop above wrote all `total` values (every panel row: `w` values
            // and `16 - w` zeros).
            unsafe { data.set_len(total) };
        }
        Packed { data, k, n }
    }

    /// A matrix already in panel layout: `data[(q * k + p) * 16 + j]` is element
    /// `(p, 16 q + j)`.
    pub fn from_panels(data: Vec<f32>, (k, n): (usize, usize)) -> Packed {
        assert_eq!(
            data.len(),
            n.div_ceil(TILE_COLS) * k * TILE_COLS,
            "panel layout"
        );
        Packed { data, k, n }
    }

    /// Panel `q`, mutable.
    pub fn panel_mut(&mut self, q: usize) -> &mut [f32] {
        &mut self.data[q * self.k * TILE_COLS..(q + 1) * self.k * TILE_COLS]
    }

    /// Panel `q`: rows `0..k` of 16 values.
    pub fn panel(&self, q: usize) -> &[f32] {
        &self.data[q * self.k * TILE_COLS..(q + 1) * self.k * TILE_COLS]
    }

    /// The packed transpose of `b` (`n x k`, row-major with rows of `k`).
    pub fn transposed(b: &[f32], (k, n): (usize, usize)) -> Packed {
        let mut t = vec![0.0f32; k * n];
        for (j, row) in b.chunks_exact(k).take(n).enumerate() {
            for (p, &v) in row.iter().enumerate() {
                t[p * n + j] = v;
            }
        }
        Packed::new(&t, n, (k, n))
    }
}

/// Rows of the widest register tile on `path`: callers that lay out a left operand for whole
/// tiles (the weight-gradient chunks) use it.
#[inline(always)]
pub fn tile_rows<P: Path>(path: P) -> usize {
    if path.avx512().is_some() {
        WIDE_TILE_ROWS
    } else {
        TILE_ROWS
    }
}

/// `c += a b` for `a` `m x k` and rows `p0 .. p0 + k` of `b`; `c` is row-major `m x n` (`n`
/// at most `b`'s) with row stride `c_stride`, on the code path `path`.
pub fn add_product<P: Path>(
    path: P,
    (m, n, k): (usize, usize, usize),
    a: Strided<'_>,
    (b, p0): (&Packed, usize),
    c: &mut [f32],
    c_stride: usize,
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(
        a.data.len() > (m - 1) * a.row + (k - 1) * a.col,
        "a is too short"
    );
    assert!(n <= b.n && p0 + k <= b.k, "b is too small");
    assert!(c.len() >= (m - 1) * c_stride + n, "c is too short");
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = path.avx512() {
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn run(
            token: Avx512,
            d: (usize, usize, usize),
            a: Strided<'_>,
            b: (&Packed, usize),
            c: &mut [f32],
            cs: usize,
        ) {
            product(token, d, a, b, c, cs)
        }
        // SAFETY: the token proves that the CPU has AVX-512F, AVX2 and FMA.
        return unsafe { run(token, (m, n, k), a, (b, p0), c, c_stride) };
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = path.avx2_fma() {
        #[target_feature(enable = "avx2,fma")]
        fn run(
            token: Avx2Fma,
            d: (usize, usize, usize),
            a: Strided<'_>,
            b: (&Packed, usize),
            c: &mut [f32],
            cs: usize,
        ) {
            product(token, d, a, b, c, cs)
        }
        // SAFETY: the token proves that the CPU has AVX2 and FMA.
        return unsafe { run(token, (m, n, k), a, (b, p0), c, c_stride) };
    }
    product(Portable, (m, n, k), a, (b, p0), c, c_stride)
}

#[inline(always)]
fn product<P: Path>(
    path: P,
    (m, n, k): (usize, usize, usize),
    a: Strided<'_>,
    b: (&Packed, usize),
    c: &mut [f32],
    cs: usize,
) {
    let mut r = 0;
    if tile_rows(path) == WIDE_TILE_ROWS {
        while r + WIDE_TILE_ROWS <= m {
            row_block::<WIDE_TILE_ROWS, P>(path, r, (n, k), a, b, c, cs);
            r += WIDE_TILE_ROWS;
        }
    }
    while r + TILE_ROWS <= m {
        row_block::<TILE_ROWS, P>(path, r, (n, k), a, b, c, cs);
        r += TILE_ROWS;
    }
    match m - r {
        1 => row_block::<1, P>(path, r, (n, k), a, b, c, cs),
        2 => row_block::<2, P>(path, r, (n, k), a, b, c, cs),
        3 => row_block::<3, P>(path, r, (n, k), a, b, c, cs),
        _ => {}
    }
}

/// Rows `r0..r0 + R` of `c`, tile by tile across the columns.
#[inline(always)]
fn row_block<const R: usize, P: Path>(
    path: P,
    r0: usize,
    (n, k): (usize, usize),
    a: Strided<'_>,
    (b, p0): (&Packed, usize),
    c: &mut [f32],
    cs: usize,
) {
    let a = Strided {
        data: &a.data[r0 * a.row..],
        ..a
    };
    let panel = |q: usize| &b.data[(q * b.k + p0) * TILE_COLS..][..k * TILE_COLS];
    let mut q = 0;
    if path.avx512().is_some() {
        // Two panels side by side: an R x 32 tile, two registers a row.
        while (q + 2) * TILE_COLS <= n {
            let c = &mut c[r0 * cs + q * TILE_COLS..];
            full_tile::<R, 2, P>(path, a, k, [panel(q), panel(q + 1)], c, cs);
            q += 2;
        }
    }
    while q * TILE_COLS < n {
        let j = q * TILE_COLS;
        let width = TILE_COLS.min(n - j);
        tile::<R, P>(path, a, k, panel(q), &mut c[r0 * cs + j..], (cs, width));
        q += 1;
    }
}

/// One `R x 16` tile of `c` (its first `width` columns), held in registers over the sum.
#[inline(always)]
fn tile<const R: usize, P: Path>(
    path: P,
    a: Strided<'_>,
    k: usize,
    panel: &[f32],
    c: &mut [f32],
    (cs, width): (usize, usize),
) {
    if width == TILE_COLS {
        return full_tile::<R, 1, P>(path, a, k, [panel], c, cs);
    }
    // A partial tile: through a zero-padded copy.
    let mut pad = [[0.0f32; TILE_COLS]; R];
    for (i, row) in pad.iter_mut().enumerate() {
        row[..width].copy_from_slice(&c[i * cs..][..width]);
    }
    full_tile::<R, 1, P>(path, a, k, [panel], pad.as_flattened_mut(), TILE_COLS);
    for (i, row) in pad.iter().enumerate() {
        c[i * cs..][..width].copy_from_slice(&row[..width]);
    }
}

/// [`tile`] for all columns of `N` panels side by side (`16 N` columns of `c`).
#[inline(always)]
fn full_tile<const R: usize, const N: usize, P: Path>(
    path: P,
    a: Strided<'_>,
    k: usize,
    panels: [&[f32]; N],
    c: &mut [f32],
    cs: usize,
) {
    let mut acc = [[[0.0f32; TILE_COLS]; N]; R];
    for (i, row) in acc.iter_mut().enumerate() {
        row.as_flattened_mut()
            .copy_from_slice(&c[i * cs..][..N * TILE_COLS]);
    }
    accumulate::<R, N, P>(path, &mut acc, a, k, panels);
    for (i, row) in acc.iter().enumerate() {
        c[i * cs..][..N * TILE_COLS].copy_from_slice(row.as_flattened());
    }
}

/// `acc += a [p_0 | p_1 | ...]` for the `R x k` operand `a` and `N` panels side by side
/// (each `k` rows of 16): the register tile, for callers that start from and finish with
/// their own values (the fused step starts from the bias and applies the cell to the
/// result). On the AVX2 and AVX-512 paths (the caller compiled for them) the tile is held in
/// vector registers.
#[inline(always)]
pub(super) fn accumulate<const R: usize, const N: usize, P: Path>(
    path: P,
    acc: &mut [[[f32; TILE_COLS]; N]; R],
    a: Strided<'_>,
    k: usize,
    panels: [&[f32]; N],
) {
    if k == 0 {
        return;
    }
    assert!(
        a.data.len() > (R - 1) * a.row + (k - 1) * a.col
            && panels.iter().all(|p| p.len() >= k * TILE_COLS),
        "operands too short"
    );
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = path.avx512() {
        // SAFETY: the token proves that the CPU has AVX-512F; bounds checked above.
        return unsafe { accumulate_avx512::<R, N>(token, acc, a, k, panels) };
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = path.avx2_fma() {
        // SAFETY: the token proves that the CPU has AVX2 and FMA; bounds checked above.
        return unsafe { accumulate_avx::<R, N>(token, acc, a, k, panels) };
    }
    for p in 0..k {
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: in bounds, checked above.
            let x = unsafe { *a.data.get_unchecked(i * a.row + p * a.col) };
            for (part, panel) in row.iter_mut().zip(&panels) {
                for (v, &y) in part.iter_mut().zip(&panel[p * TILE_COLS..][..TILE_COLS]) {
                    *v = P::madd(x, y, *v);
                }
            }
        }
    }
}

/// [`accumulate`] in AVX2 registers, written out so that the tile never leaves them (left to
/// the auto-vectoriser, a tile whose result feeds the cell maths was kept in memory).
///
/// # Safety
/// The caller must be compiled for AVX2 and FMA or hold the token; the operands must be as
/// [`accumulate`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn accumulate_avx<const R: usize, const N: usize>(
    _token: Avx2Fma,
    acc: &mut [[[f32; TILE_COLS]; N]; R],
    a: Strided<'_>,
    k: usize,
    panels: [&[f32]; N],
) {
    use std::arch::x86_64::{
        __m256, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_storeu_ps,
    };
    // SAFETY: every pointer stays within `acc`, the panels' first `16 k` values and the `a`
    // elements that `accumulate` checked; the intrinsics need AVX2 and FMA, which the token
    // proves.
    unsafe {
        let mut v: [[[__m256; 2]; N]; R] = std::array::from_fn(|i| {
            std::array::from_fn(|q| {
                let src = acc[i][q].as_ptr();
                [_mm256_loadu_ps(src), _mm256_loadu_ps(src.add(8))]
            })
        });
        let ap = a.data.as_ptr();
        for p in 0..k {
            let b: [[__m256; 2]; N] = std::array::from_fn(|q| {
                let src = panels[q].as_ptr().add(p * TILE_COLS);
                [_mm256_loadu_ps(src), _mm256_loadu_ps(src.add(8))]
            });
            for (i, vi) in v.iter_mut().enumerate() {
                let x = _mm256_broadcast_ss(&*ap.add(i * a.row + p * a.col));
                for (vq, bq) in vi.iter_mut().zip(&b) {
                    vq[0] = _mm256_fmadd_ps(x, bq[0], vq[0]);
                    vq[1] = _mm256_fmadd_ps(x, bq[1], vq[1]);
                }
            }
        }
        for (row, vi) in acc.iter_mut().zip(&v) {
            for (part, vq) in row.iter_mut().zip(vi) {
                _mm256_storeu_ps(part.as_mut_ptr(), vq[0]);
                _mm256_storeu_ps(part.as_mut_ptr().add(8), vq[1]);
            }
        }
    }
}

/// [`accumulate`] in AVX-512 registers: one register per tile row and panel (16 values).
///
/// # Safety
/// The caller must be compiled for AVX-512F or hold the token; the operands must be as
/// [`accumulate`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn accumulate_avx512<const R: usize, const N: usize>(
    _token: Avx512,
    acc: &mut [[[f32; TILE_COLS]; N]; R],
    a: Strided<'_>,
    k: usize,
    panels: [&[f32]; N],
) {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_storeu_ps,
    };
    // SAFETY: every pointer stays within `acc`, the panels' first `16 k` values and the `a`
    // elements that `accumulate` checked; the intrinsics need AVX-512F, which the token
    // proves.
    unsafe {
        let mut v: [[__m512; N]; R] =
            std::array::from_fn(|i| std::array::from_fn(|q| _mm512_loadu_ps(acc[i][q].as_ptr())));
        let ap = a.data.as_ptr();
        for p in 0..k {
            let b: [__m512; N] =
                std::array::from_fn(|q| _mm512_loadu_ps(panels[q].as_ptr().add(p * TILE_COLS)));
            for (i, vi) in v.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*ap.add(i * a.row + p * a.col));
                for (vq, bq) in vi.iter_mut().zip(&b) {
                    *vq = _mm512_fmadd_ps(x, *bq, *vq);
                }
            }
        }
        for (row, vi) in acc.iter_mut().zip(&v) {
            for (part, vq) in row.iter_mut().zip(vi) {
                _mm512_storeu_ps(part.as_mut_ptr(), *vq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the body with `$p` bound to each path the CPU has: the portable one, then the
    /// AVX2 and AVX-512 ones (reported, not counted, where the CPU lacks them).
    macro_rules! on_each_path {
        (|$p:ident| $body:block) => {{
            {
                let $p = Portable;
                $body
            }
            match Avx2Fma::detect() {
                Some($p) => $body,
                None => eprintln!("avx2 path not run: this CPU lacks AVX2 or FMA"),
            }
            match Avx512::detect() {
                Some($p) => $body,
                None => eprintln!("avx512 path not run: this CPU lacks AVX-512F"),
            }
        }};
    }

    /// A seeded stream of values in [-0.5, 0.5).
    fn uniform(mut seed: u32) -> impl FnMut() -> f32 {
        move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        }
    }

    /// Against the textbook triple loop in f64, for odd sizes and strides.
    #[test]
    fn matches_the_triple_loop() {
        let mut next = uniform(7);
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 17, 5),
            (4, 16, 64),
            (7, 40, 33),
            (13, 40, 9),
            (32, 256, 64),
        ] {
            let (lda, ldb, ldc) = (k + 3, n + 1, n + 2);
            let a: Vec<f32> = (0..m * lda).map(|_| next()).collect();
            let b: Vec<f32> = (0..k * ldb).map(|_| next()).collect();
            let c0: Vec<f32> = (0..m * ldc).map(|_| next()).collect();
            on_each_path!(|path| {
                let mut c = c0.clone();
                add_product(
                    path,
                    (m, n, k),
                    Strided::rows(&a, lda),
                    (&Packed::new(&b, ldb, (k, n)), 0),
                    &mut c,
                    ldc,
                );
                for i in 0..m {
                    for j in 0..ldc {
                        let want = if j < n {
                            c0[i * ldc + j] as f64
                                + (0..k)
                                    .map(|p| a[i * lda + p] as f64 * b[p * ldb + j] as f64)
                                    .sum::<f64>()
                        } else {
                            c0[i * ldc + j] as f64 // outside the product: untouched
                        };
                        let got = c[i * ldc + j] as f64;
                        assert!((got - want).abs() < 1e-5, "({m},{n},{k}) at ({i},{j})");
                    }
                }
            });
        }
    }
    /// The product with a transposed `a` (the weight-gradient shape: `a^T` stored as `k`
    /// rows) against f64.
    #[test]
    fn long_sums_with_transposed_a() {
        let mut next = uniform(11);
        for &(m, n, k) in &[(3, 40, 1000), (13, 24, 600), (67, 192, 256)] {
            // a^T is stored as k rows of m values (and 2 more); b as k rows of n.
            let stride = m + 2;
            let at: Vec<f32> = (0..k * stride).map(|_| next()).collect();
            let b: Vec<f32> = (0..k * n).map(|_| next()).collect();
            let c0: Vec<f32> = (0..m * n).map(|_| next()).collect();
            on_each_path!(|path| {
                let mut c = c0.clone();
                let a = Strided {
                    data: &at,
                    row: 1,
                    col: stride,
                };
                add_product(
                    path,
                    (m, n, k),
                    a,
                    (&Packed::new(&b, n, (k, n)), 0),
                    &mut c,
                    n,
                );
                for i in 0..m {
                    for j in 0..n {
                        let want = c0[i * n + j] as f64
                            + (0..k)
                                .map(|p| at[p * stride + i] as f64 * b[p * n + j] as f64)
                                .sum::<f64>();
                        let got = c[i * n + j] as f64;
                        assert!(
                            (got - want).abs() < 1e-4,
                            "({m},{n},{k}) at ({i},{j}): {got} vs {want}"
                        );
                    }
                }
            });
        }
    }
}
