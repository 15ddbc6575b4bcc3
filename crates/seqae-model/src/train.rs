//! Training: [`Trainer`] fits a model with Adam, global-norm gradient clipping, an optional
//! validation split with early stopping and a plateau schedule, and divergence detection.
//! The loop is split into one epoch ([`Session::epoch`]), the validation pass
//! ([`Session::validate`]); the early-stopping and schedule state is [`crate::stopping`]'s.
use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use seqae_data::atomic::Publish;
use seqae_data::{BatchOptions, Normalizer, SequenceSet};

use crate::autoencoder::AutoEncoder;
use crate::backend::Backend;
use crate::batch::DeviceBatch;
use crate::checkpoint;
use crate::config::{ModelConfig, TrainConfig};
use crate::error::{ModelError, Result};
use crate::fused::RunOptions;
use crate::grads::{global_norm, scale_grads};
use crate::history::{BatchReport, Divergence, EpochReport, History};
use crate::loss::masked_mse;
use crate::model::{SeqAe, errors};
use crate::objective::{Objective, nt_xent};
use crate::params::Hyperparameters;
use crate::stopping::Stopping;
use crate::tensor::scalar;

/// Salt of the validation split's RNG (so that it does not share a stream with the weights).
const SPLIT_SALT: u64 = 0x5EA0_5A17;
/// Salt of the augmentations' RNG (its own stream: the reconstruction objective draws none).
const AUGMENT_SALT: u64 = 0xA06_3E47;
/// Salt of each epoch's RNG for dropout and teacher forcing.
const EPOCH_SALT: u64 = 0xE90C_4D5E;

/// A progress callback.
type Callback<'a, R> = Option<Box<dyn FnMut(&R) + 'a>>;

/// A fitted model and how the fit ended.
#[derive(Debug)]
pub struct Fitted {
    /// The model (for inference), with its [`History`](SeqAe::history). After a divergence it
    /// holds the weights of the last good epoch.
    pub model: SeqAe,
    /// Where the fit stopped because the loss was no longer finite, if it did.
    pub diverged: Option<Divergence>,
    /// When [`Trainer::stop_when`] stopped the fit: the last finished epoch, whose weights the
    /// model holds (0: none finished, the model holds the initial weights).
    pub interrupted: Option<usize>,
}

/// Fits a sequence autoencoder: the architecture, the training settings, where it runs, and
/// optional progress callbacks. `Trainer::default()` is `seqae train` with no flags.
///
/// ```no_run
/// use seqae_model::{Trainer, ModelConfig, TrainConfig};
/// # fn main() -> seqae_model::Result<()> {
/// let set = seqae_data::synthetic::Synthetic::default().generate()?;
/// let fitted = Trainer::new(ModelConfig::default(), TrainConfig { epochs: 20, ..Default::default() })
///     .on_epoch(|r| eprintln!("epoch {} loss {:.4}", r.epoch, r.train_loss))
///     .fit(&set)?;
/// # Ok(()) }
/// ```
pub struct Trainer<'a> {
    /// The architecture.
    pub model: ModelConfig,
    /// The training settings.
    pub train: TrainConfig,
    /// The burn backend.
    pub backend: Backend,
    /// Reference or fused layers, and the CPU path.
    pub run: RunOptions,
    on_epoch: Callback<'a, EpochReport>,
    on_batch: Callback<'a, BatchReport>,
    stop: Option<Box<dyn FnMut() -> bool + 'a>>,
    checkpoint: Option<Checkpointing>,
    hyperparameters: Option<Hyperparameters>,
}

/// Where and how [`Trainer::checkpoint`] writes checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpointing {
    /// The model directory that holds the checkpoint (and, after the fit, the model).
    pub dir: PathBuf,
    /// Continue from a checkpoint in `dir` if there is one.
    pub resume: bool,
    /// Whether the first checkpoint may replace what is in `dir` (`--force`); otherwise it
    /// fails if `dir` exists by then (unless it is the checkpoint resumed from).
    pub replace: bool,
    /// The least time between two checkpoints: an epoch that ends sooner after the last one
    /// writes none (zero: every epoch). The last epoch always writes one.
    pub every: std::time::Duration,
}

impl Default for Trainer<'_> {
    fn default() -> Self {
        Trainer::new(ModelConfig::default(), TrainConfig::default())
    }
}

