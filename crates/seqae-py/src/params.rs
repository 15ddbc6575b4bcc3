//! The estimator's hyperparameters: the library's defaults, and the mapping of the keyword
//! arguments to [`ModelConfig`] and [`TrainConfig`], done as `seqae train` maps its flags
//! (`crates/seqae-cli/src/commands/mod.rs`, `ModelArgs::configs`).
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString};
use seqae_data::Normalization;
use seqae_model::{
    Backend, Cell, Contrast, DecoderInput, ModelConfig, Objective, Patch, Plateau, Pooling,
    TrainConfig,
};

use crate::errors;

/// The library's defaults under the estimator's parameter names (those of the CLI's flags):
/// what `seqae train` with no flags does. `epochs` and `min_updates` are `None`: the library's
/// default epochs with the floor of `library_min_updates` updates.
#[pyfunction]
pub fn defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let m = ModelConfig::default();
    let t = TrainConfig::default();
    let d = PyDict::new(py);
    d.set_item("cell", m.cell.name())?;
    d.set_item("hidden", m.hidden)?;
    d.set_item("latent", m.latent)?;
    d.set_item("layers", m.layers)?;
    d.set_item("bidirectional", m.bidirectional)?;
    d.set_item("dropout", m.dropout)?;
    d.set_item("patch", m.patch.to_string())?;
    d.set_item("pooling", m.pooling.name())?;
    d.set_item("decoder_input", m.decoder_input.name())?;
    d.set_item("teacher_ratio", DecoderInput::DEFAULT_TEACHER_RATIO)?;
    d.set_item("same_order", !m.reverse_target)?;
    d.set_item("epochs", py.None())?;
    d.set_item("min_updates", py.None())?;
    d.set_item("batch", t.batch_size)?;
    d.set_item("lr", t.lr)?;
    d.set_item("clip", t.clip_norm.unwrap_or(0.0))?;
    d.set_item("seed", t.seed)?;
    d.set_item("normalize", t.normalization.name())?;
    d.set_item("val_fraction", t.val_fraction)?;
    d.set_item("patience", t.patience)?;
    d.set_item("plateau", t.plateau.map(|p| p.patience))?;
    d.set_item("objective", t.objective.name())?;
    d.set_item("contrast_weight", t.contrast.weight)?;
    d.set_item("min_crop", t.contrast.min_crop)?;
    d.set_item("backend", Backend::default().name())?;
    d.set_item("library_epochs", t.epochs)?;
    d.set_item("library_min_updates", t.min_updates)?;
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

/// The model, training settings and backend that `params` (the estimator's `get_params()`)
/// describe, checked as the CLI checks its flags.
pub fn configs(params: &Bound<'_, PyDict>) -> PyResult<(ModelConfig, TrainConfig, Backend)> {
    let decoder_input: DecoderInput = name(params, "decoder_input")?;
    let model = ModelConfig {
        cell: name::<Cell>(params, "cell")?,
        hidden: count(params, "hidden")?,
        latent: count(params, "latent")?,
        layers: count(params, "layers")?,
        bidirectional: flag(params, "bidirectional")?,
        dropout: real(params, "dropout")?,
        decoder_input: decoder_input.with_ratio(real(params, "teacher_ratio")?),
        reverse_target: !flag(params, "same_order")?,
        patch: patch(params)?,
        pooling: name::<Pooling>(params, "pooling")?,
    };
    model.validate().map_err(errors::model)?;
    let defaults = TrainConfig::default();
    let epochs = opt_count(params, "epochs")?;
    // As the CLI: `epochs` alone means exactly that many; `min_updates=0` turns the floor off.
    let min_updates = match (opt_count(params, "min_updates")?, epochs) {
        (Some(0), _) => None,
        (Some(n), _) => Some(n),
        (None, None) => defaults.min_updates,
        (None, Some(_)) => None,
    };
    let clip = real(params, "clip")?;
    let train = TrainConfig {
        epochs: epochs.unwrap_or(defaults.epochs),
        min_updates,
        batch_size: count(params, "batch")?,
        lr: real(params, "lr")?,
        clip_norm: (clip > 0.0).then_some(clip),
        seed: {
            let v: i64 = typed(params, "seed", "a whole number")?;
            u64::try_from(v).map_err(|_| errors::value(format!("seed = {v}: must be >= 0")))?
        },
        val_fraction: real(params, "val_fraction")?,
        patience: opt_count(params, "patience")?,
        plateau: opt_count(params, "plateau")?.map(|patience| Plateau {
            patience,
            ..Default::default()
        }),
        normalization: name::<Normalization>(params, "normalize")?,
        bucket: defaults.bucket,
        objective: name::<Objective>(params, "objective")?,
        contrast: Contrast {
            weight: real(params, "contrast_weight")?,
            min_crop: real(params, "min_crop")?,
            ..defaults.contrast.clone()
        },
    };
    train.validate().map_err(errors::model)?;
    if !clip.is_finite() || clip < 0.0 {
        return Err(errors::value(format!(
            "clip = {clip}: must be 0 (off) or positive"
        )));
    }
    Ok((model, train, name::<Backend>(params, "backend")?))
}
