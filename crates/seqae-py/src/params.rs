//! The estimator's hyperparameters: the library's [`Hyperparameters`] under their own names
//! (those of `seqae train`'s flags), read from and written to the estimator's parameter dict.
//! The defaults, the mapping to the model's configs and its checks are the library's, shared
//! with the command line.
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString};
use seqae_model::{Hyperparameters, Patch, Spelling, TrainConfig};

use crate::errors;

/// The library's defaults under the estimator's parameter names: what `seqae train` with no
/// flags does (`None` where the library's default depends on other settings), and
/// `library_epochs`/`library_min_updates`, the epochs and update floor `epochs=None` means.
#[pyfunction]
pub fn defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = to_dict(py, &Hyperparameters::default())?;
    let t = TrainConfig::default();
    d.set_item("library_epochs", t.epochs)?;
    d.set_item("library_min_updates", t.min_updates)?;
    Ok(d)
}

/// Each hyperparameter's name, the values it takes and what it does, in the estimators'
/// order ([`seqae_model::DESCRIPTIONS`]): the source of their documentation.
#[pyfunction]
pub fn descriptions() -> Vec<(&'static str, &'static str, &'static str)> {
    seqae_model::DESCRIPTIONS.to_vec()
}

/// `hp` as the estimator's parameters: names as strings, `patch` a number once fitted.
pub fn to_dict<'py>(py: Python<'py>, hp: &Hyperparameters) -> PyResult<Bound<'py, PyDict>> {
    let json = serde_json::to_value(hp).map_err(|e| errors::value(e.to_string()))?;
    let d = PyDict::new(py);
    for (key, value) in json.as_object().into_iter().flatten() {
        match value {
            serde_json::Value::Null => d.set_item(key, py.None())?,
            serde_json::Value::Bool(b) => d.set_item(key, b)?,
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(u) => d.set_item(key, u)?,
                None => d.set_item(key, n.as_f64())?,
            },
            serde_json::Value::String(text) => match (key.as_str(), hp.patch) {
                ("patch", Patch::Size(n)) => d.set_item(key, n)?,
                _ => d.set_item(key, text)?,
            },
            other => d.set_item(key, other.to_string())?,
        }
    }
    Ok(d)
}

/// The value of `key` in the parameter dict (a `KeyError` names a missing one).
fn item<'py>(params: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    params
        .get_item(key)?
        .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(key.to_string()))
}

/// `key` as `T`, with the parameter named in the `TypeError`.
fn typed<'py, T: pyo3::conversion::FromPyObjectOwned<'py>>(
    params: &Bound<'py, PyDict>,
    key: &str,
    what: &str,
) -> PyResult<T> {
    let v = item(params, key)?;
    v.extract::<T>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "{key} = {}: must be {what}",
            v.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))
    })
}

/// A whole number `>= 0` (sizes and counts; zero is refused by the library's checks, with its
/// message).
fn count(params: &Bound<'_, PyDict>, key: &str) -> PyResult<usize> {
    let v: i64 = typed(params, key, "a whole number")?;
    usize::try_from(v).map_err(|_| errors::value(format!("{key} = {v}: must be at least 0")))
}

/// An optional whole number `>= 0`.
fn opt_count(params: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<usize>> {
    if item(params, key)?.is_none() {
        return Ok(None);
    }
    count(params, key).map(Some)
}

/// A real number.
fn real(params: &Bound<'_, PyDict>, key: &str) -> PyResult<f64> {
    typed(params, key, "a real number")
}

/// A boolean (Python `bool` or NumPy `bool_`).
fn flag(params: &Bound<'_, PyDict>, key: &str) -> PyResult<bool> {
    typed(params, key, "True or False")
}

/// A name parsed with the enum's `FromStr` (its error lists the accepted names).
fn name<T>(params: &Bound<'_, PyDict>, key: &str) -> PyResult<T>
where
    T: std::str::FromStr<Err = seqae_data::UnknownName>,
{
    let text: String = typed(params, key, "a string")?;
    text.parse::<T>().map_err(|e| errors::value(e.to_string()))
}

/// `patch`: `"auto"` or a whole number of at least 1.
fn patch(params: &Bound<'_, PyDict>) -> PyResult<Patch> {
    let v = item(params, "patch")?;
    if v.is_instance_of::<PyString>() {
        let text: String = v.extract()?;
        return text
            .parse::<Patch>()
            .map_err(|e| errors::value(format!("patch: {e}")));
    }
    if v.is_instance_of::<PyInt>() || v.hasattr("__index__")? {
        let n: i64 = v.extract()?;
        return match usize::try_from(n) {
            Ok(n) if n >= 1 => Ok(Patch::Size(n)),
            _ => Err(errors::value(format!(
                "patch must be auto or a whole number >= 1, not {n}"
            ))),
        };
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "patch = {}: must be \"auto\" or a whole number",
        v.repr()?
    )))
}

/// `key` as a real number, or `None`.
fn opt_real(params: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<f64>> {
    if item(params, key)?.is_none() {
        return Ok(None);
    }
    real(params, key).map(Some)
}

/// The settings that `params` (the estimator's `get_params()`) describe, each converted with
/// a `TypeError` or `ValueError` naming it; [`Hyperparameters::configs`] checks them.
pub fn hyperparameters(params: &Bound<'_, PyDict>) -> PyResult<Hyperparameters> {
    Ok(Hyperparameters {
        cell: name(params, "cell")?,
        hidden: count(params, "hidden")?,
        latent: count(params, "latent")?,
        layers: count(params, "layers")?,
        bidirectional: flag(params, "bidirectional")?,
        dropout: real(params, "dropout")?,
        patch: patch(params)?,
        pooling: name(params, "pooling")?,
        decoder_input: name(params, "decoder_input")?,
        teacher_ratio: opt_real(params, "teacher_ratio")?,
        same_order: flag(params, "same_order")?,
        epochs: opt_count(params, "epochs")?,
        min_updates: opt_count(params, "min_updates")?,
        batch: count(params, "batch")?,
        lr: real(params, "lr")?,
        clip: real(params, "clip")?,
        seed: {
            let v: i64 = typed(params, "seed", "a whole number")?;
            u64::try_from(v).map_err(|_| errors::value(format!("seed = {v}: must be >= 0")))?
        },
        normalize: name(params, "normalize")?,
        val_fraction: real(params, "val_fraction")?,
        patience: opt_count(params, "patience")?,
        plateau: opt_count(params, "plateau")?,
        objective: name(params, "objective")?,
        contrast_weight: opt_real(params, "contrast_weight")?,
        min_crop: opt_real(params, "min_crop")?,
        backend: name(params, "backend")?,
    })
}

/// [`hyperparameters`], checked by the library as the command line's flags are.
pub fn checked(params: &Bound<'_, PyDict>) -> PyResult<Hyperparameters> {
    let hp = hyperparameters(params)?;
    hp.configs(Spelling::Keyword).map_err(errors::model)?;
    Ok(hp)
}