impl std::fmt::Debug for Trainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("model", &self.model)
            .field("train", &self.train)
            .field("backend", &self.backend)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl<'a> Trainer<'a> {
    /// A trainer for `model` with `train`, on the default backend and run options.
    pub fn new(model: ModelConfig, train: TrainConfig) -> Self {
        Trainer {
            model,
            train,
            backend: Backend::default(),
            run: RunOptions::default(),
            on_epoch: None,
            on_batch: None,
            stop: None,
            checkpoint: None,
            hyperparameters: None,
        }
    }

    /// Records the settings the user gave (from which `model` and `train` came) in the
    /// fitted model and its file ([`Hyperparameters::trainer`] does this).
    pub fn hyperparameters(mut self, hp: Hyperparameters) -> Self {
        self.hyperparameters = Some(hp);
        self
    }

    /// Trains on `backend`.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Runs the recurrent layers as `run` says (kept by the fitted model).
    pub fn run_options(mut self, run: RunOptions) -> Self {
        self.run = run;
        self
    }

    /// Calls `f` after each epoch.
    pub fn on_epoch(mut self, f: impl FnMut(&EpochReport) + 'a) -> Self {
        self.on_epoch = Some(Box::new(f));
        self
    }

    /// Calls `f` after each batch.
    pub fn on_batch(mut self, f: impl FnMut(&BatchReport) + 'a) -> Self {
        self.on_batch = Some(Box::new(f));
        self
    }

    /// Asks `f` after each batch whether to stop (Ctrl-C, a deadline): when it says so the
    /// fit ends at once with the weights of the last finished epoch and
    /// [`Fitted::interrupted`] set.
    pub fn stop_when(mut self, f: impl FnMut() -> bool + 'a) -> Self {
        self.stop = Some(Box::new(f));
        self
    }

    /// Publishes a checkpoint into the model directory `options.dir` after every epoch
    /// ([`crate::checkpoint`]); with `options.resume`, a fit whose directory holds a checkpoint
    /// of the same settings and data continues from it and ends with the same model as an
    /// uninterrupted fit (a checkpoint of other settings or data is an error; no checkpoint
    /// starts afresh).
    pub fn checkpoint(mut self, options: Checkpointing) -> Self {
        self.checkpoint = Some(options);
        self
    }

    /// Fits a model on `set`: normalisation fitted on the training part, weights and all
    /// random draws from `train.seed`, Adam (epsilon 1e-8), gradients scaled to a global norm
    /// of at most `train.clip_norm`. A NaN or infinite loss or gradient norm ends the fit
    /// early: the result then holds the weights of the last good epoch and the
    /// [`Divergence`].
    pub fn fit(mut self, set: &SequenceSet) -> Result<Fitted> {
        self.model.validate()?;
        self.train.validate()?;
        if set.is_empty() {
            return Err(ModelError::Empty("no sequences to train on".into()));
        }
        crate::memory::check_fits(&self.model, set.channels())?;
        let (mut session, mut net) =
            Session::new(set, &self.model, &self.train, self.backend, self.run)?;
        session.hyperparameters = self.hyperparameters.clone();
        let train = &self.train;
        let epochs = train.epochs_for(session.history.train_size);
        let mut stopping = Stopping::new(train);
        let digest = self
            .checkpoint
            .as_ref()
            .map(|_| checkpoint::data_digest(set));
        let mut first = 1;
        let mut publish = match &self.checkpoint {
            Some(c) if c.replace => Publish::Replace,
            _ => Publish::New,
        };
        if let (Some(c), Some(digest)) = (self.checkpoint.as_ref().filter(|c| c.resume), &digest) {
            let optim = std::mem::replace(&mut session.optim, new_optimizer());
            let fresh = net.clone();
            match checkpoint::read(&c.dir, &session.model, train, digest, fresh, optim)? {
                Some(r) => {
                    checkpoint::check_progress(&c.dir, &r, epochs)?;
                    net = r.net;
                    session.optim = r.optim;
                    session.history = r.history;
                    session.lr = r.state.lr;
                    stopping.restore(&r.state.stopping, r.best);
                    first = r.state.epoch + 1;
                    publish = Publish::Replace;
                    if session.history.stopped_early {
                        first = epochs + 1;
                    }
                }
                None => session.optim = new_optimizer(),
            }
        }
        let mut last_good = (first - 1, net.clone());
        // The last finished epoch not yet in a checkpoint, with its optimiser state.
        let mut unsaved: Option<(usize, ModuleOptimizer)> = None;
        let start = Instant::now();
        let mut last_checkpoint = start;
        for epoch in first..=epochs {
            let (next, outcome) =
                session.epoch(net, epoch, epochs, &mut self.on_batch, &mut self.stop)?;
            net = next;
            let train_loss = match outcome {
                EpochEnd::Done(loss) => loss,
                EpochEnd::Diverged(d) => return Ok(session.diverged(d, last_good, &stopping)),
                EpochEnd::Stopped => {
                    session.history.best_epoch = stopping.best_epoch;
                    // The last finished epoch goes to disk before anything is reported: its
                    // optimiser as the epoch left it (the batches since changed the live one).
                    if let (Some(c), Some(digest), Some((done, optim))) =
                        (self.checkpoint.as_ref(), &digest, unsaved.take())
                    {
                        let state = CheckpointState {
                            epoch: done,
                            net: &last_good.1,
                            optim: &optim,
                        };
                        session.write_checkpoint(c, publish, digest, &stopping, state)?;
                    }
                    let mut fitted = session.finish(&last_good.1, None);
                    fitted.interrupted = Some(last_good.0);
                    return Ok(fitted);
                }
            };
            let val_loss = session.validate(&net)?;
            let lr = session.lr;
            session.history.train_loss.push(train_loss);
            session.history.val_loss.push(val_loss);
            session.history.lr.push(lr);
            if let Some(f) = self.on_epoch.as_mut() {
                f(&EpochReport {
                    epoch,
                    epochs,
                    train_loss,
                    val_loss,
                    lr,
                    elapsed: start.elapsed(),
                });
            }
            let monitored = val_loss.unwrap_or(train_loss);
            if !monitored.is_finite() {
                let d = Divergence {
                    epoch,
                    batch: session.batches,
                    loss: monitored,
                    good_epoch: last_good.0,
                };
                return Ok(session.diverged(d, last_good, &stopping));
            }
            last_good = (epoch, net.clone());
            let stop = stopping.update(monitored, epoch, &net, &mut session.lr);
            if stop {
                session.history.stopped_early = epoch < epochs;
            }
            let due =
                |c: &Checkpointing| stop || epoch == epochs || last_checkpoint.elapsed() >= c.every;
            if let (Some(c), Some(digest)) = (self.checkpoint.as_ref(), &digest) {
                if due(c) {
                    session.history.best_epoch = stopping.best_epoch;
                    let state = CheckpointState {
                        epoch,
                        net: &net,
                        optim: &session.optim,
                    };
                    session.write_checkpoint(c, publish, digest, &stopping, state)?;
                    publish = Publish::Replace;
                    last_checkpoint = Instant::now();
                    unsaved = None;
                } else {
                    // Kept until the next checkpoint, for a signal that stops the next epoch.
                    unsaved = Some((epoch, session.optim.clone()));
                }
            }
            if stop {
                break;
            }
        }
        session.history.best_epoch = stopping.best_epoch;
        let keep = stopping.best_net.take().unwrap_or(net);
        Ok(session.finish(&keep, None))
    }
}

