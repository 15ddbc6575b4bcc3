//! Approximate nearest neighbours of every row of a matrix by NN-descent (Dong, Moses and Li,
//! "Efficient k-nearest neighbor graph construction for generic similarity measures", WWW
//! 2011): start from random lists, then repeatedly compare the neighbours of each point's
//! neighbours (a neighbour of a neighbour is likely a neighbour), keeping the best, until
//! few lists change. Its cost grows with `n * nn^2` rather than the `n^2` of the exact search.
//!
//! The comparisons run in parallel, each list behind its own lock; the result does not
//! depend on the threads: a list ends as the best `nn - 1` of everything offered to it, in
//! whatever order, and every random draw comes from the seed and the point.
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use seqae_data::Matrix;

/// Most rounds of comparisons.
const MAX_ROUNDS: usize = 30;
/// Stop when fewer than this fraction of all list entries changed in a round (the paper's
/// early-termination threshold delta).
const DELTA: f64 = 0.001;
/// Random projection trees that seed the lists.
const TREES: usize = 4;
/// The fewest points in a leaf of those trees (at least twice the neighbours wanted).
const LEAF: usize = 30;
/// The flag of an entry not yet compared with its list (bit 31 of the stored index).
const NEW: u32 = 1 << 31;

/// One point's list: `(squared distance, index | NEW)`, best first.
type List = Vec<(f32, u32)>;

/// The `nn` approximately nearest rows of each row of `m` (itself first, then the others by
/// increasing Euclidean distance); `seed` makes the draws.
///
/// # Panics
/// If `m` has `2^31` rows or more (indices are stored in 31 bits).
pub(crate) fn nearest(m: &Matrix, nn: usize, seed: u64) -> Vec<Vec<usize>> {
    let n = m.rows();
    assert!(n < NEW as usize, "NN-descent indexes at most 2^31 - 1 rows");
    let k = nn.clamp(1, n.max(1)) - 1; // neighbours besides the point itself
    if k == 0 {
        return (0..n).map(|i| vec![i]).collect();
    }
    let state = Descent::new(m, k, seed);
    for round in 0..MAX_ROUNDS {
        let changed = state.round(round as u64);
        if (changed as f64) <= DELTA * (n * k) as f64 {
            break;
        }
    }
    state
        .lists
        .into_iter()
        .enumerate()
        .map(|(i, list)| {
            let list = list
                .into_inner()
                .expect("no thread panicked holding a list");
            std::iter::once(i)
                .chain(list.iter().map(|&(_, j)| (j & !NEW) as usize))
                .collect()
        })
        .collect()
}

/// The lists and what the rounds need.
struct Descent<'a> {
    m: &'a Matrix,
    /// Neighbours kept per point (the point itself not counted).
    k: usize,
    seed: u64,
    lists: Vec<Mutex<List>>,
    /// The worst kept distance of each list (its `f32` bits; non-negative floats order as
    /// their bits do), read without the lock to skip offers that cannot enter.
    worst: Vec<AtomicU32>,
}

