//! NumPy arrays in aeon's layout to and from [`SequenceSet`]s (which are step-major).
//!
//! In: a float32 array `(n_cases, n_channels, n_timepoints)` or a list of float32 arrays
//! `(n_channels, length_i)`; the Python layer casts and reshapes anything else into one of
//! these. Trailing all-NaN steps are padding that ends a sequence early, as the readers treat
//! them; other NaNs are missing values, accepted only with `allow_missing`.
use numpy::ndarray::{Array2, Array3, ArrayView2, Axis};
use numpy::{IntoPyArray, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use seqae_data::{Matrix, SequenceSet, SequenceSetBuilder};

use crate::errors;

/// Drops trailing steps whose every channel is NaN.
fn trim_padding(values: &mut Vec<f32>, channels: usize) {
    while values.len() >= channels
        && channels > 0
        && values[values.len() - channels..].iter().all(|v| v.is_nan())
    {
        values.truncate(values.len() - channels);
    }
}

/// Appends sequence `i`, a `(channels, length)` view, to `b` through the step-major buffer
/// `buf`.
fn push(
    b: &mut SequenceSetBuilder,
    i: usize,
    x: ArrayView2<'_, f32>,
    allow_missing: bool,
    buf: &mut Vec<f32>,
) -> PyResult<()> {
    let (channels, len) = x.dim();
    buf.clear();
    buf.extend(x.t().iter().copied());
    if let Some(k) = buf.iter().position(|v| v.is_infinite()) {
        return Err(errors::value(format!(
            "X[{i}, {}, {}]: infinite value ({})",
            k % channels,
            k / channels,
            buf[k]
        )));
    }
    trim_padding(buf, channels);
    if buf.is_empty() && len > 0 {
        return Err(errors::value(format!(
            "sequence {i}: all values are NaN (zero length)"
        )));
    }
    if !allow_missing && let Some(k) = buf.iter().position(|v| v.is_nan()) {
        return Err(errors::value(format!(
            "X[{i}, {}, {}]: missing value (NaN); pass allow_missing=True to accept it",
            k % channels,
            k / channels
        )));
    }
    b.push(buf, None, None).map_err(errors::data)
}

/// The sequences of `x` (see the module documentation).
pub fn to_set(x: &Bound<'_, PyAny>, allow_missing: bool) -> PyResult<SequenceSet> {
    let mut buf = Vec::new();
    if let Ok(list) = x.cast::<PyList>() {
        let mut b: Option<SequenceSetBuilder> = None;
        for (i, item) in list.iter().enumerate() {
            let a: PyReadonlyArray2<'_, f32> = item.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "sequence {i}: expected a float32 array (n_channels, length)"
                ))
            })?;
            let view = a.as_array();
            let channels = view.dim().0;
            let builder = b.get_or_insert_with(|| SequenceSetBuilder::new(channels));
            if builder.channels() != channels {
                return Err(errors::value(format!(
                    "sequence {i} has {channels} channels but sequence 0 has {}",
                    builder.channels()
                )));
            }
            push(builder, i, view, allow_missing, &mut buf)?;
        }
        let b = b.ok_or_else(|| errors::value("X holds no sequences"))?;
        return b.finish().map_err(errors::data);
    }
    let a: PyReadonlyArray3<'_, f32> = x.extract().map_err(|_| {
        PyTypeError::new_err(
            "X: expected a float32 array (n_cases, n_channels, n_timepoints) or a list of (n_channels, length) arrays",
        )
    })?;
    let view = a.as_array();
    let mut b = SequenceSetBuilder::new(view.dim().1);
    for (i, seq) in view.axis_iter(Axis(0)).enumerate() {
        push(&mut b, i, seq, allow_missing, &mut buf)?;
    }
    b.finish().map_err(errors::data)
}

/// An `(n, k)` float32 array of a matrix.
pub fn matrix_out<'py>(py: Python<'py>, m: Matrix) -> PyResult<Bound<'py, PyAny>> {
    let (rows, cols) = m.shape();
    let a = Array2::from_shape_vec((rows, cols), m.into_vec())
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(a.into_pyarray(py).into_any())
}

/// The sequences of `set` in aeon's layout: with `pad_to = Some(t)` one float32 array
/// `(n, channels, t)`, NaN past each sequence's end; otherwise a list of `(channels, length_i)`
/// arrays.
pub fn set_out<'py>(
    py: Python<'py>,
    set: &SequenceSet,
    pad_to: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let c = set.channels();
    match pad_to {
        Some(t) => {
            let mut out = Array3::from_elem((set.len(), c, t), f32::NAN);
            for (i, mut row) in out.axis_iter_mut(Axis(0)).enumerate() {
                let seq = set.sequence(i);
                for (step, values) in seq.chunks_exact(c).take(t).enumerate() {
                    for (ch, &v) in values.iter().enumerate() {
                        row[[ch, step]] = v;
                    }
                }
            }
            Ok(out.into_pyarray(py).into_any())
        }
        None => {
            let list = PyList::empty(py);
            for i in 0..set.len() {
                let seq = set.sequence(i);
                let len = seq.len() / c.max(1);
                let a = Array2::from_shape_fn((c, len), |(ch, step)| seq[step * c + ch]);
                list.append(a.into_pyarray(py))?;
            }
            Ok(list.into_any())
        }
    }
}
