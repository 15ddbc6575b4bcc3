//! NumPy `.npy` arrays: `[n, T]` (univariate) or `[n, T, C]`, `f32` or `f64`, C or Fortran
//! order. Trailing all-`NaN` steps pad shorter sequences.
use super::{ReadOptions, trim_padding};
use crate::error::{DataError, Result};
use crate::sequence::{SequenceSet, SequenceSetBuilder};
use std::path::Path;

/// Reads an `.npy` file.
pub fn read(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if bytes.is_empty() {
        return Err(DataError::file(path, "empty file"));
    }
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| DataError::file(path, format!("not a readable .npy file: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let (n, len, channels) = match shape[..] {
        [n, t] => (n, t, 1),
        [n, t, c] => (n, t, c),
        _ => {
            return Err(DataError::file(
                path,
                format!("array of shape {shape:?}: expected 2 dimensions [n, T] or 3 [n, T, C]"),
            ));
        }
    };
    let fortran = npy.order() == npyz::Order::Fortran;
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    let data: Vec<f32> = match &dtype[1..] {
        "f4" => npy.into_vec::<f32>(),
        "f8" => npy
            .into_vec::<f64>()
            .map(|v| v.into_iter().map(|x| x as f32).collect()),
        _ => {
            return Err(DataError::file(
                path,
                format!("dtype {dtype}: expected float32 (<f4) or float64 (<f8)"),
            ));
        }
    }
    .map_err(|e| DataError::file(path, format!("truncated or unreadable data: {e}")))?;
    if n == 0 {
        return Err(DataError::file(path, "no sequences (n = 0)"));
    }
    if len == 0 || channels == 0 {
        return Err(DataError::file(
            path,
            format!("array of shape {shape:?} holds zero-length sequences"),
        ));
    }
    let at = |i: usize, t: usize, c: usize| {
        if fortran {
            i + n * (t + len * c)
        } else {
            (i * len + t) * channels + c
        }
    };
    let mut b = SequenceSetBuilder::new(channels);
    for i in 0..n {
        let mut values = Vec::with_capacity(len * channels);
        for t in 0..len {
            for c in 0..channels {
                let v = data[at(i, t, c)];
                if v.is_infinite() {
                    return Err(DataError::parse(
                        path,
                        None,
                        Some(format!("element [{i}, {t}, {c}]")),
                        "infinite value (or too large for f32)",
                    ));
                }
                values.push(v);
            }
        }
        trim_padding(&mut values, channels);
        if values.is_empty() {
            return Err(DataError::parse(
                path,
                None,
                Some(format!("sequence {i}")),
                "all values are NaN (zero length)",
            ));
        }
        if !options.allow_missing
            && let Some(k) = values.iter().position(|v| v.is_nan())
        {
            return Err(DataError::parse(
                path,
                None,
                Some(format!("element [{i}, {}, {}]", k / channels, k % channels)),
                "missing value (NaN); allow missing values to accept it",
            ));
        }
        b.push(&values, None, None)
            .map_err(|e| DataError::file(path, e.to_string()))?;
    }
    b.finish().map_err(|e| DataError::file(path, e.to_string()))
}
