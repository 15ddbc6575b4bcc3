//! [`Model`]: a fitted [`SeqAe`] as a Python object.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use numpy::IntoPyArray;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use seqae_model::{Backend, DecoderInput, EpochReport, Fitted, Hyperparameters, SeqAe, Spelling};

use seqae_data::atomic::Publish;

use crate::{convert, errors, params, pool};

/// How often a fit without the GIL looks for Ctrl-C (and prints progress).
const POLL: Duration = Duration::from_millis(100);

/// The directory name a model is written to inside a temporary directory.
const STAGED: &str = "model";

/// A fitted sequence autoencoder (the Rust model behind `seqae.SeqAE`).
#[pyclass(module = "seqae._seqae", frozen)]
pub struct Model {
    inner: SeqAe,
    /// The private copy of the model directory a loaded model reads its weights from:
    /// `SeqAe::load` leaves them in the file and reads them on use, so the directory must
    /// outlive the model (the user's may be deleted or replaced; a pickle's is temporary).
    _files: Option<tempfile::TempDir>,
}

/// A new temporary directory.
fn tempdir() -> PyResult<tempfile::TempDir> {
    tempfile::tempdir()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot create a temporary directory: {e}")))
}

/// What `backend` runs on: for "gpu" the adapter as its driver reports it (a build without
/// the `gpu` feature, or a machine without a Vulkan device, raises RuntimeError saying what
/// is missing); the backend's name and "(CPU)" otherwise.
#[pyfunction]
#[pyo3(signature = (backend = "gpu"))]
pub fn device_name(backend: &str) -> PyResult<String> {
    let backend: Backend = backend.parse().map_err(|e| errors::value(format!("{e}")))?;
    backend.device_name().map_err(errors::model)
}

/// Loads the model directory `dir` from a private copy (see [`Model::_files`]). The model is
/// first read from `dir` itself, so that errors name the user's path.
fn load_private(dir: &std::path::Path, backend: Backend) -> PyResult<Model> {
    SeqAe::load(dir, backend).map_err(errors::model)?;
    let tmp = tempdir()?;
    let copy = tmp.path().join(STAGED);
    let io = |e: std::io::Error| PyRuntimeError::new_err(format!("{}: {e}", dir.display()));
    std::fs::create_dir(&copy).map_err(io)?;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file()
            && let Some(name) = path.file_name()
        {
            std::fs::copy(&path, copy.join(name)).map_err(io)?;
        }
    }
    let inner = SeqAe::load(&copy, backend).map_err(errors::model)?;
    Ok(Model {
        inner,
        _files: Some(tmp),
    })
}

/// Writes `text` and a newline to Python's `sys.stderr` (a notebook shows it), falling back on
/// the process's standard error.
fn say(py: Python<'_>, text: &str) -> PyResult<()> {
    let written = py.import("sys").and_then(|sys| {
        let err = sys.getattr("stderr")?;
        err.call_method1("write", (format!("{text}\n"),))?;
        err.call_method0("flush")
    });
    match written {
        Ok(_) => Ok(()),
        // A signal handler ran inside write(): its exception (Ctrl-C) must not be lost.
        Err(e) if !e.is_instance_of::<pyo3::exceptions::PyException>(py) => Err(e),
        Err(_) => {
            eprintln!("{text}");
            Ok(())
        }
    }
}

/// Whether the progress of this epoch is printed: every epoch with `verbose >= 2`, else the
/// first, the last and about every tenth.
fn shown(r: &EpochReport, verbose: u32) -> bool {
    let every = r.epochs.div_ceil(10).max(1);
    verbose >= 2 || r.epoch == 1 || r.epoch == r.epochs || r.epoch.is_multiple_of(every)
}

/// One line of progress, as the CLI's progress bar says it.
fn progress(r: &EpochReport) -> String {
    let loss = match r.val_loss {
        Some(v) => format!("loss {:.4} val {v:.4}", r.train_loss),
        None => format!("loss {:.4}", r.train_loss),
    };
    format!(
        "epoch {}/{} {loss} [{:.1} s]",
        r.epoch,
        r.epochs,
        r.elapsed.as_secs_f64()
    )
}

