//! k-means (Lloyd) with greedy k-means++ initialisation, following scikit-learn's `KMeans`.
//!
//! Points are assigned with a fused f32 distance + arg-min kernel (`|c|^2 - 2 x.c`, the GEMM
//! formulation with the arg-min in registers, see `kernels.rs`) on mean-centred data. Row blocks
//! run in parallel with rayon; sums and inertia are accumulated in f64. The block partition
//! depends only on the number of rows, so results do not depend on the thread count.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{LatentError, Result};
use crate::kernels::{self, Centres, PAIR, Panels};
use crate::linalg::{column_means, mean_column_variance, row_blocks, sq_dist_f32_f64};
use crate::matrix::Matrix;

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
        };

        let mut master = StdRng::seed_from_u64(self.seed);
        let seeds: Vec<u64> = (0..self.n_init).map(|_| master.random()).collect();
        let mut best: Option<(Run, f64)> = None;
        for s in seeds {
            let mut rng = StdRng::seed_from_u64(s);
            let init = kmeans_plusplus(&data, self.k, &mut rng);
            let run = lloyd(&data, init, self.k, self.max_iter, tol_abs);
            // Inertia on the original (uncentred) data with uncentred f64 centres.
            let centres: Vec<f64> = run
                .centres
                .chunks_exact(d)
                .flat_map(|c| c.iter().zip(&mean).map(|(a, b)| a + b))
                .collect();
            let inertia = inertia_f64(raw, d, &centres, &run.labels);
            if best.as_ref().is_none_or(|(_, b)| inertia < *b) {
                best = Some((Run { centres, ..run }, inertia));
            }
        }
        let (run, inertia) = best.expect("n_init >= 1");
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

    /// Index of the nearest centre for each row of `m`.
    pub fn predict(&self, m: &Matrix) -> Result<Vec<usize>> {
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
            kernels::nearest(&panels, &centres, b.clone(), out, None);
        });
        let labels = lab32[..n].iter().map(|&l| l as usize).collect();
        Ok(labels)
    }
}

/// The training data: raw rows (for f64 sums and inertia), their mean, and the centred panels.
struct Data<'a> {
    raw: &'a [f32],
    mean: &'a [f64],
    p: Panels,
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

/// Blocks of panel pairs; their number depends only on `n_pairs` (deterministic reductions).
fn pair_blocks(n_pairs: usize) -> Vec<std::ops::Range<usize>> {
    let n_blocks = n_pairs.div_ceil(64).clamp(1, 64);
    let per = n_pairs.div_ceil(n_blocks).max(1);
    (0..n_blocks)
        .map(|b| (b * per).min(n_pairs)..((b + 1) * per).min(n_pairs))
        .filter(|r| !r.is_empty())
        .collect()
}

/// Splits `out` into consecutive mutable parts of `len(block) * stride` values (the last part
/// is cut short if `out` is shorter, as for unpadded label arrays).
fn split_by_blocks<'a, T>(
    mut out: &'a mut [T],
    blocks: &[std::ops::Range<usize>],
    stride: usize,
) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(blocks.len());
    for r in blocks {
        let take = (r.len() * stride).min(out.len());
        let (head, tail) = out.split_at_mut(take);
        parts.push(head);
        out = tail;
    }
    parts
}

/// Partial results of one assignment pass.
struct AssignOut {
    sums: Vec<f64>,
    counts: Vec<u64>,
    changed: bool,
}

/// Assigns every point to its nearest centre (first minimum on ties). `centres` are centred
/// f32 centres (`k x d`). When `accumulate`, also returns per-cluster f64 sums of the centred
/// points and counts. `changed` tells whether any label changed.
fn assign(
    data: &Data,
    centres: &[f32],
    k: usize,
    labels: &mut [usize],
    accumulate: bool,
) -> AssignOut {
    let d = data.d();
    let cs = Centres::new(centres, k, d);
    let blocks = pair_blocks(data.p.n_pairs);
    let parts = split_by_blocks(labels, &blocks, PAIR);
    let partial: Vec<AssignOut> = blocks
        .par_iter()
        .zip(parts)
        .map(|(b, lab)| {
            let mut near = vec![0u32; b.len() * PAIR];
            let mut sums = if accumulate {
                vec![0.0f64; k * d]
            } else {
                Vec::new()
            };
            let acc = accumulate.then_some(&mut sums[..]);
            kernels::nearest(&data.p, &cs, b.clone(), &mut near, acc);
            let mut counts = vec![0u64; k];
            let mut changed = false;
            for (slot, &j) in lab.iter_mut().zip(&near) {
                let j = j as usize;
                changed |= *slot != j;
                *slot = j;
                counts[j] += 1;
            }
            AssignOut {
                sums,
                counts,
                changed,
            }
        })
        .collect();
    let mut total = AssignOut {
        sums: vec![0.0; if accumulate { k * d } else { 0 }],
        counts: vec![0; k],
        changed: false,
    };
    for p in partial {
        for (a, b) in total.sums.iter_mut().zip(&p.sums) {
            *a += b;
        }
        for (a, b) in total.counts.iter_mut().zip(&p.counts) {
            *a += b;
        }
        total.changed |= p.changed;
    }
    total
}

