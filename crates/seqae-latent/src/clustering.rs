//! The one clustering entry point behind `seqae cluster`, `seqae evaluate`, `seqae demo` and
//! Python's `SeqAEClusterer`: k given or chosen by silhouette, then the clusters from the
//! chosen method, with the centres, inertia and silhouette of the result.
use seqae_data::SequenceSet;
use serde::Serialize;

use crate::error::{LatentError, Result};
use crate::kmeans::KMeans;
use crate::kshape::KShape;
use crate::metrics;
use crate::select_k::SelectK;
use crate::spectral::Spectral;
use crate::views::{self, View, ViewScore};
use seqae_data::Matrix;

/// Silhouettes are computed on at most this many evenly spaced points (the score is O(n^2)).
pub const SILHOUETTE_SAMPLE: usize = 5000;

/// How the clusters are found once k is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The default: with the sequences at hand, the best of several views by stability
    /// ([`views::select`]); with embeddings alone, spectral clustering.
    #[default]
    Auto,
    /// Spectral clustering of the embeddings' nearest-neighbour graph ([`Spectral`]).
    Spectral,
    /// k-means on the embeddings.
    KMeans,
    /// k-Shape on the raw sequences ([`KShape`]).
    KShape,
}

seqae_data::named_enum!(Method, "clustering method", {
    Auto => "auto",
    Spectral => "spectral",
    KMeans => "kmeans" | "k-means",
    KShape => "kshape" | "k-shape",
});

impl Method {
    /// The names `FromStr` accepts.
    pub const NAMES: [&'static str; 4] = ["auto", "spectral", "kmeans", "kshape"];

    /// Restarts used when none are given: k-Shape's 3 (each restart is costly), 10 otherwise.
    pub fn default_n_init(self) -> usize {
        if self == Method::KShape { 3 } else { 10 }
    }
}

/// Clustering settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterOptions {
    /// Clusters, or `None` for the best mean silhouette of k-means over `2..=k_max`.
    pub k: Option<usize>,
    /// Largest k tried when k is chosen.
    pub k_max: usize,
    /// The method.
    pub method: Method,
    /// Restarts of k-means (also inside spectral clustering) or k-Shape; `None`: the method's
    /// default ([`Method::default_n_init`]).
    pub n_init: Option<usize>,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            k: None,
            k_max: 10,
            method: Method::Auto,
            n_init: None,
            seed: 0,
        }
    }
}

/// A clustering and how it was found.
#[derive(Clone, Debug, Serialize)]
pub struct Clustering {
    /// Cluster of each sequence, `0..k`.
    pub labels: Vec<usize>,
    /// Number of clusters.
    pub k: usize,
    /// The method that produced the labels.
    pub method: Method,
    /// With [`Method::Auto`] on sequences: the view whose clusters were kept.
    pub view: Option<View>,
    /// With [`Method::Auto`] on sequences: every view's score.
    pub views: Vec<ViewScore>,
    /// `(k, mean silhouette)` for each k tried when k was chosen.
    pub k_scores: Vec<(usize, f64)>,
    /// The mean of each cluster's points (`k x d`) in the clustered space: the embeddings, or
    /// the z-normalised raw values without them (k-means' own centres for k-means).
    pub centres: Matrix,
    /// Sum of squared distances of the points to their cluster's centre.
    pub inertia: f64,
    /// Mean silhouette of the labels on those points (on at most [`SILHOUETTE_SAMPLE`]
    /// evenly spaced points); `None` with one cluster or one point per cluster.
    pub silhouette: Option<f64>,
    /// What the user should know (a fallback, a view left out).
    pub notes: Vec<String>,
}

