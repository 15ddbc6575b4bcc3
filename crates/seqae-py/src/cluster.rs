//! Clustering embeddings as `seqae cluster` does (crates/seqae-cli/src/commands/cluster.rs):
//! k given, or chosen by the best mean silhouette of k-means over `2..=k_max`; then the
//! clusters of that k from spectral clustering or k-means.
use numpy::ndarray::Array1;
use numpy::{IntoPyArray, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use seqae_latent::{Clusterer, KMeans, Matrix, SelectK, Spectral, metrics};

use crate::{convert, errors, pool};

/// k-means restarts, as `seqae cluster` (`--n-init`) and `seqae evaluate`.
const N_INIT: usize = 10;

/// What [`cluster`] found.
struct Found {
    labels: Vec<usize>,
    centres: Matrix,
    k: usize,
    scores: Vec<(usize, f64)>,
    inertia: f64,
    /// Spectral clustering was asked for but the data has more points than it takes.
    fell_back: bool,
}

/// The mean of the rows of each cluster (`k x d`).
fn means(m: &Matrix, labels: &[usize], k: usize) -> seqae_latent::Result<Matrix> {
    let d = m.cols();
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0usize; k];
    for (row, &l) in m.iter_rows().zip(labels) {
        counts[l] += 1;
        for (s, &v) in sums[l * d..(l + 1) * d].iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    let centres = sums
        .iter()
        .enumerate()
        .map(|(j, s)| (s / counts[j / d].max(1) as f64) as f32)
        .collect();
    Ok(Matrix::new(centres, k, d)?)
}

/// Clusters the rows of `m`.
fn find(
    m: &Matrix,
    n_clusters: Option<usize>,
    k_max: usize,
    clusterer: Clusterer,
    seed: u64,
) -> PyResult<Found> {
    let kmeans = KMeans::new(1).with_n_init(N_INIT).with_seed(seed);
    let (k, scores, kmeans_model) = match n_clusters {
        Some(k) => (k, Vec::new(), None),
        None => {
            if k_max < 2 {
                return Err(errors::value(format!(
                    "k_max = {k_max}: n_clusters='auto' compares k = 2..=k_max, so k_max must be at least 2"
                )));
            }
            let hi = k_max.min(m.rows().saturating_sub(1));
            if hi < 2 {
                return Err(errors::value(format!(
                    "n_clusters='auto' needs at least 3 sequences to compare k = 2.. (got {})",
                    m.rows()
                )));
            }
            let sel = SelectK::new(2..=hi)
                .with_kmeans(kmeans.clone())
                .with_seed(seed)
                .fit(m)
                .map_err(errors::latent)?;
            (sel.best_k, sel.scores, Some(sel.model))
        }
    };
    let spectral = clusterer == Clusterer::Spectral && m.rows() <= Spectral::MAX_POINTS;
    let fell_back = clusterer == Clusterer::Spectral && !spectral;
    if spectral {
        let labels = Clusterer::Spectral
            .labels(m, k, seed)
            .map_err(errors::latent)?;
        let centres = means(m, &labels, k).map_err(errors::latent)?;
        let inertia = metrics::inertia(m, &centres, &labels).map_err(errors::latent)?;
        return Ok(Found {
            labels,
            centres,
            k,
            scores,
            inertia,
            fell_back,
        });
    }
    let model = match kmeans_model {
        Some(model) => model,
        None => kmeans.with_k(k).fit(m).map_err(errors::latent)?,
    };
    Ok(Found {
        labels: model.labels().to_vec(),
        centres: model.centroids().clone(),
        k,
        scores,
        inertia: model.inertia(),
        fell_back,
    })
}

/// Clusters the rows of `z` (float32, n x d): `n_clusters` clusters, or (None) the k of
/// `2..=k_max` with the best k-means silhouette; clusters from `clusterer` ("spectral" or
/// "kmeans"). Returns a dict: labels (int64, n), centres (float32, k x d: the k-means centres,
/// or the mean of each spectral cluster), k, scores ([(k, silhouette)] when chosen), inertia,
/// fell_back (spectral asked for on more points than it takes: the clusters are k-means').
#[pyfunction]
#[pyo3(signature = (z, n_clusters = None, k_max = 10, clusterer = "spectral", seed = 0, n_threads = None))]
pub fn cluster<'py>(
    py: Python<'py>,
    z: PyReadonlyArray2<'py, f32>,
    n_clusters: Option<usize>,
    k_max: usize,
    clusterer: &str,
    seed: u64,
    n_threads: Option<i64>,
) -> PyResult<Bound<'py, PyDict>> {
    let clusterer: Clusterer = clusterer
        .parse()
        .map_err(|e: seqae_data::UnknownName| errors::value(e.to_string()))?;
    let n_threads = pool::check(n_threads)?;
    let view = z.as_array();
    let (rows, cols) = view.dim();
    let m = Matrix::new(view.iter().copied().collect(), rows, cols).map_err(errors::data)?;
    let found =
        py.detach(|| pool::run(n_threads, || find(&m, n_clusters, k_max, clusterer, seed)))?;
    let d = PyDict::new(py);
    let labels: Array1<i64> = found.labels.iter().map(|&l| l as i64).collect();
    d.set_item("labels", labels.into_pyarray(py))?;
    d.set_item("centres", convert::matrix_out(py, found.centres)?)?;
    d.set_item("k", found.k)?;
    d.set_item("scores", found.scores)?;
    d.set_item("inertia", found.inertia)?;
    d.set_item("fell_back", found.fell_back)?;
    Ok(d)
}
