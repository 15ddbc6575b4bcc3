//! `seqae demo`: the whole pipeline on a shipped dataset, written as a small report folder.
use crate::args::DemoArgs;
use crate::commands::cluster::{latent, matrix, run_clustering};
use crate::commands::plot::{
    latent_chart, prototypes_chart, reconstructions_chart, scree_chart, silhouette_chart,
};
use crate::commands::train::save_model;
use crate::commands::{DataArgs, converged, embed_table, fit_with_progress};
use crate::error::{CliError, CliResult};
use crate::table::Table;
use seqae_data::atomic::{Publish, StagedDir, write_bytes};
use seqae_latent::{ClusterOptions, Pca, SelectK, metrics};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The dataset the demo uses by default, built into the binary so that an installed `seqae`
/// has its demo anywhere: BasicMotions (train, then test), as shipped in `datasets/`.
const BUILT_IN: [(&str, &str); 2] = [
    (
        "BasicMotions_TRAIN.ts",
        include_str!("../../../../datasets/BasicMotions/BasicMotions_TRAIN.ts"),
    ),
    (
        "BasicMotions_TEST.ts",
        include_str!("../../../../datasets/BasicMotions/BasicMotions_TEST.ts"),
    ),
];

/// The name the built-in dataset goes by in the report.
const BUILT_IN_NAME: &str = "BasicMotions (built in)";

/// The built-in dataset, train and test merged.
fn built_in_data() -> CliResult<seqae_data::SequenceSet> {
    let [(train_name, train), (test_name, test)] = BUILT_IN;
    let train = seqae_data::read::ts::parse(Path::new(train_name), train, &Default::default())?;
    let test = seqae_data::read::ts::parse(Path::new(test_name), test, &Default::default())?;
    Ok(train.concat(test)?)
}

/// Runs the command: everything is written into a temporary folder beside `--out`, which
/// replaces `--out` only when the whole report is done.
pub fn run(args: &DemoArgs) -> CliResult<()> {
    let out = &args.out;
    if out.exists() && !args.force {
        return Err(CliError::Input(format!(
            "{}: already exists (pass --force to replace it)",
            out.display()
        )));
    }
    if out.exists() && !out.join("summary.json").is_file() {
        return Err(CliError::Input(format!(
            "{}: exists and is not a seqae demo report: not replacing it",
            out.display()
        )));
    }
    let (data_path, set) = match &args.data {
        Some(path) => (path.clone(), DataArgs::plain(path).read()?),
        None => (PathBuf::from(BUILT_IN_NAME), built_in_data()?),
    };
    if set.len() < 3 {
        return Err(CliError::Input(format!(
            "{}: {} sequence(s): the demo chooses k by comparing 2 or more clusters, which takes at least 3 sequences",
            data_path.display(),
            set.len()
        )));
    }
    crate::output::check_parent(out)?;
    // Removed on drop, so a failed run leaves nothing behind.
    let staged = StagedDir::new(out)
        .map_err(|e| CliError::Failed(format!("{}: cannot write: {e}", out.display())))?;
    build_report(args, &data_path, &set, staged.path())
        .map_err(|e| e.unstaged(staged.path(), out))?;
    staged
        .publish(Publish::forced(args.force))
        .map_err(|e| crate::output::publish_error(out, e))?;
    say!("report: {}", out.join("report.md").display());
    Ok(())
}

