//! Early stopping and the plateau schedule of a fit: the best monitored loss so far, how many
//! epochs ago, and the learning rate's reductions; saved in and restored from checkpoints.
use crate::autoencoder::AutoEncoder;
use crate::checkpoint;
use crate::config::{Plateau, TrainConfig};

/// Relative improvement that counts for early stopping and the plateau schedule.
const MIN_IMPROVEMENT: f64 = 1e-4;

/// Early stopping and the plateau schedule: the best monitored loss so far and how long ago.
pub(crate) struct Stopping {
    patience: Option<usize>,
    plateau: Option<Plateau>,
    best_loss: f64,
    pub(crate) best_epoch: usize,
    /// The best epoch's weights, kept only with early stopping (whose result they are).
    pub(crate) best_net: Option<AutoEncoder>,
    since_best: usize,
    plateau_best: f64,
    plateau_wait: usize,
}

impl Stopping {
    pub(crate) fn new(train: &TrainConfig) -> Stopping {
        Stopping {
            patience: train.patience,
            plateau: train.plateau.clone(),
            best_loss: f64::INFINITY,
            best_epoch: 0,
            best_net: None,
            since_best: 0,
            plateau_best: f64::INFINITY,
            plateau_wait: 0,
        }
    }

    /// The state to save in a checkpoint.
    pub(crate) fn state(&self) -> checkpoint::StoppingState {
        let finite = |v: f64| v.is_finite().then_some(v);
        checkpoint::StoppingState {
            best_loss: finite(self.best_loss),
            best_epoch: self.best_epoch,
            since_best: self.since_best,
            plateau_best: finite(self.plateau_best),
            plateau_wait: self.plateau_wait,
        }
    }

    /// Restores the state of a checkpoint (with the best epoch's weights under early stopping).
    pub(crate) fn restore(&mut self, s: &checkpoint::StoppingState, best: Option<AutoEncoder>) {
        self.best_loss = s.best_loss.unwrap_or(f64::INFINITY);
        self.best_epoch = s.best_epoch;
        self.since_best = s.since_best;
        self.plateau_best = s.plateau_best.unwrap_or(f64::INFINITY);
        self.plateau_wait = s.plateau_wait;
        self.best_net = best;
    }

    /// Records the monitored loss of `epoch` (lowering `lr` on a plateau); true when early
    /// stopping ends the fit.
    pub(crate) fn update(
        &mut self,
        monitored: f64,
        epoch: usize,
        net: &AutoEncoder,
        lr: &mut f64,
    ) -> bool {
        if monitored < self.best_loss * (1.0 - MIN_IMPROVEMENT) || self.best_epoch == 0 {
            self.best_loss = monitored;
            self.best_epoch = epoch;
            if self.patience.is_some() {
                self.best_net = Some(net.clone());
            }
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        if let Some(p) = &self.plateau {
            if monitored < self.plateau_best * (1.0 - MIN_IMPROVEMENT) {
                self.plateau_best = monitored;
                self.plateau_wait = 0;
            } else {
                self.plateau_wait += 1;
                if self.plateau_wait >= p.patience {
                    *lr = (*lr * p.factor).max(p.min_lr);
                    self.plateau_wait = 0;
                }
            }
        }
        matches!(self.patience, Some(patience) if self.since_best >= patience)
    }
}
