//! Latent-space analysis for sequence-autoencoder embeddings (or any row-major `f32` matrix):
//! k-means, spectral clustering, choosing k by silhouette, PCA and clustering metrics,
//! matching scikit-learn; and clustering of the raw sequences beside them (k-Shape, the
//! shape-based and warping distances, the view selection of [`clustering::cluster`]'s
//! default).
//!
//! No burn dependency: inputs are plain [`Matrix`] values (`Vec<f32>`, row-major; the type is
//! `seqae_data::Matrix`, re-exported here).
//!
//! ```
//! use seqae_latent::{KMeans, Matrix, Pca, metrics};
//! let m = Matrix::new(vec![0.0, 0.1, 0.2, 0.0, 9.0, 9.1, 9.2, 9.0], 4, 2)?;
//! let km = KMeans::new(2).with_seed(7).fit(&m)?;
//! assert_eq!(km.labels()[0], km.labels()[1]);
//! let pca = Pca::new(1).fit(&m)?;
//! assert!(pca.explained_variance_ratio()[0] > 0.99);
//! let s = metrics::silhouette(&m, km.labels())?;
//! assert!(s > 0.9);
//! # Ok::<(), seqae_latent::LatentError>(())
//! ```

pub mod clustering;
pub mod dtw;
pub mod error;
mod graph;
mod kernels;
pub mod kmeans;
pub mod kshape;
mod linalg;
mod lobpcg;
pub mod metrics;
mod nndescent;
pub mod pca;
#[doc(hidden)]
pub mod peak;
pub mod sbd;
pub mod select_k;
pub mod series;
pub mod spectral;
pub mod views;

pub use clustering::{ClusterOptions, Clustering, Method, cluster};
pub use error::{LatentError, Result};
pub use kmeans::{KMeans, KMeansModel};
pub use kshape::{KShape, KShapeModel};
pub use pca::{Pca, PcaModel};
pub use select_k::{KSelection, SelectK, choose_k};
pub use spectral::Spectral;
pub use views::View;

pub use seqae_data::Matrix;

/// `m` distinct indices of `0..n` drawn from `rng`, in increasing order.
pub(crate) fn sorted_sample(rng: &mut rand::rngs::StdRng, n: usize, m: usize) -> Vec<usize> {
    let mut idx = rand::seq::index::sample(rng, n, m).into_vec();
    idx.sort_unstable();
    idx
}
