//! NumPy `.npy` arrays: `[n, T]` (univariate) or `[n, T, C]`, `f32` or `f64`, C or Fortran
//! order. Trailing all-`NaN` steps pad shorter sequences.
use super::{ReadOptions, trim_padding};
use crate::error::{DataError, Result};
use crate::sequence::{SequenceSet, SequenceSetBuilder};
use std::path::Path;

/// Reads an `.npy` file. The header's shape is checked against the file's size before any
/// data is allocated, so a hostile header cannot exhaust memory.
pub fn read(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let meta = file.metadata().map_err(|e| DataError::io(path, e))?;
    if meta.is_file() && meta.len() == 0 {
        return Err(DataError::file(path, "empty file"));
    }
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file))
        .map_err(|e| DataError::file(path, format!("not a readable .npy file: {e}")))?;
    let shape: Vec<u64> = npy.shape().to_vec();
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    let item: u64 = match &dtype[1..] {
        "f4" => 4,
        "f8" => 8,
        _ => {
            return Err(DataError::file(
                path,
                format!("dtype {dtype}: expected float32 (<f4) or float64 (<f8)"),
            ));
        }
    };
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
    let count = n
        .checked_mul(len)
        .and_then(|x| x.checked_mul(channels))
        .filter(|x| x.checked_mul(item).is_some_and(|b| b <= isize::MAX as u64));
    let Some(count) = count else {
        return Err(DataError::file(
            path,
            format!("array of shape {shape:?} is larger than any file: corrupt header?"),
        ));
    };
    if meta.is_file() && count * item > meta.len() {
        return Err(DataError::file(
            path,
            format!(
                "header declares shape {shape:?} ({} bytes of data) but the file has {} bytes",
                count * item,
                meta.len()
            ),
        ));
    }
    let (n, len, channels) = (n as usize, len as usize, channels as usize);
    let fortran = npy.order() == npyz::Order::Fortran;
    let truncated =
        |e: std::io::Error| DataError::file(path, format!("truncated or unreadable data: {e}"));
    // Pushed one by one (no reservation from the header) so that a stream shorter than its
    // header ends with an error, not a huge allocation.
    let mut data: Vec<f32> = Vec::new();
    if item == 4 {
        for v in npy
            .data::<f32>()
            .map_err(|e| DataError::file(path, e.to_string()))?
        {
            data.push(v.map_err(truncated)?);
        }
    } else {
        for v in npy
            .data::<f64>()
            .map_err(|e| DataError::file(path, e.to_string()))?
        {
            data.push(v.map_err(truncated)? as f32);
        }
    }
    if data.len() as u64 != count {
        return Err(DataError::file(
            path,
            format!("truncated data: {} of {count} values", data.len()),
        ));
    }
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
