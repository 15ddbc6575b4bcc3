//! `seqae plot`: the charts, and the chart builders that `demo` shares.
use crate::args::{PlotArgs, PlotKind};
use crate::commands::cluster::{latent, matrix, run_clustering};
use crate::commands::{DataArgs, load_model};
use crate::error::{CliError, CliResult};
use crate::output::check_writable;
use crate::table::Table;
use seqae_data::SequenceSet;
use seqae_latent::{Pca, SelectK};
use seqae_model::History;
use seqae_plot as plot;
use std::path::Path;

fn plot_err(e: plot::PlotError) -> CliError {
    match e {
        plot::PlotError::Io { .. } => CliError::Failed(e.to_string()),
        other => CliError::Input(other.to_string()),
    }
}

/// Runs the command.
pub fn run(args: &PlotArgs) -> CliResult<()> {
    let out = match &args.kind {
        PlotKind::Latent {
            embeddings,
            clusters,
            k,
            out,
        } => {
            let mut inputs = vec![embeddings.as_path()];
            inputs.extend(clusters.as_deref());
            check_writable(&out.out, out.force, &inputs)?;
            let table = Table::read(embeddings)?;
            let assign = match clusters {
                Some(p) => cluster_column(&Table::read(p)?, table.rows(), p)?,
                None => {
                    let opts = seqae_latent::ClusterOptions {
                        k: k.fixed(),
                        ..Default::default()
                    };
                    run_clustering(embeddings, Some(&matrix(&table)?), None, &opts)?.labels
                }
            };
            latent_chart(&out.out, &table, &assign)?;
            &out.out
        }
        PlotKind::Loss { model, out } => {
            check_writable(&out.out, out.force, &[model])?;
            let history = seqae_model::read_history(model)?;
            if history.train_loss.is_empty() {
                return Err(CliError::Input(format!(
                    "{}: no training history (models saved by `seqae train` have one)",
                    model.display()
                )));
            }
            loss_chart(&out.out, &history)?;
            &out.out
        }
        PlotKind::Reconstructions {
            model,
            data,
            count,
            backend,
            out,
        } => {
            check_writable(&out.out, out.force, &[model, &data.path])?;
            if *count == 0 {
                return Err(CliError::Input(
                    "--count 0: the chart needs at least one sequence".into(),
                ));
            }
            let dir = model;
            let model = load_model(dir, *backend)?;
            let set = data.read_for(&model, dir)?;
            let picked: Vec<usize> = (0..set.len().min(*count)).collect();
            let subset = set.subset(&picked);
            let rec = model.reconstruct(&subset)?;
            reconstructions_chart(&out.out, &subset, &rec)?;
            &out.out
        }
        PlotKind::Prototypes {
            data,
            clusters,
            out,
        } => {
            check_writable(&out.out, out.force, &[&data.path, clusters])?;
            let set: SequenceSet = DataArgs::read(data)?;
            let assign = cluster_column(&Table::read(clusters)?, set.len(), clusters)?;
            prototypes_chart(&out.out, &set, &assign)?;
            &out.out
        }
        PlotKind::Scree { embeddings, out } => {
            check_writable(&out.out, out.force, &[embeddings])?;
            scree_chart(&out.out, &Table::read(embeddings)?)?;
            &out.out
        }
        PlotKind::Silhouette {
            embeddings,
            k_max,
            out,
        } => {
            check_writable(&out.out, out.force, &[embeddings])?;
            let table = Table::read(embeddings)?;
            let m = matrix(&table)?;
            if *k_max < 2 {
                return Err(CliError::Input(format!(
                    "--k-max {k_max}: the chart compares k = 2..=k-max, so --k-max must be at least 2"
                )));
            }
            let hi = (*k_max).min(m.rows().saturating_sub(1));
            if hi < 2 {
                return Err(CliError::Input(format!(
                    "{}: need at least 3 rows to compare k",
                    embeddings.display()
                )));
            }
            let sel = SelectK::new(2..=hi).fit(&m).map_err(latent)?;
            silhouette_chart(&out.out, &sel.scores, sel.best_k)?;
            &out.out
        }
    };
    say!("wrote {}", out.display());
    Ok(())
}

/// The `cluster` column of a table from `seqae cluster`, checked against the row count.
fn cluster_column(t: &Table, rows: usize, path: &Path) -> CliResult<Vec<usize>> {
    let col = t
        .columns
        .iter()
        .position(|c| c == "cluster")
        .ok_or_else(|| {
            CliError::Input(format!(
                "{}: no 'cluster' column (write it with `seqae cluster`)",
                path.display()
            ))
        })?;
    if t.rows() != rows {
        return Err(CliError::Input(format!(
            "{}: {} rows, but the data has {rows} sequences",
            path.display(),
            t.rows()
        )));
    }
    (0..t.rows())
        .map(|i| {
            let v = t.row(i)[col];
            if v >= 0.0 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(CliError::Input(format!(
                    "{}: row {}: cluster '{v}' is not a whole number",
                    path.display(),
                    i + 1
                )))
            }
        })
        .collect()
}

