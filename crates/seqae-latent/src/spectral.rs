//! Spectral clustering on a k-nearest-neighbour graph (Ng, Jordan and Weiss, NIPS 2001; the
//! graph and embedding as scikit-learn's `SpectralClustering(affinity="nearest_neighbors")`):
//! connect each point to its nearest neighbours (itself included), symmetrise, regularise
//! (`A + tau/n`, tau the mean degree: Amini, Chen, Bickel and Levina, Annals of Statistics
//! 2013, which keeps a few loosely connected points from taking a cluster of their own), take
//! the eigenvectors of the largest eigenvalues of `D^-1/2 A D^-1/2`, divide by
//! `sqrt(degree)`, and run k-means on those coordinates. It follows clusters that are connected rather than
//! round, which k-means on the points themselves cannot.
use nalgebra::DMatrix;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::error::{LatentError, Result};
use crate::kmeans::{KMeans, KMeansModel};
use seqae_data::Matrix;

/// Up to this many points the eigenvectors come from a dense eigendecomposition; above, from
/// subspace iteration on the sparse graph.
const DENSE_LIMIT: usize = 1500;
/// Most subspace iterations.
const MAX_ITER: usize = 3000;
/// Columns of a graph product summed at once (in registers).
const COLUMNS: usize = 8;

/// Spectral clustering settings.
#[derive(Clone, Debug)]
pub struct Spectral {
    k: usize,
    neighbours: Option<usize>,
    n_init: usize,
    seed: u64,
}

impl Spectral {
    /// The most points [`Spectral::fit`] takes (the graph is built from all pairwise distances).
    pub const MAX_POINTS: usize = 20_000;

    /// `k` clusters; neighbours `ceil(sqrt(n))`, 10 k-means restarts, seed 0.
    pub fn new(k: usize) -> Self {
        Spectral {
            k,
            neighbours: None,
            n_init: 10,
            seed: 0,
        }
    }

    /// Neighbours per point in the graph (itself included).
    pub fn with_neighbours(mut self, n: usize) -> Self {
        self.neighbours = Some(n);
        self
    }

    /// k-means restarts on the spectral coordinates.
    pub fn with_n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }

    /// Seed of the iteration's start and of k-means.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The neighbours used for `n` points.
    pub fn neighbours_for(&self, n: usize) -> usize {
        self.neighbours
            .unwrap_or_else(|| (n as f64).sqrt().ceil() as usize)
            .clamp(2, n.max(2))
            .min(n)
    }

    /// Clusters the rows of `m`: the k-means model of the spectral coordinates (its labels are
    /// the clusters of the rows).
    pub fn fit(&self, m: &Matrix) -> Result<KMeansModel> {
        let n = m.rows();
        if self.k == 0 {
            return Err(LatentError::ZeroClusters);
        }
        if self.k > n {
            return Err(LatentError::TooManyClusters {
                k: self.k,
                n_samples: n,
            });
        }
        if n > Self::MAX_POINTS {
            return Err(LatentError::TooManySamples {
                what: "spectral clustering",
                most: Self::MAX_POINTS,
                got: n,
            });
        }
        let graph = Graph::knn(m, self.neighbours_for(n));
        let coords = if n <= DENSE_LIMIT {
            graph.top_eigenvectors_dense(self.k)
        } else {
            graph.top_eigenvectors_iterative(self.k, self.seed)
        };
        // Eigenvectors of the normalised matrix back to the random-walk ones.
        let mut data = Vec::with_capacity(n * self.k);
        for i in 0..n {
            let s = graph.degree[i].sqrt().max(1e-12);
            data.extend((0..self.k).map(|c| (coords[(i, c)] / s) as f32));
        }
        KMeans::new(self.k)
            .with_n_init(self.n_init)
            .with_seed(self.seed)
            .fit(&Matrix::new(data, n, self.k)?)
    }
}

/// The symmetrised connectivity graph `A = (C + C^T) / 2`, regularised by `tau / n` between
/// every pair, as the compressed rows of `D^-1/2 A D^-1/2` with the degrees of the
/// regularised graph.
struct Graph {
    /// The regulariser `tau` (the mean degree of `A`).
    tau: f64,
    /// The degrees `D` of the regularised graph.
    degree: Vec<f64>,
    /// `D^-1/2`, the diagonal.
    inv: Vec<f64>,
    /// `D^-1/2 A D^-1/2` in compressed rows (computed once: the product runs thousands of
    /// times): the edges of point `i` are `starts[i]..starts[i + 1]` of `cols` and `weights`.
    starts: Vec<usize>,
    cols: Vec<u32>,
    weights: Vec<f64>,
}

