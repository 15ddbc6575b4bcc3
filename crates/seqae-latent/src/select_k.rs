//! Choosing k by the mean silhouette over a range of candidate values.

use std::ops::RangeInclusive;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::Matrix;
use crate::error::{LatentError, Result};
use crate::kmeans::{KMeans, KMeansModel};
use crate::metrics::silhouette;

/// Default number of points the silhouette is computed on (it is O(n^2)).
pub const DEFAULT_SILHOUETTE_SAMPLE: usize = 10_000;

/// Settings for choosing k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectK {
    ks: RangeInclusive<usize>,
    kmeans: KMeans,
    sample_size: Option<usize>,
    seed: u64,
}

/// The outcome of [`SelectK::fit`]: the chosen k, every score (for plotting) and the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KSelection {
    /// The k with the highest mean silhouette (smallest k on ties).
    pub best_k: usize,
    /// `(k, mean silhouette)` for every k tried, in increasing k. The score is NaN when the
    /// fit produced fewer than two distinct clusters (e.g. heavily duplicated points).
    pub scores: Vec<(usize, f64)>,
    /// The k-means model fitted with `best_k`.
    pub model: KMeansModel,
}

impl SelectK {
    /// Try every k in `ks` (each must be `2..=n_samples - 1`), k-means with `n_init = 10`,
    /// silhouette on at most [`DEFAULT_SILHOUETTE_SAMPLE`] random points, seed 0.
    pub fn new(ks: RangeInclusive<usize>) -> Self {
        SelectK {
            ks,
            kmeans: KMeans::new(2),
            sample_size: Some(DEFAULT_SILHOUETTE_SAMPLE),
            seed: 0,
        }
    }

    /// k-means settings to use (its k is replaced by each candidate; its seed by ours).
    pub fn with_kmeans(mut self, kmeans: KMeans) -> Self {
        self.kmeans = kmeans;
        self
    }

    /// Compute the silhouette on a random subset of this many points (`None`: all points).
    pub fn with_sample_size(mut self, sample_size: Option<usize>) -> Self {
        self.sample_size = sample_size;
        self
    }

    /// Seed for k-means and the silhouette subsample.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Fits k-means for every candidate k and scores it.
    pub fn fit(&self, m: &Matrix) -> Result<KSelection> {
        let n = m.rows();
        let (lo, hi) = (*self.ks.start(), *self.ks.end());
        if self.ks.is_empty() {
            return Err(LatentError::InvalidParameter {
                name: "k_range",
                reason: format!("the range {lo}..={hi} is empty"),
            });
        }
        if lo < 2 {
            return Err(LatentError::InvalidParameter {
                name: "k_range",
                reason: format!("the silhouette needs k >= 2, the range starts at {lo}"),
            });
        }
        if hi > n {
            return Err(LatentError::TooManyClusters {
                k: hi,
                n_samples: n,
            });
        }
        if hi > n - 1 {
            return Err(LatentError::InvalidParameter {
                name: "k_range",
                reason: format!(
                    "the silhouette needs k <= n_samples - 1 = {}, the range ends at {hi}",
                    n - 1
                ),
            });
        }
        if self.sample_size == Some(0) {
            return Err(LatentError::InvalidParameter {
                name: "sample_size",
                reason: "must be at least 1".into(),
            });
        }
        let subset = match self.sample_size {
            Some(s) if s < n => {
                let mut rng = StdRng::seed_from_u64(self.seed ^ 0x5eed_5eed);
                Some(crate::sorted_sample(&mut rng, n, s))
            }
            _ => None,
        };
        let sub_m = subset.as_ref().map(|idx| m.select_rows(idx));
        let mut scores = Vec::new();
        let mut best: Option<(usize, f64, KMeansModel)> = None;
        for k in self.ks.clone() {
            let model = self.kmeans.clone().with_k(k).with_seed(self.seed).fit(m)?;
            let score = match (&subset, &sub_m) {
                (Some(idx), Some(sm)) => {
                    let labels: Vec<usize> = idx.iter().map(|&i| model.labels()[i]).collect();
                    silhouette(sm, &labels)
                }
                _ => silhouette(m, model.labels()),
            };
            let score = match score {
                Ok(s) => s,
                Err(LatentError::InvalidLabelCount { .. }) => f64::NAN,
                Err(e) => return Err(e),
            };
            scores.push((k, score));
            if !score.is_nan() && best.as_ref().is_none_or(|(_, b, _)| score > *b) {
                best = Some((k, score, model));
            }
        }
        let (best_k, _, model) = best.ok_or(LatentError::InvalidLabelCount {
            n_labels: 1,
            n_samples: n,
        })?;
        Ok(KSelection {
            best_k,
            scores,
            model,
        })
    }
}

/// Chooses k in `ks` by silhouette with default settings (see [`SelectK::new`]).
pub fn choose_k(m: &Matrix, ks: RangeInclusive<usize>, seed: u64) -> Result<KSelection> {
    SelectK::new(ks).with_seed(seed).fit(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn four_blobs() -> Matrix {
        let centres = [(0.0f32, 0.0f32), (20.0, 0.0), (0.0, 20.0), (20.0, 20.0)];
        let mut data = Vec::new();
        for (c, &(cx, cy)) in centres.iter().enumerate() {
            for i in 0..30 {
                let a = (i * 7 + c) as f32;
                data.push(cx + (a * 0.37).sin());
                data.push(cy + (a * 0.91).cos());
            }
        }
        Matrix::new(data, 120, 2).unwrap()
    }

    #[test]
    fn picks_the_true_k() {
        let m = four_blobs();
        let sel = choose_k(&m, 2..=7, 0).unwrap();
        assert_eq!(sel.best_k, 4);
        assert_eq!(sel.scores.len(), 6);
        assert_eq!(sel.scores[0].0, 2);
        assert_eq!(sel.model.k(), 4);
        // subsampled silhouette agrees
        let sel2 = SelectK::new(2..=6)
            .with_sample_size(Some(60))
            .fit(&m)
            .unwrap();
        assert_eq!(sel2.best_k, 4);
    }

    #[test]
    fn rejects_bad_ranges() {
        let m = four_blobs();
        #[allow(clippy::reversed_empty_ranges)]
        let empty = 5..=3;
        assert!(matches!(
            choose_k(&m, empty, 0),
            Err(LatentError::InvalidParameter {
                name: "k_range",
                ..
            })
        ));
        assert!(matches!(
            choose_k(&m, 1..=3, 0),
            Err(LatentError::InvalidParameter {
                name: "k_range",
                ..
            })
        ));
        assert!(matches!(
            choose_k(&m, 2..=121, 0),
            Err(LatentError::TooManyClusters { k: 121, .. })
        ));
        assert!(matches!(
            choose_k(&m, 2..=120, 0),
            Err(LatentError::InvalidParameter {
                name: "k_range",
                ..
            })
        ));
        assert!(matches!(
            SelectK::new(2..=3).with_sample_size(Some(0)).fit(&m),
            Err(LatentError::InvalidParameter {
                name: "sample_size",
                ..
            })
        ));
    }
}