/// Sum of squared distances of rows to their labelled centre (f64 centres), in f64.
pub(crate) fn inertia_f64(x: &[f32], d: usize, centres: &[f64], labels: &[usize]) -> f64 {
    let n = labels.len();
    let partial: Vec<f64> = row_blocks(n)
        .into_par_iter()
        .map(|r| {
            let mut s = 0.0;
            for i in r {
                let l = labels[i];
                s += sq_dist_f32_f64(&x[i * d..(i + 1) * d], &centres[l * d..(l + 1) * d]);
            }
            s
        })
        .collect();
    partial.iter().sum()
}

/// One Lloyd run from `centres` (centred coordinates), as scikit-learn's `_kmeans_single_lloyd`.
fn lloyd(data: &Data, mut centres: Vec<f64>, k: usize, max_iter: usize, tol_abs: f64) -> Run {
    let d = data.d();
    let mut labels = vec![usize::MAX; data.n()];
    let mut strict = false;
    let mut n_iter = 0;
    for it in 0..max_iter {
        n_iter = it + 1;
        let cf: Vec<f32> = centres.iter().map(|&v| v as f32).collect();
        let AssignOut {
            mut sums,
            mut counts,
            changed,
        } = assign(data, &cf, k, &mut labels, true);
        if counts.contains(&0) {
            relocate_empty(data, &centres, &labels, &mut sums, &mut counts);
        }
        let mut shift = 0.0;
        for j in 0..k {
            let new = &mut sums[j * d..(j + 1) * d];
            if counts[j] > 0 {
                let inv = 1.0 / counts[j] as f64;
                for v in new.iter_mut() {
                    *v *= inv;
                }
            }
            for (a, b) in new.iter().zip(&centres[j * d..(j + 1) * d]) {
                shift += (a - b) * (a - b);
            }
        }
        centres = sums;
        if !changed {
            strict = true;
            break;
        }
        if shift <= tol_abs {
            break;
        }
    }
    if !strict {
        let cf: Vec<f32> = centres.iter().map(|&v| v as f32).collect();
        assign(data, &cf, k, &mut labels, false);
    }
    Run {
        labels,
        centres,
        n_iter,
    }
}

/// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes the point farthest
/// from its current centre. `sums` are per-cluster centred sums (not yet divided by the counts).
fn relocate_empty(
    data: &Data,
    old: &[f64],
    labels: &[usize],
    sums: &mut [f64],
    counts: &mut [u64],
) {
    let (n, d) = (data.n(), data.d());
    let empty: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] == 0).collect();
    let old_raw: Vec<f64> = old
        .chunks_exact(d)
        .flat_map(|c| c.iter().zip(data.mean).map(|(a, b)| a + b))
        .collect();
    let dist: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let l = labels[i];
            sq_dist_f32_f64(&data.raw[i * d..(i + 1) * d], &old_raw[l * d..(l + 1) * d])
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    let take = empty.len().min(n);
    let far_first = |a: &usize, b: &usize| dist[*b].total_cmp(&dist[*a]).then(a.cmp(b));
    order.select_nth_unstable_by(take - 1, far_first);
    order.truncate(take);
    order.sort_by(far_first);
    for (&j, &far) in empty.iter().zip(&order) {
        let from = labels[far];
        let x = &data.raw[far * d..(far + 1) * d];
        for (t, (&v, &mu)) in x.iter().zip(data.mean).enumerate() {
            let c = v as f64 - mu;
            sums[from * d + t] -= c;
            sums[j * d + t] = c;
        }
        counts[j] = 1;
        counts[from] -= 1;
    }
}

