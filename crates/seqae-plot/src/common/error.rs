//! The error type of the chart functions.

use std::io;
use std::path::PathBuf;

use plotters::prelude::DrawingAreaErrorKind;

use super::options::{MAX_SIDE, MIN_SIZE};

/// Errors of the chart functions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The output path does not end in `.png` or `.svg`.
    #[error("{}: unsupported chart format; use a file name ending in .png or .svg", path.display())]
    UnsupportedFormat {
        /// The path that was given.
        path: PathBuf,
    },
    /// There is nothing to plot.
    #[error("{what}: no data to plot")]
    Empty {
        /// Which input was empty.
        what: String,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("{what} is {value}; only finite values can be plotted here")]
    NonFinite {
        /// Which value, with its position.
        what: String,
        /// The offending value.
        value: f32,
    },
    /// Two inputs that must have matching lengths do not.
    #[error("{what}: expected {expected} values, got {actual}")]
    LengthMismatch {
        /// Which input.
        what: String,
        /// The length it should have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },
    /// More items than one chart can show legibly.
    #[error("{what}: {given} given, at most {max} fit in one chart")]
    TooMany {
        /// Which input.
        what: String,
        /// How many were given.
        given: usize,
        /// The most one chart accepts.
        max: usize,
    },
    /// Any other input that cannot be drawn.
    #[error("invalid chart input: {0}")]
    Invalid(String),
    /// The requested image size is outside the accepted range.
    #[error(
        "chart size {width}x{height} is out of range: at least {}x{}, at most {MAX_SIDE} per side",
        MIN_SIZE.0,
        MIN_SIZE.1
    )]
    InvalidSize {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// Writing the file failed.
    #[error("{}: cannot write: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// plotters reported an error while drawing.
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    /// The embedded font could not be registered with plotters.
    #[error("the embedded DejaVu Sans font could not be loaded")]
    Font,
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Draw(e.to_string())
    }
}

/// Result type of this crate.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;