impl SeqAe {
    /// Fits a model on `set` with the defaults (`seqae train` with no flags); see
    /// [`Trainer`] for other settings and progress callbacks.
    pub fn fit(set: &SequenceSet) -> Result<Fitted> {
        Trainer::default().fit(set)
    }
}

/// The state of one fit: data, network, optimiser, random stream, learning rate, history.
struct Session<'c> {
    /// The architecture with its patch resolved for the data.
    model: ModelConfig,
    train: &'c TrainConfig,
    backend: Backend,
    run: RunOptions,
    channels: usize,
    normalizer: Normalizer,
    train_set: SequenceSet,
    val_set: Option<SequenceSet>,
    device: Device,
    plain: Device,
    rng: StdRng,
    /// Draws of the augmented views.
    augment_rng: StdRng,
    optim: ModuleOptimizer,
    lr: f64,
    /// Batches of the last epoch's plan.
    batches: usize,
    history: History,
    hyperparameters: Option<Hyperparameters>,
}

impl<'c> Session<'c> {
    fn new(
        set: &SequenceSet,
        model: &ModelConfig,
        train: &'c TrainConfig,
        backend: Backend,
        run: RunOptions,
    ) -> Result<(Session<'c>, AutoEncoder)> {
        let (train_idx, val_idx) = split(set.len(), train.val_fraction, train.seed)?;
        let train_raw = set.subset(&train_idx);
        let normalizer = Normalizer::fit(train.normalization, &train_raw)?;
        let (train_set, _) = normalizer.transform(&train_raw)?;
        let val_set = if val_idx.is_empty() {
            None
        } else {
            Some(normalizer.transform(&set.subset(&val_idx))?.0)
        };
        let device = backend.autodiff_device()?;
        let mut rng = StdRng::seed_from_u64(train.seed);
        let model = model.resolved(set.max_len());
        let net = AutoEncoder::init(&model, set.channels(), &mut rng, &device);
        let session = Session {
            model,
            train,
            backend,
            run,
            channels: set.channels(),
            normalizer,
            train_set,
            val_set,
            device,
            plain: backend.device()?,
            rng,
            augment_rng: StdRng::seed_from_u64(train.seed ^ AUGMENT_SALT),
            optim: new_optimizer(),
            lr: train.lr,
            batches: 0,
            history: History {
                train_size: train_idx.len(),
                val_size: val_idx.len(),
                ..Default::default()
            },
            hyperparameters: None,
        };
        Ok((session, net))
    }

