//! Clustering metrics matching scikit-learn: NMI (arithmetic), ARI, silhouette (Euclidean),
//! inertia, plus purity and Hungarian-matched accuracy for reports.

use std::collections::HashMap;
use std::hash::Hash;

use rayon::prelude::*;
use seqae_simd::Isa;

use crate::Matrix;
use crate::error::{LatentError, Result};
use crate::linalg::{BLayout, gemm};

/// Largest number of distinct labels [`accuracy_hungarian`] accepts (the assignment is cubic).
pub const MAX_HUNGARIAN_LABELS: usize = 2048;

/// Dense label indices (in order of first appearance) and the number of distinct labels.
fn encode<T: Eq + Hash>(labels: &[T]) -> (Vec<usize>, usize) {
    let mut map: HashMap<&T, usize> = HashMap::new();
    let idx = labels
        .iter()
        .map(|l| {
            let next = map.len();
            *map.entry(l).or_insert(next)
        })
        .collect();
    (idx, map.len())
}

fn check_pair<A, B>(a: &[A], b: &[B]) -> Result<()> {
    if a.len() != b.len() {
        return Err(LatentError::LengthMismatch {
            left_what: "labels_true",
            left: a.len(),
            right_what: "labels_pred",
            right: b.len(),
        });
    }
    if a.is_empty() {
        return Err(LatentError::Empty { what: "labels" });
    }
    Ok(())
}

/// Sparse contingency table: class counts, cluster counts and the non-zero cells.
struct Contingency {
    rows: Vec<u64>,
    cols: Vec<u64>,
    cells: Vec<u64>,
    /// (row, col) of each non-zero cell, parallel to `cells`.
    at: Vec<(usize, usize)>,
}

fn contingency<A: Eq + Hash, B: Eq + Hash>(a: &[A], b: &[B]) -> Contingency {
    let (ia, na) = encode(a);
    let (ib, nb) = encode(b);
    let mut rows = vec![0u64; na];
    let mut cols = vec![0u64; nb];
    let mut pairs: Vec<(usize, usize)> = ia.iter().copied().zip(ib.iter().copied()).collect();
    for &(i, j) in &pairs {
        rows[i] += 1;
        cols[j] += 1;
    }
    pairs.sort_unstable();
    let mut cells = Vec::new();
    let mut at = Vec::new();
    for p in pairs {
        if at.last() == Some(&p) {
            *cells.last_mut().expect("parallel to at") += 1;
        } else {
            at.push(p);
            cells.push(1);
        }
    }
    Contingency {
        rows,
        cols,
        cells,
        at,
    }
}

fn entropy(counts: &[u64]) -> f64 {
    if counts.len() <= 1 {
        return 0.0;
    }
    let total: f64 = counts.iter().map(|&c| c as f64).sum();
    let log_total = total.ln();
    -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let c = c as f64;
            (c / total) * (c.ln() - log_total)
        })
        .sum::<f64>()
}

fn mutual_info(c: &Contingency) -> f64 {
    if c.rows.len() == 1 || c.cols.len() == 1 {
        return 0.0;
    }
    let n: f64 = c.cells.iter().map(|&v| v as f64).sum();
    let log_n = n.ln();
    let mut mi = 0.0;
    for (&v, &(i, j)) in c.cells.iter().zip(&c.at) {
        let nz = v as f64;
        let p = nz / n;
        let outer = c.rows[i] as f64 * c.cols[j] as f64;
        let term = p * (nz.ln() - log_n) + p * (-outer.ln() + log_n + log_n);
        if term.abs() >= f64::EPSILON {
            mi += term;
        }
    }
    mi.max(0.0)
}

/// Normalised mutual information with arithmetic-mean normalisation (scikit-learn's
/// `normalized_mutual_info_score` default). Labels may be any hashable type.
pub fn nmi<A: Eq + Hash, B: Eq + Hash>(labels_true: &[A], labels_pred: &[B]) -> Result<f64> {
    check_pair(labels_true, labels_pred)?;
    let c = contingency(labels_true, labels_pred);
    if c.rows.len() == 1 && c.cols.len() == 1 {
        return Ok(1.0);
    }
    let mi = mutual_info(&c);
    if mi == 0.0 {
        return Ok(0.0);
    }
    let (h_true, h_pred) = (entropy(&c.rows), entropy(&c.cols));
    let norm = (0.5 * (h_true + h_pred)).max(f64::EPSILON);
    Ok(mi / norm)
}

