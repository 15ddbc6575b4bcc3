//! Principal component analysis matching scikit-learn's `PCA`.
//!
//! For `n_samples >= n_features` (the usual case for embeddings) the covariance matrix is
//! accumulated in f64 from mean-centred row tiles with GEMM and diagonalised with nalgebra's
//! symmetric eigen-solver (scikit-learn's `covariance_eigh` solver). For wide matrices the
//! centred data is decomposed with nalgebra's SVD. Signs follow scikit-learn's `svd_flip`
//! with `u_based_decision=False`: the largest-magnitude entry of every component is positive.

use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Matrix;
use crate::error::{LatentError, Result};
use crate::linalg::{BLayout, TILE_ROWS, column_means, gemm, gemm_tn_self, row_blocks};

/// PCA settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    n_components: Option<usize>,
    whiten: bool,
}

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaModel {
    components: Matrix,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    singular_values: Vec<f64>,
    mean: Vec<f64>,
    whiten: bool,
    n_samples: usize,
}

impl Pca {
    /// Keep `n_components` components (must be `1..=min(n_samples, n_features)`).
    pub fn new(n_components: usize) -> Self {
        Pca {
            n_components: Some(n_components),
            whiten: false,
        }
    }

    /// Keep all `min(n_samples, n_features)` components.
    pub fn all() -> Self {
        Pca {
            n_components: None,
            whiten: false,
        }
    }

    /// Whitening: transformed components are divided by `sqrt(explained_variance)` so they
    /// have unit variance.
    pub fn whiten(mut self, whiten: bool) -> Self {
        self.whiten = whiten;
        self
    }

    /// Fits the model.
    pub fn fit(&self, m: &Matrix) -> Result<PcaModel> {
        let (n, d) = m.shape();
        let max = n.min(d);
        let k = self.n_components.unwrap_or(max);
        if k == 0 {
            return Err(LatentError::InvalidParameter {
                name: "n_components",
                reason: "must be at least 1".into(),
            });
        }
        if k > max {
            return Err(LatentError::TooManyComponents {
                requested: k,
                max,
                rows: n,
                cols: d,
            });
        }
        if n < 2 {
            return Err(LatentError::TooFewSamples {
                needed: 2,
                got: n,
                what: "PCA (variance uses n - 1)",
            });
        }
        let mean = column_means(m.as_slice(), n, d);
        // (variances sorted descending, components as rows of length d, all of them)
        let (mut var, mut comps) = if n >= d {
            eigh_covariance(m, &mean)
        } else {
            svd_centred(m, &mean)
        };
        for v in &mut var {
            if *v < 0.0 {
                *v = 0.0;
            }
        }
        let total: f64 = var.iter().sum();
        for row in comps.chunks_exact_mut(d) {
            svd_flip_row(row);
        }
        var.truncate(k);
        comps.truncate(k * d);
        let ratio = var
            .iter()
            .map(|&v| if total > 0.0 { v / total } else { 0.0 })
            .collect();
        let singular_values = var.iter().map(|&v| (v * (n - 1) as f64).sqrt()).collect();
        Ok(PcaModel {
            components: Matrix::from_parts(comps.iter().map(|&v| v as f32).collect(), k, d),
            explained_variance: var,
            explained_variance_ratio: ratio,
            singular_values,
            mean,
            whiten: self.whiten,
            n_samples: n,
        })
    }

    /// Fits the model and projects `m`.
    pub fn fit_transform(&self, m: &Matrix) -> Result<(PcaModel, Matrix)> {
        let model = self.fit(m)?;
        let t = model.transform(m)?;
        Ok((model, t))
    }
}

/// Flips the sign of `row` so that its largest-magnitude entry (first one on ties) is positive.
fn svd_flip_row(row: &mut [f64]) {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if v.abs() > row[best].abs() {
            best = i;
        }
    }
    if row[best] < 0.0 {
        for v in row.iter_mut() {
            *v = -*v;
        }
    }
}

