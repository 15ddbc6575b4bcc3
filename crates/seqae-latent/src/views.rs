//! The default clusterer when the sequences themselves are at hand beside their embeddings:
//! four views of the same sequences, each a nearest-neighbour graph clustered spectrally, and
//! the clustering of the view that is most stable and cleanest wins.
//!
//! The views: the autoencoder's latent vectors (Euclidean), the z-normalised raw values
//! (Euclidean; fine detail at fixed positions), the shape-based distance ([`crate::sbd`]; a
//! local shape at any position) and banded dynamic time warping ([`crate::dtw`]; shapes that
//! stretch). No view is best everywhere (docs/QUALITY.md), so each is scored without labels by
//! `stability * (1 - normalised cut)`: the stability is the mean adjusted Rand index between
//! the spectral clusterings of random 80% subsamples on the points they share (clusters that
//! are there come back; cuts through a continuum move: Ben-Hur, Elisseeff and Guyon, PSB 2002;
//! Lange, Roth, Braun and Buhmann, Neural Computation 2004), the normalised cut that of the
//! full clustering on its own graph ([`Graph::normalised_cut`]).
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use seqae_data::SequenceSet;
use serde::Serialize;

use crate::dtw::{self, Rows};
use crate::error::{LatentError, Result};
use crate::graph::{Graph, nearest_by};
use crate::kmeans::KMeansModel;
use crate::metrics;
use crate::sbd::Spectra;
use crate::series::Series;
use crate::sorted_sample;
use seqae_data::Matrix;

/// The most sequences the views are scored on (each view is a dense `n x n` distance
/// matrix); a larger set is scored on this many drawn at random (the landmarks), and every
/// sequence takes the cluster of its nearest landmark under the kept view.
pub const MAX_RAW_POINTS: usize = 4000;
/// The most sequences whose raw views are used at all (extending them costs a distance from
/// every sequence to every landmark); above, only the latent view is clustered.
pub const MAX_EXTENDED_POINTS: usize = 200_000;
/// The fewest sequences the views are scored on (stability needs subsamples of several
/// points); fewer, or as many clusters as sequences, cluster the points directly.
pub const MIN_POINTS: usize = 8;
/// Dynamic time warping runs on sequences shortened to at most this many steps.
pub const DTW_MAX_LEN: usize = 256;
/// The warping band's radius, as a fraction of the length (tslearn's and the UCR archive's
/// customary 10%).
pub const DTW_BAND: f64 = 0.1;
/// Subsamples clustered for the stability score, and the fraction of points each keeps.
const SUBSAMPLES: usize = 4;
const FRACTION: f64 = 0.8;

/// One view of the sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// The autoencoder's latent vectors.
    Latent,
    /// The z-normalised raw values, resampled to the median length.
    Euclidean,
    /// The shape-based distance.
    Shape,
    /// Banded dynamic time warping.
    Warping,
}

seqae_data::named_enum!(View, "view", {
    Latent => "latent",
    Euclidean => "euclidean",
    Shape => "shape",
    Warping => "warping" | "dtw",
});

/// How one view scored.
#[derive(Clone, Debug, Serialize)]
pub struct ViewScore {
    /// The view.
    pub view: View,
    /// Mean adjusted Rand index between the clusterings of the subsamples.
    pub stability: f64,
    /// Normalised cut of the full clustering on the view's graph.
    pub normalised_cut: f64,
    /// `stability * (1 - normalised_cut)`: the highest wins.
    pub score: f64,
}

/// The winning clustering and every view's score.
#[derive(Clone, Debug)]
pub struct Selection {
    /// Cluster of each sequence.
    pub labels: Vec<usize>,
    /// The view it came from.
    pub view: View,
    /// Every view's score, in the order of [`View`].
    pub scores: Vec<ViewScore>,
}

/// Pairwise distances of `n` points, dense and symmetric.
struct Distances {
    n: usize,
    values: Vec<f32>,
}

impl Distances {
    /// `distance(scratch, i, j)` for every `i < j`, rows in parallel.
    fn new<S, I, F>(n: usize, init: I, distance: F) -> Distances
    where
        I: Fn() -> S + Sync + Send,
        F: Fn(&mut S, usize, usize) -> f32 + Sync + Send,
    {
        let mut values = vec![0.0f32; n * n];
        values
            .par_chunks_mut(n)
            .enumerate()
            .for_each_init(init, |s, (i, row)| {
                for (j, v) in row.iter_mut().enumerate().skip(i + 1) {
                    *v = distance(s, i, j);
                }
            });
        for i in 0..n {
            for j in 0..i {
                values[i * n + j] = values[j * n + i];
            }
        }
        Distances { n, values }
    }

