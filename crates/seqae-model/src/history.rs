//! What a fit reports: the per-epoch [`History`] (stored in the model directory), progress
//! after each epoch and batch, and [`Divergence`] when the loss stopped being finite.
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Per-epoch record of a fit (`history.json` in a model directory).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct History {
    /// Mean training loss of each epoch (normalised units, over observed values).
    pub train_loss: Vec<f64>,
    /// Validation loss of each epoch (None without a validation split). Computed as at
    /// inference: no dropout, the decoder fed its own outputs.
    pub val_loss: Vec<Option<f64>>,
    /// Learning rate used in each epoch.
    pub lr: Vec<f64>,
    /// Whether early stopping ended the fit before the planned epochs.
    pub stopped_early: bool,
    /// Epoch (1-based) with the best monitored loss (validation, else training). With early
    /// stopping, the returned weights are this epoch's.
    pub best_epoch: usize,
    /// Sequences in the training part.
    pub train_size: usize,
    /// Sequences held out for validation.
    pub val_size: usize,
}

/// Progress after each epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// Epoch just finished (1-based).
    pub epoch: usize,
    /// Epochs planned.
    pub epochs: usize,
    /// Its mean training loss.
    pub train_loss: f64,
    /// Its validation loss, if any.
    pub val_loss: Option<f64>,
    /// Learning rate used in the epoch.
    pub lr: f64,
    /// Time since the fit started.
    pub elapsed: Duration,
}

/// Progress after each batch.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchReport {
    /// Current epoch (1-based).
    pub epoch: usize,
    /// Batch just finished (1-based).
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Epochs planned.
    pub epochs: usize,
    /// The batch's loss.
    pub loss: f64,
}

/// Where a fit stopped because a loss or gradient norm was NaN or infinite; the fitted model
/// then holds the weights of the last good epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// Epoch (1-based) where the loss stopped being finite.
    pub epoch: usize,
    /// Batch (1-based) within that epoch.
    pub batch: usize,
    /// The offending loss value (NaN or inf), or the gradient norm.
    pub loss: f64,
    /// The last epoch (1-based, 0 = before training) whose weights were kept.
    pub good_epoch: usize,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "training diverged at epoch {}, batch {} (loss {}); try a lower learning rate or a smaller clip norm",
            self.epoch, self.batch, self.loss
        )
    }
}