/// Trains without the GIL on a worker thread, while this (the calling) thread checks for
/// signals every [`POLL`] and prints progress: Python runs signal handlers only on the main
/// thread, so the check cannot happen in the trainer's callback on a pool thread. A signal
/// handler's exception (Ctrl-C: `KeyboardInterrupt`) stops the fit after the current batch
/// and is returned.
fn fit_detached(
    py: Python<'_>,
    hp: Hyperparameters,
    set: &seqae_data::SequenceSet,
    verbose: u32,
    n_threads: Option<usize>,
) -> (PyResult<Fitted>, Option<PyErr>) {
    py.detach(move || {
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<String>();
        let mut interrupt: Option<PyErr> = None;
        let fitted = std::thread::scope(|s| {
            let stop = &stop;
            let worker = s.spawn(move || {
                pool::run(n_threads, move || {
                    let mut trainer = hp
                        .trainer(Spelling::Keyword)
                        .map_err(errors::model)?
                        .stop_when(|| stop.load(Ordering::Relaxed));
                    if verbose > 0 {
                        trainer = trainer.on_epoch(move |r| {
                            if shown(r, verbose) {
                                // The receiver outlives the fit; a failed send loses a line.
                                let _ = tx.send(progress(r));
                            }
                        });
                    }
                    trainer.fit(set).map_err(errors::model)
                })
            });
            loop {
                let (line, done) = match rx.recv_timeout(POLL) {
                    Ok(line) => (Some(line), false),
                    Err(RecvTimeoutError::Timeout) => (None, false),
                    Err(RecvTimeoutError::Disconnected) => (None, true),
                };
                // Signals are checked after every line too, so that fast progress cannot
                // starve the check.
                let checked = Python::attach(|py| {
                    if let Some(line) = &line {
                        say(py, line)?;
                    }
                    py.check_signals()
                });
                if interrupt.is_none()
                    && let Err(e) = checked
                {
                    interrupt = Some(e);
                    stop.store(true, Ordering::Relaxed);
                }
                if done {
                    break;
                }
            }
            worker.join().unwrap_or_else(|_| {
                Err(PyRuntimeError::new_err(
                    "internal error in seqae (please report it): the training thread panicked",
                ))
            })
        });
        (fitted, interrupt)
    })
}

#[pymethods]
impl Model {
    /// Trains a model on `x` with the estimator's parameters `params`; returns the model, the
    /// divergence message (None when the fit converged) and, when a signal stopped training
    /// after an epoch finished, that epoch (the model is then the one it left). Raises the
    /// signal handler's exception (KeyboardInterrupt) when no epoch had finished.
    #[staticmethod]
    #[pyo3(signature = (x, params, allow_missing = false, verbose = 0, n_threads = None))]
    fn fit(
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        params: &Bound<'_, PyDict>,
        allow_missing: bool,
        verbose: u32,
        n_threads: Option<i64>,
    ) -> PyResult<(Model, Option<String>, Option<usize>)> {
        let hp = params::checked(params)?;
        let n_threads = pool::check(n_threads)?;
        let set = convert::to_set(x, allow_missing)?;
        let (fitted, interrupt) = fit_detached(py, hp, &set, verbose, n_threads);
        let stopped = match (&fitted, interrupt) {
            // The last finished epoch's model goes back with the news of the stop.
            (Ok(f), _) if f.interrupted.is_some_and(|e| e > 0) => f.interrupted,
            (_, Some(e)) => return Err(e),
            (Ok(f), None) if f.interrupted.is_some() => {
                return Err(PyKeyboardInterrupt::new_err(
                    "training stopped before an epoch finished",
                ));
            }
            _ => None,
        };
        let fitted = fitted?;
        if verbose > 0 && fitted.diverged.is_none() {
            let h = fitted.model.history();
            say(
                py,
                &format!(
                    "trained {} epochs{} on {} sequences: loss {:.4}",
                    h.train_loss.len(),
                    if h.stopped_early {
                        " (stopped early)"
                    } else {
                        ""
                    },
                    h.train_size,
                    h.train_loss.last().copied().unwrap_or(f64::NAN)
                ),
            )?;
        }
        let diverged = fitted.diverged.as_ref().map(|d| d.to_string());
        Ok((
            Model {
                inner: fitted.model,
                _files: None,
            },
            diverged,
            stopped,
        ))
    }

