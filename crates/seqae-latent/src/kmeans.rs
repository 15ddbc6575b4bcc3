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

/// The training data: raw rows (for exact f64 distances), their mean, and the centred panels.
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

/// Per-block tile, in pairs: about 64 KiB of panel data, so a tile stays in L2 while all runs
/// are processed on it (the data is read from memory once per pass, not once per run).
fn tile_pairs(d: usize) -> usize {
    (65536 / (PAIR * d * 4)).max(1)
}

/// Splits each run's slice by blocks and regroups the parts by block.
fn split_runs<'a, T>(
    runs: Vec<&'a mut [T]>,
    blocks: &[std::ops::Range<usize>],
    stride: usize,
) -> Vec<Vec<&'a mut [T]>> {
    let mut per_block: Vec<Vec<&'a mut [T]>> = blocks
        .iter()
        .map(|_| Vec::with_capacity(runs.len()))
        .collect();
    for r in runs {
        for (b, part) in split_by_blocks(r, blocks, stride).into_iter().enumerate() {
            per_block[b].push(part);
        }
    }
    per_block
}

/// Calls `f(tile_pairs_range, offset_in_block_points)` for consecutive tiles of block `b`.
fn for_tiles(
    b: &std::ops::Range<usize>,
    d: usize,
    mut f: impl FnMut(std::ops::Range<usize>, usize),
) {
    let tp = tile_pairs(d);
    let mut t0 = b.start;
    while t0 < b.end {
        let t1 = (t0 + tp).min(b.end);
        f(t0..t1, (t0 - b.start) * PAIR);
        t0 = t1;
    }
}

/// Result of one assignment pass for one run.
struct AssignOut {
    sums: Vec<f64>,
    counts: Vec<u64>,
    changed: bool,
}

