//! Training: a plain loop with Adam, global-norm gradient clipping, an optional validation
//! split with early stopping and a plateau schedule, and divergence detection.
use std::time::{Duration, Instant};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use seqae_data::{BatchOptions, Normalizer, SequenceSet};

use crate::autoencoder::AutoEncoder;
use crate::backend::Backend;
use crate::batch::DeviceBatch;
use crate::config::{ModelConfig, TrainConfig};
use crate::error::{ModelError, Result};
use crate::loss::masked_mse;
use crate::model::{SeqAe, errors};
use crate::tensor::scalar;

/// Salt of the validation split's RNG (so that it does not share a stream with the weights).
const SPLIT_SALT: u64 = 0x5EA0_5A17;
/// Relative improvement that counts for early stopping and the plateau schedule.
const MIN_IMPROVEMENT: f64 = 1e-4;

/// Per-epoch record of a fit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Mean training loss of each epoch (normalised units, over observed values).
    pub train_loss: Vec<f64>,
    /// Validation loss of each epoch (None without a validation split). Computed as at
    /// inference: no dropout, the decoder fed its own outputs.
    pub val_loss: Vec<Option<f64>>,
    /// Learning rate used in each epoch.
    pub lr: Vec<f64>,
    /// Whether early stopping ended the fit before `epochs`.
    pub stopped_early: bool,
    /// Epoch (1-based) with the best monitored loss (validation, else training). With early
    /// stopping, the returned weights are this epoch's.
    pub best_epoch: usize,
    /// Sequences in the training and validation parts.
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

/// A fitted model and how the fit went.
#[derive(Debug)]
pub struct Fitted {
    /// The model (for inference).
    pub model: SeqAe,
    /// Per-epoch losses and learning rates.
    pub history: History,
}

impl SeqAe {
    /// Fits a model on `set` (see [`fit_with_batches`](SeqAe::fit_with_batches)); `progress`
    /// is called after each epoch.
    pub fn fit(
        set: &SequenceSet,
        model: &ModelConfig,
        train: &TrainConfig,
        backend: Backend,
        progress: &mut dyn FnMut(&EpochReport),
    ) -> Result<Fitted> {
        Self::fit_with_batches(set, model, train, backend, progress, &mut |_| {})
    }

