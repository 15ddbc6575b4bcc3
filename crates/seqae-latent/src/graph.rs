//! Nearest-neighbour graphs and spectral clustering on them (Ng, Jordan and Weiss, NIPS
//! 2001; the graph as scikit-learn's `SpectralClustering(affinity="nearest_neighbors")`):
//! each point joined to its nearest neighbours under some distance (itself included),
//! symmetrised, regularised (`A + tau/n`, tau the mean degree: Amini, Chen, Bickel and
//! Levina, Annals of Statistics 2013), then the eigenvectors of the largest eigenvalues of
//! `D^-1/2 A D^-1/2`, divided by `sqrt(degree)`, clustered by k-means.
use nalgebra::DMatrix;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::error::Result;
use crate::kmeans::{KMeans, KMeansModel};
use seqae_data::Matrix;

/// Up to this many points the eigenvectors come from a dense eigendecomposition; above, from
/// an iterative method on the sparse graph ([`SUBSPACE_LIMIT`]).
pub(crate) const DENSE_LIMIT: usize = 300;
/// Up to this many points (the graphs of the views, and of embeddings whose neighbours are
/// searched exactly) subspace iteration finds the eigenvectors, as when the figures of
/// docs/QUALITY.md were measured; above, LOBPCG, which needs far fewer graph products.
pub(crate) const SUBSPACE_LIMIT: usize = 20_000;
/// Most subspace iterations or LOBPCG steps.
const MAX_ITER: usize = 3000;
/// LOBPCG stops when every residual is below this (the operator's norm is at most 1).
const LOBPCG_TOL: f64 = 1e-6;
/// Columns of a graph product summed at once (in registers).
const COLUMNS: usize = 8;

/// The `nn` nearest points of each of `n` points (itself first), found in parallel:
/// `distances(scratch, i, row)` fills `row` with the distance of point `i` to every point
/// (any monotone distance; NaN sorts last). `scratch` is one thread's working state.
pub(crate) fn nearest_by<S, I, F>(n: usize, nn: usize, init: I, distances: F) -> Vec<Vec<usize>>
where
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, usize, &mut [f64]) + Sync + Send,
{
    let nn = nn.clamp(1, n.max(1));
    (0..n)
        .into_par_iter()
        .map_init(
            || (init(), vec![0.0f64; n]),
            |(scratch, dist), i| {
                distances(scratch, i, dist);
                dist[i] = f64::NEG_INFINITY; // itself first
                let key = |a: usize| {
                    if dist[a].is_nan() {
                        f64::INFINITY
                    } else {
                        dist[a]
                    }
                };
                let mut order: Vec<usize> = (0..n).collect();
                order.select_nth_unstable_by(nn - 1, |&a, &b| {
                    key(a).total_cmp(&key(b)).then(a.cmp(&b))
                });
                order[..nn].to_vec()
            },
        )
        .collect()
}

/// The `nn` nearest rows of each row of `m` under the Euclidean distance (itself among them),
/// from every pairwise distance.
pub(crate) fn exact_nearest(m: &Matrix, nn: usize) -> Vec<Vec<usize>> {
    let rows: Vec<&[f32]> = m.iter_rows().collect();
    nearest_by(
        m.rows(),
        nn,
        || (),
        |(), i, dist| {
            for (d, r) in dist.iter_mut().zip(&rows) {
                *d = rows[i]
                    .iter()
                    .zip(*r)
                    .map(|(a, b)| f64::from(a - b).powi(2))
                    .sum();
            }
        },
    )
}

/// The symmetrised connectivity graph `A = (C + C^T) / 2`, regularised by `tau / n` between
/// every pair, as the compressed rows of `D^-1/2 A D^-1/2` with the degrees of the
/// regularised graph.
pub(crate) struct Graph {
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
    /// Each row of `m` connected to its `nn` nearest rows (Euclidean), symmetrised.
    pub(crate) fn knn(m: &Matrix, nn: usize) -> Graph {
        Graph::from_neighbours(&exact_nearest(m, nn))
    }

