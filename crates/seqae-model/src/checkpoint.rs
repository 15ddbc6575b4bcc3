//! Checkpoints: after every epoch a fit with [`Trainer::checkpoint`](crate::Trainer::checkpoint)
//! publishes its state into the model directory: a loadable model (`config.json`,
//! `weights.bpk`, `history.json`) plus what resuming needs (`training.json`: the epoch, the
//! learning rate, the early-stopping state, the settings and a digest of the data;
//! `optimizer.bpk`: Adam's moments; `best.bpk`: the best epoch's weights under early
//! stopping). The folder is staged and exchanged whole, so after a crash it is the previous
//! checkpoint or the new one. Random draws are seeded per epoch, so none has to be saved:
//! resuming runs the same epochs on the same numbers as an uninterrupted fit.
use std::path::Path;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use seqae_data::SequenceSet;
use seqae_data::atomic::Publish;
use serde::{Deserialize, Serialize};

use crate::autoencoder::AutoEncoder;
use crate::config::{ModelConfig, TrainConfig};
use crate::error::{ModelError, Result};
use crate::file::{
    HISTORY_FILE, ModelFile, load_weights, read_config, read_history, save_record, write_json,
};
use crate::history::History;
use crate::model::SeqAe;

/// The training state of a checkpoint (`training.json`).
pub const TRAINING_FILE: &str = "training.json";
/// Adam's state of a checkpoint.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// The best epoch's weights of a checkpoint with early stopping.
pub const BEST_FILE: &str = "best.bpk";

/// Early stopping and the plateau schedule, as saved (infinite losses as `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoppingState {
    pub best_loss: Option<f64>,
    pub best_epoch: usize,
    pub since_best: usize,
    pub plateau_best: Option<f64>,
    pub plateau_wait: usize,
}

/// `training.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrainingState {
    /// The last finished epoch.
    pub epoch: usize,
    /// The learning rate for the next epoch.
    pub lr: f64,
    pub stopping: StoppingState,
    /// The architecture (patch resolved) and the settings the fit was started with.
    pub model: ModelConfig,
    pub train: TrainConfig,
    /// SHA-256 of the training data (channels, lengths, values).
    pub data: String,
}

/// What a resumed fit starts from.
pub(crate) struct Resumed {
    pub state: TrainingState,
    pub net: AutoEncoder,
    pub optim: ModuleOptimizer,
    pub history: History,
    pub best: Option<AutoEncoder>,
}

/// A digest of `set` that tells whether a checkpoint was made on the same data.
pub(crate) fn data_digest(set: &SequenceSet) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update((set.channels() as u64).to_le_bytes());
    for len in set.lengths() {
        h.update((len as u64).to_le_bytes());
    }
    for v in set.values() {
        h.update(v.to_bits().to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Publishes the checkpoint `snapshot` (the model as of `state.epoch`) into `dir`.
pub(crate) fn write(
    dir: &Path,
    publish: Publish,
    snapshot: &SeqAe,
    state: &TrainingState,
    optim: &ModuleOptimizer,
    best: Option<&AutoEncoder>,
) -> Result<()> {
    snapshot.save_with(dir, publish, |staged| {
        let write_all = || {
            write_json(&staged.join(TRAINING_FILE), state)?;
            save_record(optim.into_bytes(), &staged.join(OPTIMIZER_FILE))?;
            if let Some(best) = best {
                save_record(
                    best.clone().into_record().into_bytes(),
                    &staged.join(BEST_FILE),
                )?;
            }
            Ok::<(), ModelError>(())
        };
        write_all().map_err(|e| e.unstaged(staged, dir))
    })
}

/// Reads the checkpoint in `dir`, if it holds one, into `net` and `optim` (fresh ones of the
/// same fit), checking that it was made with the same `model`, `train` and data `digest`.
pub(crate) fn read(
    dir: &Path,
    model: &ModelConfig,
    train: &TrainConfig,
    digest: &str,
    net: AutoEncoder,
    optim: ModuleOptimizer,
) -> Result<Option<Resumed>> {
    let path = dir.join(TRAINING_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ModelError::io(&path, e)),
    };
    let bad = |reason: String| ModelError::NotAModel {
        path: dir.into(),
        reason,
    };
    let state: TrainingState = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{TRAINING_FILE} is not a seqae checkpoint: {e}")))?;
    let differs = if state.model != *model {
        Some("model settings")
    } else if state.train != *train {
        Some("training settings")
    } else if state.data != digest {
        Some("data")
    } else {
        None
    };
    if let Some(what) = differs {
        return Err(ModelError::Config(format!(
            "{}: the checkpoint was made with other {what}; resume with the command that started it, or start over with --force",
            dir.display()
        )));
    }
    let file: ModelFile = read_config(dir)?;
    let net = load_weights(net, dir, &file)?;
    let path = dir.join(OPTIMIZER_FILE);
    let optim = optim.load(&path).map_err(|e| weights_error(&path, e))?;
    let best_path = dir.join(BEST_FILE);
    let best = if best_path.is_file() {
        // Read whole: the next checkpoint replaces the folder it came from.
        let bytes = std::fs::read(&best_path).map_err(|e| ModelError::io(&best_path, e))?;
        let record =
            burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                .map_err(|e| weights_error(&best_path, e))?;
        Some(
            net.clone()
                .try_load_record(record)
                .map_err(|e| weights_error(&best_path, e))?,
        )
    } else {
        None
    };
    Ok(Some(Resumed {
        state,
        net,
        optim,
        history: read_history(dir)?,
        best,
    }))
}

/// Refuses a checkpoint whose progress cannot be this run's: an epoch past the run's
/// `epochs`, or a history of another length than the epochs finished (an edited file).
pub(crate) fn check_progress(dir: &Path, r: &Resumed, epochs: usize) -> Result<()> {
    let recorded = r.history.train_loss.len();
    let problem = if r.state.epoch > epochs {
        format!("past the run's last epoch ({epochs})")
    } else if recorded != r.state.epoch {
        format!("but {HISTORY_FILE} records {recorded} epochs")
    } else {
        return Ok(());
    };
    Err(ModelError::NotAModel {
        path: dir.into(),
        reason: format!(
            "{TRAINING_FILE} says epoch {} {problem}: the checkpoint was edited or is damaged; start over with --force",
            r.state.epoch
        ),
    })
}

fn weights_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Weights {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
