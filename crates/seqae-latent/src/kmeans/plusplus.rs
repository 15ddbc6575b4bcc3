//! Greedy k-means++ initialisation for several runs at once.

use rand::Rng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use super::Data;
use super::blocks::{for_tiles, pair_blocks, split_runs, tile_pairs};
use crate::kernels::{self, Centres, PAIR};

/// Greedy k-means++ as scikit-learn's `_kmeans_plusplus` (`2 + floor(ln k)` candidates per
/// step, keeping the one that lowers the potential most), for one run per generator in `rngs`,
/// advanced together. Returns centred f64 centres per run.
pub(super) fn kmeans_plusplus_multi(data: &Data, k: usize, rngs: &mut [StdRng]) -> Vec<Vec<f64>> {
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
            kernels::candidates(data.isa, &data.p, &cs, None, tile, buf);
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
                kernels::candidates(data.isa, &data.p, &cs, None, tile.clone(), buf);
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