/// Adjusted Rand index (scikit-learn's `adjusted_rand_score`), exact integer pair counts.
pub fn ari<A: Eq + Hash, B: Eq + Hash>(labels_true: &[A], labels_pred: &[B]) -> Result<f64> {
    check_pair(labels_true, labels_pred)?;
    let c = contingency(labels_true, labels_pred);
    let n = labels_true.len() as i128;
    let sum_sq: i128 = c.cells.iter().map(|&v| (v as i128) * (v as i128)).sum();
    // contingency . n_k summed = sum over cells of v * cols[j]
    let dot_cols: i128 = c
        .cells
        .iter()
        .zip(&c.at)
        .map(|(&v, &(_, j))| v as i128 * c.cols[j] as i128)
        .sum();
    let dot_rows: i128 = c
        .cells
        .iter()
        .zip(&c.at)
        .map(|(&v, &(i, _))| v as i128 * c.rows[i] as i128)
        .sum();
    let tp = sum_sq - n;
    let fp = dot_cols - sum_sq;
    let fn_ = dot_rows - sum_sq;
    let tn = n * n - fp - fn_ - sum_sq;
    if fn_ == 0 && fp == 0 {
        return Ok(1.0);
    }
    let num = 2 * (tp * tn - fn_ * fp);
    let den = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
    Ok(num as f64 / den as f64)
}

/// Purity: the fraction of points whose cluster's majority class is their class.
pub fn purity<A: Eq + Hash, B: Eq + Hash>(labels_true: &[A], labels_pred: &[B]) -> Result<f64> {
    check_pair(labels_true, labels_pred)?;
    let c = contingency(labels_true, labels_pred);
    let mut best = vec![0u64; c.cols.len()];
    for (&v, &(_, j)) in c.cells.iter().zip(&c.at) {
        best[j] = best[j].max(v);
    }
    Ok(best.iter().sum::<u64>() as f64 / labels_true.len() as f64)
}

/// Clustering accuracy: the best one-to-one matching of clusters to classes (Hungarian
/// algorithm, as `scipy.optimize.linear_sum_assignment` on the contingency table), as the
/// fraction of points matched. Errors beyond [`MAX_HUNGARIAN_LABELS`] distinct labels.
pub fn accuracy_hungarian<A: Eq + Hash, B: Eq + Hash>(
    labels_true: &[A],
    labels_pred: &[B],
) -> Result<f64> {
    check_pair(labels_true, labels_pred)?;
    let c = contingency(labels_true, labels_pred);
    let s = c.rows.len().max(c.cols.len());
    if s > MAX_HUNGARIAN_LABELS {
        return Err(LatentError::InvalidParameter {
            name: "labels",
            reason: format!(
                "Hungarian matching supports at most {MAX_HUNGARIAN_LABELS} distinct labels, got {s}"
            ),
        });
    }
    let mut cost = vec![0i64; s * s];
    for (&v, &(i, j)) in c.cells.iter().zip(&c.at) {
        cost[i * s + j] = -(v as i64);
    }
    let assignment = hungarian(&cost, s);
    let matched: i64 = assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| -cost[i * s + j])
        .sum();
    Ok(matched as f64 / labels_true.len() as f64)
}