    /// One pass over the training set: the mean training loss, or where the loss or gradient
    /// norm stopped being finite.
    fn epoch(
        &mut self,
        mut net: AutoEncoder,
        epoch: usize,
        epochs: usize,
        on_batch: &mut Callback<'_, BatchReport>,
        stop: &mut Option<Box<dyn FnMut() -> bool + '_>>,
    ) -> Result<(AutoEncoder, EpochEnd)> {
        let opts = BatchOptions {
            batch_size: self.train.batch_size,
            shuffle: true,
            bucket: self.train.bucket,
            seed: self.train.seed,
        };
        let plan = opts.plan(&self.train_set, epoch as u64 - 1)?;
        // Each epoch's draws (dropout, teacher forcing, augmentations) come from streams seeded
        // by the seed and the epoch, so that a resumed fit draws what an uninterrupted one does.
        let stream = |salt: u64| {
            StdRng::seed_from_u64(
                self.train.seed ^ salt ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            )
        };
        self.rng = stream(EPOCH_SALT);
        self.augment_rng = stream(AUGMENT_SALT);
        self.batches = plan.len();
        let (mut sum, mut total) = (0.0f64, 0.0f64);
        for (k, idx) in plan.iter().enumerate() {
            let (db, target) =
                DeviceBatch::for_model_with_target(&self.train_set, idx, &self.model, &self.device);
            let count = target.observed_count();
            if count == 0.0 {
                continue;
            }
            let (_, y) = net.forward(
                &db,
                Some(&target),
                &self.model,
                self.run,
                Some(&mut self.rng),
            );
            let mut loss = masked_mse(y, &target);
            if self.train.objective == Objective::Contrastive {
                loss = loss + self.contrastive(&net, idx)?;
            }
            let value = scalar(loss.clone())?;
            let mut grads = GradientsParams::from_grads(loss.backward(), &net);
            let norm = if value.is_finite() {
                global_norm(&net, &grads)?
            } else {
                value
            };
            if !value.is_finite() || !norm.is_finite() {
                let d = Divergence {
                    epoch,
                    batch: k + 1,
                    loss: if value.is_finite() { norm } else { value },
                    good_epoch: 0,
                };
                return Ok((net, EpochEnd::Diverged(d)));
            }
            if let Some(max) = self.train.clip_norm
                && norm > max
            {
                scale_grads(&net, &mut grads, max / norm);
            }
            net = self.optim.step(self.lr, net, grads);
            sum += value * count;
            total += count;
            if let Some(f) = on_batch.as_mut() {
                f(&BatchReport {
                    epoch,
                    batch: k + 1,
                    batches: plan.len(),
                    epochs,
                    loss: value,
                });
            }
            if stop.as_mut().is_some_and(|f| f()) {
                return Ok((net, EpochEnd::Stopped));
            }
        }
        Ok((
            net,
            EpochEnd::Done(if total > 0.0 { sum / total } else { 0.0 }),
        ))
    }