/// Covariance (ddof = 1) accumulated in f64 from centred tiles, then symmetric eigen.
fn eigh_covariance(m: &Matrix, mean: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = m.shape();
    let x = m.as_slice();
    let partial: Vec<Vec<f64>> = row_blocks(n)
        .into_par_iter()
        .map(|r| {
            let mut acc = vec![0.0f64; d * d];
            let mut tile = vec![0.0f64; TILE_ROWS.min(r.len()) * d];
            let mut first = true;
            let mut start = r.start;
            while start < r.end {
                let end = (start + TILE_ROWS).min(r.end);
                let rows = end - start;
                for (dst, src) in tile
                    .chunks_exact_mut(d)
                    .zip(x[start * d..end * d].chunks_exact(d))
                {
                    for ((t, &v), &mu) in dst.iter_mut().zip(src).zip(mean) {
                        *t = v as f64 - mu;
                    }
                }
                gemm_tn_self(rows, d, &mut acc, !first, &tile[..rows * d]);
                first = false;
                start = end;
            }
            acc
        })
        .collect();
    let mut cov = vec![0.0f64; d * d];
    for p in partial {
        for (a, b) in cov.iter_mut().zip(p) {
            *a += b;
        }
    }
    let scale = 1.0 / (n - 1) as f64;
    // Symmetrise exactly (GEMM results are symmetric up to rounding).
    let c = DMatrix::from_fn(d, d, |i, j| 0.5 * (cov[i * d + j] + cov[j * d + i]) * scale);
    let eig = c.symmetric_eigen();
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let var = order.iter().map(|&i| eig.eigenvalues[i]).collect();
    let comps = order
        .iter()
        .flat_map(|&i| {
            eig.eigenvectors
                .column(i)
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    (var, comps)
}

/// Thin SVD of the centred data (f64), for matrices with fewer rows than columns.
fn svd_centred(m: &Matrix, mean: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = m.shape();
    let x = m.as_slice();
    let a = DMatrix::from_fn(n, d, |i, j| x[i * d + j] as f64 - mean[j]);
    let svd = a.svd(false, true);
    let v_t = svd.v_t.expect("v_t was requested");
    let r = svd.singular_values.len();
    let mut order: Vec<usize> = (0..r).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let var = order
        .iter()
        .map(|&i| svd.singular_values[i].powi(2) / (n - 1) as f64)
        .collect();
    let comps = order
        .iter()
        .flat_map(|&i| v_t.row(i).iter().copied().collect::<Vec<_>>())
        .collect();
    (var, comps)
}

impl PcaModel {
    /// Principal axes, `n_components x n_features`, rows of unit length.
    pub fn components(&self) -> &Matrix {
        &self.components
    }

    /// Variance explained by each component (ddof = 1).
    pub fn explained_variance(&self) -> &[f64] {
        &self.explained_variance
    }

    /// Fraction of the total variance explained by each component.
    pub fn explained_variance_ratio(&self) -> &[f64] {
        &self.explained_variance_ratio
    }

    /// Singular values of the centred data for the kept components.
    pub fn singular_values(&self) -> &[f64] {
        &self.singular_values
    }

    /// Per-feature mean of the training data.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Number of components kept.
    pub fn n_components(&self) -> usize {
        self.components.rows()
    }

    /// Whether outputs are whitened.
    pub fn is_whitened(&self) -> bool {
        self.whiten
    }

    /// Rows the model was fitted on.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Per-component output scale used for whitening (sqrt of the variance, floored at f32 eps).
    fn whiten_scale(&self) -> Vec<f32> {
        self.explained_variance
            .iter()
            .map(|&v| (v.sqrt() as f32).max(f32::EPSILON))
            .collect()
    }

    /// Projects `m` onto the components: `(m - mean) * components^T` (whitened if set).
    pub fn transform(&self, m: &Matrix) -> Result<Matrix> {
        let (n, d) = m.shape();
        let k = self.n_components();
        if d != self.components.cols() {
            return Err(LatentError::DimensionMismatch {
                expected: self.components.cols(),
                got: d,
            });
        }
        let mean32: Vec<f32> = self.mean.iter().map(|&v| v as f32).collect();
        let scale = self.whiten.then(|| self.whiten_scale());
        let x = m.as_slice();
        let w = self.components.as_slice();
        let mut out = vec![0.0f32; n * k];
        // Per tile: centre the rows, then `W (k x d) * Xc^T` into a `k x rows` buffer (the GEMM
        // kernel then runs along the rows, efficient for small k), transposed into `out`.
        out.par_chunks_mut(TILE_ROWS * k).enumerate().for_each_init(
            || (vec![0.0f32; TILE_ROWS * d], vec![0.0f32; TILE_ROWS * k]),
            |(centred, proj), (t, o)| {
                let start = t * TILE_ROWS;
                let rows = o.len() / k;
                let centred = &mut centred[..rows * d];
                for (dst, src) in centred
                    .chunks_exact_mut(d)
                    .zip(x[start * d..(start + rows) * d].chunks_exact(d))
                {
                    for ((c, &v), &mu) in dst.iter_mut().zip(src).zip(&mean32) {
                        *c = v - mu;
                    }
                }
                let proj = &mut proj[..k * rows];
                gemm(k, rows, d, proj, false, w, centred, BLayout::NxK, 0.0, 1.0);
                for (j, prow) in proj.chunks_exact(rows).enumerate() {
                    let s = scale.as_ref().map_or(1.0, |s| s[j]);
                    for (i, &v) in prow.iter().enumerate() {
                        o[i * k + j] = if scale.is_some() { v / s } else { v };
                    }
                }
            },
        );
        Ok(Matrix::from_parts(out, n, k))
    }

    /// Maps projected points back to feature space: `t * components + mean` (undoing whitening).
    pub fn inverse_transform(&self, t: &Matrix) -> Result<Matrix> {
        let (n, k) = t.shape();
        let d = self.components.cols();
        if k != self.n_components() {
            return Err(LatentError::DimensionMismatch {
                expected: self.n_components(),
                got: k,
            });
        }
        let mut w = self.components.as_slice().to_vec();
        if self.whiten {
            for (row, s) in w.chunks_exact_mut(d).zip(self.whiten_scale()) {
                for v in row {
                    *v *= s;
                }
            }
        }
        let mean32: Vec<f32> = self.mean.iter().map(|&v| v as f32).collect();
        let y = t.as_slice();
        let mut out = vec![0.0f32; n * d];
        out.par_chunks_mut(TILE_ROWS * d)
            .enumerate()
            .for_each(|(c, o)| {
                let start = c * TILE_ROWS;
                let rows = o.len() / d;
                for row in o.chunks_exact_mut(d) {
                    row.copy_from_slice(&mean32);
                }
                gemm(
                    rows,
                    d,
                    k,
                    o,
                    true,
                    &y[start * k..(start + rows) * k],
                    &w,
                    BLayout::KxN,
                    1.0,
                    1.0,
                );
            });
        Ok(Matrix::from_parts(out, n, d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Matrix {
        // 6 points in 3-D with a clear main axis.
        Matrix::new(
            vec![
                2.5, 2.4, 0.5, 0.5, 0.7, -0.3, 2.2, 2.9, 0.1, 1.9, 2.2, 0.4, 3.1, 3.0, -0.2, 2.3,
                2.7, 0.0,
            ],
            6,
            3,
        )
        .unwrap()
    }

    #[test]
    fn full_rank_round_trip_and_ratios() {
        let m = data();
        let model = Pca::all().fit(&m).unwrap();
        assert_eq!(model.n_components(), 3);
        let r = model.explained_variance_ratio();
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(r.windows(2).all(|w| w[0] >= w[1]));
        let t = model.transform(&m).unwrap();
        let back = model.inverse_transform(&t).unwrap();
        for (a, b) in back.as_slice().iter().zip(m.as_slice()) {
            assert!((a - b).abs() < 1e-5);
        }
        // variance of the projected data equals explained_variance
        for c in 0..3 {
            let col: Vec<f64> = (0..6).map(|i| t.get(i, c).unwrap() as f64).collect();
            let mu = col.iter().sum::<f64>() / 6.0;
            let var = col.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / 5.0;
            assert!((var - model.explained_variance()[c]).abs() < 1e-5);
        }
        // components have unit norm and the sign convention holds
        for row in model.components().iter_rows() {
            let norm: f32 = row.iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-5);
            let big = row
                .iter()
                .copied()
                .fold(0.0f32, |a, v| if v.abs() > a.abs() { v } else { a });
            assert!(big > 0.0);
        }
    }

    #[test]
    fn whitening_gives_unit_variance() {
        let m = data();
        let model = Pca::new(2).whiten(true).fit(&m).unwrap();
        let t = model.transform(&m).unwrap();
        for c in 0..2 {
            let col: Vec<f64> = (0..6).map(|i| t.get(i, c).unwrap() as f64).collect();
            let mu = col.iter().sum::<f64>() / 6.0;
            let var = col.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / 5.0;
            assert!((var - 1.0).abs() < 1e-4);
        }
        let back = model.inverse_transform(&t).unwrap();
        let plain = Pca::new(2).fit(&m).unwrap();
        let back2 = plain
            .inverse_transform(&plain.transform(&m).unwrap())
            .unwrap();
        for (a, b) in back.as_slice().iter().zip(back2.as_slice()) {
            assert!((a - b).abs() < 1e-4);
        }
    }

    #[test]
    fn wide_matrix_uses_svd_and_matches_covariance_path() {
        // 3 x 5: rank <= 2 after centring.
        let m = Matrix::new(
            vec![
                1.0, 2.0, 0.0, 4.0, 1.0, 0.5, -1.0, 2.0, 3.0, 0.0, 2.0, 0.0, 1.0, -1.0, 3.0,
            ],
            3,
            5,
        )
        .unwrap();
        let model = Pca::all().fit(&m).unwrap();
        assert_eq!(model.n_components(), 3);
        let r = model.explained_variance_ratio();
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(r[2] < 1e-12);
        let mean = column_means(m.as_slice(), 3, 5);
        let (v1, c1) = eigh_covariance(&m, &mean);
        let (v2, c2) = svd_centred(&m, &mean);
        for i in 0..2 {
            assert!((v1[i] - v2[i]).abs() < 1e-9);
            let dot: f64 = c1[i * 5..(i + 1) * 5]
                .iter()
                .zip(&c2[i * 5..(i + 1) * 5])
                .map(|(a, b)| a * b)
                .sum();
            assert!((dot.abs() - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn bad_input_is_typed() {
        let m = data();
        let e = Pca::new(4).fit(&m).unwrap_err();
        assert!(matches!(
            e,
            LatentError::TooManyComponents {
                requested: 4,
                max: 3,
                rows: 6,
                cols: 3
            }
        ));
        assert!(e.to_string().contains("n_components = 4"));
        assert!(matches!(
            Pca::new(0).fit(&m),
            Err(LatentError::InvalidParameter {
                name: "n_components",
                ..
            })
        ));
        let one = Matrix::new(vec![1.0, 2.0], 1, 2).unwrap();
        assert!(matches!(
            Pca::all().fit(&one),
            Err(LatentError::TooFewSamples { .. })
        ));
        let model = Pca::new(2).fit(&m).unwrap();
        let wrong = Matrix::new(vec![1.0, 2.0], 1, 2).unwrap();
        assert!(matches!(
            model.transform(&wrong),
            Err(LatentError::DimensionMismatch { .. })
        ));
        let wrong_k = Matrix::new(vec![1.0, 2.0, 3.0], 1, 3).unwrap();
        assert!(matches!(
            model.inverse_transform(&wrong_k),
            Err(LatentError::DimensionMismatch { .. })
        ));
    }

    #[test]
    fn constant_data_does_not_panic() {
        let m = Matrix::new(vec![3.0; 12], 4, 3).unwrap();
        let model = Pca::new(2).whiten(true).fit(&m).unwrap();
        assert!(model.explained_variance_ratio().iter().all(|&r| r == 0.0));
        let t = model.transform(&m).unwrap();
        assert!(t.as_slice().iter().all(|v| v.is_finite()));
    }
}
