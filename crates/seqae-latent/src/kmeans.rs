//! k-means (Lloyd) with greedy k-means++ initialisation, following scikit-learn's `KMeans`.
//!
//! Points are assigned with a fused f32 distance + arg-min kernel (`|c|^2 - 2 x.c`, the GEMM
//! formulation with the arg-min in registers, see `kernels.rs`) on mean-centred data. Row blocks
//! run in parallel with rayon; sums and inertia are accumulated in f64. The block partition
//! depends only on the number of rows, so results do not depend on the thread count.

mod blocks;
mod lloyd;
mod plusplus;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use seqae_simd::Isa;
use serde::{Deserialize, Serialize};

use crate::Matrix;
use crate::error::{LatentError, Result};
use crate::kernels::{self, Centres, PAIR, Panels};
use crate::linalg::{column_means, mean_column_variance};
use blocks::{pair_blocks, split_by_blocks};
pub(crate) use lloyd::inertia_f64;
use lloyd::{inertia_multi, lloyd_multi};
use plusplus::kmeans_plusplus_multi;

/// k-means settings (scikit-learn's `KMeans(init="k-means++", algorithm="lloyd")`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeans {
    k: usize,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
}

/// A fitted k-means model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansModel {
    labels: Vec<usize>,
    centroids: Matrix,
    inertia: f64,
    n_iter: usize,
    /// Training mean (f32) used to centre inputs before GEMM distances.
    offset: Vec<f32>,
    /// Centroids minus `offset`, f32.
    centred: Vec<f32>,
}

impl KMeans {
    /// `k` clusters with defaults `n_init = 10`, `max_iter = 300`, `tol = 1e-4`, `seed = 0`.
    ///
    /// `n_init = 10` is scikit-learn's classic default (scikit-learn >= 1.4 uses 1 run with
    /// k-means++ when `n_init="auto"`); use [`KMeans::with_n_init`] to change it.
    pub fn new(k: usize) -> Self {
        KMeans {
            k,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
        }
    }

    /// Number of k-means++ restarts; the run with the lowest inertia is kept.
    pub fn with_n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Maximum Lloyd iterations per run.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Relative tolerance: a run stops when the squared centre shift summed over clusters is at
    /// most `tol * mean(per-feature variance of the data)`, as scikit-learn.
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Seed of the random number generator (runs are reproducible for a given seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Same settings with another number of clusters.
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// The number of clusters.
    pub fn k(&self) -> usize {
        self.k
    }

    fn validate(&self, n: usize) -> Result<()> {
        if self.k == 0 {
            return Err(LatentError::ZeroClusters);
        }
        if self.k > n {
            return Err(LatentError::TooManyClusters {
                k: self.k,
                n_samples: n,
            });
        }
        if self.n_init == 0 {
            return Err(LatentError::InvalidParameter {
                name: "n_init",
                reason: "must be at least 1".into(),
            });
        }
        if self.max_iter == 0 {
            return Err(LatentError::InvalidParameter {
                name: "max_iter",
                reason: "must be at least 1".into(),
            });
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(LatentError::InvalidParameter {
                name: "tol",
                reason: format!("must be finite and >= 0, got {}", self.tol),
            });
        }
        Ok(())
    }

    /// Fits `n_init` runs of k-means++ followed by Lloyd iterations and keeps the best.
    pub fn fit(&self, m: &Matrix) -> Result<KMeansModel> {
        self.fit_with(m, Isa::best())
    }

    /// [`KMeans::fit`] with the kernels on path `isa`.
    pub(crate) fn fit_with(&self, m: &Matrix, isa: Isa) -> Result<KMeansModel> {
        let (n, d) = m.shape();
        self.validate(n)?;
        let raw = m.as_slice();
        let mean = column_means(raw, n, d);
        let tol_abs = self.tol * mean_column_variance(raw, n, d, &mean);
        let offset: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
        let panels = Panels::new(raw, n, d, &offset);
        let data = Data {
            raw,
            mean: &mean,
            p: panels,
            isa,
        };

        let mut master = StdRng::seed_from_u64(self.seed);
        let mut rngs: Vec<StdRng> = (0..self.n_init)
            .map(|_| StdRng::seed_from_u64(master.random()))
            .collect();
        // All restarts advance together: each pass over the data serves every run.
        let inits = kmeans_plusplus_multi(&data, self.k, &mut rngs);
        let runs = lloyd_multi(&data, inits, self.k, self.max_iter, tol_abs);
        let runs: Vec<Run> = runs
            .into_iter()
            .map(|r| Run {
                centres: r
                    .centres
                    .chunks_exact(d)
                    .flat_map(|c| c.iter().zip(&mean).map(|(a, b)| a + b))
                    .collect(),
                ..r
            })
            .collect();
        // Inertia on the original (uncentred) data with uncentred f64 centres; first best wins.
        let inertias = inertia_multi(raw, d, &runs);
        let mut best = 0;
        for (s, &v) in inertias.iter().enumerate() {
            if v < inertias[best] {
                best = s;
            }
        }
        let inertia = inertias[best];
        let run = runs.into_iter().nth(best).expect("n_init >= 1");
        let centroids: Vec<f32> = run.centres.iter().map(|&v| v as f32).collect();
        let centred: Vec<f32> = run
            .centres
            .chunks_exact(d)
            .flat_map(|c| c.iter().zip(&mean).map(|(a, b)| (a - b) as f32))
            .collect();
        Ok(KMeansModel {
            labels: run.labels,
            centroids: Matrix::from_parts(centroids, self.k, d),
            inertia,
            n_iter: run.n_iter,
            offset,
            centred,
        })
    }
}

impl KMeansModel {
    /// Cluster index of every training point.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Cluster centres, `k x n_features`.
    pub fn centroids(&self) -> &Matrix {
        &self.centroids
    }

