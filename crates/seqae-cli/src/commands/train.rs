//! `seqae train`: fit a model and save it with its loss history and loss curve.
use crate::args::TrainArgs;
use crate::error::{CliError, CliResult};
use crate::output::write_atomic;
use seqae_model::History;
use std::path::Path;

/// Runs the command.
pub fn run(args: &TrainArgs) -> CliResult<()> {
    let set = args.data.read()?;
    check_model_dir(&args.out, args.force)?;
    let fitted = args.model.fit(&set)?;
    fitted.model.save(&args.out)?;
    write_history(&args.out, &fitted.history)?;
    println!(
        "saved {} ({} parameters, {} cell, latent {})",
        args.out.display(),
        fitted.model.num_params(),
        fitted.model.config().cell.name(),
        fitted.model.latent_dim()
    );
    Ok(())
}

/// Refuses to replace an existing model (or any other path) without `--force`.
pub fn check_model_dir(dir: &Path, force: bool) -> CliResult<()> {
    if dir.exists() && !force {
        return Err(CliError::Input(format!(
            "{}: already exists (pass --force to replace it)",
            dir.display()
        )));
    }
    if dir.exists() && !dir.join("config.json").is_file() {
        return Err(CliError::Input(format!(
            "{}: exists and is not a seqae model: not replacing it",
            dir.display()
        )));
    }
    Ok(())
}

/// Writes `history.json` and `loss.png` into the model directory.
pub fn write_history(dir: &Path, h: &History) -> CliResult<()> {
    let json = serde_json::json!({
        "train_loss": h.train_loss,
        "val_loss": h.val_loss,
        "lr": h.lr,
        "stopped_early": h.stopped_early,
        "best_epoch": h.best_epoch,
        "train_size": h.train_size,
        "val_size": h.val_size,
    });
    write_atomic(
        &dir.join("history.json"),
        serde_json::to_string_pretty(&json)
            .expect("json")
            .as_bytes(),
    )?;
    crate::commands::plot::loss_chart(&dir.join("loss.png"), h)
}

/// Reads `history.json` of a model directory.
pub fn read_history(dir: &Path) -> CliResult<History> {
    let path = dir.join("history.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::Input(format!(
            "{}: {e} (models saved by `seqae train` have it)",
            path.display()
        ))
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CliError::Input(format!(
            "{}:{}: not a loss history: {e}",
            path.display(),
            e.line()
        ))
    })?;
    let floats = |key: &str| -> Vec<f64> {
        v[key]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default()
    };
    let train_loss = floats("train_loss");
    if train_loss.is_empty() {
        return Err(CliError::Input(format!(
            "{}: no train_loss values",
            path.display()
        )));
    }
    let val_loss = v["val_loss"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    Ok(History {
        train_loss,
        val_loss,
        lr: floats("lr"),
        ..Default::default()
    })
}
