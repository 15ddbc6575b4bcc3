//! A small owned, row-major `f32` matrix with validated contents.

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// A dense row-major `f32` matrix: `rows` points of `cols` features each.
///
/// Construction validates the shape, rejects empty matrices and rejects NaN or infinite values,
/// so every algorithm that takes one can assume finite, non-empty input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawMatrix")]
pub struct Matrix {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
}

#[derive(Deserialize)]
struct RawMatrix {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl TryFrom<RawMatrix> for Matrix {
    type Error = DataError;
    fn try_from(raw: RawMatrix) -> Result<Self> {
        Matrix::new(raw.data, raw.rows, raw.cols)
    }
}

impl Matrix {
    /// Wraps `data` (row-major, `rows * cols` values).
    ///
    /// Errors: [`DataError::EmptyMatrix`] when `rows` or `cols` is 0,
    /// [`DataError::ShapeMismatch`] when the length is wrong, [`DataError::NonFinite`] at the
    /// first NaN or infinity.
    pub fn new(data: Vec<f32>, rows: usize, cols: usize) -> Result<Self> {
        let expected = rows.checked_mul(cols);
        if expected != Some(data.len()) {
            return Err(DataError::ShapeMismatch {
                len: data.len(),
                rows,
                cols,
                expected: expected.unwrap_or(usize::MAX),
            });
        }
        if rows == 0 || cols == 0 {
            return Err(DataError::EmptyMatrix);
        }
        if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NonFinite {
                row: pos / cols,
                col: pos % cols,
                value: data[pos],
            });
        }
        Ok(Matrix { data, rows, cols })
    }

    /// Builds a matrix from equally long rows ([`DataError::RowLengthMismatch`] otherwise).
    pub fn from_rows<R: AsRef<[f32]>>(rows: &[R]) -> Result<Self> {
        let first = rows.first().ok_or(DataError::EmptyMatrix)?;
        let cols = first.as_ref().len();
        let mut data = Vec::with_capacity(rows.len() * cols);
        for r in rows {
            let r = r.as_ref();
            if r.len() != cols {
                return Err(DataError::RowLengthMismatch {
                    first: cols,
                    other: r.len(),
                });
            }
            data.extend_from_slice(r);
        }
        Matrix::new(data, rows.len(), cols)
    }

    /// Wraps values computed from validated input (a projection, cluster means) without
    /// scanning them: the caller guarantees that they are finite and that the matrix is not
    /// empty. Panics if `data.len() != rows * cols`.
    pub fn from_parts(data: Vec<f32>, rows: usize, cols: usize) -> Self {
        assert_eq!(Some(data.len()), rows.checked_mul(cols), "matrix shape");
        Matrix { data, rows, cols }
    }

    /// Number of rows (points).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (features).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The row-major values.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Consumes the matrix, returning its row-major values.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Row `i`, or `None` when out of range.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        (i < self.rows).then(|| &self.data[i * self.cols..(i + 1) * self.cols])
    }

    /// Value at `(row, col)`, or `None` when out of range.
    pub fn get(&self, row: usize, col: usize) -> Option<f32> {
        (row < self.rows && col < self.cols).then(|| self.data[row * self.cols + col])
    }

    /// Iterator over the rows.
    pub fn iter_rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.data.chunks_exact(self.cols)
    }

    /// A new matrix made of the given rows, in order. Panics if `idx` is empty or an index is
    /// out of range.
    pub fn select_rows(&self, idx: &[usize]) -> Matrix {
        assert!(!idx.is_empty(), "select_rows needs at least one row");
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(&self.data[i * self.cols..(i + 1) * self.cols]);
        }
        Matrix::from_parts(data, idx.len(), self.cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_indexes() {
        let m = Matrix::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3).unwrap();
        assert_eq!(m.shape(), (2, 3));
        assert_eq!(m.row(1), Some(&[4.0, 5.0, 6.0][..]));
        assert_eq!(m.get(0, 2), Some(3.0));
        assert_eq!(m.get(2, 0), None);
        assert_eq!(m.iter_rows().count(), 2);
        let r = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
        assert_eq!(r.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            m.select_rows(&[1, 1]).as_slice(),
            &[4.0, 5.0, 6.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn rejects_empty() {
        for e in [
            Matrix::new(vec![], 0, 3).unwrap_err(),
            Matrix::new(vec![], 3, 0).unwrap_err(),
        ] {
            assert!(matches!(e, DataError::EmptyMatrix));
            assert_eq!(e.to_string(), "empty input: matrix has no elements");
        }
        let none: [Vec<f32>; 0] = [];
        assert!(matches!(
            Matrix::from_rows(&none),
            Err(DataError::EmptyMatrix)
        ));
    }

    #[test]
    fn rejects_bad_shape() {
        let e = Matrix::new(vec![1.0; 5], 2, 3).unwrap_err();
        assert!(matches!(
            e,
            DataError::ShapeMismatch {
                len: 5,
                expected: 6,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "matrix data has 5 values but 2 x 3 = 6 were expected"
        );
        assert!(matches!(
            Matrix::new(vec![], usize::MAX, 2),
            Err(DataError::ShapeMismatch { .. })
        ));
        let e = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err();
        assert!(matches!(
            e,
            DataError::RowLengthMismatch { first: 2, other: 1 }
        ));
        assert_eq!(
            e.to_string(),
            "length mismatch: first row has 2 entries but another row has 1"
        );
    }

    #[test]
    fn serde_round_trip_validates() {
        let m = Matrix::new(vec![1.0, 2.0, 3.0, 4.0], 2, 2).unwrap();
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Matrix>(&text).unwrap(), m);
        let bad = r#"{"data":[1.0,2.0,3.0],"rows":2,"cols":2}"#;
        let e = serde_json::from_str::<Matrix>(bad).unwrap_err();
        assert!(e.to_string().contains("3 values"));
    }

    #[test]
    fn rejects_nan_and_inf() {
        let e = Matrix::new(vec![0.0, 1.0, f32::NAN, 2.0], 2, 2).unwrap_err();
        assert!(matches!(e, DataError::NonFinite { row: 1, col: 0, .. }));
        assert_eq!(
            e.to_string(),
            "matrix contains a non-finite value (NaN) at row 1, column 0"
        );
        let e = Matrix::new(vec![0.0, f32::INFINITY], 1, 2).unwrap_err();
        assert!(matches!(e, DataError::NonFinite { row: 0, col: 1, .. }));
        let e = Matrix::new(vec![f32::NEG_INFINITY], 1, 1).unwrap_err();
        assert!(matches!(e, DataError::NonFinite { .. }));
    }
}