/// Minimum-cost perfect assignment on a square `s x s` cost matrix (Kuhn-Munkres with
/// potentials, O(s^3)). Returns the column assigned to each row.
fn hungarian(cost: &[i64], s: usize) -> Vec<usize> {
    const INF: i64 = i64::MAX / 4;
    let mut u = vec![0i64; s + 1];
    let mut v = vec![0i64; s + 1];
    let mut p = vec![0usize; s + 1];
    let mut way = vec![0usize; s + 1];
    for i in 1..=s {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![INF; s + 1];
        let mut used = vec![false; s + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = INF;
            let mut j1 = 0usize;
            for j in 1..=s {
                if !used[j] {
                    let cur = cost[(i0 - 1) * s + (j - 1)] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=s {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut row_to_col = vec![0usize; s];
    for j in 1..=s {
        if p[j] > 0 {
            row_to_col[p[j] - 1] = j - 1;
        }
    }
    row_to_col
}

/// Sum of squared Euclidean distances of each row of `m` to `centroids[labels[i]]`, in f64.
pub fn inertia(m: &Matrix, centroids: &Matrix, labels: &[usize]) -> Result<f64> {
    if labels.len() != m.rows() {
        return Err(LatentError::LengthMismatch {
            left_what: "labels",
            left: labels.len(),
            right_what: "matrix rows",
            right: m.rows(),
        });
    }
    if centroids.cols() != m.cols() {
        return Err(LatentError::DimensionMismatch {
            expected: m.cols(),
            got: centroids.cols(),
        });
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= centroids.rows()) {
        return Err(LatentError::InvalidParameter {
            name: "labels",
            reason: format!(
                "label {bad} has no centroid (there are {})",
                centroids.rows()
            ),
        });
    }
    let c: Vec<f64> = centroids.as_slice().iter().map(|&v| v as f64).collect();
    Ok(crate::kmeans::inertia_f64(
        m.as_slice(),
        m.cols(),
        &c,
        labels,
    ))
}

/// Mean silhouette coefficient with Euclidean distances (scikit-learn's `silhouette_score`).
pub fn silhouette<T: Eq + Hash>(m: &Matrix, labels: &[T]) -> Result<f64> {
    let s = silhouette_samples(m, labels)?;
    Ok(s.iter().sum::<f64>() / s.len() as f64)
}

/// Per-point silhouette coefficients (scikit-learn's `silhouette_samples`): `(b - a) / max(a, b)`,
/// 0 for points in singleton clusters. Needs `2 <= distinct labels <= n - 1`. Cost is
/// O(n^2 d) (f64 GEMM in row tiles, parallel), memory O(n) per tile row.
pub fn silhouette_samples<T: Eq + Hash>(m: &Matrix, labels: &[T]) -> Result<Vec<f64>> {
    silhouette_samples_with(m, labels, Isa::best())
}

/// [`silhouette_samples`] with the kernels on path `isa`.
pub(crate) fn silhouette_samples_with<T: Eq + Hash>(
    m: &Matrix,
    labels: &[T],
    isa: Isa,
) -> Result<Vec<f64>> {
    let (n, d) = m.shape();
    if labels.len() != n {
        return Err(LatentError::LengthMismatch {
            left_what: "labels",
            left: labels.len(),
            right_what: "matrix rows",
            right: n,
        });
    }
    let (idx, n_labels) = encode(labels);
    if n_labels < 2 || n_labels > n - 1 {
        return Err(LatentError::InvalidLabelCount {
            n_labels,
            n_samples: n,
        });
    }
    // Sort points by label so each cluster is a contiguous range of columns.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| idx[i]);
    let mut freq = vec![0usize; n_labels];
    for &l in &idx {
        freq[l] += 1;
    }
    let mut starts = vec![0usize; n_labels + 1];
    for l in 0..n_labels {
        starts[l + 1] = starts[l] + freq[l];
    }
    // Centred f64 copy in sorted order (centring reduces cancellation in the expansion).
    let mean = crate::linalg::column_means(m.as_slice(), n, d);
    let raw = m.as_slice();
    let x: Vec<f64> = order
        .iter()
        .flat_map(|&i| {
            raw[i * d..(i + 1) * d]
                .iter()
                .zip(&mean)
                .map(|(&v, &mu)| v as f64 - mu)
        })
        .collect();
    let sq: Vec<f64> = x
        .chunks_exact(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let tile = ((1usize << 20) / n).clamp(8, 256);
    let mut sorted_s = vec![0.0f64; n];
    sorted_s.par_chunks_mut(tile).enumerate().for_each_init(
        Vec::new,
        |buf: &mut Vec<f64>, (t, out)| {
            let start = t * tile;
            let rows = out.len();
            buf.resize(rows * n, 0.0);
            gemm(
                rows,
                n,
                d,
                buf,
                false,
                &x[start * d..(start + rows) * d],
                &x,
                BLayout::NxK,
                0.0,
                -2.0,
            );
            let mut sums = vec![0.0f64; n_labels];
            for (r, o) in out.iter_mut().enumerate() {
                let i = start + r;
                let row = &mut buf[r * n..(r + 1) * n];
                crate::kernels::sqrt_dists(isa, row, sq[i], &sq);
                row[i] = 0.0;
                for (l, s) in sums.iter_mut().enumerate() {
                    *s = crate::kernels::sum_f64(isa, &row[starts[l]..starts[l + 1]]);
                }
                let own = label_of_sorted(&starts, i);
                if freq[own] <= 1 {
                    *o = 0.0;
                    continue;
                }
                let a = sums[own] / (freq[own] - 1) as f64;
                let b = (0..n_labels)
                    .filter(|&l| l != own)
                    .map(|l| sums[l] / freq[l] as f64)
                    .fold(f64::INFINITY, f64::min);
                let den = a.max(b);
                *o = if den > 0.0 { (b - a) / den } else { 0.0 };
            }
        },
    );
    let mut s = vec![0.0f64; n];
    for (pos, &i) in order.iter().enumerate() {
        s[i] = sorted_s[pos];
    }
    Ok(s)
}

/// The label owning sorted position `i` (binary search over the range starts).
fn label_of_sorted(starts: &[usize], i: usize) -> usize {
    starts.partition_point(|&s| s <= i) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmi_and_ari_basic_cases() {
        let a = [0, 0, 1, 1, 2, 2];
        let permuted = ["x", "x", "z", "z", "y", "y"];
        assert!((nmi(&a, &permuted).unwrap() - 1.0).abs() < 1e-12);
        assert!((ari(&a, &permuted).unwrap() - 1.0).abs() < 1e-12);
        // sklearn: adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714285714285715
        assert!(
            (ari(&[0, 0, 1, 1], &[0, 0, 1, 2]).unwrap() - 0.571_428_571_428_571_5).abs() < 1e-12
        );
        // single cluster on both sides: 1.0 as sklearn
        assert_eq!(nmi(&[1, 1, 1], &[2, 2, 2]).unwrap(), 1.0);
        assert_eq!(ari(&[1, 1, 1], &[2, 2, 2]).unwrap(), 1.0);
        // one side constant: 0
        assert_eq!(nmi(&[0, 0, 1, 1], &[0, 0, 0, 0]).unwrap(), 0.0);
        assert_eq!(ari(&[0, 0, 1, 1], &[0, 0, 0, 0]).unwrap(), 0.0);
    }

    #[test]
    fn metrics_reject_bad_labels() {
        let e = nmi(&[0, 1], &[0]).unwrap_err();
        assert!(matches!(
            e,
            LatentError::LengthMismatch {
                left: 2,
                right: 1,
                ..
            }
        ));
        assert!(e.to_string().contains("labels_true has 2"));
        let empty: [u8; 0] = [];
        assert!(matches!(
            ari(&empty, &empty),
            Err(LatentError::Empty { what: "labels" })
        ));
        assert!(purity(&[0], &[0, 1]).is_err());
        assert!(accuracy_hungarian(&empty, &empty).is_err());
    }

    #[test]
    fn purity_and_accuracy() {
        let t = [0, 0, 0, 1, 1, 1, 2, 2];
        let p = [5, 5, 6, 6, 6, 6, 7, 7];
        // purity: cluster 5 -> 2, cluster 6 -> 3 (class 1), cluster 7 -> 2  => 7/8
        assert!((purity(&t, &p).unwrap() - 7.0 / 8.0).abs() < 1e-12);
        // accuracy: 5->0 (2), 6->1 (3), 7->2 (2) => 7/8
        assert!((accuracy_hungarian(&t, &p).unwrap() - 7.0 / 8.0).abs() < 1e-12);
        // one big cluster: purity 3/8 but accuracy also 3/8 (only one cluster can be matched)
        let one = [9; 8];
        assert!((purity(&t, &one).unwrap() - 3.0 / 8.0).abs() < 1e-12);
        assert!((accuracy_hungarian(&t, &one).unwrap() - 3.0 / 8.0).abs() < 1e-12);
        // more clusters than classes
        let many = [0, 1, 2, 3, 4, 5, 6, 7];
        assert!((accuracy_hungarian(&t, &many).unwrap() - 3.0 / 8.0).abs() < 1e-12);
    }

    #[test]
    fn hungarian_finds_optimum() {
        // classic 3x3 example: optimum cost 5 (0->1, 1->0, 2->2)
        let cost = [4, 1, 3, 2, 0, 5, 3, 2, 2];
        let a = hungarian(&cost, 3);
        let total: i64 = a.iter().enumerate().map(|(i, &j)| cost[i * 3 + j]).sum();
        assert_eq!(total, 5);
    }

    #[test]
    fn silhouette_small_example() {
        // Two clusters on a line: {0, 1}, {10, 11}.
        let m = Matrix::new(vec![0.0, 1.0, 10.0, 11.0], 4, 1).unwrap();
        let s = silhouette_samples(&m, &[0, 0, 1, 1]).unwrap();
        // point 0: a = 1, b = (10 + 11) / 2 = 10.5 -> 9.5 / 10.5
        assert!((s[0] - 9.5 / 10.5).abs() < 1e-12);
        // point 1: a = 1, b = (9 + 10) / 2 = 9.5 -> 8.5 / 9.5
        assert!((s[1] - 8.5 / 9.5).abs() < 1e-12);
        let mean = silhouette(&m, &[0, 0, 1, 1]).unwrap();
        assert!((mean - s.iter().sum::<f64>() / 4.0).abs() < 1e-12);
        // singleton cluster scores 0
        let s = silhouette_samples(&m, &[0, 0, 0, 1]).unwrap();
        assert_eq!(s[3], 0.0);
    }

    /// Every path against the definition (mean distances to the own and nearest other cluster).
    #[test]
    fn silhouette_matches_definition_on_every_path() {
        let (n, d) = (60, 5);
        let x: Vec<f32> = (0..n * d).map(|i| ((i * 29 % 83) as f32) * 0.1).collect();
        let labels: Vec<usize> = (0..n).map(|i| i % 4).collect();
        let m = Matrix::new(x.clone(), n, d).unwrap();
        let dist = |i: usize, j: usize| -> f64 {
            let (a, b) = (&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d]);
            a.iter()
                .zip(b)
                .map(|(&p, &q)| (p as f64 - q as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let mean_to = |i: usize, l: usize| {
            let js: Vec<usize> = (0..n).filter(|&j| j != i && labels[j] == l).collect();
            js.iter().map(|&j| dist(i, j)).sum::<f64>() / js.len() as f64
        };
        for isa in crate::kernels::test_paths() {
            let s = silhouette_samples_with(&m, &labels, isa).unwrap();
            for i in 0..n {
                let a = mean_to(i, labels[i]);
                let b = (0..4)
                    .filter(|&l| l != labels[i])
                    .map(|l| mean_to(i, l))
                    .fold(f64::INFINITY, f64::min);
                let want = (b - a) / a.max(b);
                assert!((s[i] - want).abs() < 1e-9, "{isa}: point {i}");
            }
        }
    }

    #[test]
    fn silhouette_rejects_bad_input() {
        let m = Matrix::new(vec![0.0, 1.0, 10.0], 3, 1).unwrap();
        assert!(matches!(
            silhouette(&m, &[0, 0, 0]),
            Err(LatentError::InvalidLabelCount {
                n_labels: 1,
                n_samples: 3
            })
        ));
        assert!(matches!(
            silhouette(&m, &[0, 1, 2]),
            Err(LatentError::InvalidLabelCount { n_labels: 3, .. })
        ));
        assert!(matches!(
            silhouette(&m, &[0, 1]),
            Err(LatentError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn inertia_checks_inputs() {
        let m = Matrix::new(vec![0.0, 2.0, 10.0], 3, 1).unwrap();
        let c = Matrix::new(vec![1.0, 10.0], 2, 1).unwrap();
        assert!((inertia(&m, &c, &[0, 0, 1]).unwrap() - 2.0).abs() < 1e-12);
        assert!(matches!(
            inertia(&m, &c, &[0, 1]),
            Err(LatentError::LengthMismatch { .. })
        ));
        assert!(matches!(
            inertia(&m, &c, &[0, 1, 2]),
            Err(LatentError::InvalidParameter { .. })
        ));
        let c2 = Matrix::new(vec![1.0, 10.0], 1, 2).unwrap();
        assert!(matches!(
            inertia(&m, &c2, &[0, 0, 0]),
            Err(LatentError::DimensionMismatch { .. })
        ));
    }
}