impl Graph {
    /// Each point connected to its `nn` nearest points (itself first), symmetrised. The
    /// neighbours are found for all points in parallel, the graph built from them in order.
    fn knn(m: &Matrix, nn: usize) -> Graph {
        let n = m.rows();
        let rows: Vec<&[f32]> = (0..n).map(|i| m.row(i).expect("row in range")).collect();
        let nearest: Vec<Vec<usize>> = (0..n)
            .into_par_iter()
            .map_init(
                || vec![0.0f64; n],
                |dist, i| {
                    for (j, d) in dist.iter_mut().enumerate() {
                        *d = rows[i]
                            .iter()
                            .zip(rows[j])
                            .map(|(a, b)| ((a - b) as f64).powi(2))
                            .sum();
                    }
                    dist[i] = -1.0; // itself first
                    let mut order: Vec<usize> = (0..n).collect();
                    order.select_nth_unstable_by(nn - 1, |&a, &b| {
                        dist[a].total_cmp(&dist[b]).then(a.cmp(&b))
                    });
                    order[..nn].to_vec()
                },
            )
            .collect();
        let mut dense: Vec<std::collections::BTreeMap<usize, f64>> = vec![Default::default(); n];
        for (i, near) in nearest.iter().enumerate() {
            for &j in near {
                *dense[i].entry(j).or_default() += 0.5;
                *dense[j].entry(i).or_default() += 0.5;
            }
        }
        let edges: Vec<Vec<(usize, f64)>> =
            dense.into_iter().map(|m| m.into_iter().collect()).collect();
        let plain: Vec<f64> = edges
            .iter()
            .map(|e| e.iter().map(|(_, w)| w).sum())
            .collect();
        let tau = plain.iter().sum::<f64>() / n as f64;
        let degree: Vec<f64> = plain.iter().map(|d| d + tau).collect();
        let inv: Vec<f64> = degree.iter().map(|d| 1.0 / d.sqrt().max(1e-12)).collect();
        let mut starts = Vec::with_capacity(n + 1);
        let total = edges.iter().map(Vec::len).sum();
        let (mut cols, mut weights) = (Vec::with_capacity(total), Vec::with_capacity(total));
        starts.push(0);
        for (i, e) in edges.iter().enumerate() {
            for &(j, w) in e {
                cols.push(j as u32);
                weights.push(w * inv[i] * inv[j]);
            }
            starts.push(cols.len());
        }
        Graph {
            tau,
            degree,
            inv,
            starts,
            cols,
            weights,
        }
    }

    /// `y = D^-1/2 A D^-1/2 x` for the columns of `x` (`n x k`). The rows of `y` are summed
    /// in parallel, each from the rows of `x` that its edges name, copied row-major first: in
    /// `x`'s column-major layout an edge read `k` values `n` apart, and the product took most
    /// of a clustering run.
    fn normalised_product(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let (n, k) = x.shape();
        let inv = &self.inv;
        // The regulariser's part, tau/n between every pair: a rank-one term.
        let rank_one: Vec<f64> = (0..k)
            .map(|c| (0..n).map(|j| inv[j] * x[(j, c)]).sum::<f64>() * self.tau / n as f64)
            .collect();
        // Row j of x at xr[j k ..]: the transpose's column-major values.
        let xt = x.transpose();
        let xr = xt.as_slice();
        let mut y = vec![0.0f64; n * k];
        if k > 0 {
            y.par_chunks_mut(k).enumerate().for_each(|(i, row)| {
                // Eight columns at a time, summed in registers over the edges. (Compiled for
                // AVX2 it was no faster: the rows of `x` that the edges name are the cost.)
                for c0 in (0..k).step_by(COLUMNS) {
                    let w = COLUMNS.min(k - c0);
                    let mut acc = [0.0f64; COLUMNS];
                    for (a, &s) in acc.iter_mut().zip(&rank_one[c0..c0 + w]) {
                        *a = inv[i] * s;
                    }
                    let edges = self.starts[i]..self.starts[i + 1];
                    for (&j, &f) in self.cols[edges.clone()].iter().zip(&self.weights[edges]) {
                        let xj = &xr[j as usize * k + c0..][..w];
                        for (a, &v) in acc.iter_mut().zip(xj) {
                            *a += f * v;
                        }
                    }
                    row[c0..c0 + w].copy_from_slice(&acc[..w]);
                }
            });
        }
        DMatrix::from_row_slice(n, k, &y)
    }

    /// The eigenvectors of the `k` largest eigenvalues of `D^-1/2 A D^-1/2`, largest first,
    /// from a dense symmetric eigendecomposition.
    fn top_eigenvectors_dense(&self, k: usize) -> DMatrix<f64> {
        let n = self.degree.len();
        let eye = DMatrix::<f64>::identity(n, n);
        let m = self.normalised_product(&eye);
        let eig = (m.clone() + m.transpose()).scale(0.5).symmetric_eigen();
        Self::top(eig.eigenvalues.as_slice(), &eig.eigenvectors, k)
    }