/// Assigns every point to its nearest centre (first minimum on ties) for several runs at once.
/// `centres[s]` are run `s`'s centred f32 centres (`k x d`), `labels[s]` its labels. When
/// `accumulate`, also returns per-cluster f64 sums of the centred points and counts.
fn assign_multi(
    data: &Data,
    centres: &[Vec<f32>],
    k: usize,
    labels: Vec<&mut [usize]>,
    accumulate: bool,
) -> Vec<AssignOut> {
    let d = data.d();
    let ns = centres.len();
    let cs: Vec<Centres> = centres.iter().map(|c| Centres::new(c, k, d)).collect();
    let blocks = pair_blocks(data.p.n_pairs);
    let parts = split_runs(labels, &blocks, PAIR);
    let new_out = || AssignOut {
        sums: vec![0.0; if accumulate { k * d } else { 0 }],
        counts: vec![0; k],
        changed: false,
    };
    let partial: Vec<Vec<AssignOut>> = blocks
        .par_iter()
        .zip(parts)
        .map(|(b, mut labs)| {
            let mut outs: Vec<AssignOut> = (0..ns).map(|_| new_out()).collect();
            let mut near = vec![0u32; tile_pairs(d).min(b.len()) * PAIR];
            for_tiles(b, d, |tile, off| {
                let near = &mut near[..tile.len() * PAIR];
                for ((o, lab), c) in outs.iter_mut().zip(labs.iter_mut()).zip(&cs) {
                    let acc = accumulate.then_some(&mut o.sums[..]);
                    kernels::nearest(&data.p, c, tile.clone(), near, acc);
                    let end = (off + near.len()).min(lab.len());
                    for (slot, &j) in lab[off..end].iter_mut().zip(near.iter()) {
                        let j = j as usize;
                        o.changed |= *slot != j;
                        *slot = j;
                        o.counts[j] += 1;
                    }
                }
            });
            outs
        })
        .collect();
    let mut total: Vec<AssignOut> = (0..ns).map(|_| new_out()).collect();
    for p in partial {
        for (t, p) in total.iter_mut().zip(p) {
            for (a, b) in t.sums.iter_mut().zip(&p.sums) {
                *a += b;
            }
            for (a, b) in t.counts.iter_mut().zip(&p.counts) {
                *a += b;
            }
            t.changed |= p.changed;
        }
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

/// [`inertia_f64`] for several runs (uncentred centres) in one pass over the data.
fn inertia_multi(x: &[f32], d: usize, runs: &[Run]) -> Vec<f64> {
    let n = x.len() / d;
    let partial: Vec<Vec<f64>> = row_blocks(n)
        .into_par_iter()
        .map(|r| {
            let mut s = vec![0.0; runs.len()];
            for i in r {
                let row = &x[i * d..(i + 1) * d];
                for (acc, run) in s.iter_mut().zip(runs) {
                    let l = run.labels[i];
                    *acc += sq_dist_f32_f64(row, &run.centres[l * d..(l + 1) * d]);
                }
            }
            s
        })
        .collect();
    let mut total = vec![0.0; runs.len()];
    for p in partial {
        for (a, b) in total.iter_mut().zip(p) {
            *a += b;
        }
    }
    total
}

/// Lloyd runs from `inits` (centred coordinates), each as scikit-learn's
/// `_kmeans_single_lloyd`, advanced together; a run leaves the batch when it converges.
fn lloyd_multi(
    data: &Data,
    inits: Vec<Vec<f64>>,
    k: usize,
    max_iter: usize,
    tol_abs: f64,
) -> Vec<Run> {
    let d = data.d();
    let ns = inits.len();
    let mut centres = inits;
    let mut labels: Vec<Vec<usize>> = vec![vec![usize::MAX; data.n()]; ns];
    let mut n_iter = vec![0usize; ns];
    let mut strict = vec![false; ns];
    let mut active: Vec<usize> = (0..ns).collect();
    let to_f32 = |c: &Vec<f64>| c.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    for it in 0..max_iter {
        if active.is_empty() {
            break;
        }
        let cf: Vec<Vec<f32>> = active.iter().map(|&s| to_f32(&centres[s])).collect();
        let labs: Vec<&mut [usize]> = labels
            .iter_mut()
            .enumerate()
            .filter(|(s, _)| active.contains(s))
            .map(|(_, l)| &mut l[..])
            .collect();
        let outs = assign_multi(data, &cf, k, labs, true);
        let mut still = Vec::with_capacity(active.len());
        for (&s, out) in active.iter().zip(outs) {
            n_iter[s] = it + 1;
            let AssignOut {
                mut sums,
                mut counts,
                changed,
            } = out;
            if counts.contains(&0) {
                relocate_empty(data, &centres[s], &labels[s], &mut sums, &mut counts);
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
                for (a, b) in new.iter().zip(&centres[s][j * d..(j + 1) * d]) {
                    shift += (a - b) * (a - b);
                }
            }
            centres[s] = sums;
            if !changed {
                strict[s] = true;
            } else if shift > tol_abs {
                still.push(s);
            }
        }
        active = still;
    }
    // Runs that stopped on tol or max_iter get labels matching their final centres.
    let fin: Vec<usize> = (0..ns).filter(|&s| !strict[s]).collect();
    if !fin.is_empty() {
        let cf: Vec<Vec<f32>> = fin.iter().map(|&s| to_f32(&centres[s])).collect();
        let labs: Vec<&mut [usize]> = labels
            .iter_mut()
            .enumerate()
            .filter(|(s, _)| !strict[*s])
            .map(|(_, l)| &mut l[..])
            .collect();
        assign_multi(data, &cf, k, labs, false);
    }
    labels
        .into_iter()
        .zip(centres)
        .zip(n_iter)
        .map(|((labels, centres), n_iter)| Run {
            labels,
            centres,
            n_iter,
        })
        .collect()
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
        for (t, v) in data.p.point(far).into_iter().enumerate() {
            sums[from * d + t] -= v as f64;
            sums[j * d + t] = v as f64;
        }
        counts[j] = 1;
        counts[from] -= 1;
    }
}

/// Greedy k-means++ as scikit-learn's `_kmeans_plusplus` (`2 + floor(ln k)` candidates per
/// step, keeping the one that lowers the potential most), for one run per generator in `rngs`,
/// advanced together. Returns centred f64 centres per run.
fn kmeans_plusplus_multi(data: &Data, k: usize, rngs: &mut [StdRng]) -> Vec<Vec<f64>> {
    let (n, d) = (data.n(), data.d());
    let ns = rngs.len();
    let n_trials = 2 + (k as f64).ln().floor() as usize;
    let mut centres = vec![vec![0.0f64; k * d]; ns];
    let set_centre = |centres: &mut [f64], c: usize, i: usize| {
        for (dst, v) in centres[c * d..(c + 1) * d].iter_mut().zip(data.p.point(i)) {
            *dst = v as f64;
        }
    };
    let firsts: Vec<usize> = rngs.iter_mut().map(|r| r.random_range(0..n)).collect();
    for (c, &i) in centres.iter_mut().zip(&firsts) {
        set_centre(c, 0, i);
    }
    let mut closest = vec![vec![f32::INFINITY; data.p.n_pairs * PAIR]; ns];
    update_closest(data, &firsts, &mut closest);
    let mut pot: Vec<f64> = closest
        .iter()
        .map(|c| kernels::sum_as_f64(&c[..n]))
        .collect();
    for c in 1..k {
        let cands: Vec<Vec<usize>> = rngs
            .par_iter_mut()
            .zip(closest.par_iter())
            .zip(pot.par_iter())
            .map(|((rng, cl), &pot)| {
                let mut cumsum = Vec::with_capacity(n);
                let mut acc = 0.0f64;
                for &v in &cl[..n] {
                    acc += v as f64;
                    cumsum.push(acc);
                }
                (0..n_trials)
                    .map(|_| {
                        let v = rng.random::<f64>() * pot;
                        cumsum.partition_point(|&s| s < v).min(n - 1)
                    })
                    .collect()
            })
            .collect();
        let pots = candidate_pots(data, &cands, &closest);
        let mut chosen = Vec::with_capacity(ns);
        for s in 0..ns {
            let mut best = 0;
            for (t, &p) in pots[s].iter().enumerate() {
                if p < pots[s][best] {
                    best = t;
                }
            }
            pot[s] = pots[s][best];
            chosen.push(cands[s][best]);
            set_centre(&mut centres[s], c, cands[s][best]);
        }
        update_closest(data, &chosen, &mut closest);
    }
    centres
}

/// `closest[s][i] = min(closest[s][i], |x_i - x_{points[s]}|^2)` for every (padded) point.
/// The points of all runs are one centre set, so the kernel works on wide register groups.
fn update_closest(data: &Data, points: &[usize], closest: &mut [Vec<f32>]) {
    let d = data.d();
    let ns = points.len();
    let pts: Vec<f32> = points.iter().flat_map(|&i| data.p.point(i)).collect();
    let cs = Centres::new(&pts, ns, d);
    let blocks = pair_blocks(data.p.n_pairs);
    let parts = split_runs(
        closest.iter_mut().map(|c| &mut c[..]).collect(),
        &blocks,
        PAIR,
    );
    blocks.par_iter().zip(parts).for_each(|(b, mut cls)| {
        let mut buf = vec![0.0f32; ns * tile_pairs(d).min(b.len()) * PAIR];
        for_tiles(b, d, |tile, off| {
            let len = tile.len() * PAIR;
            let buf = &mut buf[..ns * len];
            kernels::candidates(&data.p, &cs, None, tile, buf);
            for (cl, row) in cls.iter_mut().zip(buf.chunks_exact(len)) {
                for (c, &v) in cl[off..off + len].iter_mut().zip(row) {
                    *c = c.min(v);
                }
            }
        });
    });
}

/// Potential `sum_i min(closest[s][i], |x_i - x_c|^2)` of every candidate `c` of every run.
/// All candidates of all runs form one centre set for the kernel.
fn candidate_pots(data: &Data, cands: &[Vec<usize>], closest: &[Vec<f32>]) -> Vec<Vec<f64>> {
    let (n, d) = (data.n(), data.d());
    let pts: Vec<f32> = cands
        .iter()
        .flatten()
        .flat_map(|&i| data.p.point(i))
        .collect();
    let total_c: usize = cands.iter().map(Vec::len).sum();
    let cs = Centres::new(&pts, total_c, d);
    let blocks = pair_blocks(data.p.n_pairs);
    let partial: Vec<Vec<f64>> = blocks
        .par_iter()
        .map(|b| {
            let mut pots = vec![0.0f64; total_c];
            let mut buf = vec![0.0f32; total_c * tile_pairs(d).min(b.len()) * PAIR];
            let mut tmp = vec![0.0f32; tile_pairs(d).min(b.len()) * PAIR];
            for_tiles(b, d, |tile, _| {
                let len = tile.len() * PAIR;
                let real = n.saturating_sub(tile.start * PAIR).min(len);
                let buf = &mut buf[..total_c * len];
                kernels::candidates(&data.p, &cs, None, tile.clone(), buf);
                let mut rows = buf.chunks_exact(len);
                let mut pot = pots.iter_mut();
                for (c, cl) in cands.iter().zip(closest) {
                    let cl = &cl[tile.start * PAIR..tile.start * PAIR + real];
                    for _ in 0..c.len() {
                        let (row, acc) = (rows.next().expect("row"), pot.next().expect("pot"));
                        let tmp = &mut tmp[..real];
                        for ((t, &v), &m) in tmp.iter_mut().zip(&row[..real]).zip(cl) {
                            *t = v.min(m);
                        }
                        *acc += kernels::sum_as_f64(tmp);
                    }
                }
            });
            pots
        })
        .collect();
    let mut flat = vec![0.0f64; total_c];
    for p in partial {
        for (a, b) in flat.iter_mut().zip(p) {
            *a += b;
        }
    }
    let mut it = flat.into_iter();
    cands
        .iter()
        .map(|c| it.by_ref().take(c.len()).collect())
        .collect()
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
        let run = lloyd_multi(&data, vec![vec![1.0, 100.0]], 2, 100, 0.0).remove(0);
        assert_eq!(run.labels, vec![0, 0, 0, 1]);
        assert!((run.centres[0] - 1.0).abs() < 1e-12);
        assert!((run.centres[1] - 10.0).abs() < 1e-12);
    }
}
