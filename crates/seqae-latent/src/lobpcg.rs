//! The eigenvectors of the largest eigenvalues of a large symmetric operator by LOBPCG, the
//! locally optimal block preconditioned conjugate gradient method (Knyazev, SIAM Journal on
//! Scientific Computing 2001), without a preconditioner: each step finds the best `k`
//! vectors in the span of the current ones, their residuals and the previous step (a
//! Rayleigh-Ritz step), so it converges in far fewer operator products than subspace
//! iteration. The span is made orthonormal from its Gram matrix's eigenvectors, dropping
//! directions that have become dependent (SVQB: Stathopoulos and Wu, SIAM Journal on
//! Scientific Computing 2002), after the residuals and the previous step are projected off
//! the current vectors twice (Hetmaniuk and Lehoucq, Journal of Computational Physics
//! 2006), which keeps the method stable as it converges.
//!
//! The tall products run over blocks of rows in parallel and are summed in block order, so the
//! result does not depend on the threads.
use nalgebra::DMatrix;
use rayon::prelude::*;

/// A column is kept by [`complement`] if at least this fraction of its norm lies outside the
/// bases' span.
const INDEPENDENT: f64 = 1e-8;
/// Rows per block of the tall products.
const BLOCK: usize = 8192;
/// Directions of the span whose Gram eigenvalue (of the unit-diagonal Gram matrix) is below
/// this are dropped as dependent.
const DEPENDENT: f64 = 1e-12;

/// The `k = start.ncols()` largest eigenvalues of the symmetric operator `op` (which maps an
/// `n x m` block to its product), largest first, and their eigenvectors (orthonormal columns),
/// from the start `start`; stops when every residual `|op(x) - theta x|` is below `tol` or
/// after `max_iter` steps. `n` must be well above `3k`.
pub(crate) fn largest<F>(
    op: F,
    start: &DMatrix<f64>,
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, DMatrix<f64>)
where
    F: Fn(&DMatrix<f64>) -> DMatrix<f64>,
{
    let k = start.ncols();
    let x = times(start, &orthonormaliser(&cross(start, start)));
    let ax = op(&x);
    // Rayleigh-Ritz on the start.
    let (mut theta, c) = top(&symmetric(cross(&x, &ax)), k);
    let (mut x, mut ax) = (times(&x, &c), times(&ax, &c));
    let mut previous: Option<DMatrix<f64>> = None;
    for _ in 0..max_iter {
        // Residuals; the unconverged ones, orthogonal to x and orthonormal, join the span.
        let mut r = ax.clone();
        for (j, &t) in theta.iter().enumerate() {
            r.column_mut(j).axpy(-t, &x.column(j), 1.0);
        }
        let active: Vec<usize> = (0..k).filter(|&j| r.column(j).norm() > tol).collect();
        if active.is_empty() {
            break;
        }
        let Some(w) = complement(r.select_columns(&active), &[&x]) else {
            break;
        };
        // The previous step, orthogonal to x and w and orthonormal.
        let s = match previous.take().and_then(|p| complement(p, &[&x, &w])) {
            Some(p) => side_by_side(&[&x, &w, &p]),
            None => side_by_side(&[&x, &w]),
        };
        // Rayleigh-Ritz on the orthonormal span, from the span's exact image (images carried
        // along by the same combinations as the vectors drift further from the truth at each
        // step).
        let as_ = op(&s);
        let (values, c) = top(&symmetric(cross(&s, &as_)), k);
        let x_next = times(&s, &c);
        // The step outside the old vectors: [w p] times their coefficients.
        previous = Some(&x_next - times(&x, &c.rows(0, k).into_owned()));
        (theta, x, ax) = (values, x_next, times(&as_, &c));
    }
    (theta, x)
}

/// `v` without its components along the orthonormal columns of each basis (removed twice:
/// once is not enough in floating point), made orthonormal (twice as well); columns that lay
/// (almost) in the bases' span are dropped; `None` if none is left.
fn complement(mut v: DMatrix<f64>, bases: &[&DMatrix<f64>]) -> Option<DMatrix<f64>> {
    let before: Vec<f64> = v.column_iter().map(|c| c.norm()).collect();
    for _ in 0..2 {
        for b in bases {
            v -= times(b, &cross(b, &v));
        }
    }
    let kept: Vec<usize> = (0..v.ncols())
        .filter(|&j| v.column(j).norm() > INDEPENDENT * before[j])
        .collect();
    let mut v = v.select_columns(&kept);
    for _ in 0..2 {
        v = times(&v, &orthonormaliser(&cross(&v, &v)));
    }
    (v.ncols() > 0).then_some(v)
}

/// `f(start, len)` for each block of [`BLOCK`] rows of `0..n`, in parallel, in block order.
fn by_blocks<F>(n: usize, f: F) -> Vec<DMatrix<f64>>
where
    F: Fn(usize, usize) -> DMatrix<f64> + Sync,
{
    (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| f(b * BLOCK, BLOCK.min(n - b * BLOCK)))
        .collect()
}

