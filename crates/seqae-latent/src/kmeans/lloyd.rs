//! Lloyd iterations for several runs at once: assignment with the fused kernel, centre update,
//! empty-cluster relocation and inertia.

use rayon::prelude::*;

use super::blocks::{for_tiles, pair_blocks, split_runs, tile_pairs};
use super::{Data, Run};
use crate::kernels::{self, Centres, PAIR};
use crate::linalg::{row_blocks, sq_dist_f32_f64};

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
                    kernels::nearest(data.isa, &data.p, c, tile.clone(), near, acc);
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
pub(super) fn inertia_multi(x: &[f32], d: usize, runs: &[Run]) -> Vec<f64> {
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
pub(super) fn lloyd_multi(
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
