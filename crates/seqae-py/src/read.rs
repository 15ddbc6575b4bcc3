//! `seqae.read`: every format the CLI reads, with its options.
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList};
use seqae_data::read::Column;
use seqae_data::{Format, ReadOptions, read_path};

use crate::{convert, errors};

/// A CSV column: a name (a string; a string of digits is an index, as on the command line) or
/// a 0-based index (an int).
fn column(what: &str, v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Column>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if v.is_instance_of::<PyInt>() {
        let i: i64 = v.extract()?;
        return usize::try_from(i)
            .map(|i| Some(Column::Index(i)))
            .map_err(|_| errors::value(format!("{what} = {i}: a column index is >= 0")));
    }
    let text: String = v.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "{what}: expected a column name (str) or a 0-based index (int)"
        ))
    })?;
    Ok(Some(Column::parse(&text)))
}

/// Reads a data file, or a folder of them merged (`NAME_TRAIN` before `NAME_TEST`), as
/// `seqae` reads it. Returns `(X, y)`: the sequences as a list of float32 arrays
/// `(channels, length_i)`, or one array `(n, channels, length)` when every length is equal;
/// and the labels (a list of str) or None.
#[pyfunction]
#[pyo3(signature = (path, format = None, allow_missing = false, label_column = None, id_column = None, time_column = None, header = None, delimiter = None))]
#[allow(clippy::too_many_arguments)]
pub fn read<'py>(
    py: Python<'py>,
    path: PathBuf,
    format: Option<&str>,
    allow_missing: bool,
    label_column: Option<&Bound<'py, PyAny>>,
    id_column: Option<&Bound<'py, PyAny>>,
    time_column: Option<&Bound<'py, PyAny>>,
    header: Option<bool>,
    delimiter: Option<&str>,
) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyList>>)> {
    let format = format
        .map(|f| f.parse::<Format>())
        .transpose()
        .map_err(|e| errors::value(e.to_string()))?;
    let delimiter = match delimiter {
        None => None,
        Some(d) => {
            let mut chars = d.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii() => Some(c as u8),
                _ => {
                    return Err(errors::value(format!(
                        "delimiter '{d}': must be one ASCII character"
                    )));
                }
            }
        }
    };
    let options = ReadOptions {
        format,
        allow_missing,
        header,
        label_column: column("label_column", label_column)?,
        id_column: column("id_column", id_column)?,
        time_column: column("time_column", time_column)?,
        delimiter,
    };
    let set = py.detach(|| errors::guard(|| read_path(&path, &options).map_err(errors::data)))?;
    let lengths = set.lengths();
    let equal = lengths.windows(2).all(|w| w[0] == w[1]);
    let x = convert::set_out(py, &set, equal.then(|| set.max_len()))?;
    let y = match set.labels() {
        Some(labels) => Some(PyList::new(py, labels)?),
        None => None,
    };
    Ok((x, y))
}