    /// As [`top_eigenvectors_dense`](Self::top_eigenvectors_dense), by subspace iteration on
    /// `(I + D^-1/2 A D^-1/2) / 2` (eigenvalues in [0, 1], the wanted ones the largest) with a
    /// Rayleigh-Ritz step at the end.
    fn top_eigenvectors_iterative(&self, k: usize, seed: u64) -> DMatrix<f64> {
        let n = self.degree.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut q = DMatrix::from_fn(n, k, |_, _| rng.random_range(-1.0..1.0));
        q = q.qr().q();
        let shifted = |x: &DMatrix<f64>| (self.normalised_product(x) + x).scale(0.5);
        for it in 0..MAX_ITER {
            let next = shifted(&q);
            if it % 20 == 19 {
                // Converged when the subspace maps into itself: residual of Q^T M Q.
                let t = q.transpose() * &next;
                if (&next - &q * t).norm() < 1e-9 * (k as f64).sqrt() {
                    break;
                }
            }
            q = next.qr().q();
        }
        let t = q.transpose() * shifted(&q);
        let eig = (t.clone() + t.transpose()).scale(0.5).symmetric_eigen();
        let rotated = &q * &eig.eigenvectors;
        Self::top(eig.eigenvalues.as_slice(), &rotated, k)
    }

    /// The columns of `vectors` for the `k` largest `values`, largest first, each signed so
    /// that its largest-magnitude entry is positive (deterministic, as scikit-learn does).
    fn top(values: &[f64], vectors: &DMatrix<f64>, k: usize) -> DMatrix<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
        let n = vectors.nrows();
        let mut out = DMatrix::zeros(n, k);
        for (c, &col) in order.iter().take(k).enumerate() {
            let v = vectors.column(col);
            let big = v
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            let sign = if big < 0.0 { -1.0 } else { 1.0 };
            for i in 0..n {
                out[(i, c)] = sign * v[i];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics;

    /// Two concentric rings: k-means cuts them in half, spectral clustering separates them.
    fn rings(n: usize) -> (Matrix, Vec<usize>) {
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let ring = i % 2;
            let r = if ring == 0 { 1.0 } else { 4.0 };
            let a = i as f32 * 2.399_963; // golden angle: even coverage
            data.extend([r * a.cos(), r * a.sin()]);
            labels.push(ring);
        }
        (Matrix::new(data, n, 2).unwrap(), labels)
    }

    #[test]
    fn separates_rings_that_kmeans_cannot() {
        let (m, labels) = rings(200);
        let sp = Spectral::new(2).with_neighbours(8).fit(&m).unwrap();
        assert_eq!(metrics::nmi(&labels, sp.labels()).unwrap(), 1.0);
        let km = KMeans::new(2).with_seed(0).fit(&m).unwrap();
        let km_nmi = metrics::nmi(&labels, km.labels()).unwrap();
        assert!(km_nmi < 0.5, "k-means NMI {km_nmi}");
    }

    #[test]
    fn the_iterative_path_agrees_with_the_dense_one() {
        // Three groups far apart: the top three eigenvalues stand clear of the rest.
        let (mut data, mut labels) = (Vec::new(), Vec::new());
        for i in 0..300 {
            let g = i % 3;
            let a = i as f32 * 2.399_963;
            data.extend([10.0 * g as f32 + a.cos(), a.sin()]);
            labels.push(g);
        }
        let m = Matrix::new(data, 300, 2).unwrap();
        let g = Graph::knn(&m, 8);
        let dense = g.top_eigenvectors_dense(3);
        let iter = g.top_eigenvectors_iterative(3, 3);
        // The same subspace: each iterative vector lies in the span of the dense ones.
        for c in 0..3 {
            let v = iter.column(c);
            let proj: f64 = (0..3).map(|d| dense.column(d).dot(&v).powi(2)).sum();
            assert!(proj > 0.999, "column {c}: {proj}");
        }
        let sp = Spectral::new(3).with_neighbours(8).fit(&m).unwrap();
        assert_eq!(metrics::nmi(&labels, sp.labels()).unwrap(), 1.0);
    }

    #[test]
    fn refuses_bad_k() {
        let (m, _) = rings(10);
        assert!(Spectral::new(0).fit(&m).is_err());
        assert!(Spectral::new(11).fit(&m).is_err());
        assert_eq!(Spectral::new(2).neighbours_for(80), 9);
    }
}