    /// The `nn` nearest of the points `subset` to each of them (positions in `subset`).
    fn nearest(&self, subset: &[usize], nn: usize) -> Vec<Vec<usize>> {
        nearest_by(
            subset.len(),
            nn,
            || (),
            |(), p, row| {
                let from = &self.values[subset[p] * self.n..(subset[p] + 1) * self.n];
                for (d, &j) in row.iter_mut().zip(subset) {
                    *d = f64::from(from[j]);
                }
            },
        )
    }
}

/// The distances of one view.
fn view_distances(view: View, latent: Option<&Matrix>, set: &SequenceSet) -> Result<Distances> {
    let n = set.len();
    let euclid = |m: &Matrix| {
        let rows: Vec<&[f32]> = m.iter_rows().collect();
        Distances::new(
            m.rows(),
            || (),
            |(), i, j| {
                rows[i]
                    .iter()
                    .zip(rows[j])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum()
            },
        )
    };
    Ok(match view {
        View::Latent => euclid(latent.ok_or(LatentError::Empty {
            what: "latent vectors",
        })?),
        View::Euclidean => {
            let len = seqae_data::features::median_length(set);
            euclid(&seqae_data::features::znormalized_resampled(set, len)?)
        }
        View::Shape => {
            let spectra = Spectra::new(&Series::new(set)?);
            Distances::new(n, || spectra.scratch(), |s, i, j| spectra.distance(i, j, s))
        }
        View::Warping => {
            let series = Series::new(set)?.shortened(DTW_MAX_LEN);
            let radius = dtw::band_radius(series.max_len(), DTW_BAND);
            let c = series.channels();
            Distances::new(n, Rows::default, |rows, i, j| {
                dtw::dtw(
                    (series.row(i), series.length(i)),
                    (series.row(j), series.length(j)),
                    c,
                    radius,
                    f32::INFINITY,
                    rows,
                )
            })
        }
    })
}

/// Spectral clustering of the points `subset` on the graph of their `ceil(sqrt(m))` nearest
/// neighbours, and that graph.
fn cluster_subset(
    d: &Distances,
    subset: &[usize],
    k: usize,
    n_init: usize,
    seed: u64,
) -> Result<(Vec<usize>, Graph)> {
    let nn = (subset.len() as f64).sqrt().ceil() as usize;
    let graph = Graph::from_neighbours(&d.nearest(subset, nn.max(2)));
    let labels = graph.spectral(k, n_init, seed)?.labels().to_vec();
    Ok((labels, graph))
}

/// Scores one view: its full clustering, stability and normalised cut.
fn score_view(
    view: View,
    d: &Distances,
    k: usize,
    n_init: usize,
    seed: u64,
) -> Result<(Vec<usize>, ViewScore)> {
    let n = d.n;
    let keep = ((n as f64 * FRACTION).round() as usize)
        .max(k.max(2))
        .min(n);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x57ab_1e00);
    // The whole set first, then the subsamples (drawn in order, so the result does not depend
    // on the threads): the clusterings run in parallel, the eigendecomposition of each being
    // serial.
    let mut subsets = vec![(0..n).collect::<Vec<usize>>()];
    for _ in 0..SUBSAMPLES {
        subsets.push(sorted_sample(&mut rng, n, keep));
    }
    let mut clustered = subsets
        .par_iter()
        .enumerate()
        .map(|(r, idx)| cluster_subset(d, idx, k, n_init, seed + r.saturating_sub(1) as u64))
        .collect::<Result<Vec<_>>>()?
        .into_iter();
    let (labels, graph) = clustered.next().expect("the whole set is clustered");
    let normalised_cut = graph.normalised_cut(&labels);
    let runs: Vec<Vec<usize>> = clustered
        .zip(&subsets[1..])
        .map(|((l, _), idx)| {
            // Label of each point of the whole set in this run (usize::MAX: left out).
            let mut full = vec![usize::MAX; n];
            for (&i, &c) in idx.iter().zip(&l) {
                full[i] = c;
            }
            full
        })
        .collect();
    let mut agreement = Vec::new();
    for a in 0..runs.len() {
        for b in a + 1..runs.len() {
            let (la, lb): (Vec<usize>, Vec<usize>) = runs[a]
                .iter()
                .zip(&runs[b])
                .filter(|(x, y)| **x != usize::MAX && **y != usize::MAX)
                .map(|(x, y)| (*x, *y))
                .unzip();
            agreement.push(metrics::ari(&la, &lb)?);
        }
    }
    let stability = agreement.iter().sum::<f64>() / agreement.len().max(1) as f64;
    Ok((
        labels,
        ViewScore {
            view,
            stability,
            normalised_cut,
            score: stability * (1.0 - normalised_cut),
        },
    ))
}

