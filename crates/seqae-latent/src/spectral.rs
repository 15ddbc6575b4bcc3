//! Spectral clustering on a k-nearest-neighbour graph (Ng, Jordan and Weiss, NIPS 2001; the
//! graph and embedding as scikit-learn's `SpectralClustering(affinity="nearest_neighbors")`):
//! connect each point to its nearest neighbours (itself included), symmetrise, regularise
//! (`A + tau/n`, tau the mean degree: Amini, Chen, Bickel and Levina, Annals of Statistics
//! 2013, which keeps a few loosely connected points from taking a cluster of their own), take
//! the eigenvectors of the largest eigenvalues of `D^-1/2 A D^-1/2`, divide by
//! `sqrt(degree)`, and run k-means on those coordinates. It follows clusters that are connected rather than
//! round, which k-means on the points themselves cannot.
use crate::error::{LatentError, Result};
use crate::graph::Graph;
use crate::kmeans::KMeansModel;
use crate::nndescent;
use seqae_data::Matrix;

/// Spectral clustering settings.
#[derive(Clone, Debug)]
pub struct Spectral {
    k: usize,
    neighbours: Option<usize>,
    n_init: usize,
    seed: u64,
}

impl Spectral {
    /// Up to this many points the graph holds each point's exact nearest neighbours (from all
    /// pairwise distances); above, approximate ones found by NN-descent ([`crate::nndescent`]).
    pub const EXACT_POINTS: usize = crate::graph::SUBSPACE_LIMIT;
    /// The most neighbours per point the default rule gives (the graph's size and the
    /// neighbour search's cost grow with it).
    pub const MAX_NEIGHBOURS: usize = 30;

    /// `k` clusters; neighbours `min(ceil(sqrt(n)), MAX_NEIGHBOURS)`, 10 k-means restarts,
    /// seed 0.
    pub fn new(k: usize) -> Self {
        Spectral {
            k,
            neighbours: None,
            n_init: 10,
            seed: 0,
        }
    }

    /// Neighbours per point in the graph (itself included).
    pub fn with_neighbours(mut self, n: usize) -> Self {
        self.neighbours = Some(n);
        self
    }

    /// k-means restarts on the spectral coordinates.
    pub fn with_n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }

    /// Seed of the neighbour search, the eigensolver's start and k-means.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The neighbours used for `n` points.
    pub fn neighbours_for(&self, n: usize) -> usize {
        self.neighbours
            .unwrap_or_else(|| ((n as f64).sqrt().ceil() as usize).min(Self::MAX_NEIGHBOURS))
            .clamp(2, n.max(2))
            .min(n)
    }

    /// Clusters the rows of `m`: the k-means model of the spectral coordinates (its labels are
    /// the clusters of the rows).
    pub fn fit(&self, m: &Matrix) -> Result<KMeansModel> {
        let n = m.rows();
        if self.k == 0 {
            return Err(LatentError::ZeroClusters);
        }
        if self.k > n {
            return Err(LatentError::TooManyClusters {
                k: self.k,
                n_samples: n,
            });
        }
        let nn = self.neighbours_for(n);
        let graph = if n <= Self::EXACT_POINTS {
            Graph::knn(m, nn)
        } else {
            Graph::from_neighbours(&nndescent::nearest(m, nn, self.seed))
        };
        graph.spectral(self.k, self.n_init, self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmeans::KMeans;
    use crate::metrics;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Two concentric rings: k-means cuts them in half, spectral clustering separates them.
    fn rings(n: usize) -> (Matrix, Vec<usize>) {
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let ring = i % 2;
            let r = if ring == 0 { 1.0 } else { 4.0 };
            let a = i as f32 * 2.399_963; // golden angle: even coverage
            data.extend([r * a.cos(), r * a.sin()]);
            labels.push(ring);
        }
        (Matrix::new(data, n, 2).unwrap(), labels)
    }

    #[test]
    fn separates_rings_that_kmeans_cannot() {
        let (m, labels) = rings(200);
        let sp = Spectral::new(2).with_neighbours(8).fit(&m).unwrap();
        assert_eq!(metrics::nmi(&labels, sp.labels()).unwrap(), 1.0);
        let km = KMeans::new(2).with_seed(0).fit(&m).unwrap();
        let km_nmi = metrics::nmi(&labels, km.labels()).unwrap();
        assert!(km_nmi < 0.5, "k-means NMI {km_nmi}");
    }

    #[test]
    fn the_iterative_paths_agree_with_the_dense_one() {
        // Three groups far apart: the top three eigenvalues stand clear of the rest.
        let (mut data, mut labels) = (Vec::new(), Vec::new());
        for i in 0..300 {
            let g = i % 3;
            let a = i as f32 * 2.399_963;
            data.extend([10.0 * g as f32 + a.cos(), a.sin()]);
            labels.push(g);
        }
        let m = Matrix::new(data, 300, 2).unwrap();
        let g = Graph::knn(&m, 8);
        let dense = g.top_eigenvectors_dense(3);
        // The same subspace: each iterative vector lies in the span of the dense ones.
        for iter in [
            g.top_eigenvectors_iterative(3, 3),
            g.top_eigenvectors_lobpcg(3, 3),
        ] {
            for c in 0..3 {
                let v = iter.column(c);
                let proj: f64 = (0..3).map(|d| dense.column(d).dot(&v).powi(2)).sum();
                assert!(proj > 0.999, "column {c}: {proj}");
            }
        }
        let sp = Spectral::new(3).with_neighbours(8).fit(&m).unwrap();
        assert_eq!(metrics::nmi(&labels, sp.labels()).unwrap(), 1.0);
    }

    #[test]
    fn above_the_exact_search_every_point_is_still_clustered() {
        // More points than the exact search takes: three groups far apart in 8 dimensions are
        // found through the approximate graph, every point labelled.
        let (n, d) = (Spectral::EXACT_POINTS + 3000, 8);
        let mut rng = StdRng::seed_from_u64(4);
        let (mut data, mut labels) = (Vec::new(), Vec::new());
        for i in 0..n {
            let g = i % 3;
            data.extend((0..d).map(|j| {
                let centre = if j == g { 10.0 } else { 0.0 };
                centre + rand::Rng::random_range(&mut rng, -1.0..1.0f32)
            }));
            labels.push(g);
        }
        let m = Matrix::new(data, n, d).unwrap();
        let got = Spectral::new(3).fit(&m).unwrap();
        assert_eq!(got.labels().len(), m.rows());
        assert_eq!(metrics::nmi(&labels, got.labels()).unwrap(), 1.0);
    }

    #[test]
    fn refuses_bad_k() {
        let (m, _) = rings(10);
        assert!(Spectral::new(0).fit(&m).is_err());
        assert!(Spectral::new(11).fit(&m).is_err());
        assert_eq!(Spectral::new(2).neighbours_for(80), 9);
        assert_eq!(
            Spectral::new(2).neighbours_for(1_000_000),
            Spectral::MAX_NEIGHBOURS
        );
    }
}