/// Clusters sequences given by their embeddings `latent` (one row each), the sequences `raw`
/// themselves, or both: the embeddings are the points for k-means, spectral clustering and
/// the silhouette; without them, the z-normalised raw values resampled to the median length
/// are. k-Shape needs `raw`.
pub fn cluster(
    latent: Option<&Matrix>,
    raw: Option<&SequenceSet>,
    opts: &ClusterOptions,
) -> Result<Clustering> {
    let features;
    let points = match (latent, raw) {
        (Some(m), _) => m,
        (None, Some(set)) => {
            features = seqae_data::features::znormalized_resampled(
                set,
                seqae_data::features::median_length(set),
            )?;
            &features
        }
        (None, None) => return Err(LatentError::Empty { what: "input" }),
    };
    let n = points.rows();
    if let Some(set) = raw
        && set.len() != n
    {
        return Err(LatentError::LengthMismatch {
            left_what: "embeddings",
            left: n,
            right_what: "sequences",
            right: set.len(),
        });
    }
    // Identical points cannot be told apart: more clusters than distinct points would be
    // empty (k-means) or arbitrary (spectral).
    let wanted = opts.k.unwrap_or(2).max(1);
    let distinct = distinct_rows(points, wanted.max(opts.k_max) + 1);
    if distinct < wanted && n >= wanted {
        return Err(LatentError::TooFewDistinct {
            n_samples: n,
            distinct,
            k: opts.k,
        });
    }
    let method = opts.method;
    let n_init = opts.n_init.unwrap_or(method.default_n_init());
    if n_init == 0 {
        return Err(LatentError::InvalidParameter {
            name: "n_init",
            reason: "must be at least 1".into(),
        });
    }
    // k-means chooses k (and clusters, for k-means); n_init counts k-Shape's own restarts,
    // so k-means keeps its 10 there.
    let kmeans = KMeans::new(1)
        .with_n_init(if method == Method::KShape { 10 } else { n_init })
        .with_seed(opts.seed);
    let (k, k_scores, chosen) = match opts.k {
        Some(k) => (k, Vec::new(), None),
        None => {
            if opts.k_max < 2 {
                return Err(LatentError::InvalidParameter {
                    name: "k_max",
                    reason: format!(
                        "{}: choosing k compares k = 2..=k_max, so k_max must be at least 2",
                        opts.k_max
                    ),
                });
            }
            let hi = opts.k_max.min(n.saturating_sub(1)).min(distinct);
            if hi < 2 {
                return Err(LatentError::TooFewSamples {
                    needed: 3,
                    got: n,
                    what: "choosing k (k = 2.. compared by silhouette)",
                });
            }
            let sel = SelectK::new(2..=hi)
                .with_kmeans(kmeans.clone())
                .with_seed(opts.seed)
                .fit(points)?;
            (sel.best_k, sel.scores, Some(sel.model))
        }
    };
    let mut notes = Vec::new();
    let (mut view, mut views) = (None, Vec::new());
    let mut ran = method;
    let labels = match method {
        Method::KShape => {
            let set = raw.ok_or(LatentError::InvalidParameter {
                name: "method",
                reason: "k-Shape clusters the sequences themselves, and none were given".into(),
            })?;
            KShape::new(k)
                .with_n_init(n_init)
                .with_seed(opts.seed)
                .fit(set)?
                .labels()
                .to_vec()
        }
        Method::Auto
            if raw.is_some_and(|s| {
                (views::MIN_POINTS..=views::MAX_EXTENDED_POINTS).contains(&s.len()) && k < s.len()
            }) =>
        {
            let set = raw.expect("checked");
            if n > views::MAX_RAW_POINTS {
                notes.push(format!(
                    "{n} sequences: the views were scored on {} drawn at random, and every sequence takes the cluster of its nearest one under the kept view",
                    views::MAX_RAW_POINTS
                ));
            }
            let sel = views::select(latent, set, k, n_init, opts.seed)?;
            (view, views) = (Some(sel.view), sel.scores);
            sel.labels
        }
        Method::Auto | Method::Spectral => {
            if method == Method::Auto && raw.is_some_and(|s| s.len() > views::MAX_EXTENDED_POINTS) {
                notes.push(views::left_out_note(n));
            }
            ran = Method::Spectral;
            Spectral::new(k)
                .with_n_init(n_init)
                .with_seed(opts.seed)
                .fit(points)?
                .labels()
                .to_vec()
        }
        Method::KMeans => {
            let model = match chosen {
                Some(model) => model,
                None => kmeans.with_k(k).fit(points)?,
            };
            let silhouette = silhouette_sampled(points, model.labels())?;
            return Ok(Clustering {
                labels: model.labels().to_vec(),
                k,
                method: ran,
                view,
                views,
                k_scores,
                centres: model.centroids().clone(),
                inertia: model.inertia(),
                silhouette,
                notes,
            });
        }
    };
    let centres = means(points, &labels, k)?;
    Ok(Clustering {
        inertia: metrics::inertia(points, &centres, &labels)?,
        silhouette: silhouette_sampled(points, &labels)?,
        labels,
        k,
        method: ran,
        view,
        views,
        k_scores,
        centres,
        notes,
    })
}

