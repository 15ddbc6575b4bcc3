//! Clustering for Python: `seqae_latent::cluster`, the entry point `seqae cluster`,
//! `seqae evaluate` and `seqae demo` use, on the latent vectors and (when given) the
//! sequences beside them.
use numpy::ndarray::{Array1, Array3};
use numpy::{IntoPyArray, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use seqae_latent::{ClusterOptions, KShape, KShapeModel, Matrix, Method};

use crate::{convert, errors, pool};

/// Clusters the rows of `z` (float32, n x d), with the sequences `x` (as `SeqAE.fit` takes
/// them) beside them when given: `n_clusters` clusters, or (None) the k of `2..=k_max` with
/// the best k-means silhouette; clusters by `method` ("auto", "spectral", "kmeans" or
/// "kshape", which needs `x`). Returns a dict: labels (int64, n), centres (float32, k x d:
/// each cluster's mean latent vector, or k-means' centres), k, method (what ran), view (the
/// view kept by "auto", or None), scores ([(k, silhouette)] when chosen), inertia, notes
/// (fallbacks, as strings).
#[pyfunction]
#[pyo3(signature = (z, x = None, n_clusters = None, k_max = 10, method = "auto", n_init = None, seed = 0, allow_missing = false, n_threads = None))]
#[allow(clippy::too_many_arguments)]
pub fn cluster<'py>(
    py: Python<'py>,
    z: PyReadonlyArray2<'py, f32>,
    x: Option<Bound<'py, PyAny>>,
    n_clusters: Option<usize>,
    k_max: usize,
    method: &str,
    n_init: Option<usize>,
    seed: u64,
    allow_missing: bool,
    n_threads: Option<i64>,
) -> PyResult<Bound<'py, PyDict>> {
    let method: Method = method
        .parse()
        .map_err(|e: seqae_data::UnknownName| errors::value(e.to_string()))?;
    let n_threads = pool::check(n_threads)?;
    let view = z.as_array();
    let (rows, cols) = view.dim();
    let m = Matrix::new(view.iter().copied().collect(), rows, cols).map_err(errors::data)?;
    let set = x.map(|x| convert::to_set(&x, allow_missing)).transpose()?;
    let opts = ClusterOptions {
        k: n_clusters,
        k_max,
        method,
        n_init,
        seed,
    };
    let found = py.detach(|| {
        pool::run(n_threads, || {
            seqae_latent::cluster(Some(&m), set.as_ref(), &opts).map_err(errors::latent)
        })
    })?;
    let d = PyDict::new(py);
    let labels: Array1<i64> = found.labels.iter().map(|&l| l as i64).collect();
    d.set_item("labels", labels.into_pyarray(py))?;
    d.set_item("centres", convert::matrix_out(py, found.centres)?)?;
    d.set_item("k", found.k)?;
    d.set_item("method", found.method.to_string())?;
    d.set_item("view", found.view.map(|v| v.to_string()))?;
    d.set_item("scores", found.k_scores)?;
    d.set_item("inertia", found.inertia)?;
    d.set_item("notes", found.notes)?;
    Ok(d)
}

/// k-Shape on the sequences `x` (as `SeqAE.fit` takes them): `n_clusters` clusters, `n_init`
/// restarts of at most `max_iter` rounds. Returns a dict: labels (int64, n), centroids
/// (float32, k x channels x length, z-normalised), inertia (the summed shape-based distance),
/// n_iter.
#[pyfunction]
#[pyo3(signature = (x, n_clusters, n_init = 3, max_iter = 100, seed = 0, allow_missing = false, n_threads = None))]
#[allow(clippy::too_many_arguments)]
pub fn kshape<'py>(
    py: Python<'py>,
    x: Bound<'py, PyAny>,
    n_clusters: usize,
    n_init: usize,
    max_iter: usize,
    seed: u64,
    allow_missing: bool,
    n_threads: Option<i64>,
) -> PyResult<Bound<'py, PyDict>> {
    let n_threads = pool::check(n_threads)?;
    let set = convert::to_set(&x, allow_missing)?;
    let model = py.detach(|| {
        pool::run(n_threads, || {
            KShape::new(n_clusters)
                .with_n_init(n_init)
                .with_max_iter(max_iter)
                .with_seed(seed)
                .fit(&set)
                .map_err(errors::latent)
        })
    })?;
    let (k, len, c) = (model.k(), model.max_len(), model.channels());
    let centroids = Array3::from_shape_fn((k, c, len), |(j, ch, t)| model.centroid(j)[t * c + ch]);
    let d = PyDict::new(py);
    let labels: Array1<i64> = model.labels().iter().map(|&l| l as i64).collect();
    d.set_item("labels", labels.into_pyarray(py))?;
    d.set_item("centroids", centroids.into_pyarray(py))?;
    d.set_item("inertia", model.inertia())?;
    d.set_item("n_iter", model.n_iter())?;
    Ok(d)
}

/// The nearest of the k-Shape `centroids` (float32, k x channels x length) to each sequence
/// of `x`, by the shape-based distance: int64, n.
#[pyfunction]
#[pyo3(signature = (centroids, x, allow_missing = false, n_threads = None))]
pub fn kshape_predict<'py>(
    py: Python<'py>,
    centroids: PyReadonlyArray3<'py, f32>,
    x: Bound<'py, PyAny>,
    allow_missing: bool,
    n_threads: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let n_threads = pool::check(n_threads)?;
    let view = centroids.as_array();
    let (k, c, len) = view.dim();
    let mut values = Vec::with_capacity(k * c * len);
    for j in 0..k {
        for t in 0..len {
            for ch in 0..c {
                values.push(view[[j, ch, t]]);
            }
        }
    }
    let model = KShapeModel::from_centroids(values, len, c).map_err(errors::latent)?;
    let set = convert::to_set(&x, allow_missing)?;
    let labels =
        py.detach(|| pool::run(n_threads, || model.predict(&set).map_err(errors::latent)))?;
    let labels: Array1<i64> = labels.iter().map(|&l| l as i64).collect();
    Ok(labels.into_pyarray(py).into_any())
}