    /// Sum of squared distances of the training points to their centre (f64).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Lloyd iterations of the kept run.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.centroids.rows()
    }

    /// A model whose centres are the rows of `centres` (no training labels), so that
    /// [`predict`](Self::predict) finds the nearest of any set of points with the assignment
    /// kernel.
    pub fn with_centres(centres: Matrix) -> KMeansModel {
        let (k, d) = centres.shape();
        let mean = column_means(centres.as_slice(), k, d);
        let offset: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
        let centred = centres
            .iter_rows()
            .flat_map(|c| c.iter().zip(&mean).map(|(&a, b)| (f64::from(a) - b) as f32))
            .collect();
        KMeansModel {
            labels: Vec::new(),
            centroids: centres,
            inertia: f64::NAN,
            n_iter: 0,
            offset,
            centred,
        }
    }

    /// Index of the nearest centre for each row of `m`.
    pub fn predict(&self, m: &Matrix) -> Result<Vec<usize>> {
        self.predict_with(m, Isa::best())
    }

    /// [`KMeansModel::predict`] with the kernel on path `isa`.
    pub(crate) fn predict_with(&self, m: &Matrix, isa: Isa) -> Result<Vec<usize>> {
        let (n, d) = m.shape();
        if d != self.centroids.cols() {
            return Err(LatentError::DimensionMismatch {
                expected: self.centroids.cols(),
                got: d,
            });
        }
        let panels = Panels::new(m.as_slice(), n, d, &self.offset);
        let centres = Centres::new(&self.centred, self.k(), d);
        let mut lab32 = vec![0u32; panels.n_pairs * PAIR];
        let blocks = pair_blocks(panels.n_pairs);
        let parts = split_by_blocks(&mut lab32, &blocks, PAIR);
        blocks.par_iter().zip(parts).for_each(|(b, out)| {
            kernels::nearest(isa, &panels, &centres, b.clone(), out, None);
        });
        let labels = lab32[..n].iter().map(|&l| l as usize).collect();
        Ok(labels)
    }
}

/// The training data: raw rows (for exact f64 distances), their mean, the centred panels, and
/// the kernels' path.
struct Data<'a> {
    raw: &'a [f32],
    mean: &'a [f64],
    p: Panels,
    isa: Isa,
}

impl Data<'_> {
    fn n(&self) -> usize {
        self.p.n
    }
    fn d(&self) -> usize {
        self.p.d
    }
}

struct Run {
    labels: Vec<usize>,
    centres: Vec<f64>,
    n_iter: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight, well separated 2-D blobs of 50 points each.
    fn blobs() -> (Matrix, Vec<usize>) {
        let centres = [(0.0f32, 0.0f32), (10.0, 10.0), (-10.0, 10.0)];
        let mut data = Vec::new();
        let mut truth = Vec::new();
        let mut rng = StdRng::seed_from_u64(7);
        for (c, &(cx, cy)) in centres.iter().enumerate() {
            for _ in 0..50 {
                data.push(cx + rng.random_range(-1.0..1.0));
                data.push(cy + rng.random_range(-1.0..1.0));
                truth.push(c);
            }
        }
        (Matrix::new(data, 150, 2).unwrap(), truth)
    }

    #[test]
    fn recovers_separated_blobs() {
        let (m, truth) = blobs();
        let model = KMeans::new(3).with_seed(1).fit(&m).unwrap();
        assert_eq!(model.k(), 3);
        assert_eq!(model.labels().len(), 150);
        assert!((crate::metrics::ari(&truth, model.labels()).unwrap() - 1.0).abs() < 1e-12);
        let recomputed = crate::metrics::inertia(&m, model.centroids(), model.labels()).unwrap();
        assert!((recomputed - model.inertia()).abs() <= 1e-6 * recomputed.max(1.0));
        assert_eq!(model.predict(&m).unwrap(), model.labels());
        assert!(model.n_iter() >= 1);
    }

