//! k-Shape (Paparrizos and Gravano, SIGMOD 2015): k-means on raw sequences under the
//! shape-based distance ([`crate::sbd`]), whose centroids are extracted as the sequence most
//! correlated with the members once they are aligned to the old centroid (the leading
//! eigenvector of `Q^T X^T X Q`, `Q` removing the mean over time). Multivariate sequences
//! share one shift per member (the channels' correlations summed); each channel's shape is
//! extracted on its own. Unequal lengths are zero-padded after z-normalisation, as the
//! cross-correlation reads them.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use realfft::num_complex::Complex;
use seqae_data::SequenceSet;

use crate::error::{LatentError, Result};
use crate::sbd::{self, Spectra};
use crate::series::Series;

/// Most power iterations for one centroid channel.
const POWER_ITER: usize = 500;

/// k-Shape settings.
#[derive(Clone, Debug)]
pub struct KShape {
    k: usize,
    n_init: usize,
    max_iter: usize,
    seed: u64,
}

/// A fitted k-Shape clustering.
#[derive(Clone, Debug)]
pub struct KShapeModel {
    labels: Vec<usize>,
    /// `k * max_len * channels` values, each centroid step-major and z-normalised per channel.
    centroids: Vec<f32>,
    max_len: usize,
    channels: usize,
    inertia: f64,
    n_iter: usize,
}

impl KShape {
    /// `k` clusters; 3 restarts (as the classical baselines of docs/QUALITY.md run tslearn's),
    /// at most 100 iterations each, seed 0.
    pub fn new(k: usize) -> Self {
        KShape {
            k,
            n_init: 3,
            max_iter: 100,
            seed: 0,
        }
    }

    /// Restarts from random assignments; the lowest summed distance wins.
    pub fn with_n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Most refinement and assignment rounds per restart.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Seed of the random initial assignments.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Clusters the sequences of `set` (z-normalised per channel first).
    pub fn fit(&self, set: &SequenceSet) -> Result<KShapeModel> {
        self.fit_series(&Series::new(set)?)
    }