/// Loss curve of a training history.
pub fn loss_chart(path: &Path, h: &History) -> CliResult<()> {
    let train: Vec<f32> = h.train_loss.iter().map(|&v| v as f32).collect();
    let val: Vec<f32> = h
        .val_loss
        .iter()
        .map(|v| v.map_or(f32::NAN, |x| x as f32))
        .collect();
    let has_val = val.iter().any(|v| v.is_finite());
    let data = plot::LossCurve {
        train: &train,
        validation: has_val.then_some(&val[..]),
        ..Default::default()
    };
    plot::loss_curve(path, &data, &plot::ChartOptions::default()).map_err(plot_err)
}

/// PCA of the embeddings to 2-D, coloured by `clusters`, marker by the table's labels.
pub fn latent_chart(path: &Path, table: &Table, clusters: &[usize]) -> CliResult<()> {
    let m = matrix(table)?;
    let comps = 2.min(m.cols()).min(m.rows());
    let (pca, coords) = Pca::new(comps).fit_transform(&m).map_err(latent)?;
    let points: Vec<[f32; 2]> = (0..coords.rows())
        .map(|i| {
            let r = coords.row(i).expect("row in range");
            [r[0], r.get(1).copied().unwrap_or(0.0)]
        })
        .collect();
    let ratio = pca.explained_variance_ratio();
    let data = plot::LatentScatter {
        points: &points,
        clusters: Some(clusters),
        labels: table.labels.as_deref(),
        explained_variance_ratio: (ratio.len() == 2).then(|| [ratio[0] as f32, ratio[1] as f32]),
    };
    plot::latent_scatter(path, &data, &plot::ChartOptions::default()).map_err(plot_err)
}

/// Explained variance ratio of every principal component of the embeddings.
pub fn scree_chart(path: &Path, table: &Table) -> CliResult<()> {
    let m = matrix(table)?;
    let pca = Pca::new(m.cols().min(m.rows())).fit(&m).map_err(latent)?;
    let ratios: Vec<f32> = pca
        .explained_variance_ratio()
        .iter()
        .map(|&r| r as f32)
        .collect();
    plot::explained_variance(
        path,
        &plot::ExplainedVariance { ratios: &ratios },
        &plot::ChartOptions::default(),
    )
    .map_err(plot_err)
}

/// Mean silhouette against k, with the chosen k marked.
pub fn silhouette_chart(path: &Path, scores: &[(usize, f64)], chosen: usize) -> CliResult<()> {
    let ks: Vec<usize> = scores.iter().map(|s| s.0).collect();
    let vals: Vec<f32> = scores.iter().map(|s| s.1 as f32).collect();
    let data = plot::SilhouetteCurve {
        ks: &ks,
        scores: &vals,
        chosen_k: Some(chosen),
    };
    plot::silhouette_curve(path, &data, &plot::ChartOptions::default()).map_err(plot_err)
}

/// Mean sequence and ±1 std band of each cluster.
pub fn prototypes_chart(path: &Path, set: &SequenceSet, clusters: &[usize]) -> CliResult<()> {
    let k = clusters.iter().max().map_or(0, |m| m + 1);
    let mut protos = Vec::new();
    for c in 0..k.min(plot::MAX_PROTOTYPES) {
        let members: Vec<&[f32]> = (0..set.len())
            .filter(|&i| clusters[i] == c)
            .map(|i| set.sequence(i))
            .collect();
        if !members.is_empty() {
            protos.push(
                plot::Prototype::from_members(c, &members, set.channels()).map_err(plot_err)?,
            );
        }
    }
    let data = plot::ClusterPrototypes {
        prototypes: &protos,
        channels: set.channels(),
        max_channels: plot::DEFAULT_MAX_CHANNELS,
    };
    plot::cluster_prototypes(path, &data, &plot::ChartOptions::default()).map_err(plot_err)
}

/// Originals and reconstructions of every sequence of `set` (keep it small).
pub fn reconstructions_chart(path: &Path, set: &SequenceSet, rec: &SequenceSet) -> CliResult<()> {
    let names: Vec<String> = (0..set.len())
        .map(|i| format!("sequence {}", set.id(i)))
        .collect();
    let pairs: Vec<plot::SequencePair> = (0..set.len().min(plot::MAX_RECONSTRUCTIONS))
        .map(|i| plot::SequencePair {
            name: &names[i],
            original: set.sequence(i),
            reconstruction: rec.sequence(i),
        })
        .collect();
    let data = plot::Reconstructions {
        sequences: &pairs,
        channels: set.channels(),
        max_channels: plot::DEFAULT_MAX_CHANNELS,
    };
    plot::reconstructions(path, &data, &plot::ChartOptions::default()).map_err(plot_err)
}