    /// Fits a model on `set`: normalisation fitted on the training part, weights and all
    /// random draws from `train.seed`, Adam (epsilon 1e-8), gradients scaled to a global norm
    /// of at most `train.clip_norm`. `on_epoch` is called after each epoch, `on_batch` after
    /// each batch. A NaN or infinite loss or gradient norm ends the fit with
    /// [`ModelError::Diverged`], which holds the weights of the last good epoch.
    pub fn fit_with_batches(
        set: &SequenceSet,
        model: &ModelConfig,
        train: &TrainConfig,
        backend: Backend,
        on_epoch: &mut dyn FnMut(&EpochReport),
        on_batch: &mut dyn FnMut(&BatchReport),
    ) -> Result<Fitted> {
        model.validate()?;
        train.validate()?;
        if set.is_empty() {
            return Err(ModelError::Empty("no sequences to train on".into()));
        }
        let model = &model.resolved(set.max_len());
        let channels = set.channels();
        let (train_idx, val_idx) = split(set.len(), train.val_fraction, train.seed)?;
        let train_raw = set.subset(&train_idx);
        let normalizer = Normalizer::fit(train.normalization, &train_raw);
        let (train_set, _) = normalizer.transform(&train_raw)?;
        let val_set = if val_idx.is_empty() {
            None
        } else {
            Some(normalizer.transform(&set.subset(&val_idx))?.0)
        };

        let device = backend.autodiff_device();
        let plain = backend.device();
        let mut rng = StdRng::seed_from_u64(train.seed);
        let mut net = AutoEncoder::init(model, channels, &mut rng, &device);
        let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
        let opts = BatchOptions {
            batch_size: train.batch_size,
            shuffle: true,
            bucket: train.bucket,
            seed: train.seed,
        };

        let finish = |net: &AutoEncoder, history: History| Fitted {
            model: SeqAe {
                config: model.clone(),
                channels,
                normalizer: normalizer.clone(),
                backend,
                net: net.valid().to_device(&plain),
            },
            history,
        };

        let start = Instant::now();
        let mut history = History {
            train_size: train_idx.len(),
            val_size: val_idx.len(),
            ..Default::default()
        };
        let mut lr = train.lr;
        let mut last_good = (0usize, net.clone());
        let mut best = (f64::INFINITY, 0usize, net.clone());
        let mut since_best = 0usize;
        let mut plateau_best = f64::INFINITY;
        let mut plateau_wait = 0usize;

        let epochs = train.epochs_for(train_idx.len());
        for epoch in 1..=epochs {
            let plan = opts.plan(&train_set, epoch as u64 - 1)?;
            let (mut sum, mut total) = (0.0f64, 0.0f64);
            for (k, idx) in plan.iter().enumerate() {
                let db = DeviceBatch::for_model(&train_set, idx, model, true, &device);
                let count = db.observed_count();
                if count == 0.0 {
                    continue;
                }
                let (_, y) = net.forward(&db, model, Some(&mut rng));
                let target = db.target.clone().expect("built with targets");
                let observed = db.observed.clone().expect("built with targets");
                let loss = masked_mse(y, target, observed, count);
                let value = scalar(loss.clone())?;
                let mut grads = GradientsParams::from_grads(loss.backward(), &net);
                let norm = if value.is_finite() {
                    global_norm(&net, &grads)?
                } else {
                    value
                };
                if !value.is_finite() || !norm.is_finite() {
                    let (good_epoch, good) = last_good;
                    history.best_epoch = best.1;
                    return Err(ModelError::Diverged {
                        epoch,
                        batch: k + 1,
                        loss: if value.is_finite() { norm } else { value },
                        good_epoch,
                        last_good: Box::new(finish(&good, history)),
                    });
                }
                if let Some(max) = train.clip_norm
                    && norm > max
                {
                    scale_grads(&net, &mut grads, max / norm);
                }
                net = optim.step(lr, net, grads);
                sum += value * count;
                total += count;
                on_batch(&BatchReport {
                    epoch,
                    batch: k + 1,
                    batches: plan.len(),
                    epochs,
                    loss: value,
                });
            }
            let train_loss = if total > 0.0 { sum / total } else { 0.0 };
            let val_loss = match &val_set {
                Some(v) => {
                    let (sse, counts) = errors(&net.valid().to_device(&plain), v, model, &plain)?;
                    let n: f64 = counts.iter().sum();
                    Some(if n > 0.0 {
                        sse.iter().sum::<f64>() / n
                    } else {
                        0.0
                    })
                }
                None => None,
            };
            history.train_loss.push(train_loss);
            history.val_loss.push(val_loss);
            history.lr.push(lr);
            on_epoch(&EpochReport {
                epoch,
                epochs,
                train_loss,
                val_loss,
                lr,
                elapsed: start.elapsed(),
            });
            let monitored = val_loss.unwrap_or(train_loss);
            if !monitored.is_finite() {
                let (good_epoch, good) = last_good;
                history.best_epoch = best.1;
                return Err(ModelError::Diverged {
                    epoch,
                    batch: plan.len(),
                    loss: monitored,
                    good_epoch,
                    last_good: Box::new(finish(&good, history)),
                });
            }
            last_good = (epoch, net.clone());
            if monitored < best.0 * (1.0 - MIN_IMPROVEMENT) || best.1 == 0 {
                best = (monitored, epoch, net.clone());
                since_best = 0;
            } else {
                since_best += 1;
            }
            if let Some(p) = &train.plateau {
                if monitored < plateau_best * (1.0 - MIN_IMPROVEMENT) {
                    plateau_best = monitored;
                    plateau_wait = 0;
                } else {
                    plateau_wait += 1;
                    if plateau_wait >= p.patience {
                        lr = (lr * p.factor).max(p.min_lr);
                        plateau_wait = 0;
                    }
                }
            }
            if let Some(patience) = train.patience
                && since_best >= patience
            {
                history.stopped_early = epoch < epochs;
                break;
            }
        }
        history.best_epoch = best.1;
        let keep = if train.patience.is_some() {
            &best.2
        } else {
            &net
        };
        Ok(finish(keep, history))
    }
}

/// Splits `0..n` into training and validation indices (each sorted), the validation part
/// being `fraction` of `n` (at least one sequence when `fraction > 0`).
fn split(n: usize, fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if fraction <= 0.0 {
        return Ok(((0..n).collect(), Vec::new()));
    }
    if n < 2 {
        return Err(ModelError::Empty(format!(
            "a validation split needs at least 2 sequences, the data has {n}"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed ^ SPLIT_SALT));
    let n_val = ((n as f64 * fraction).round() as usize).clamp(1, n - 1);
    let mut val = order[..n_val].to_vec();
    let mut tr = order[n_val..].to_vec();
    val.sort_unstable();
    tr.sort_unstable();
    Ok((tr, val))
}

/// Collects the squared norm of each parameter's gradient.
struct SquaredNorms<'a> {
    grads: &'a GradientsParams,
    parts: Vec<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.parts.push(g.square().sum());
        }
    }
}

/// The global L2 norm of all gradients (one read-back).
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> Result<f64> {
    let mut v = SquaredNorms {
        grads,
        parts: Vec::new(),
    };
    module.visit(&mut v);
    if v.parts.is_empty() {
        return Ok(0.0);
    }
    Ok(scalar(Tensor::cat(v.parts, 0).sum())?.sqrt())
}

/// Multiplies every gradient by `factor`.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// Scales every gradient of `module` in `grads` by `factor`.
pub fn scale_grads<M: Module>(module: &M, grads: &mut GradientsParams, factor: f64) {
    module.visit(&mut Scale { grads, factor });
}