fn build_report(
    args: &DemoArgs,
    data_path: &Path,
    set: &seqae_data::SequenceSet,
    dir: &Path,
) -> CliResult<()> {
    let start = Instant::now();
    let s = set.summary();
    say!(
        "data: {} ({} sequences, {} channels, length {}..{}, {} labels)",
        data_path.display(),
        s.n,
        s.channels,
        s.min_len,
        s.max_len,
        s.labels
    );
    let (model_cfg, train_cfg, backend) = args.model.configs()?;
    let trainer = args.model.trainer(train_cfg.seed)?;
    let fitted = converged(fit_with_progress(set, trainer, args.model.quiet)?)?;
    let train_seconds = start.elapsed().as_secs_f64();
    let model_dir = dir.join("model");
    save_model(&fitted, &model_dir, false)?;
    std::fs::copy(model_dir.join("loss.png"), dir.join("loss.png"))
        .map_err(|e| CliError::Failed(format!("{}: {e}", dir.join("loss.png").display())))?;

    let emb = embed_table(&fitted.model, set)?;
    emb.write(&dir.join("embeddings.csv"), false)?;
    let m = matrix(&emb)?;
    let hi = 10.min(m.rows() - 1);
    let selection = SelectK::new(2..=hi.max(2)).fit(&m).map_err(latent)?;
    let k = if s.labels >= 2 {
        s.labels
    } else {
        selection.best_k
    };
    let opts = ClusterOptions {
        k: Some(k),
        seed: train_cfg.seed,
        ..ClusterOptions::default()
    };
    let clustering = run_clustering(data_path, Some(&m), Some(set), &opts)?;
    let clusters = Table {
        columns: vec!["cluster".into()],
        ..Table::new(
            emb.ids.clone(),
            emb.labels.clone(),
            "cluster",
            0,
            clustering.labels.iter().map(|&c| c as f32).collect(),
        )
    };
    clusters.write(&dir.join("clusters.csv"), false)?;
    let comps = 2.min(m.cols());
    let (pca, coords) = Pca::new(comps).fit_transform(&m).map_err(latent)?;
    Table::new(
        emb.ids.clone(),
        emb.labels.clone(),
        "pc",
        1,
        coords.into_vec(),
    )
    .write(&dir.join("pca.csv"), false)?;

    latent_chart(&dir.join("latent.png"), &emb, &clustering.labels)?;
    scree_chart(&dir.join("scree.png"), &emb)?;
    silhouette_chart(
        &dir.join("silhouette.png"),
        &selection.scores,
        selection.best_k,
    )?;
    prototypes_chart(&dir.join("prototypes.png"), set, &clustering.labels)?;
    let picked: Vec<usize> = spread(set.len(), 4);
    let few = set.subset(&picked);
    reconstructions_chart(
        &dir.join("reconstructions.png"),
        &few,
        &fitted.model.reconstruct(&few)?,
    )?;

    let labels = set.label_indices();
    let nmi = labels
        .as_ref()
        .map(|l| metrics::nmi(l, &clustering.labels))
        .transpose()
        .map_err(latent)?;
    let ari = labels
        .as_ref()
        .map(|l| metrics::ari(l, &clustering.labels))
        .transpose()
        .map_err(latent)?;
    let errors = fitted.model.reconstruction_error(set)?;
    let mean_error = errors.iter().map(|&e| e as f64).sum::<f64>() / errors.len() as f64;
    let h = fitted.model.history();
    let summary = serde_json::json!({
        "data": data_path.display().to_string(),
        "summary": s,
        "model": fitted.model.config(),
        "epochs": h.train_loss.len(),
        "backend": backend.name(),
        "loss_first": h.train_loss.first(),
        "loss_last": h.train_loss.last(),
        "mean_reconstruction_error": mean_error,
        "k": k,
        "k_by_silhouette": selection.best_k,
        "silhouette_scores": selection.scores,
        "inertia": clustering.inertia,
        "silhouette": clustering.silhouette,
        "method": clustering.method,
        "view": clustering.view,
        "views": clustering.views,
        "nmi": nmi,
        "ari": ari,
        "explained_variance_ratio": pca.explained_variance_ratio(),
        "train_seconds": train_seconds,
        "total_seconds": start.elapsed().as_secs_f64(),
    });
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        write_bytes(&path, bytes)
            .map_err(|e| CliError::Failed(format!("{}: cannot write: {e}", path.display())))
    };
    let json = serde_json::to_string_pretty(&summary).expect("a summary serialises");
    write("summary.json", json.as_bytes())?;
    write(
        "report.md",
        report_md(data_path, set, &summary, model_cfg.cell.name()).as_bytes(),
    )?;
    say!(
        "trained in {train_seconds:.1} s; k = {k}; silhouette {}; NMI {}; ARI {}",
        fmt_opt(clustering.silhouette),
        fmt_opt(nmi),
        fmt_opt(ari)
    );
    Ok(())
}

/// `count` indices spread evenly over `0..n`.
fn spread(n: usize, count: usize) -> Vec<usize> {
    let count = count.min(n).max(1);
    (0..count).map(|i| i * n / count).collect()
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{x:.3}"))
}

fn report_md(
    data: &Path,
    set: &seqae_data::SequenceSet,
    v: &serde_json::Value,
    cell: &str,
) -> String {
    let s = set.summary();
    let num = |key: &str| {
        v[key]
            .as_f64()
            .map_or("n/a".to_string(), |x| format!("{x:.4}"))
    };
    format!(
        "# seqae demo report\n\n\
         Data: `{}`: {} sequences, {} channels, length {} to {}, {} labels (hidden from training).\n\n\
         Model: {cell} autoencoder, latent size {}, {} time steps per recurrent step, trained {} epochs in {:.1} s; loss {} -> {}.\n\n\
         | measure | value |\n|---|---|\n\
         | k (clusters) | {} |\n| k by silhouette | {} |\n| silhouette | {} |\n| inertia | {} |\n\
         | NMI vs labels | {} |\n| ARI vs labels | {} |\n| mean reconstruction error | {} |\n\n\
         ## Latent space\n![latent space](latent.png)\n\n\
         ## Training loss\n![loss](loss.png)\n\n\
         ## Reconstructions\n![reconstructions](reconstructions.png)\n\n\
         ## Cluster prototypes\n![prototypes](prototypes.png)\n\n\
         ## Explained variance\n![scree](scree.png)\n\n\
         ## Silhouette against k\n![silhouette](silhouette.png)\n\n\
         Files: `embeddings.csv`, `clusters.csv`, `pca.csv`, `summary.json`, and the model in `model/`.\n",
        data.display(),
        s.n,
        s.channels,
        s.min_len,
        s.max_len,
        s.labels,
        v["model"]["latent"],
        v["model"]["patch"]["size"],
        v["epochs"],
        v["train_seconds"].as_f64().unwrap_or(0.0),
        num("loss_first"),
        num("loss_last"),
        v["k"],
        v["k_by_silhouette"],
        num("silhouette"),
        num("inertia"),
        num("nmi"),
        num("ari"),
        num("mean_reconstruction_error"),
    )
}
