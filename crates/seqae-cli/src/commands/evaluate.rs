//! `seqae evaluate`: the unsupervised protocol on labelled data. Train on every sequence with
//! the labels hidden, embed, cluster into k = number of labels (`seqae_latent::cluster`), and
//! score NMI and ARI against the labels, for several seeds; with `--baseline`, the classical
//! methods on the same seeds beside it.
use crate::args::EvaluateArgs;
use crate::commands::cluster::{latent, run_clustering};
use crate::commands::{converged, fit_with_progress};
use crate::error::{CliError, CliResult};
use seqae_latent::{ClusterOptions, KMeans, KShape, View, metrics};
use serde::Serialize;
use std::time::Instant;

/// The scores of one seed.
#[derive(Clone, Debug, Serialize)]
pub struct SeedScore {
    /// Seed of training and k-means.
    pub seed: u64,
    /// Normalised mutual information with the labels.
    pub nmi: f64,
    /// Adjusted Rand index with the labels.
    pub ari: f64,
    /// Training loss of the last epoch.
    pub final_loss: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Wall time of the run (training, embedding and clustering).
    pub seconds: f64,
    /// The view whose clusters were kept (the default method).
    pub view: Option<View>,
}

/// Runs the command.
pub fn run(args: &EvaluateArgs) -> CliResult<()> {
    let set = args.data.read()?;
    let labels = set.label_indices().ok_or_else(|| {
        CliError::Input(format!(
            "{}: evaluate needs labelled data (the data has no labels)",
            args.data.path.display()
        ))
    })?;
    let k = args.k.unwrap_or(set.class_names().len());
    if args.seeds == 0 {
        return Err(CliError::Input("--seeds must be at least 1".into()));
    }
    let (model_cfg, train_cfg, _) = args.model.configs()?;
    let mut per_seed = Vec::new();
    for s in 0..args.seeds as u64 {
        let seed = train_cfg.seed + s;
        let start = Instant::now();
        let trainer = args.model.trainer(seed)?;
        let fitted = converged(fit_with_progress(
            &set,
            trainer,
            args.model.quiet || args.json,
        )?)?;
        let m = fitted.model.embed(&set)?;
        let opts = ClusterOptions {
            k: Some(k),
            method: args.method,
            seed,
            ..ClusterOptions::default()
        };
        let clustering = run_clustering(&args.data.path, Some(&m), Some(&set), &opts)?;
        let clusters = clustering.labels;
        let score = SeedScore {
            seed,
            nmi: metrics::nmi(&labels, &clusters).map_err(latent)?,
            ari: metrics::ari(&labels, &clusters).map_err(latent)?,
            final_loss: fitted
                .model
                .history()
                .train_loss
                .last()
                .copied()
                .unwrap_or(f64::NAN),
            epochs: fitted.model.history().train_loss.len(),
            seconds: start.elapsed().as_secs_f64(),
            view: clustering.view,
        };
        if !args.json {
            let view = score
                .view
                .map(|v| format!(", {v} view"))
                .unwrap_or_default();
            say!(
                "seed {seed}: NMI {:.4}  ARI {:.4}  (loss {:.4}, {:.1} s{view})",
                score.nmi,
                score.ari,
                score.final_loss,
                score.seconds
            );
        }
        per_seed.push(score);
    }
    let (nmi_mean, nmi_std) = mean_std(per_seed.iter().map(|s| s.nmi));
    let (ari_mean, ari_std) = mean_std(per_seed.iter().map(|s| s.ari));
    let baseline = if args.baseline {
        let seeds: Vec<u64> = per_seed.iter().map(|s| s.seed).collect();
        vec![
            raw_kmeans(&set, &labels, k, &seeds)?,
            kshape(&set, &labels, k, &seeds)?,
        ]
    } else {
        Vec::new()
    };
    if args.json {
        let v = serde_json::json!({
            "data": args.data.path.display().to_string(),
            "n": set.len(),
            "k": k,
            "method": args.method.to_string(),
            // the architecture as every seed fits it (patch size chosen from the data)
            "model": model_cfg.resolved(set.max_len()),
            "epochs": per_seed.first().map(|s| s.epochs),
            "nmi_mean": nmi_mean, "nmi_std": nmi_std,
            "ari_mean": ari_mean, "ari_std": ari_std,
            "per_seed": per_seed,
            "baseline": baseline,
        });
        say!("{v}");
    } else {
        say!(
            "mean over {} seeds: NMI {nmi_mean:.4} ± {nmi_std:.4}  ARI {ari_mean:.4} ± {ari_std:.4}",
            per_seed.len()
        );
        for b in &baseline {
            say!(
                "{}: NMI {:.4} ± {:.4}  ARI {:.4} ± {:.4}",
                b.method,
                b.nmi_mean,
                b.nmi_std,
                b.ari_mean,
                b.ari_std
            );
        }
    }
    Ok(())
}

/// A classical baseline's scores over the same seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    /// What was clustered, and how.
    pub method: String,
    /// Mean NMI over the seeds.
    pub nmi_mean: f64,
    /// Its population standard deviation.
    pub nmi_std: f64,
    /// Mean ARI over the seeds.
    pub ari_mean: f64,
    /// Its population standard deviation.
    pub ari_std: f64,
    /// NMI per seed.
    pub nmi: Vec<f64>,
}

impl Baseline {
    /// The scores against `labels` of `cluster(seed)` for every seed.
    fn over_seeds(
        method: String,
        labels: &[usize],
        seeds: &[u64],
        cluster: impl Fn(u64) -> seqae_latent::Result<Vec<usize>>,
    ) -> CliResult<Baseline> {
        let (mut nmi, mut ari) = (Vec::new(), Vec::new());
        for &seed in seeds {
            let run = cluster(seed).map_err(latent)?;
            nmi.push(metrics::nmi(labels, &run).map_err(latent)?);
            ari.push(metrics::ari(labels, &run).map_err(latent)?);
        }
        let (nmi_mean, nmi_std) = mean_std(nmi.iter().copied());
        let (ari_mean, ari_std) = mean_std(ari.iter().copied());
        Ok(Baseline {
            method,
            nmi_mean,
            nmi_std,
            ari_mean,
            ari_std,
            nmi,
        })
    }
}

/// k-means (10 restarts) on the raw values, z-normalised per sequence and channel and
/// resampled to the median length, once per seed.
fn raw_kmeans(
    set: &seqae_data::SequenceSet,
    labels: &[usize],
    k: usize,
    seeds: &[u64],
) -> CliResult<Baseline> {
    let length = seqae_data::features::median_length(set);
    let m = seqae_data::features::znormalized_resampled(set, length)?;
    Baseline::over_seeds(
        format!("k-means on raw values (z-normalised, length {length})"),
        labels,
        seeds,
        |seed| {
            let km = KMeans::new(k).with_n_init(10).with_seed(seed).fit(&m)?;
            Ok(km.labels().to_vec())
        },
    )
}

/// k-Shape (3 restarts, as tslearn's baseline runs) on the raw sequences, once per seed.
fn kshape(
    set: &seqae_data::SequenceSet,
    labels: &[usize],
    k: usize,
    seeds: &[u64],
) -> CliResult<Baseline> {
    Baseline::over_seeds("k-Shape on raw values".into(), labels, seeds, |seed| {
        Ok(KShape::new(k).with_seed(seed).fit(set)?.labels().to_vec())
    })
}

/// Mean and population standard deviation.
pub fn mean_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}
