//! `seqae train`: fit a model and save it with its loss history and loss curve.
use crate::args::TrainArgs;
use crate::commands::plot::loss_chart;
use crate::error::{CliError, CliResult};
use seqae_data::atomic::{OutputLock, Publish};
use seqae_model::{Checkpointing, Fitted};
use std::path::Path;

/// Runs the command.
pub fn run(args: &TrainArgs) -> CliResult<()> {
    let set = args.data.read()?;
    if args.resume {
        check_resumable(&args.out)?;
    } else {
        check_model_dir(&args.out, args.force)?;
    }
    let _claim = claim(&args.out)?;
    let every = std::time::Duration::try_from_secs_f64(args.checkpoint_secs).map_err(|_| {
        CliError::Input(format!(
            "--checkpoint-secs {}: must be 0 or a positive number of seconds",
            args.checkpoint_secs
        ))
    })?;
    let checkpoint = Checkpointing {
        dir: args.out.clone(),
        resume: args.resume,
        replace: args.force,
        every,
    };
    let fitted = args.model.fit(&set, Some(checkpoint))?;
    if let (Some(_), Some(signal)) = (fitted.interrupted, crate::signals::received()) {
        // What is on disk, as the checkpoint itself says.
        let kept = match checkpoint_epoch(&args.out) {
            None => "no epoch had finished, so nothing was saved".to_string(),
            Some(epoch) => format!(
                "{} holds the checkpoint of the last finished epoch ({epoch}): it loads as a model, and the same command with --resume continues",
                args.out.display()
            ),
        };
        return Err(CliError::Interrupted {
            message: format!("stopped by {}; {kept}", crate::signals::name(signal)),
            signal,
        });
    }
    match &fitted.diverged {
        Some(d) if d.good_epoch == 0 => {
            return Err(CliError::Failed(format!(
                "{d}; no epoch finished, so nothing was saved to {}",
                args.out.display()
            )));
        }
        Some(d) => {
            save_model(&fitted, &args.out, args.force || has_checkpoint(&args.out))?;
            return Err(CliError::Failed(format!(
                "{d}; the weights of the last good epoch ({}) were saved to {}",
                d.good_epoch,
                args.out.display()
            )));
        }
        None => save_model(&fitted, &args.out, args.force || has_checkpoint(&args.out))?,
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

/// Claims `dir` for this run, so that a second `seqae train` into it (a second `--resume` of
/// one checkpoint, say) is refused instead of training beside this one.
fn claim(dir: &Path) -> CliResult<OutputLock> {
    OutputLock::acquire(dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            CliError::Input(format!(
                "{}: another seqae process (pid {e}) is training into it; wait for it to end",
                dir.display()
            ))
        } else {
            CliError::Failed(format!("{}: cannot write: {e}", dir.display()))
        }
    })
}

/// Saves the fitted model with its loss curve (`loss.png`) into `dir`, both or neither: over
/// an existing model only with `force` (keeping the other files there), never over a folder
/// that appeared while training ran.
pub fn save_model(fitted: &Fitted, dir: &Path, force: bool) -> CliResult<()> {
    let history = fitted.model.history();
    fitted
        .model
        .save_with(dir, Publish::forced(force), |staged| {
            loss_chart(&staged.join("loss.png"), history).map_err(|e| e.unstaged(staged, dir))
        })
}

/// Whether `dir` holds a checkpoint (this run's: the final model replaces it).
fn has_checkpoint(dir: &Path) -> bool {
    dir.join(seqae_model::TRAINING_FILE).is_file()
}

/// The epoch of the checkpoint in `dir`, if it holds one.
fn checkpoint_epoch(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join(seqae_model::TRAINING_FILE)).ok()?;
    let state: serde_json::Value = serde_json::from_str(&text).ok()?;
    state["epoch"].as_u64()
}

/// With `--resume`: `dir` is absent (nothing to resume: training starts afresh) or holds a
/// checkpoint, not a finished model or other files.
fn check_resumable(dir: &Path) -> CliResult<()> {
    crate::output::check_parent(dir)?;
    if !dir.exists() {
        eprintln!(
            "note: {} does not exist: there is nothing to resume, so training starts afresh",
            dir.display()
        );
        return Ok(());
    }
    if has_checkpoint(dir) {
        return Ok(());
    }
    Err(CliError::Input(format!(
        "{}: holds no checkpoint to resume ({}); train without --resume",
        dir.display(),
        if dir.join("config.json").is_file() {
            "it is a finished model"
        } else {
            "it is not a seqae model"
        }
    )))
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