    /// Clusters prepared sequences.
    pub fn fit_series(&self, series: &Series) -> Result<KShapeModel> {
        let n = series.len();
        if self.k == 0 {
            return Err(LatentError::ZeroClusters);
        }
        if self.k > n {
            return Err(LatentError::TooManyClusters {
                k: self.k,
                n_samples: n,
            });
        }
        for (name, v) in [("n_init", self.n_init), ("max_iter", self.max_iter)] {
            if v == 0 {
                return Err(LatentError::InvalidParameter {
                    name,
                    reason: "must be at least 1".into(),
                });
            }
        }
        let spectra = Spectra::new(series);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut best: Option<KShapeModel> = None;
        for _ in 0..self.n_init {
            let start: Vec<usize> = (0..n).map(|_| rng.random_range(0..self.k)).collect();
            let run = self.run(series, &spectra, start);
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
        Ok(best.expect("n_init is at least 1"))
    }

    /// One restart from the assignment `labels`.
    fn run(&self, series: &Series, spectra: &Spectra, mut labels: Vec<usize>) -> KShapeModel {
        let (len, c) = (series.max_len(), series.channels());
        let mut centroids = vec![0.0f32; self.k * len * c];
        let mut inertia = f64::INFINITY;
        let mut n_iter = 0;
        for it in 0..self.max_iter {
            n_iter = it + 1;
            centroids
                .par_chunks_mut(len * c)
                .enumerate()
                .for_each(|(j, centroid)| {
                    let members: Vec<usize> =
                        (0..labels.len()).filter(|&i| labels[i] == j).collect();
                    extract_shape(series, spectra, &members, centroid);
                });
            let (assigned, total) = assign(spectra, &centroids, len, c);
            let next = fill_empty(assigned, self.k);
            inertia = total;
            if next == labels {
                break;
            }
            labels = next;
        }
        KShapeModel {
            labels,
            centroids,
            max_len: len,
            channels: c,
            inertia,
            n_iter,
        }
    }
}

/// The nearest centroid of every sequence and its distance, and the summed distance.
fn assign(spectra: &Spectra, centroids: &[f32], len: usize, c: usize) -> (Vec<(usize, f32)>, f64) {
    let t = spectra.transforms();
    let bins = t.bins();
    let k = centroids.len() / (len * c);
    let mut cs = vec![Complex::new(0.0, 0.0); k * c * bins];
    for (row, out) in centroids
        .chunks_exact(len * c)
        .zip(cs.chunks_exact_mut(c * bins))
    {
        t.spectra(row, c, out);
    }
    let norms: Vec<f32> = centroids.chunks_exact(len * c).map(sbd::norm).collect();
    let n = spectra.len();
    let nearest: Vec<(usize, f32)> = (0..n)
        .into_par_iter()
        .map_init(
            || spectra.scratch(),
            |scratch, i| {
                let mut best = (0, f32::INFINITY);
                for j in 0..k {
                    let (ncc, _) = spectra.best_shift(
                        &cs[j * c * bins..(j + 1) * c * bins],
                        norms[j],
                        i,
                        scratch,
                    );
                    let d = 1.0 - ncc;
                    if d < best.1 {
                        best = (j, d);
                    }
                }
                best
            },
        )
        .collect();
    let total = nearest.iter().map(|&(_, d)| f64::from(d)).sum();
    (nearest, total)
}

/// Labels from the nearest centroids, with every empty cluster given the sequence farthest
/// from its own centroid (among clusters of more than one member).
fn fill_empty(nearest: Vec<(usize, f32)>, k: usize) -> Vec<usize> {
    let mut labels: Vec<usize> = nearest.iter().map(|&(j, _)| j).collect();
    let mut dist: Vec<f32> = nearest.iter().map(|&(_, d)| d).collect();
    for j in 0..k {
        if labels.contains(&j) {
            continue;
        }
        let mut counts = vec![0usize; k];
        labels.iter().for_each(|&l| counts[l] += 1);
        let far = (0..labels.len())
            .filter(|&i| counts[labels[i]] > 1)
            .max_by(|&a, &b| dist[a].total_cmp(&dist[b]).then(b.cmp(&a)));
        if let Some(i) = far {
            labels[i] = j;
            dist[i] = f32::NEG_INFINITY;
        }
    }
    labels
}

/// The new centroid of `members` into `centroid` (`len * channels`, holding the old one):
/// members aligned to the old centroid (when it is not all zeros), then per channel the
/// leading eigenvector of `Q^T X^T X Q`, signed towards the members and z-normalised.
fn extract_shape(series: &Series, spectra: &Spectra, members: &[usize], centroid: &mut [f32]) {
    let (len, c) = (series.max_len(), series.channels());
    if members.is_empty() {
        centroid.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let old_norm = sbd::norm(centroid);
    let aligned: Vec<f32> = if old_norm > 0.0 {
        let t = spectra.transforms();
        let mut spec = vec![Complex::new(0.0, 0.0); c * t.bins()];
        t.spectra(centroid, c, &mut spec);
        let mut out = vec![0.0f32; members.len() * len * c];
        out.par_chunks_mut(len * c).zip(members).for_each_init(
            || spectra.scratch(),
            |scratch, (row, &i)| {
                let (_, shift) = spectra.best_shift(&spec, old_norm, i, scratch);
                sbd::shifted(series.row(i), c, shift, row);
            },
        );
        out
    } else {
        members
            .iter()
            .flat_map(|&i| series.row(i).iter().copied())
            .collect()
    };
    let m = members.len();
    for ch in 0..c {
        let x: Vec<f32> = (0..m * len).map(|p| aligned[p * c + ch]).collect();
        let start: Vec<f32> = (0..len).map(|t| centroid[t * c + ch]).collect();
        let v = leading_shape(&x, m, len, &start);
        for t in 0..len {
            centroid[t * c + ch] = v[t];
        }
    }
}

/// The leading eigenvector of `Q X^T X Q` (`x` is `m x len`, `Q` removes the mean), by power
/// iteration from `start` (or the member of largest norm when `start` is flat), signed so that
/// the members lie nearer to it than to its negation, then z-normalised.
fn leading_shape(x: &[f32], m: usize, len: usize, start: &[f32]) -> Vec<f32> {
    let centre = |v: &mut [f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        v.iter_mut().for_each(|e| *e -= mean);
    };
    let normalise = |v: &mut [f64]| -> f64 {
        let n = v.iter().map(|e| e * e).sum::<f64>().sqrt();
        if n > 0.0 {
            v.iter_mut().for_each(|e| *e /= n);
        }
        n
    };
    let mut v: Vec<f64> = start.iter().map(|&e| f64::from(e)).collect();
    centre(&mut v);
    if normalise(&mut v) < 1e-12 {
        let row = (0..m)
            .max_by(|&a, &b| {
                sbd::norm(&x[a * len..(a + 1) * len])
                    .total_cmp(&sbd::norm(&x[b * len..(b + 1) * len]))
            })
            .unwrap_or(0);
        v = x[row * len..(row + 1) * len]
            .iter()
            .map(|&e| f64::from(e))
            .collect();
        centre(&mut v);
        if normalise(&mut v) < 1e-12 {
            return vec![0.0; len];
        }
    }
    let mut u = vec![0.0f64; m];
    let mut next = vec![0.0f64; len];
    for _ in 0..POWER_ITER {
        // next = Q X^T X Q v (v is centred already, so Q v = v).
        for (r, ui) in u.iter_mut().enumerate() {
            *ui = x[r * len..(r + 1) * len]
                .iter()
                .zip(&v)
                .map(|(&a, &b)| f64::from(a) * b)
                .sum();
        }
        next.iter_mut().for_each(|e| *e = 0.0);
        for (r, &ui) in u.iter().enumerate() {
            for (e, &a) in next.iter_mut().zip(&x[r * len..(r + 1) * len]) {
                *e += ui * f64::from(a);
            }
        }
        centre(&mut next);
        if normalise(&mut next) < 1e-12 {
            break;
        }
        let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).powi(2)).sum();
        std::mem::swap(&mut v, &mut next);
        if change < 1e-12 {
            break;
        }
    }
    // The sign that puts the members nearer.
    let (mut plus, mut minus) = (0.0f64, 0.0f64);
    for r in 0..m {
        let row = &x[r * len..(r + 1) * len];
        let d = |s: f64| {
            row.iter()
                .zip(&v)
                .map(|(&a, &b)| (f64::from(a) - s * b).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        plus += d(1.0);
        minus += d(-1.0);
    }
    let sign = if minus < plus { -1.0 } else { 1.0 };
    // z-normalise: v is centred with unit norm, so its standard deviation is 1/sqrt(len).
    let scale = sign * (len as f64).sqrt();
    v.iter().map(|&e| (e * scale) as f32).collect()
}

impl KShapeModel {
    /// A model of given centroids (`k * max_len * channels` values, each step-major, as
    /// [`centroid`](Self::centroid) returns them), for [`predict`](Self::predict) after the
    /// fit itself is gone (a pickled Python estimator); it has no labels.
    pub fn from_centroids(centroids: Vec<f32>, max_len: usize, channels: usize) -> Result<Self> {
        let width = max_len * channels;
        if width == 0 || centroids.is_empty() || !centroids.len().is_multiple_of(width) {
            return Err(LatentError::InvalidParameter {
                name: "centroids",
                reason: format!(
                    "{} values are not whole centroids of {max_len} steps x {channels} channels",
                    centroids.len()
                ),
            });
        }
        if let Some(v) = centroids.iter().find(|v| !v.is_finite()) {
            return Err(LatentError::InvalidParameter {
                name: "centroids",
                reason: format!("non-finite value {v}"),
            });
        }
        Ok(KShapeModel {
            labels: Vec::new(),
            centroids,
            max_len,
            channels,
            inertia: f64::NAN,
            n_iter: 0,
        })
    }

    /// The cluster of each sequence.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.centroids.len() / (self.max_len * self.channels).max(1)
    }

    /// Centroid `j`: `max_len * channels` values, step-major, z-normalised per channel.
    pub fn centroid(&self, j: usize) -> &[f32] {
        let w = self.max_len * self.channels;
        &self.centroids[j * w..(j + 1) * w]
    }

    /// Steps per centroid (the longest training sequence).
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The summed shape-based distance of every sequence to its centroid.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Rounds of the winning restart.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Channels per step.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The nearest centroid, by the shape-based distance, of every sequence of `set` (of any
    /// length; z-normalised per channel first). On the training sequences it gives
    /// [`labels`](Self::labels) once the fit has converged.
    pub fn predict(&self, set: &SequenceSet) -> Result<Vec<usize>> {
        if set.channels() != self.channels {
            return Err(LatentError::DimensionMismatch {
                expected: self.channels,
                got: set.channels(),
            });
        }
        // The centroids and the sequences in one set, so that one FFT length holds every
        // shift of each pair (the centroids are z-normalised already: unchanged).
        let mut b = seqae_data::SequenceSetBuilder::new(self.channels);
        for j in 0..self.k() {
            b.push(self.centroid(j), None, None)?;
        }
        for i in 0..set.len() {
            b.push(set.sequence(i), None, None)?;
        }
        let series = Series::new(&b.finish()?)?;
        let spectra = Spectra::new(&series);
        let k = self.k();
        Ok((k..series.len())
            .into_par_iter()
            .map_init(
                || spectra.scratch(),
                |scratch, i| {
                    (0..k)
                        .map(|j| spectra.distance(i, j, scratch))
                        .enumerate()
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .map_or(0, |(j, _)| j)
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::nmi;
    use seqae_data::SequenceSetBuilder;

    /// Three shapes (a bump, a Mexican hat, a dip-then-rise) at random positions in noise.
    fn shapes(n: usize, seed: u64) -> (SequenceSet, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut b = SequenceSetBuilder::new(1);
        let mut labels = Vec::new();
        for i in 0..n {
            let class = i % 3;
            let at = rng.random_range(20.0..80.0f32);
            let v: Vec<f32> = (0..100)
                .map(|t| {
                    let x = (t as f32 - at) / 4.0;
                    let s = match class {
                        0 => (-x * x).exp(),
                        1 => (x * x - 1.0) * (-x * x / 2.0).exp(),
                        _ => -x * (-x * x / 2.0).exp(),
                    };
                    s + 0.05 * rng.random_range(-1.0..1.0f32)
                })
                .collect();
            b.push(&v, None, None).unwrap();
            labels.push(class);
        }
        (b.finish().unwrap(), labels)
    }

    #[test]
    fn finds_shapes_at_any_position() {
        let (set, truth) = shapes(60, 1);
        let model = KShape::new(3).with_seed(2).fit(&set).unwrap();
        assert_eq!(model.k(), 3);
        let score = nmi(&truth, model.labels()).unwrap();
        assert!(score > 0.9, "NMI {score}");
        // Centroids are z-normalised.
        // Converged: predicting the training sequences gives their labels.
        if model.n_iter() < 100 {
            assert_eq!(model.predict(&set).unwrap(), model.labels());
        }
        let c = model.centroid(0);
        let mean = c.iter().sum::<f32>() / c.len() as f32;
        let var = c.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / c.len() as f32;
        assert!(
            mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
            "{mean} {var}"
        );
    }

    #[test]
    fn the_leading_shape_is_the_common_one() {
        // Members are noisy multiples of one centred shape: the extraction returns the shape.
        let shape: Vec<f32> = (0..30).map(|t| (t as f32 * 0.3).sin()).collect();
        let mut x = Vec::new();
        for r in 0..8 {
            x.extend(
                shape
                    .iter()
                    .map(|&s| s * (1.0 + r as f32 * 0.1) + 0.01 * (r as f32)),
            );
        }
        let v = leading_shape(&x, 8, 30, &[0.0; 30]);
        let mean = shape.iter().sum::<f32>() / 30.0;
        let (dot, n1, n2) = shape
            .iter()
            .zip(&v)
            .fold((0.0, 0.0, 0.0), |(d, a, b), (&s, &e)| {
                (d + (s - mean) * e, a + (s - mean).powi(2), b + e * e)
            });
        assert!(dot / n1.sqrt() / n2.sqrt() > 0.999);
    }

    #[test]
    fn refuses_bad_settings_and_never_leaves_a_cluster_empty() {
        let (set, _) = shapes(9, 3);
        assert!(KShape::new(0).fit(&set).is_err());
        assert!(KShape::new(10).fit(&set).is_err());
        assert!(KShape::new(2).with_n_init(0).fit(&set).is_err());
        let model = KShape::new(9).fit(&set).unwrap();
        let mut seen = model.labels().to_vec();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 9);
    }
}