/// Greedy k-means++ as scikit-learn's `_kmeans_plusplus`: `2 + floor(ln k)` candidates per
/// step, keeping the one that lowers the potential most. Returns centred f64 centres.
fn kmeans_plusplus(data: &Data, k: usize, rng: &mut StdRng) -> Vec<f64> {
    let (n, d) = (data.n(), data.d());
    let n_trials = 2 + (k as f64).ln().floor() as usize;
    let mut centres = vec![0.0f64; k * d];
    let first = rng.random_range(0..n);
    let set_centre = |centres: &mut [f64], c: usize, i: usize| {
        for (dst, v) in centres[c * d..(c + 1) * d].iter_mut().zip(data.p.point(i)) {
            *dst = v as f64;
        }
    };
    set_centre(&mut centres, 0, first);
    let (outs, pots) = candidate_distances(data, &[first], None);
    let mut closest = Vec::new();
    gather_candidate(&outs, 1, 0, &mut closest);
    let mut pot = pots[0];
    let mut cumsum = vec![0.0f64; n];
    for c in 1..k {
        let mut acc = 0.0f64;
        for (s, &v) in cumsum.iter_mut().zip(&closest[..n]) {
            acc += v as f64;
            *s = acc;
        }
        let cands: Vec<usize> = (0..n_trials)
            .map(|_| {
                let v = rng.random::<f64>() * pot;
                cumsum.partition_point(|&s| s < v).min(n - 1)
            })
            .collect();
        let (outs, pots) = candidate_distances(data, &cands, Some(&closest));
        let mut best = 0;
        for (t, &p) in pots.iter().enumerate() {
            if p < pots[best] {
                best = t;
            }
        }
        pot = pots[best];
        gather_candidate(&outs, cands.len(), best, &mut closest);
        set_centre(&mut centres, c, cands[best]);
    }
    centres
}

/// Squared distances of every (padded) point to each candidate point, element-wise minimised
/// with `closest` when given. Returns the per-block candidate-major outputs and the f64
/// potential (sum over the real points) of each candidate.
fn candidate_distances(
    data: &Data,
    cands: &[usize],
    closest: Option<&[f32]>,
) -> (Vec<Vec<f32>>, Vec<f64>) {
    let (n, d, t) = (data.n(), data.d(), cands.len());
    let cx: Vec<f32> = cands.iter().flat_map(|&i| data.p.point(i)).collect();
    let cs = Centres::new(&cx, t, d);
    let blocks = pair_blocks(data.p.n_pairs);
    let partial: Vec<(Vec<f32>, Vec<f64>)> = blocks
        .par_iter()
        .map(|b| {
            let len = b.len() * PAIR;
            let mut out = vec![0.0f32; t * len];
            kernels::candidates(&data.p, &cs, closest, b.clone(), &mut out);
            let real = (n.saturating_sub(b.start * PAIR)).min(len);
            let pots = out
                .chunks_exact(len)
                .map(|row| kernels::sum_as_f64(&row[..real]))
                .collect();
            (out, pots)
        })
        .collect();
    let mut pots = vec![0.0f64; t];
    let mut outs = Vec::with_capacity(partial.len());
    for (o, p) in partial {
        for (a, b) in pots.iter_mut().zip(p) {
            *a += b;
        }
        outs.push(o);
    }
    (outs, pots)
}

/// Candidate `c`'s (padded) distances, gathered from [`candidate_distances`]'s block outputs.
fn gather_candidate(outs: &[Vec<f32>], t: usize, c: usize, dst: &mut Vec<f32>) {
    dst.clear();
    for o in outs {
        let len = o.len() / t;
        dst.extend_from_slice(&o[c * len..(c + 1) * len]);
    }
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
        assert_eq!(
            model.predict(&bad),
            Err(LatentError::DimensionMismatch {
                expected: 2,
                got: 3
            })
        );
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let (m, _) = blobs();
        assert_eq!(KMeans::new(0).fit(&m), Err(LatentError::ZeroClusters));
        let e = KMeans::new(151).fit(&m).unwrap_err();
        assert_eq!(
            e,
            LatentError::TooManyClusters {
                k: 151,
                n_samples: 150
            }
        );
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
        };
        let run = lloyd(&data, vec![1.0, 100.0], 2, 100, 0.0);
        assert_eq!(run.labels, vec![0, 0, 0, 1]);
        assert!((run.centres[0] - 1.0).abs() < 1e-12);
        assert!((run.centres[1] - 10.0).abs() < 1e-12);
    }
}
