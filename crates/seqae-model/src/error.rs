//! [`ModelError`]: every failure of the crate, each with a one-line message.
use std::path::{Path, PathBuf};

/// Result of the crate's fallible operations.
pub type Result<T> = std::result::Result<T, ModelError>;

/// What went wrong. Messages are one line that says what differs or what to change.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An unknown name for a cell, backend, kernel or decoder input.
    #[error(transparent)]
    Name(#[from] seqae_data::UnknownName),
    /// The data does not have the channel count the model was trained on.
    #[error("model expects {expected} channels but the data has {found}")]
    Channels {
        /// Channels of the model.
        expected: usize,
        /// Channels of the data.
        found: usize,
    },
    /// The backend asked for cannot run here (no GPU, or a build without GPU support).
    #[error("{0}")]
    Device(String),
    /// The data holds no sequence (or too few for the requested split).
    #[error("{0}")]
    Empty(String),
    /// The work would need more memory than there is (checked before allocating).
    #[error("not enough memory: {0}")]
    Memory(String),
    /// A model file of a format version this build cannot read.
    #[error(
        "{path}: model format version {found} is not supported (this build reads version {supported})"
    )]
    FormatVersion {
        /// The model directory.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The path is not a model written by this crate.
    #[error("{path}: not a seqae model ({reason})")]
    NotAModel {
        /// The model directory.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing a model file failed (a full disk, a read-only folder): the path is where the
    /// file was to appear, never a temporary name.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The weights could not be written or read back.
    #[error("{path}: cannot read or write the weights: {message}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What burn reported.
        message: String,
    },
    /// An error of the data crate (normalisation, batching).
    #[error(transparent)]
    Data(#[from] seqae_data::DataError),
    /// The model computed a NaN or infinite output (corrupt weights, or input far outside
    /// the range it was trained on); refused rather than written.
    #[error(
        "the model computed a non-finite {what} for sequence {index}: corrupt model, or input far outside the training range"
    )]
    NonFinite {
        /// What was computed (embedding, reconstruction).
        what: &'static str,
        /// 0-based index of the sequence.
        index: usize,
    },
    /// A tensor could not be read back from the device.
    #[error("cannot read a tensor back from the device: {0}")]
    Tensor(String),
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Write {
            path: path.into(),
            source,
        }
    }

    /// This error with a path inside the staging folder `staged` moved to the same place
    /// under `target`, where the file was to appear.
    pub(crate) fn unstaged(self, staged: &Path, target: &Path) -> Self {
        match self {
            ModelError::Write { path, source } => {
                let path = match path.strip_prefix(staged) {
                    Ok(rest) => target.join(rest),
                    Err(_) => path,
                };
                ModelError::Write { path, source }
            }
            other => other,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        ModelError::Config(message.into())
    }

    /// This error with its sequence index moved on by `base`: for a set that is one chunk
    /// of a larger input, starting at sequence `base`.
    pub fn shifted(self, base: usize) -> Self {
        match self {
            ModelError::NonFinite { what, index } => ModelError::NonFinite {
                what,
                index: index + base,
            },
            other => other,
        }
    }
}
