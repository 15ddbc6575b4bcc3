//! seqae's Python extension module `seqae._seqae`: the Rust side of the `seqae` package.
//!
//! The scikit-learn estimators (`seqae.SeqAE`, `seqae.SeqAEClusterer`) are pure Python
//! (`python/seqae/__init__.py`); this module gives them
//!
//! - [`Model`]: a fitted sequence autoencoder (train, embed, reconstruct, score, save, load,
//!   pickle through the model directory's bytes);
//! - [`read`](read::read): every data format the CLI reads;
//! - [`cluster`](cluster::cluster): the clustering of `seqae cluster` (`seqae_latent::cluster`)
//!   on embeddings and the sequences beside them;
//! - [`kshape`](cluster::kshape), [`kshape_predict`](cluster::kshape_predict): k-Shape on raw
//!   sequences;
//! - [`device_name`](model::device_name): what a backend runs on, or what it is missing;
//! - [`defaults`](params::defaults): the library's defaults, which the estimators take as
//!   theirs.
//!
//! Arrays come in aeon's layout (`n_cases, n_channels, n_timepoints`, or a list of
//! `(n_channels, length_i)` arrays) and are copied into a step-major
//! [`SequenceSet`](seqae_data::SequenceSet). Every error is a Python exception with the
//! message the CLI prints; a panic becomes `RuntimeError` and never aborts the interpreter.
//! Training and embedding run without the GIL.
mod cluster;
mod convert;
mod errors;
mod model;
mod params;
mod pool;
mod read;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _seqae(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(params::defaults, m)?)?;
    m.add_function(wrap_pyfunction!(params::descriptions, m)?)?;
    m.add_function(wrap_pyfunction!(read::read, m)?)?;
    m.add_function(wrap_pyfunction!(cluster::cluster, m)?)?;
    m.add_function(wrap_pyfunction!(cluster::kshape, m)?)?;
    m.add_function(wrap_pyfunction!(cluster::kshape_predict, m)?)?;
    m.add_function(wrap_pyfunction!(model::device_name, m)?)?;
    Ok(())
}