    #[test]
    fn every_path_recovers_blobs_and_predicts() {
        let (m, truth) = blobs();
        for isa in crate::kernels::test_paths() {
            let model = KMeans::new(3).with_seed(1).fit_with(&m, isa).unwrap();
            let ari = crate::metrics::ari(&truth, model.labels()).unwrap();
            assert!((ari - 1.0).abs() < 1e-12, "{isa}");
            let inertia = crate::metrics::inertia(&m, model.centroids(), model.labels()).unwrap();
            assert!(
                (inertia - model.inertia()).abs() <= 1e-6 * inertia.max(1.0),
                "{isa}"
            );
            assert_eq!(
                model.predict_with(&m, isa).unwrap(),
                model.labels(),
                "{isa}"
            );
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (m, _) = blobs();
        let a = KMeans::new(4).with_seed(3).fit(&m).unwrap();
        let b = KMeans::new(4).with_seed(3).fit(&m).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn k_equals_n_and_duplicates() {
        let m = Matrix::new(vec![1.0, 2.0, 3.0, 4.0], 4, 1).unwrap();
        let model = KMeans::new(4).fit(&m).unwrap();
        assert!(model.inertia() < 1e-12);
        // all points identical: no panic, zero inertia
        let same = Matrix::new(vec![5.0; 12], 6, 2).unwrap();
        let model = KMeans::new(3).with_n_init(2).fit(&same).unwrap();
        assert_eq!(model.inertia(), 0.0);
        assert!(model.labels().iter().all(|&l| l < 3));
    }

    #[test]
    fn one_cluster_is_the_mean() {
        let m = Matrix::new(vec![0.0, 0.0, 2.0, 4.0, 4.0, 8.0], 3, 2).unwrap();
        let model = KMeans::new(1).fit(&m).unwrap();
        assert_eq!(model.centroids().as_slice(), &[2.0, 4.0]);
        assert!((model.inertia() - (4.0 + 16.0 + 4.0 + 16.0)).abs() < 1e-9);
    }

    #[test]
    fn predicts_new_points() {
        let (m, _) = blobs();
        let model = KMeans::new(3).fit(&m).unwrap();
        let q = Matrix::new(vec![10.2, 9.9, -0.1, 0.3], 2, 2).unwrap();
        let p = model.predict(&q).unwrap();
        assert_eq!(p[0], model.labels()[50]);
        assert_eq!(p[1], model.labels()[0]);
        let bad = Matrix::new(vec![1.0, 2.0, 3.0], 1, 3).unwrap();
        assert!(matches!(
            model.predict(&bad),
            Err(LatentError::DimensionMismatch {
                expected: 2,
                got: 3
            })
        ));
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let (m, _) = blobs();
        assert!(matches!(
            KMeans::new(0).fit(&m),
            Err(LatentError::ZeroClusters)
        ));
        let e = KMeans::new(151).fit(&m).unwrap_err();
        assert!(matches!(
            e,
            LatentError::TooManyClusters {
                k: 151,
                n_samples: 150
            }
        ));
        assert!(e.to_string().contains("151"));
        assert!(matches!(
            KMeans::new(2).with_n_init(0).fit(&m),
            Err(LatentError::InvalidParameter { name: "n_init", .. })
        ));
        assert!(matches!(
            KMeans::new(2).with_max_iter(0).fit(&m),
            Err(LatentError::InvalidParameter {
                name: "max_iter",
                ..
            })
        ));
        assert!(matches!(
            KMeans::new(2).with_tol(f64::NAN).fit(&m),
            Err(LatentError::InvalidParameter { name: "tol", .. })
        ));
    }

    #[test]
    fn relocates_empty_clusters() {
        // Start from centres where cluster 1 gets no point: it must take the farthest point.
        let m = Matrix::new(vec![0.0, 1.0, 2.0, 10.0], 4, 1).unwrap();
        let mean = [0.0f64];
        let data = Data {
            raw: m.as_slice(),
            mean: &mean,
            p: Panels::new(m.as_slice(), 4, 1, &[0.0]),
            isa: Isa::Portable,
        };
        let run = lloyd_multi(&data, vec![vec![1.0, 100.0]], 2, 100, 0.0).remove(0);
        assert_eq!(run.labels, vec![0, 0, 0, 1]);
        assert!((run.centres[0] - 1.0).abs() < 1e-12);
        assert!((run.centres[1] - 10.0).abs() < 1e-12);
    }
}
