//! `seqae train`: fit a model and save it with its loss history and loss curve.
use crate::args::TrainArgs;
use crate::commands::plot::loss_chart;
use crate::error::{CliError, CliResult};
use seqae_data::atomic::Publish;
use seqae_model::Fitted;
use std::path::Path;

/// Runs the command.
pub fn run(args: &TrainArgs) -> CliResult<()> {
    let set = args.data.read()?;
    check_model_dir(&args.out, args.force)?;
    let fitted = args.model.fit(&set)?;
    match &fitted.diverged {
        Some(d) if d.good_epoch == 0 => {
            return Err(CliError::Failed(format!(
                "{d}; no epoch finished, so nothing was saved to {}",
                args.out.display()
            )));
        }
        Some(d) => {
            save_model(&fitted, &args.out, args.force)?;
            return Err(CliError::Failed(format!(
                "{d}; the weights of the last good epoch ({}) were saved to {}",
                d.good_epoch,
                args.out.display()
            )));
        }
        None => save_model(&fitted, &args.out, args.force)?,
    }
    say!(
        "saved {} ({} parameters, {} cell, latent {})",
        args.out.display(),
        fitted.model.num_params(),
        fitted.model.config().cell,
        fitted.model.latent_dim()
    );
    Ok(())
}

/// Saves the fitted model with its loss curve (`loss.png`) into `dir`, both or neither: over
/// an existing model only with `force` (keeping the other files there), never over a folder
/// that appeared while training ran.
pub fn save_model(fitted: &Fitted, dir: &Path, force: bool) -> CliResult<()> {
    let history = fitted.model.history();
    fitted
        .model
        .save_with(dir, Publish::forced(force), |staged| {
            loss_chart(&staged.join("loss.png"), history)
        })
}

/// Refuses to replace an existing model (or any other path) without `--force`.
pub fn check_model_dir(dir: &Path, force: bool) -> CliResult<()> {
    crate::output::check_parent(dir)?;
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
