//! Sequences and datasets for seqae.
//!
//! - [`SequenceSet`]: a compact collection of ragged, multivariate sequences with optional
//!   labels and ids (missing values are `NaN`).
//! - [`read`]: readers for sktime/aeon `.ts`, UCR `.tsv`, wide and long CSV and NPY files, and
//!   folders of them, chosen by extension.
//! - [`normalize`]: per-sequence z-score, global per-channel standardisation and min-max, with
//!   statistics that can be stored and applied to new data.
//! - [`batch`]: padded batches with masks, length bucketing and seeded shuffling.
//! - [`features`]: z-normalised, resampled raw values (the classical k-means baseline).
//! - [`Matrix`]: a validated row-major `f32` matrix (finite, non-empty), the input of latent
//!   analysis.
//! - [`atomic`]: atomic file writes (temporary file + rename) for every crate that writes.
//! - [`synthetic`]: labelled families of synthetic sequences for tests, examples and benchmarks.
pub mod atomic;
pub mod batch;
mod error;
pub mod features;
mod matrix;
#[doc(hidden)]
pub mod names;
pub mod normalize;
pub mod read;
mod sequence;
pub mod synthetic;

pub use batch::{Batch, BatchOptions};
pub use error::{DataError, Result};
pub use matrix::Matrix;
pub use names::UnknownName;
pub use normalize::{Normalization, Normalizer};
pub use read::{Chunks, Format, ReadOptions, read_chunks, read_path};
pub use sequence::{SequenceSet, SequenceSetBuilder, Summary};