    /// The graph joining each point to the points of its list (itself included), symmetrised:
    /// `A = (C + C^T) / 2`.
    pub(crate) fn from_neighbours(nearest: &[Vec<usize>]) -> Graph {
        let n = nearest.len();
        // Every listed pair (i, j) puts j in row i and i in row j, each worth 1/2: the rows
        // as multisets, then each sorted and its repeats merged into one weighted edge.
        let mut fill = vec![0usize; n + 1];
        for (i, near) in nearest.iter().enumerate() {
            fill[i + 1] += near.len();
            for &j in near {
                fill[j + 1] += 1;
            }
        }
        for i in 0..n {
            fill[i + 1] += fill[i];
        }
        let mut listed = vec![0u32; fill[n]];
        let mut at = fill.clone();
        for (i, near) in nearest.iter().enumerate() {
            for &j in near {
                listed[at[i]] = j as u32;
                at[i] += 1;
                listed[at[j]] = i as u32;
                at[j] += 1;
            }
        }
        let mut rows: Vec<&mut [u32]> = Vec::with_capacity(n);
        let mut rest = listed.as_mut_slice();
        for i in 0..n {
            let (row, tail) = rest.split_at_mut(fill[i + 1] - fill[i]);
            rows.push(row);
            rest = tail;
        }
        // Sorted, each row's repeats merged: row i is starts[i]..starts[i + 1] of cols and
        // weights.
        let total: usize = rows
            .par_iter_mut()
            .map(|row| {
                row.sort_unstable();
                row.chunk_by(|a, b| a == b).count()
            })
            .sum();
        let (mut starts, mut cols, mut weights) = (
            Vec::with_capacity(n + 1),
            Vec::with_capacity(total),
            Vec::with_capacity(total),
        );
        starts.push(0);
        for row in &rows {
            for same in row.chunk_by(|a, b| a == b) {
                cols.push(same[0]);
                weights.push(0.5 * same.len() as f64);
            }
            starts.push(cols.len());
        }
        drop(rows);
        drop(listed);
        let plain: Vec<f64> = (0..n)
            .map(|i| weights[starts[i]..starts[i + 1]].iter().sum())
            .collect();
        let tau = plain.iter().sum::<f64>() / n as f64;
        let degree: Vec<f64> = plain.iter().map(|d| d + tau).collect();
        let inv: Vec<f64> = degree.iter().map(|d| 1.0 / d.sqrt().max(1e-12)).collect();
        for i in 0..n {
            for e in starts[i]..starts[i + 1] {
                weights[e] = weights[e] * inv[i] * inv[cols[e] as usize];
            }
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

    /// Number of points.
    pub(crate) fn len(&self) -> usize {
        self.degree.len()
    }

    /// Spectral clustering of the graph into `k` clusters: the top `k` eigenvectors of
    /// `D^-1/2 A D^-1/2` (dense up to [`DENSE_LIMIT`] points, by subspace iteration up to
    /// [`SUBSPACE_LIMIT`], by LOBPCG above),
    /// divided by `sqrt(degree)`, then k-means (`n_init` restarts) on those coordinates.
    pub(crate) fn spectral(&self, k: usize, n_init: usize, seed: u64) -> Result<KMeansModel> {
        let n = self.len();
        let coords = if n <= DENSE_LIMIT {
            self.top_eigenvectors_dense(k)
        } else if n <= SUBSPACE_LIMIT {
            self.top_eigenvectors_iterative(k, seed)
        } else {
            self.top_eigenvectors_lobpcg(k, seed)
        };
        // Eigenvectors of the normalised matrix back to the random-walk ones.
        let mut data = Vec::with_capacity(n * k);
        for i in 0..n {
            let s = self.degree[i].sqrt().max(1e-12);
            data.extend((0..k).map(|c| (coords[(i, c)] / s) as f32));
        }
        KMeans::new(k)
            .with_n_init(n_init)
            .with_seed(seed)
            .fit(&Matrix::new(data, n, k)?)
    }

    /// The normalised cut of `labels` on the graph without its regulariser, divided by the
    /// number of clusters: the mean over clusters of the weight leaving a cluster over the
    /// weight it holds (Shi and Malik, IEEE TPAMI 2000). 0 for clusters with no edge between
    /// them; lower is a cleaner partition.
    pub(crate) fn normalised_cut(&self, labels: &[usize]) -> f64 {
        let k = labels.iter().copied().max().map_or(0, |m| m + 1);
        let (mut leaving, mut volume) = (vec![0.0f64; k], vec![0.0f64; k]);
        for i in 0..self.len() {
            for e in self.starts[i]..self.starts[i + 1] {
                let j = self.cols[e] as usize;
                let w = self.weights[e] / (self.inv[i] * self.inv[j]);
                volume[labels[i]] += w;
                if labels[j] != labels[i] {
                    leaving[labels[i]] += w;
                }
            }
        }
        let parts = volume.iter().filter(|&&v| v > 0.0).count().max(1);
        leaving
            .iter()
            .zip(&volume)
            .filter(|(_, v)| **v > 0.0)
            .map(|(l, v)| l / v)
            .sum::<f64>()
            / parts as f64
    }

    /// As [`top_eigenvectors_dense`](Self::top_eigenvectors_dense), by LOBPCG
    /// ([`crate::lobpcg`]) from a random start.
    pub(crate) fn top_eigenvectors_lobpcg(&self, k: usize, seed: u64) -> DMatrix<f64> {
        let n = self.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let start = DMatrix::from_fn(n, k, |_, _| rng.random_range(-1.0..1.0));
        let (values, x) =
            crate::lobpcg::largest(|v| self.normalised_product(v), &start, LOBPCG_TOL, MAX_ITER);
        Self::top(&values, &x, k)
    }

    /// The eigenvectors of the `k` largest eigenvalues of `D^-1/2 A D^-1/2`, largest first,
    /// from a dense symmetric eigendecomposition.
    pub(crate) fn top_eigenvectors_dense(&self, k: usize) -> DMatrix<f64> {
        let n = self.degree.len();
        let eye = DMatrix::<f64>::identity(n, n);
        let m = self.normalised_product(&eye);
        let eig = (m.clone() + m.transpose()).scale(0.5).symmetric_eigen();
        Self::top(eig.eigenvalues.as_slice(), &eig.eigenvectors, k)
    }

    /// As [`top_eigenvectors_dense`](Self::top_eigenvectors_dense), by subspace iteration on
    /// `(I + D^-1/2 A D^-1/2) / 2` (eigenvalues in [0, 1], the wanted ones the largest) with a
    /// Rayleigh-Ritz step at the end.
    pub(crate) fn top_eigenvectors_iterative(&self, k: usize, seed: u64) -> DMatrix<f64> {
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
