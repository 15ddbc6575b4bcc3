//! The error type of every fallible operation in this crate.
use std::fmt;
use std::path::PathBuf;

/// Result with [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;

/// What went wrong, and where: every error that comes from a file names the file, and the line
/// and field where one applies.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file or folder could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The content of a file is not what its format expects.
    #[error("{}{}: {message}", path.display(), Position(*line, field.as_deref()))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number, when the problem is on one line.
        line: Option<usize>,
        /// The field, column or cell, when the problem is in one.
        field: Option<String>,
        /// What was expected and what was found.
        message: String,
    },
    /// An argument or a combination of data is invalid (not tied to a place in a file).
    #[error("{0}")]
    Invalid(String),
    /// A name (of a format, a normalisation, ...) that is not one of the accepted ones.
    #[error(transparent)]
    Name(#[from] crate::UnknownName),
    /// A [`Matrix`](crate::Matrix) with no rows or no columns.
    #[error("empty input: matrix has no elements")]
    EmptyMatrix,
    /// Matrix data whose length is not `rows * cols`.
    #[error("matrix data has {len} values but {rows} x {cols} = {expected} were expected")]
    ShapeMismatch {
        /// Length of the data given.
        len: usize,
        /// Declared rows.
        rows: usize,
        /// Declared columns.
        cols: usize,
        /// `rows * cols` (saturating).
        expected: usize,
    },
    /// A NaN or infinite value in matrix data.
    #[error("matrix contains a non-finite value ({value}) at row {row}, column {col}")]
    NonFinite {
        /// Row of the first offending value.
        row: usize,
        /// Column of the first offending value.
        col: usize,
        /// The value itself (NaN or +/-inf).
        value: f32,
    },
    /// Matrix rows of different lengths.
    #[error("length mismatch: first row has {first} entries but another row has {other}")]
    RowLengthMismatch {
        /// Length of the first row.
        first: usize,
        /// Length of the first row that differs.
        other: usize,
    },
}

impl DataError {
    /// An error at `line` (1-based) of `path`, optionally in one field.
    pub fn parse(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        DataError::Parse {
            path: path.into(),
            line,
            field,
            message: message.into(),
        }
    }

    /// An error about a whole file.
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::parse(path, None, None, message)
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Formats ":LINE: FIELD" (each part only when present).
struct Position<'a>(Option<usize>, Option<&'a str>);

impl fmt::Display for Position<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.0 {
            write!(f, ":{line}")?;
        }
        if let Some(field) = self.1 {
            write!(f, ": {field}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_file_line_and_field() {
        let e = DataError::parse(
            "a.csv",
            Some(3),
            Some("column 2".into()),
            "expected a number",
        );
        assert_eq!(e.to_string(), "a.csv:3: column 2: expected a number");
        let e = DataError::file("b.npy", "empty");
        assert_eq!(e.to_string(), "b.npy: empty");
    }
}