    /// The latent vector of every sequence: a float32 array (n, latent).
    #[pyo3(signature = (x, allow_missing = false, n_threads = None))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        allow_missing: bool,
        n_threads: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let n_threads = pool::check(n_threads)?;
        let set = convert::to_set(x, allow_missing)?;
        let model = &self.inner;
        let z = py.detach(|| pool::run(n_threads, || model.embed(&set).map_err(errors::model)))?;
        convert::matrix_out(py, z)
    }

    /// Reconstructions in the original units: with `pad_to` one float32 array
    /// (n, channels, pad_to), NaN past each sequence's end, else a list of
    /// (channels, length_i) arrays.
    #[pyo3(signature = (x, allow_missing = false, pad_to = None, n_threads = None))]
    fn reconstruct<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        allow_missing: bool,
        pad_to: Option<usize>,
        n_threads: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let n_threads = pool::check(n_threads)?;
        let set = convert::to_set(x, allow_missing)?;
        let model = &self.inner;
        let out =
            py.detach(|| pool::run(n_threads, || model.reconstruct(&set).map_err(errors::model)))?;
        convert::set_out(py, &out, pad_to)
    }

    /// The sequences of `length` steps the decoder writes from the latent vectors `z`
    /// (float32, n x latent): a float32 array (n, channels, length), in the original units
    /// for "global" and "minmax" normalisation, normalised units otherwise.
    #[pyo3(signature = (z, length, n_threads = None))]
    fn decode<'py>(
        &self,
        py: Python<'py>,
        z: numpy::PyReadonlyArray2<'py, f32>,
        length: usize,
        n_threads: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let n_threads = pool::check(n_threads)?;
        let view = z.as_array();
        let (rows, cols) = view.dim();
        let m = seqae_latent::Matrix::new(view.iter().copied().collect(), rows, cols)
            .map_err(errors::data)?;
        let model = &self.inner;
        let out = py.detach(|| {
            pool::run(n_threads, || {
                model.decode(&m, length).map_err(errors::model)
            })
        })?;
        convert::set_out(py, &out, Some(length))
    }

    /// The reconstruction error of every sequence (mean squared error over its observed
    /// values, normalised units): a float32 array (n,).
    #[pyo3(signature = (x, allow_missing = false, n_threads = None))]
    fn errors<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        allow_missing: bool,
        n_threads: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let n_threads = pool::check(n_threads)?;
        let set = convert::to_set(x, allow_missing)?;
        let model = &self.inner;
        let e = py.detach(|| {
            pool::run(n_threads, || {
                model.reconstruction_error(&set).map_err(errors::model)
            })
        })?;
        Ok(e.into_pyarray(py).into_any())
    }

    /// Writes the model directory `path` (the CLI's format: `seqae embed` reads it), with
    /// `extras` ({file name: bytes}, plain names) beside the model files, all published
    /// together. A directory that holds a model is replaced; one with other files is refused.
    #[pyo3(signature = (path, extras = None))]
    fn save(
        &self,
        py: Python<'_>,
        path: PathBuf,
        extras: Option<Vec<(String, Vec<u8>)>>,
    ) -> PyResult<()> {
        let extras = extras.unwrap_or_default();
        if let Some((name, _)) = extras.iter().find(|(name, _)| {
            let p = std::path::Path::new(name);
            let own = [
                seqae_model::CONFIG_FILE,
                seqae_model::WEIGHTS_FILE,
                seqae_model::HISTORY_FILE,
                seqae_model::TRAINING_FILE,
                seqae_model::OPTIMIZER_FILE,
                seqae_model::BEST_FILE,
            ];
            p.file_name().is_none_or(|f| f != p.as_os_str())
                || name.starts_with('.')
                || own.contains(&name.as_str())
        }) {
            return Err(errors::value(format!(
                "{name:?}: an extra file of a model directory needs a plain file name other than the model's own"
            )));
        }
        let model = &self.inner;
        py.detach(|| {
            errors::guard(|| {
                model
                    .save_with(&path, Publish::Replace, |staged| {
                        for (name, bytes) in &extras {
                            let file = staged.join(name);
                            seqae_data::atomic::write_bytes(&file, bytes).map_err(|e| {
                                seqae_model::ModelError::Write {
                                    path: path.join(name),
                                    source: e,
                                }
                            })?;
                        }
                        Ok::<(), seqae_model::ModelError>(())
                    })
                    .map_err(errors::model)
            })
        })
    }

    /// Reads a model directory (written by `seqae train` or `save`) for inference on
    /// `backend`.
    #[staticmethod]
    #[pyo3(signature = (path, backend = "flex"))]
    fn load(py: Python<'_>, path: PathBuf, backend: &str) -> PyResult<Model> {
        let backend: Backend = backend.parse().map_err(|e| errors::value(format!("{e}")))?;
        py.detach(|| errors::guard(|| load_private(&path, backend)))
    }

    /// The files of the model directory: {file name: bytes}.
    fn files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let model = &self.inner;
        let files = py.detach(|| {
            errors::guard(|| {
                let tmp = tempdir()?;
                let dir = tmp.path().join(STAGED);
                model.save(&dir).map_err(errors::model)?;
                let mut files = Vec::new();
                let io =
                    |e: std::io::Error| PyRuntimeError::new_err(format!("{}: {e}", dir.display()));
                for entry in std::fs::read_dir(&dir).map_err(io)? {
                    let path = entry.map_err(io)?.path();
                    if path.is_file() {
                        let name = path
                            .file_name()
                            .and_then(|n| n.to_str())
                            .ok_or_else(|| {
                                PyRuntimeError::new_err("a model file name is not UTF-8")
                            })?
                            .to_string();
                        files.push((name, std::fs::read(&path).map_err(io)?));
                    }
                }
                files.sort();
                Ok(files)
            })
        })?;
        let d = PyDict::new(py);
        for (name, bytes) in files {
            d.set_item(name, PyBytes::new(py, &bytes))?;
        }
        Ok(d)
    }

    /// The model whose directory holds `files` ({file name: bytes}, as `files()` gives).
    #[staticmethod]
    fn from_files(py: Python<'_>, files: &Bound<'_, PyDict>) -> PyResult<Model> {
        let mut contents = Vec::new();
        for (k, v) in files.iter() {
            let name: String = k.extract()?;
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
                return Err(errors::value(format!(
                    "model file name {name:?}: must be a plain file name"
                )));
            }
            let bytes = v.cast::<PyBytes>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!("model file {name}: expected bytes"))
            })?;
            contents.push((name, bytes.as_bytes().to_vec()));
        }
        py.detach(|| {
            errors::guard(|| {
                let tmp = tempdir()?;
                let dir = tmp.path().join(STAGED);
                let io =
                    |e: std::io::Error| PyRuntimeError::new_err(format!("{}: {e}", dir.display()));
                std::fs::create_dir(&dir).map_err(io)?;
                for (name, bytes) in &contents {
                    std::fs::write(dir.join(name), bytes).map_err(io)?;
                }
                let inner = SeqAe::load(&dir, Backend::default()).map_err(errors::model)?;
                Ok(Model {
                    inner,
                    _files: Some(tmp),
                })
            })
        })
    }

    /// Pickles as the model directory's bytes.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyDict>,))> {
        let from_files = slf.get_type().getattr("from_files")?;
        Ok((from_files, (slf.get().files(slf.py())?,)))
    }

    /// Channels of the training data.
    #[getter]
    fn channels(&self) -> usize {
        self.inner.channels()
    }

    /// Size of the latent vectors.
    #[getter]
    fn latent(&self) -> usize {
        self.inner.latent_dim()
    }

    /// Number of trainable values.
    #[getter]
    fn num_params(&self) -> usize {
        self.inner.num_params()
    }

    /// The settings the model was fitted with, under the estimator's parameter names; for a
    /// model file without them (an older one), its architecture (patch: the fitted size) and
    /// normalisation.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if let Some(hp) = self.inner.hyperparameters() {
            return params::to_dict(py, hp);
        }
        let c = self.inner.config();
        let d = PyDict::new(py);
        d.set_item("cell", c.cell.name())?;
        d.set_item("hidden", c.hidden)?;
        d.set_item("latent", c.latent)?;
        d.set_item("layers", c.layers)?;
        d.set_item("bidirectional", c.bidirectional)?;
        d.set_item("dropout", c.dropout)?;
        d.set_item("decoder_input", c.decoder_input.name())?;
        let ratio = match c.decoder_input {
            DecoderInput::TeacherForcing { ratio } => Some(ratio),
            _ => None,
        };
        d.set_item("teacher_ratio", ratio)?;
        d.set_item("same_order", !c.reverse_target)?;
        d.set_item("patch", c.patch_size())?;
        d.set_item("pooling", c.pooling.name())?;
        d.set_item("normalize", self.inner.normalizer().kind.name())?;
        Ok(d)
    }

    /// How the model was fitted: train_loss, val_loss, lr (per epoch), best_epoch,
    /// stopped_early, train_size, val_size.
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let h = self.inner.history();
        let d = PyDict::new(py);
        d.set_item("train_loss", h.train_loss.clone())?;
        d.set_item("val_loss", h.val_loss.clone())?;
        d.set_item("lr", h.lr.clone())?;
        d.set_item("best_epoch", h.best_epoch)?;
        d.set_item("stopped_early", h.stopped_early)?;
        d.set_item("train_size", h.train_size)?;
        d.set_item("val_size", h.val_size)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Model(cell={}, hidden={}, latent={}, channels={})",
            c.cell.name(),
            c.hidden,
            c.latent,
            self.inner.channels()
        )
    }
}
