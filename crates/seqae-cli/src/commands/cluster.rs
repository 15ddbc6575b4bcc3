//! `seqae cluster`: spectral clustering or k-means on embeddings (from a file, or computed with
//! a model), with k given or chosen by silhouette (over k-means runs).
use crate::args::{ClusterArgs, KChoice};
use crate::error::{CliError, CliResult};
use crate::table::Table;
use seqae_latent::{Clusterer, KMeans, Matrix, SelectK, metrics};

/// Silhouette scores printed for the user are computed on at most this many points.
const SILHOUETTE_SAMPLE: usize = 5000;

/// Outcome of clustering a table.
pub struct Clustering {
    /// Cluster of each row.
    pub labels: Vec<usize>,
    /// k used.
    pub k: usize,
    /// Sum of squared distances to the centroids.
    pub inertia: f64,
    /// Mean silhouette (on a sample for large inputs).
    pub silhouette: Option<f64>,
    /// `(k, silhouette)` for each k tried when k was chosen automatically.
    pub scores: Vec<(usize, f64)>,
}

/// Runs the command.
pub fn run(args: &ClusterArgs) -> CliResult<()> {
    let table = crate::commands::embeddings_for(&args.input, args.model.as_deref())?;
    crate::output::check_writable(&args.out, args.force)?;
    let c = cluster(&table, args.k, args.k_max, args.n_init, args.seed)?;
    let c = recluster(&table, c, args.clusterer, args.seed)?;
    for (k, s) in &c.scores {
        say!("k = {k:>3}  silhouette {s:.4}");
    }
    say!("k           {}", c.k);
    say!("inertia     {:.6}", c.inertia);
    if let Some(s) = c.silhouette {
        say!("silhouette  {s:.4}");
    }
    if let Some(labels) = &table.labels {
        say!(
            "NMI         {:.4}  (against the labels in the input)",
            metrics::nmi(labels, &c.labels).map_err(latent)?
        );
        say!(
            "ARI         {:.4}",
            metrics::ari(labels, &c.labels).map_err(latent)?
        );
    }
    let out = Table::new(
        table.ids.clone(),
        table.labels.clone(),
        "cluster",
        0,
        c.labels.iter().map(|&l| l as f32).collect(),
    );
    let out = Table {
        columns: vec!["cluster".into()],
        ..out
    };
    out.write(&args.out, args.force)?;
    say!("wrote       {}", args.out.display());
    Ok(())
}

/// The CLI error for a latent-analysis error (always about the user's data or flags).
pub fn latent(e: seqae_latent::LatentError) -> CliError {
    CliError::Input(e.to_string())
}

/// The table's values as a matrix.
pub fn matrix(table: &Table) -> CliResult<Matrix> {
    Ok(Matrix::new(
        table.values.clone(),
        table.rows(),
        table.width(),
    )?)
}

/// `c` with its labels from `clusterer` (for the same k) and the inertia and silhouette of
/// those labels; k-means results are returned as they are.
pub fn recluster(
    table: &Table,
    c: Clustering,
    clusterer: Clusterer,
    seed: u64,
) -> CliResult<Clustering> {
    if clusterer == Clusterer::KMeans {
        return Ok(c);
    }
    let m = matrix(table)?;
    if m.rows() > seqae_latent::Spectral::MAX_POINTS {
        eprintln!(
            "note: {} rows: more than spectral clustering takes ({}); the clusters are k-means'",
            m.rows(),
            seqae_latent::Spectral::MAX_POINTS
        );
        return Ok(c);
    }
    let labels = clusterer.labels(&m, c.k, seed).map_err(latent)?;
    let (d, mut sums, mut counts) = (m.cols(), vec![0.0f64; c.k * m.cols()], vec![0usize; c.k]);
    for (i, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        for (s, &v) in sums[l * d..(l + 1) * d]
            .iter_mut()
            .zip(m.row(i).unwrap_or(&[]))
        {
            *s += v as f64;
        }
    }
    let centroids: Vec<f32> = sums
        .iter()
        .enumerate()
        .map(|(j, s)| (s / counts[j / d].max(1) as f64) as f32)
        .collect();
    let centroids = Matrix::new(centroids, c.k, d)?;
    Ok(Clustering {
        inertia: metrics::inertia(&m, &centroids, &labels).map_err(latent)?,
        silhouette: silhouette_sampled(&m, &labels)?,
        labels,
        ..c
    })
}

/// Clusters the rows of `table` with k-means.
pub fn cluster(
    table: &Table,
    k: KChoice,
    k_max: usize,
    n_init: usize,
    seed: u64,
) -> CliResult<Clustering> {
    let m = matrix(table)?;
    let kmeans = KMeans::new(1).with_n_init(n_init).with_seed(seed);
    let (model, scores) = match k {
        KChoice::Fixed(k) => (kmeans.with_k(k).fit(&m).map_err(latent)?, Vec::new()),
        KChoice::Auto => {
            if k_max < 2 {
                return Err(CliError::Input(format!(
                    "--k-max {k_max}: --k auto compares k = 2..=k-max, so --k-max must be at least 2"
                )));
            }
            let hi = k_max.min(m.rows().saturating_sub(1));
            if hi < 2 {
                return Err(CliError::Input(format!(
                    "--k auto needs at least 3 sequences to compare k = 2.. (got {})",
                    m.rows()
                )));
            }
            let sel = SelectK::new(2..=hi)
                .with_kmeans(kmeans)
                .with_seed(seed)
                .fit(&m)
                .map_err(latent)?;
            (sel.model, sel.scores)
        }
    };
    let labels = model.labels().to_vec();
    let silhouette = silhouette_sampled(&m, &labels)?;
    Ok(Clustering {
        k: model.k(),
        inertia: model.inertia(),
        labels,
        silhouette,
        scores,
    })
}

/// Mean silhouette, on an evenly spaced subset for large inputs; `None` with one cluster.
fn silhouette_sampled(m: &Matrix, labels: &[usize]) -> CliResult<Option<f64>> {
    let distinct = labels
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    if distinct < 2 || distinct >= m.rows() {
        return Ok(None);
    }
    if m.rows() <= SILHOUETTE_SAMPLE {
        return Ok(Some(metrics::silhouette(m, labels).map_err(latent)?));
    }
    let step = m.rows() as f64 / SILHOUETTE_SAMPLE as f64;
    let idx: Vec<usize> = (0..SILHOUETTE_SAMPLE)
        .map(|i| (i as f64 * step) as usize)
        .collect();
    let rows: Vec<&[f32]> = idx
        .iter()
        .map(|&i| m.row(i).expect("index in range"))
        .collect();
    let sub = Matrix::from_rows(&rows)?;
    let sub_labels: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    if sub_labels
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
        < 2
    {
        return Ok(None);
    }
    Ok(Some(
        metrics::silhouette(&sub, &sub_labels).map_err(latent)?,
    ))
}