impl<'a> Descent<'a> {
    /// The starting lists: the points sharing a leaf of [`TREES`] random projection trees
    /// (as PyNNDescent starts; McInnes, "PyNNDescent", 2018), then random points where a list
    /// is still short; all flagged new.
    fn new(m: &'a Matrix, k: usize, seed: u64) -> Descent<'a> {
        let n = m.rows();
        let state = Descent {
            m,
            k,
            seed,
            lists: (0..n).map(|_| Mutex::new(Vec::with_capacity(k))).collect(),
            worst: (0..n)
                .map(|_| AtomicU32::new(f32::INFINITY.to_bits()))
                .collect(),
        };
        let leaf = (2 * k).max(LEAF);
        for tree in 0..TREES {
            let all: Vec<u32> = (0..n as u32).collect();
            leaves(
                m,
                all,
                leaf,
                seed ^ (tree as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d),
            )
            .par_iter()
            .for_each(|points| {
                for (a, &p) in points.iter().enumerate() {
                    for &q in &points[a + 1..] {
                        let d = distance(m, p as usize, q as usize);
                        state.offer(p as usize, q, d);
                        state.offer(q as usize, p, d);
                    }
                }
            });
        }
        (0..n).into_par_iter().for_each(|i| {
            let short = k - state.lists[i].lock().expect("no thread panicked").len();
            let mut rng = point_rng(seed, u64::MAX, i);
            for _ in 0..short * 4 {
                let j = rng.random_range(0..n);
                if j != i {
                    state.offer(i, j as u32, distance(m, i, j));
                }
            }
        });
        state
    }

    /// One round: each point's sampled new and old neighbours (forward and reverse) are
    /// compared pairwise and offered to each other's lists. Returns how many entries of the
    /// lists are new since the round began.
    fn round(&self, round: u64) -> usize {
        let n = self.m.rows();
        let sample = self.k.div_ceil(2);
        // Forward candidates: up to `sample` (half a list, the paper's rho = 0.5) of the
        // entries flagged new, now flagged old, and of the old entries; and the lists as they
        // stand, to count the changes.
        let forward: Vec<(Vec<u32>, Vec<u32>, Vec<u32>)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut rng = point_rng(self.seed, round, i);
                let mut list = self.lists[i].lock().expect("no thread panicked");
                let mut fresh: Vec<usize> =
                    (0..list.len()).filter(|&e| list[e].1 & NEW != 0).collect();
                fresh.shuffle(&mut rng);
                fresh.truncate(sample);
                let mut old: Vec<u32> = list
                    .iter()
                    .filter(|e| e.1 & NEW == 0)
                    .map(|e| e.1)
                    .collect();
                old.shuffle(&mut rng);
                old.truncate(sample);
                let new = fresh
                    .iter()
                    .map(|&e| {
                        list[e].1 &= !NEW;
                        list[e].1
                    })
                    .collect();
                let mut before: Vec<u32> = list.iter().map(|e| e.1 & !NEW).collect();
                before.sort_unstable();
                (new, old, before)
            })
            .collect();
        // Reverse candidates, in point order, each kept to `sample` drawn at random.
        let (mut rev_new, mut rev_old) = (vec![Vec::new(); n], vec![Vec::new(); n]);
        for (i, (new, old, _)) in forward.iter().enumerate() {
            for &j in new {
                rev_new[j as usize].push(i as u32);
            }
            for &j in old {
                rev_old[j as usize].push(i as u32);
            }
        }
        let candidates: Vec<(Vec<u32>, Vec<u32>)> = forward
            .par_iter()
            .zip(rev_new.into_par_iter().zip(rev_old.into_par_iter()))
            .enumerate()
            .map(|(i, ((new, old, _), (mut rn, mut ro)))| {
                let mut rng = point_rng(self.seed ^ 0x5eed, round, i);
                for (list, rev) in [(new, &mut rn), (old, &mut ro)] {
                    rev.shuffle(&mut rng);
                    rev.truncate(sample);
                    rev.extend_from_slice(list);
                    rev.sort_unstable();
                    rev.dedup();
                }
                ro.retain(|j| rn.binary_search(j).is_err());
                (rn, ro)
            })
            .collect();
        // The local joins: new with new, new with old.
        candidates.par_iter().for_each(|(new, old)| {
            for (a, &p) in new.iter().enumerate() {
                for &q in new[a + 1..].iter().chain(old) {
                    if p != q {
                        let d = distance(self.m, p as usize, q as usize);
                        self.offer(p as usize, q, d);
                        self.offer(q as usize, p, d);
                    }
                }
            }
        });
        forward
            .par_iter()
            .enumerate()
            .map(|(i, (_, _, before))| {
                let list = self.lists[i].lock().expect("no thread panicked");
                list.iter()
                    .filter(|e| before.binary_search(&(e.1 & !NEW)).is_err())
                    .count()
            })
            .sum()
    }

    /// Offers point `j` at squared distance `d` to the list of point `i`: it enters, flagged
    /// new, if it is not there and is better than the worst, which leaves.
    fn offer(&self, i: usize, j: u32, d: f32) {
        if d > f32::from_bits(self.worst[i].load(Ordering::Relaxed)) {
            return;
        }
        let mut list = self.lists[i].lock().expect("no thread panicked");
        let entry = (d, j | NEW);
        if list.len() == self.k && order(&entry, list.last().expect("k >= 1")).is_ge() {
            return;
        }
        if list.iter().any(|e| e.1 & !NEW == j) {
            return;
        }
        let at = list.partition_point(|e| order(e, &entry).is_lt());
        list.insert(at, entry);
        list.truncate(self.k);
        let worst = if list.len() < self.k {
            f32::INFINITY
        } else {
            list.last().map_or(f32::INFINITY, |e| e.0)
        };
        self.worst[i].store(worst.to_bits(), Ordering::Relaxed);
    }
}