/// The views used for `n` sequences with or without latent vectors.
pub fn views_for(n: usize, has_latent: bool) -> Vec<View> {
    let mut v = Vec::new();
    if has_latent {
        v.push(View::Latent);
    }
    if (MIN_POINTS..=MAX_EXTENDED_POINTS).contains(&n) {
        v.extend([View::Euclidean, View::Shape, View::Warping]);
    }
    v
}

/// The note for `n` sequences, more than [`MAX_EXTENDED_POINTS`]: the raw views were left out.
pub fn left_out_note(n: usize) -> String {
    format!(
        "{n} sequences: more than the raw views take ({MAX_EXTENDED_POINTS}); the clusters are the embeddings' alone"
    )
}

/// [`select`] on more sequences than it scores directly: the views scored on `landmarks`
/// sequences drawn at random (from the seed), then every sequence given the cluster of its
/// nearest landmark under the kept view.
fn select_by_landmarks(
    latent: Option<&Matrix>,
    set: &SequenceSet,
    k: usize,
    n_init: usize,
    seed: u64,
    landmarks: usize,
) -> Result<Selection> {
    let n = set.len();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x1a2d_3a4c);
    let idx = sorted_sample(&mut rng, n, landmarks.min(n));
    let sub_latent = latent.map(|m| m.select_rows(&idx));
    let sub_set = set.subset(&idx);
    let sel = select(sub_latent.as_ref(), &sub_set, k, n_init, seed)?;
    let nearest = nearest_landmark(sel.view, latent, set, &sub_set, &idx)?;
    Ok(Selection {
        labels: nearest.into_iter().map(|j| sel.labels[j]).collect(),
        ..sel
    })
}

/// For every sequence of `set`, the position in `idx` of its nearest landmark (`sub_set` is
/// `set`'s landmarks) under `view`'s distance, in parallel.
fn nearest_landmark(
    view: View,
    latent: Option<&Matrix>,
    set: &SequenceSet,
    sub_set: &SequenceSet,
    idx: &[usize],
) -> Result<Vec<usize>> {
    let by_kernel =
        |points: &Matrix| KMeansModel::with_centres(points.select_rows(idx)).predict(points);
    let argmin = |row: &mut dyn FnMut(usize) -> f32| {
        let mut best = (0, f32::INFINITY);
        for j in 0..idx.len() {
            let d = row(j);
            if d < best.1 {
                best = (j, d);
            }
        }
        best.0
    };
    Ok(match view {
        View::Latent => by_kernel(latent.ok_or(LatentError::Empty {
            what: "latent vectors",
        })?)?,
        View::Euclidean => {
            let len = seqae_data::features::median_length(sub_set);
            by_kernel(&seqae_data::features::znormalized_resampled(set, len)?)?
        }
        View::Shape => {
            let spectra = Spectra::new(&Series::new(set)?);
            (0..set.len())
                .into_par_iter()
                .map_init(
                    || spectra.scratch(),
                    |scratch, i| argmin(&mut |j| spectra.distance(i, idx[j], scratch)),
                )
                .collect()
        }
        View::Warping => {
            let series = Series::new(set)?.shortened(DTW_MAX_LEN);
            let radius = dtw::band_radius(series.max_len(), DTW_BAND);
            let c = series.channels();
            (0..set.len())
                .into_par_iter()
                .map_init(Rows::default, |rows, i| {
                    // The best distance so far bounds the next (early abandoning).
                    let mut bound = f32::INFINITY;
                    argmin(&mut |j| {
                        let d = dtw::dtw(
                            (series.row(i), series.length(i)),
                            (series.row(idx[j]), series.length(idx[j])),
                            c,
                            radius,
                            bound,
                            rows,
                        );
                        bound = bound.min(d);
                        d
                    })
                })
                .collect()
        }
    })
}

