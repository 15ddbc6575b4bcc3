//! Latent-space analysis for sequence-autoencoder embeddings (or any row-major `f32` matrix):
//! k-means, choosing k by silhouette, PCA and clustering metrics, matching scikit-learn.
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

pub mod error;
mod kernels;
pub mod kmeans;
mod linalg;
pub mod metrics;
pub mod pca;
pub mod peak;
pub mod select_k;
pub mod spectral;

pub use error::{LatentError, Result};
pub use kmeans::{KMeans, KMeansModel};
pub use pca::{Pca, PcaModel};
pub use select_k::{KSelection, SelectK, choose_k};
pub use spectral::Spectral;

/// How `k` clusters are found in a matrix of embeddings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Clusterer {
    /// k-means on the points (10 restarts).
    KMeans,
    /// Spectral clustering on their nearest-neighbour graph ([`Spectral`]; the default:
    /// docs/QUALITY.md).
    #[default]
    Spectral,
}

seqae_data::named_enum!(Clusterer, "clusterer", {
    Spectral => "spectral",
    KMeans => "kmeans" | "k-means",
});

impl Clusterer {
    /// The names `FromStr` accepts.
    pub const NAMES: [&'static str; 2] = ["spectral", "kmeans"];

    /// The cluster of each row of `m`, `k` clusters, from `seed`.
    pub fn labels(self, m: &Matrix, k: usize, seed: u64) -> Result<Vec<usize>> {
        let model = match self {
            Clusterer::KMeans => KMeans::new(k).with_n_init(10).with_seed(seed).fit(m)?,
            Clusterer::Spectral => Spectral::new(k).with_seed(seed).fit(m)?,
        };
        Ok(model.labels().to_vec())
    }
}
pub use seqae_data::Matrix;
