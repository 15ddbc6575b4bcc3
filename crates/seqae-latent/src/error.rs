//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong in latent analysis. Every variant names the offending value.
#[derive(Debug, Error)]
pub enum LatentError {
    /// An invalid [`Matrix`](crate::Matrix) (empty, wrong shape, non-finite value, ragged rows).
    #[error(transparent)]
    Data(#[from] seqae_data::DataError),
    /// A label array with no elements.
    #[error("empty input: {what} has no elements")]
    Empty {
        /// What was empty (e.g. "labels").
        what: &'static str,
    },
    /// `k = 0` clusters was requested.
    #[error("the number of clusters k must be at least 1, got 0")]
    ZeroClusters,
    /// More clusters than points.
    #[error("k = {k} clusters requested but the matrix has only {n_samples} points")]
    TooManyClusters {
        /// Clusters requested.
        k: usize,
        /// Points available.
        n_samples: usize,
    },
    /// Fewer distinct points than clusters (identical embeddings, say).
    #[error("{}", too_few_distinct(*n_samples, *distinct, *k))]
    TooFewDistinct {
        /// Points given.
        n_samples: usize,
        /// Distinct points among them (counted up to k).
        distinct: usize,
        /// Clusters requested (`None`: k to be chosen, which needs 2).
        k: Option<usize>,
    },
    /// PCA asked for more components than `min(rows, cols)`.
    #[error(
        "n_components = {requested} is larger than min(n_samples, n_features) = {max} for a {rows} x {cols} matrix"
    )]
    TooManyComponents {
        /// Components requested.
        requested: usize,
        /// Largest number allowed.
        max: usize,
        /// Rows of the matrix.
        rows: usize,
        /// Columns of the matrix.
        cols: usize,
    },
    /// Too many rows for the method.
    #[error("{what} takes at most {most} points, got {got} (use k-means)")]
    TooManySamples {
        /// The method.
        what: &'static str,
        /// Its limit.
        most: usize,
        /// Points given.
        got: usize,
    },
    /// Too few samples for the method.
    #[error("{what} needs at least {needed} samples, got {got}")]
    TooFewSamples {
        /// Rows needed.
        needed: usize,
        /// Rows given.
        got: usize,
        /// The computation.
        what: &'static str,
    },
    /// Two arrays that must be the same length (labels, labels vs rows) are not.
    #[error("length mismatch: {left_what} has {left} entries but {right_what} has {right}")]
    LengthMismatch {
        /// Name of the first array.
        left_what: &'static str,
        /// Its length.
        left: usize,
        /// Name of the second array.
        right_what: &'static str,
        /// Its length.
        right: usize,
    },
    /// A matrix with the wrong number of columns for a fitted model.
    #[error(
        "dimension mismatch: the model was fitted on {expected} features but the input has {got}"
    )]
    DimensionMismatch {
        /// Features the model expects.
        expected: usize,
        /// Features given.
        got: usize,
    },
    /// The silhouette needs 2 <= distinct labels <= n_samples - 1.
    #[error(
        "silhouette needs between 2 and n_samples - 1 distinct labels, got {n_labels} distinct labels for {n_samples} samples"
    )]
    InvalidLabelCount {
        /// Distinct labels found.
        n_labels: usize,
        /// Samples.
        n_samples: usize,
    },
    /// Any other out-of-range parameter (n_init = 0, negative tol, empty k range, ...).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
}

impl LatentError {
    /// Whether the error is about the points or sequences given (too few, too alike) rather
    /// than a parameter: front ends then name the data's file.
    pub fn is_about_the_data(&self) -> bool {
        matches!(
            self,
            LatentError::TooFewDistinct { .. }
                | LatentError::TooManyClusters { .. }
                | LatentError::TooFewSamples { .. }
                | LatentError::Empty { .. }
        )
    }
}

fn too_few_distinct(n: usize, distinct: usize, k: Option<usize>) -> String {
    if distinct <= 1 {
        return format!("all {n} rows are identical: there is nothing to cluster");
    }
    match k {
        Some(k) => format!(
            "the {n} rows hold only {distinct} distinct values, fewer than the {k} clusters asked for"
        ),
        None => format!("the {n} rows hold only {distinct} distinct values"),
    }
}

/// Shorthand for `Result<T, LatentError>`.
pub type Result<T> = std::result::Result<T, LatentError>;