/// The number of distinct rows of `m`, counted up to `cap` (bit patterns compared, so the
/// count stops early on varied data).
fn distinct_rows(m: &Matrix, cap: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    for row in m.iter_rows() {
        seen.insert(row.iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
        if seen.len() >= cap {
            break;
        }
    }
    seen.len()
}

/// The mean of the rows of each cluster (`k x d`; a cluster without rows gets zeros).
pub fn means(m: &Matrix, labels: &[usize], k: usize) -> Result<Matrix> {
    let d = m.cols();
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0usize; k];
    for (row, &l) in m.iter_rows().zip(labels) {
        counts[l] += 1;
        for (s, &v) in sums[l * d..(l + 1) * d].iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    let centres = sums
        .iter()
        .enumerate()
        .map(|(j, s)| (s / counts[j / d].max(1) as f64) as f32)
        .collect();
    Ok(Matrix::new(centres, k, d)?)
}

/// Mean silhouette, on [`SILHOUETTE_SAMPLE`] evenly spaced rows for large inputs; `None`
/// with fewer than two clusters among them or one row per cluster.
pub fn silhouette_sampled(m: &Matrix, labels: &[usize]) -> Result<Option<f64>> {
    let distinct = |l: &[usize]| l.iter().collect::<std::collections::HashSet<_>>().len();
    let (sub, sub_labels);
    let (m, labels) = if m.rows() <= SILHOUETTE_SAMPLE {
        (m, labels)
    } else {
        let step = m.rows() as f64 / SILHOUETTE_SAMPLE as f64;
        let idx: Vec<usize> = (0..SILHOUETTE_SAMPLE)
            .map(|i| (i as f64 * step) as usize)
            .collect();
        sub = m.select_rows(&idx);
        sub_labels = idx.iter().map(|&i| labels[i]).collect::<Vec<_>>();
        (&sub, sub_labels.as_slice())
    };
    let d = distinct(labels);
    if d < 2 || d >= m.rows() {
        return Ok(None);
    }
    Ok(Some(metrics::silhouette(m, labels)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqae_data::SequenceSetBuilder;

    fn blobs() -> Matrix {
        let mut data = Vec::new();
        for i in 0..60 {
            let c = (i % 3) as f32 * 10.0;
            data.extend([c + (i as f32 * 0.37).sin(), c + (i as f32 * 0.91).cos()]);
        }
        Matrix::new(data, 60, 2).unwrap()
    }

    #[test]
    fn chooses_k_and_reports_the_clustering() {
        let m = blobs();
        for method in [Method::Auto, Method::Spectral, Method::KMeans] {
            let c = cluster(
                Some(&m),
                None,
                &ClusterOptions {
                    method,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(c.k, 3, "{method}");
            assert_eq!(c.k_scores.len(), 9);
            let truth: Vec<usize> = (0..60).map(|i| i % 3).collect();
            assert_eq!(metrics::nmi(&truth, &c.labels).unwrap(), 1.0);
            assert_eq!(c.centres.shape(), (3, 2));
            assert!(c.silhouette.unwrap() > 0.8);
            assert!(c.view.is_none());
        }
    }

    #[test]
    fn kshape_needs_sequences_and_the_options_are_checked() {
        let m = blobs();
        let opts = |method, k, n_init| ClusterOptions {
            method,
            k,
            n_init,
            ..Default::default()
        };
        assert!(cluster(Some(&m), None, &opts(Method::KShape, Some(3), None)).is_err());
        assert!(cluster(Some(&m), None, &opts(Method::KMeans, Some(3), Some(0))).is_err());
        assert!(cluster(None, None, &opts(Method::Auto, Some(2), None)).is_err());
        let mut b = SequenceSetBuilder::new(1);
        for i in 0..12 {
            let v: Vec<f32> = (0..20)
                .map(|t| ((t + i % 2 * 7) as f32 * 0.5).sin())
                .collect();
            b.push(&v, None, None).unwrap();
        }
        let set = b.finish().unwrap();
        let c = cluster(None, Some(&set), &opts(Method::KShape, Some(2), None)).unwrap();
        assert_eq!((c.k, c.method, c.centres.cols()), (2, Method::KShape, 20));
        // Auto on sequences scores the three raw views.
        let c = cluster(None, Some(&set), &opts(Method::Auto, Some(2), None)).unwrap();
        assert_eq!(c.views.len(), 3);
        assert!(c.view.is_some());
        // Too few sequences for the views: the points are clustered directly.
        for (n, k) in [(1, 1), (3, 2)] {
            let tiny = set.subset(&(0..n).collect::<Vec<_>>());
            let c = cluster(None, Some(&tiny), &opts(Method::Auto, Some(k), None)).unwrap();
            assert!(c.views.is_empty() && c.labels.len() == n, "{n}");
        }
        // Identical points: one line saying so, not an empty cluster or a silhouette error.
        let same = Matrix::new(vec![0.5; 42 * 3], 42, 3).unwrap();
        for k in [None, Some(2)] {
            let e = cluster(Some(&same), None, &opts(Method::KMeans, k, None)).unwrap_err();
            assert!(e.to_string().contains("all 42 rows are identical"), "{e}");
        }
        let mut two = vec![0.5; 42 * 3];
        two[..3].fill(1.0);
        let two = Matrix::new(two, 42, 3).unwrap();
        let e = cluster(Some(&two), None, &opts(Method::Spectral, Some(3), None)).unwrap_err();
        assert!(e.to_string().contains("only 2 distinct"), "{e}");
        let c = cluster(Some(&two), None, &opts(Method::KMeans, None, None)).unwrap();
        assert_eq!((c.k, c.k_scores.len()), (2, 1));
        // Embeddings and sequences must match.
        assert!(cluster(Some(&m), Some(&set), &opts(Method::Auto, Some(2), None)).is_err());
    }
}