    /// The weighted contrastive term of the batch `idx`: two augmented views, encoded.
    fn contrastive(&mut self, net: &AutoEncoder, idx: &[usize]) -> Result<burn::tensor::Tensor<1>> {
        let c = &self.train.contrast;
        let rows: Vec<usize> = (0..idx.len()).collect();
        let encode = |rng: &mut StdRng| -> Result<_> {
            let view = c.view(&self.train_set, idx, rng)?;
            let db = DeviceBatch::for_model(&view, &rows, &self.model, &self.device);
            Ok(net.encode(&db, self.run))
        };
        let z1 = encode(&mut self.augment_rng)?;
        let z2 = encode(&mut self.augment_rng)?;
        Ok(nt_xent(z1, z2, c.temperature, &self.device).mul_scalar(c.weight))
    }

    /// The validation loss (as at inference), without a validation split `None`.
    fn validate(&self, net: &AutoEncoder) -> Result<Option<f64>> {
        let Some(v) = &self.val_set else {
            return Ok(None);
        };
        let net = net.valid().to_device(&self.plain);
        let (sse, counts) = errors(&net, v, &self.model, self.run, &self.plain)?;
        let n: f64 = counts.iter().sum();
        Ok(Some(if n > 0.0 {
            sse.iter().sum::<f64>() / n
        } else {
            0.0
        }))
    }

    /// The result after a divergence: the last good weights and the history so far.
    fn diverged(
        mut self,
        mut d: Divergence,
        (good_epoch, good): (usize, AutoEncoder),
        stopping: &Stopping,
    ) -> Fitted {
        d.good_epoch = good_epoch;
        self.history.best_epoch = stopping.best_epoch;
        self.finish(&good, Some(d))
    }

    /// Publishes the checkpoint of `state`'s epoch into `c.dir` (the history as it stands,
    /// its best epoch set by the caller).
    fn write_checkpoint(
        &self,
        c: &Checkpointing,
        publish: Publish,
        digest: &str,
        stopping: &Stopping,
        state: CheckpointState<'_>,
    ) -> Result<()> {
        let training = checkpoint::TrainingState {
            epoch: state.epoch,
            lr: self.lr,
            stopping: stopping.state(),
            model: self.model.clone(),
            train: self.train.clone(),
            data: digest.to_string(),
        };
        let snapshot = self.snapshot(state.net);
        checkpoint::write(
            &c.dir,
            publish,
            &snapshot,
            &training,
            state.optim,
            stopping.best_net.as_ref(),
        )
    }

    /// The model as it stands with the weights of `net` (for a checkpoint).
    fn snapshot(&self, net: &AutoEncoder) -> SeqAe {
        SeqAe {
            config: self.model.clone(),
            channels: self.channels,
            normalizer: self.normalizer.clone(),
            backend: self.backend,
            run: self.run,
            net: net.valid().to_device(&self.plain),
            history: self.history.clone(),
            hyperparameters: self.hyperparameters.clone(),
        }
    }

    /// The fitted model with the weights of `net`.
    fn finish(self, net: &AutoEncoder, diverged: Option<Divergence>) -> Fitted {
        Fitted {
            model: SeqAe {
                config: self.model,
                channels: self.channels,
                normalizer: self.normalizer,
                backend: self.backend,
                run: self.run,
                net: net.valid().to_device(&self.plain),
                history: self.history,
                hyperparameters: self.hyperparameters,
            },
            diverged,
            interrupted: None,
        }
    }
}

/// How one epoch ended.
enum EpochEnd {
    /// Every batch ran: the mean training loss.
    Done(f64),
    /// The loss or the gradient norm stopped being finite.
    Diverged(Divergence),
    /// [`Trainer::stop_when`] said to stop.
    Stopped,
}

/// A fresh Adam optimiser (epsilon 1e-8).
fn new_optimizer() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-8).init()
}

/// What a checkpoint holds of one finished epoch.
struct CheckpointState<'a> {
    epoch: usize,
    net: &'a AutoEncoder,
    optim: &'a ModuleOptimizer,
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