/// Clusters the sequences of `set` (with their latent vectors `latent`, one row each, when
/// given) into `k` clusters by every view of [`views_for`], and keeps the best-scored view's
/// clustering (the earlier view on ties).
pub fn select(
    latent: Option<&Matrix>,
    set: &SequenceSet,
    k: usize,
    n_init: usize,
    seed: u64,
) -> Result<Selection> {
    let n = set.len();
    if let Some(m) = latent
        && m.rows() != n
    {
        return Err(LatentError::LengthMismatch {
            left_what: "latent vectors",
            left: m.rows(),
            right_what: "sequences",
            right: n,
        });
    }
    if k == 0 {
        return Err(LatentError::ZeroClusters);
    }
    if k > n {
        return Err(LatentError::TooManyClusters { k, n_samples: n });
    }
    if n > MAX_RAW_POINTS && n <= MAX_EXTENDED_POINTS {
        return select_by_landmarks(latent, set, k, n_init, seed, MAX_RAW_POINTS);
    }
    let views = views_for(n, latent.is_some());
    if views.is_empty() {
        return Err(LatentError::TooManySamples {
            what: "the raw views",
            most: MAX_EXTENDED_POINTS,
            got: n,
        });
    }
    let mut best: Option<(Vec<usize>, View, f64)> = None;
    let mut scores = Vec::new();
    for view in views {
        let d = view_distances(view, latent, set)?;
        let (labels, score) = score_view(view, &d, k, n_init, seed)?;
        if best.as_ref().is_none_or(|(_, _, s)| score.score > *s) {
            best = Some((labels, view, score.score));
        }
        scores.push(score);
    }
    let (labels, view, _) = best.expect("at least one view");
    Ok(Selection {
        labels,
        view,
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use seqae_data::SequenceSetBuilder;

    /// Two shapes at random positions: the shape view separates them, Euclidean distance on
    /// the raw values does not.
    fn shifted_shapes(n: usize) -> (SequenceSet, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(5);
        let mut b = SequenceSetBuilder::new(1);
        let mut truth = Vec::new();
        for i in 0..n {
            let at = rng.random_range(15.0..85.0f32);
            let v: Vec<f32> = (0..100)
                .map(|t| {
                    let x = (t as f32 - at) / 3.0;
                    let s = if i % 2 == 0 {
                        (-x * x).exp()
                    } else {
                        x * (-x * x).exp()
                    };
                    s + 0.02 * rng.random_range(-1.0..1.0f32)
                })
                .collect();
            b.push(&v, None, None).unwrap();
            truth.push(i % 2);
        }
        (b.finish().unwrap(), truth)
    }

    #[test]
    fn picks_a_view_that_sees_the_clusters() {
        let (set, truth) = shifted_shapes(80);
        // A latent view that knows nothing: noise.
        let mut rng = StdRng::seed_from_u64(1);
        let noise: Vec<f32> = (0..80 * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
        let latent = Matrix::new(noise, 80, 4).unwrap();
        let sel = select(Some(&latent), &set, 2, 10, 0).unwrap();
        assert_eq!(sel.scores.len(), 4);
        assert!(matches!(sel.view, View::Shape | View::Warping), "{sel:?}");
        assert!(metrics::nmi(&truth, &sel.labels).unwrap() > 0.9);
        let latent_score = &sel.scores[0];
        assert!(latent_score.score < sel.scores.iter().map(|s| s.score).fold(0.0, f64::max));
        // The same seed gives the same clusters.
        assert!(select(Some(&latent), &set, 2, 10, 0).unwrap().labels == sel.labels);
    }

    #[test]
    fn landmarks_extend_the_kept_view_to_every_sequence() {
        let (set, truth) = shifted_shapes(120);
        let mut rng = StdRng::seed_from_u64(2);
        let noise: Vec<f32> = (0..120 * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
        let latent = Matrix::new(noise, 120, 4).unwrap();
        let sel = select_by_landmarks(Some(&latent), &set, 2, 10, 0, 60).unwrap();
        assert_eq!(sel.labels.len(), 120);
        assert!(matches!(sel.view, View::Shape | View::Warping), "{sel:?}");
        assert!(metrics::nmi(&truth, &sel.labels).unwrap() > 0.9);
        // Each extension path gives every sequence a landmark's cluster; a landmark its own.
        let sub_idx: Vec<usize> = (0..120).step_by(3).collect();
        let sub_set = set.subset(&sub_idx);
        for view in [View::Latent, View::Euclidean, View::Shape, View::Warping] {
            let near = nearest_landmark(view, Some(&latent), &set, &sub_set, &sub_idx).unwrap();
            assert_eq!(near.len(), 120);
            for (j, &i) in sub_idx.iter().enumerate() {
                assert_eq!(near[i], j, "{view}: landmark {i}");
            }
        }
    }

    #[test]
    fn checks_its_input() {
        let (set, _) = shifted_shapes(10);
        let wrong = Matrix::new(vec![0.0; 9 * 2], 9, 2).unwrap();
        assert!(select(Some(&wrong), &set, 2, 10, 0).is_err());
        assert!(select(None, &set, 0, 10, 0).is_err());
        assert!(select(None, &set, 11, 10, 0).is_err());
        assert_eq!(views_for(MAX_EXTENDED_POINTS + 1, true), vec![View::Latent]);
        assert_eq!(views_for(MIN_POINTS - 1, true), vec![View::Latent]);
    }
}
