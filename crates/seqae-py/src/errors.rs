//! Rust errors and panics as Python exceptions, with the messages the CLI prints.
use std::any::Any;
use std::io::ErrorKind;
use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::PyErr;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError,
    PyValueError,
};
use seqae_data::DataError;
use seqae_latent::LatentError;
use seqae_model::ModelError;

/// An I/O failure as the `OSError` subclass of its kind, with `message` (which names the path).
fn os_error(kind: ErrorKind, message: String) -> PyErr {
    match kind {
        ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
        ErrorKind::AlreadyExists => PyFileExistsError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

/// A data error: `OSError` for files that cannot be read, `ValueError` for bad content.
pub fn data(e: DataError) -> PyErr {
    match &e {
        DataError::Io { source, .. } => os_error(source.kind(), e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// A model error: `OSError` for files, `RuntimeError` for a tensor that cannot be read back
/// (the CLI's exit code 1), `ValueError` for everything about the input or the settings (the
/// CLI's exit code 2).
pub fn model(e: ModelError) -> PyErr {
    match e {
        ModelError::Io { ref source, .. } => os_error(source.kind(), e.to_string()),
        ModelError::Data(d) => data(d),
        ModelError::Tensor(_) | ModelError::Device(_) => PyRuntimeError::new_err(e.to_string()),
        ModelError::Memory(_) => pyo3::exceptions::PyMemoryError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A latent-analysis error (always about the input or the settings).
pub fn latent(e: LatentError) -> PyErr {
    match e {
        LatentError::Data(d) => data(d),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A `ValueError` with `message`.
pub fn value(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// The text of a panic's payload.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Runs `f`, turning a panic into a `RuntimeError` (a bug in seqae, never the user's input).
pub fn guard<T>(f: impl FnOnce() -> Result<T, PyErr>) -> Result<T, PyErr> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(PyRuntimeError::new_err(format!(
            "internal error in seqae (please report it): {}",
            panic_text(payload.as_ref())
        )))
    })
}