/// Lists order by distance, then index (so that ties do not depend on the order of offers).
fn order(a: &(f32, u32), b: &(f32, u32)) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then((a.1 & !NEW).cmp(&(b.1 & !NEW)))
}

/// Squared Euclidean distance between rows `i` and `j` (NaN counts as infinitely far),
/// summed in eight lanes (which the compiler keeps in vector registers).
fn distance(m: &Matrix, i: usize, j: usize) -> f32 {
    let (a, b) = (row(m, i), row(m, j));
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            lanes[l] += (x[l] - y[l]) * (x[l] - y[l]);
        }
    }
    let s = lanes.iter().sum::<f32>() + tail;
    if s.is_nan() { f32::INFINITY } else { s }
}

/// Row `i` of `m` (every index here is a row's).
fn row(m: &Matrix, i: usize) -> &[f32] {
    m.row(i).expect("an index of a row")
}

/// The random stream of point `i` in round `round`.
fn point_rng(seed: u64, round: u64, i: usize) -> SmallRng {
    SmallRng::seed_from_u64(
        seed ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (i as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9),
    )
}

/// The leaves of a random projection tree over `points`: split by the hyperplane halfway
/// between two of them drawn at random (Dasgupta and Freund, STOC 2008), each side split
/// again, until at most `leaf` points remain; a split that leaves one side empty (repeated
/// points) halves the points instead.
fn leaves(m: &Matrix, mut points: Vec<u32>, leaf: usize, seed: u64) -> Vec<Vec<u32>> {
    if points.len() <= leaf {
        return vec![points];
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    let a = points[rng.random_range(0..points.len())] as usize;
    let b = points[rng.random_range(0..points.len())] as usize;
    let (ra, rb) = (row(m, a), row(m, b));
    let normal: Vec<f32> = ra.iter().zip(rb).map(|(x, y)| y - x).collect();
    let offset: f32 = normal
        .iter()
        .zip(ra.iter().zip(rb))
        .map(|(w, (x, y))| w * (x + y) / 2.0)
        .sum();
    let (mut left, mut right): (Vec<u32>, Vec<u32>) = points.iter().partition(|&&p| {
        let x = row(m, p as usize);
        normal.iter().zip(x).map(|(w, v)| w * v).sum::<f32>() <= offset
    });
    if left.is_empty() || right.is_empty() {
        points.shuffle(&mut rng);
        right = points.split_off(points.len() / 2);
        left = points;
    }
    let (sl, sr) = (rng.random::<u64>(), rng.random::<u64>());
    let (mut l, r) = rayon::join(|| leaves(m, left, leaf, sl), || leaves(m, right, leaf, sr));
    l.extend(r);
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::exact_nearest;
    use rand::rngs::StdRng;

    fn blobs(n: usize, d: usize, seed: u64) -> Matrix {
        let mut rng = StdRng::seed_from_u64(seed);
        let data = (0..n * d)
            .map(|x| (x / d % 7) as f32 * 3.0 + rng.random_range(-1.0..1.0f32))
            .collect();
        Matrix::new(data, n, d).unwrap()
    }

    #[test]
    fn finds_nearly_all_exact_neighbours() {
        let m = blobs(3000, 16, 1);
        let nn = 16;
        let got = nearest(&m, nn, 7);
        let exact = exact_nearest(&m, nn);
        let mut hits = 0;
        for (i, (g, e)) in got.iter().zip(&exact).enumerate() {
            assert_eq!(g.len(), nn);
            assert_eq!(g[0], i, "itself first");
            let mut sorted = g.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), nn, "distinct neighbours");
            hits += e.iter().filter(|j| g.contains(j)).count();
        }
        let recall = hits as f64 / (m.rows() * nn) as f64;
        assert!(recall > 0.97, "recall {recall}");
    }

    #[test]
    fn the_lists_do_not_depend_on_the_threads() {
        let m = blobs(2000, 8, 2);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| nearest(&m, 10, 3));
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(|| nearest(&m, 10, 3));
        assert_eq!(one, four);
    }

    #[test]
    fn as_many_neighbours_as_points_is_every_point() {
        let m = blobs(5, 2, 3);
        for list in nearest(&m, 5, 0) {
            let mut s = list.clone();
            s.sort_unstable();
            assert_eq!(s, vec![0, 1, 2, 3, 4]);
        }
    }
}