/// `a^T b` for tall `a` and `b`.
fn cross(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    by_blocks(a.nrows(), |s, len| a.rows(s, len).tr_mul(&b.rows(s, len)))
        .into_iter()
        .fold(DMatrix::zeros(a.ncols(), b.ncols()), |acc, m| acc + m)
}

/// `a c` for tall `a` and small `c`.
fn times(a: &DMatrix<f64>, c: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    let parts = by_blocks(n, |s, len| a.rows(s, len) * c);
    let mut out = DMatrix::zeros(n, c.ncols());
    for (b, part) in parts.iter().enumerate() {
        out.rows_mut(b * BLOCK, part.nrows()).copy_from(part);
    }
    out
}

/// The blocks' columns side by side.
fn side_by_side(blocks: &[&DMatrix<f64>]) -> DMatrix<f64> {
    let n = blocks[0].nrows();
    let m = blocks.iter().map(|b| b.ncols()).sum();
    let mut out = DMatrix::zeros(n, m);
    let mut at = 0;
    for b in blocks {
        out.columns_mut(at, b.ncols()).copy_from(*b);
        at += b.ncols();
    }
    out
}

/// `T` such that the columns of `s T` are orthonormal, from the Gram matrix `g = s^T s`:
/// the eigenvectors of the unit-diagonal Gram matrix scaled by their eigenvalues' inverse
/// square roots, dependent directions left out (SVQB).
fn orthonormaliser(g: &DMatrix<f64>) -> DMatrix<f64> {
    let m = g.nrows();
    let scale: Vec<f64> = (0..m)
        .map(|i| {
            let d = g[(i, i)];
            if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 }
        })
        .collect();
    let unit = DMatrix::from_fn(m, m, |i, j| g[(i, j)] * scale[i] * scale[j]);
    let eig = symmetric(unit).symmetric_eigen();
    let biggest = eig.eigenvalues.iter().copied().fold(0.0f64, f64::max);
    let kept: Vec<usize> = (0..m)
        .filter(|&j| eig.eigenvalues[j] > DEPENDENT * biggest.max(1.0))
        .collect();
    DMatrix::from_fn(m, kept.len(), |i, c| {
        let j = kept[c];
        scale[i] * eig.eigenvectors[(i, j)] / eig.eigenvalues[j].sqrt()
    })
}

/// `(h + h^T) / 2`.
fn symmetric(h: DMatrix<f64>) -> DMatrix<f64> {
    (&h + h.transpose()).scale(0.5)
}

/// The `k` largest eigenvalues of the small symmetric `h`, largest first, and their
/// eigenvectors.
fn top(h: &DMatrix<f64>, k: usize) -> (Vec<f64>, DMatrix<f64>) {
    let eig = h.clone().symmetric_eigen();
    let mut order: Vec<usize> = (0..h.nrows()).collect();
    order.sort_by(|&a, &b| {
        eig.eigenvalues[b]
            .total_cmp(&eig.eigenvalues[a])
            .then(a.cmp(&b))
    });
    order.truncate(k);
    let values = order.iter().map(|&j| eig.eigenvalues[j]).collect();
    (values, eig.eigenvectors.select_columns(&order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// A symmetric matrix with known spectrum: `Q diag(values) Q^T`.
    fn with_spectrum(values: &[f64], seed: u64) -> DMatrix<f64> {
        let n = values.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let q = DMatrix::from_fn(n, n, |_, _| rng.random_range(-1.0..1.0))
            .qr()
            .q();
        &q * DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(values)) * q.transpose()
    }

    #[test]
    fn finds_the_largest_eigenpairs() {
        let n = 400;
        // Eigenvalues spread over [-1, 1], the top four close together.
        let values: Vec<f64> = (0..n)
            .map(|i| {
                if i < 4 {
                    0.99 - 0.002 * i as f64
                } else {
                    -1.0 + 1.9 * i as f64 / n as f64
                }
            })
            .collect();
        let a = with_spectrum(&values, 1);
        let mut rng = StdRng::seed_from_u64(2);
        let start = DMatrix::from_fn(n, 4, |_, _| rng.random_range(-1.0..1.0));
        let (got, x) = largest(|v| &a * v, &start, 1e-8, 500);
        let mut want = values.clone();
        want.sort_by(|a, b| b.total_cmp(a));
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-10, "{got:?} against {:?}", &want[..4]);
        }
        // Orthonormal eigenvectors with small residuals.
        assert!((x.transpose() * &x - DMatrix::identity(4, 4)).norm() < 1e-10);
        for (j, &t) in got.iter().enumerate() {
            let r = &a * x.column(j) - x.column(j) * t;
            assert!(r.norm() < 1e-8, "residual {}", r.norm());
        }
    }

    #[test]
    fn a_converged_start_stays_put() {
        let n = 100;
        let values: Vec<f64> = (0..n).map(|i| 1.0 - i as f64 / n as f64).collect();
        let a = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&values));
        let start = DMatrix::from_fn(n, 2, |i, j| if i == j { 1.0 } else { 0.0 });
        let (got, x) = largest(|v| &a * v, &start, 1e-10, 50);
        assert_eq!(got, vec![1.0, 0.99]);
        assert_eq!(x.abs(), start);
    }
}
