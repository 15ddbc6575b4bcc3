//! Private numeric helpers: safe GEMM wrappers, row blocking, means, distances.

use gemm::Parallelism;
use rayon::prelude::*;

/// Rows per GEMM tile inside a block: small enough to keep a tile of distances in L1/L2.
pub(crate) const TILE_ROWS: usize = 256;

/// Splits `n` rows into a fixed number of contiguous blocks that depends only on `n`
/// (never on the thread count), so reductions over blocks are deterministic.
pub(crate) fn row_blocks(n: usize) -> Vec<std::ops::Range<usize>> {
    let n_blocks = n.div_ceil(TILE_ROWS * 4).clamp(1, 64);
    let per = n.div_ceil(n_blocks);
    (0..n_blocks)
        .map(|b| (b * per).min(n)..((b + 1) * per).min(n))
        .filter(|r| !r.is_empty())
        .collect()
}

/// How the second factor `b` of [`gemm()`] is stored (row-major either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BLayout {
    /// `b` is `n x k`: the product is `a * b^T`.
    NxK,
    /// `b` is `k x n`: the product is `a * b`.
    KxN,
}

/// `out (m x n) = alpha * out + beta * a (m x k) * B`, all row-major, where `B` (`k x n`) is
/// `b^T` or `b` as `layout` says. When `read_out` is false the old contents of `out` are
/// ignored.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: 'static + Copy>(
    m: usize,
    n: usize,
    k: usize,
    out: &mut [T],
    read_out: bool,
    a: &[T],
    b: &[T],
    layout: BLayout,
    alpha: T,
    beta: T,
) {
    assert!(out.len() >= m * n && a.len() >= m * k && b.len() >= n * k);
    if m == 0 || n == 0 {
        return;
    }
    // Strides of B's columns and rows: element (t, j) is b[j * k + t] or b[t * n + j].
    let (b_cs, b_rs) = match layout {
        BLayout::NxK => (k as isize, 1),
        BLayout::KxN => (1, n as isize),
    };
    // SAFETY: the slices are long enough for the strides given (checked above), `out` does not
    // alias `a` or `b` (distinct borrows), and T is f32 or f64 at every call site.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            read_out,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            b_cs,
            b_rs,
            alpha,
            beta,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// `out (k x k) = alpha * out + beta * a^T a` for `a` of `m x k`, row-major.
pub(crate) fn gemm_tn_self(m: usize, k: usize, out: &mut [f64], read_out: bool, a: &[f64]) {
    assert!(out.len() >= k * k && a.len() >= m * k);
    if k == 0 {
        return;
    }
    // SAFETY: as in `gemm`; lhs is a^T (k x m): element (i, j) = a[j * k + i].
    unsafe {
        gemm::gemm(
            k,
            k,
            m,
            out.as_mut_ptr(),
            1,
            k as isize,
            read_out,
            a.as_ptr(),
            k as isize,
            1,
            a.as_ptr(),
            1,
            k as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// Column means in f64 (deterministic blocked reduction).
pub(crate) fn column_means(data: &[f32], n: usize, d: usize) -> Vec<f64> {
    let partial: Vec<Vec<f64>> = row_blocks(n)
        .into_par_iter()
        .map(|r| {
            let mut s = vec![0.0f64; d];
            for row in data[r.start * d..r.end * d].chunks_exact(d) {
                for (acc, &v) in s.iter_mut().zip(row) {
                    *acc += v as f64;
                }
            }
            s
        })
        .collect();
    let mut mean = vec![0.0f64; d];
    for p in partial {
        for (m, v) in mean.iter_mut().zip(p) {
            *m += v;
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    mean
}

/// Mean of the per-column (population) variances, in f64, as scikit-learn's k-means tolerance.
pub(crate) fn mean_column_variance(data: &[f32], n: usize, d: usize, mean: &[f64]) -> f64 {
    let partial: Vec<f64> = row_blocks(n)
        .into_par_iter()
        .map(|r| {
            let mut s = 0.0f64;
            for row in data[r.start * d..r.end * d].chunks_exact(d) {
                for (&v, &m) in row.iter().zip(mean) {
                    let c = v as f64 - m;
                    s += c * c;
                }
            }
            s
        })
        .collect();
    partial.iter().sum::<f64>() / (n as f64 * d as f64)
}

/// Squared Euclidean distance between an f32 point and an f64 point, accumulated in f64
/// with four independent partial sums.
#[inline]
pub(crate) fn sq_dist_f32_f64(a: &[f32], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            let t = x[l] as f64 - y[l];
            acc[l] += t * t;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = *x as f64 - *y;
        s += t * t;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_rows() {
        for n in [1, 5, 255, 256, 1023, 1024, 1025, 100_000, 1_000_003] {
            let b = row_blocks(n);
            assert_eq!(b.first().unwrap().start, 0);
            assert_eq!(b.last().unwrap().end, n);
            for w in b.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
        }
    }

    #[test]
    fn gemm_wrappers_match_naive() {
        let (m, n, k) = (5, 3, 4);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..n * k).map(|i| (i as f64 * 0.11).cos()).collect();
        let mut out = vec![0.0; m * n];
        gemm(m, n, k, &mut out, false, &a, &b, BLayout::NxK, 0.0, 1.0);
        for i in 0..m {
            for j in 0..n {
                let e: f64 = (0..k).map(|t| a[i * k + t] * b[j * k + t]).sum();
                assert!((out[i * n + j] - e).abs() < 1e-12);
            }
        }
        // b as k x n
        let bk: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.23).sin()).collect();
        let mut out2 = vec![1.0; m * n];
        gemm(m, n, k, &mut out2, true, &a, &bk, BLayout::KxN, 1.0, 2.0);
        for i in 0..m {
            for j in 0..n {
                let e: f64 = 1.0 + 2.0 * (0..k).map(|t| a[i * k + t] * bk[t * n + j]).sum::<f64>();
                assert!((out2[i * n + j] - e).abs() < 1e-12);
            }
        }
        let mut g = vec![0.0; k * k];
        gemm_tn_self(m, k, &mut g, false, &a);
        for i in 0..k {
            for j in 0..k {
                let e: f64 = (0..m).map(|t| a[t * k + i] * a[t * k + j]).sum();
                assert!((g[i * k + j] - e).abs() < 1e-12);
            }
        }
    }
}
