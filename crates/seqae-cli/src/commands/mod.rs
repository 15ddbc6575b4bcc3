//! One module per command, and the pieces several commands share (model flags, loading a
//! model, training with a progress bar, embedding).
mod bench;
pub mod cluster;
mod demo;
mod embed;
mod evaluate;
mod info;
mod plot;
mod reconstruct;
mod reduce;
mod train;

use crate::args::{Command, DataArgs, ModelArgs};
use crate::error::{CliError, CliResult};
use crate::table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use seqae_data::SequenceSet;
use seqae_model::{
    Backend, Checkpointing, Fitted, Hyperparameters, ModelConfig, ModelError, SeqAe, Spelling,
    TrainConfig, Trainer,
};
use std::path::Path;

/// Runs one parsed command.
pub fn run(command: &Command) -> CliResult<()> {
    start_pool(match command {
        Command::Bench(a) => {
            bench::check_threads(a.threads)?;
            a.threads
        }
        _ => 0,
    })?;
    match command {
        Command::Info(a) => info::run(a),
        Command::Train(a) => train::run(a),
        Command::Embed(a) => embed::run(a),
        Command::Cluster(a) => cluster::run(a),
        Command::Reduce(a) => reduce::run(a),
        Command::Reconstruct(a) => reconstruct::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Bench(a) => bench::run(a),
    }
}

/// Starts the global thread pool with the calling thread as one of its threads: `threads` of
/// them (rayon's default, one per CPU or `RAYON_NUM_THREADS`, for 0). The serial work between
/// the parallel sections of training then runs on a thread of the pool, which starts each
/// section itself; otherwise it hands the section to the pool's sleeping threads, and the
/// second often woke milliseconds late (docs/BENCHMARKS.md, "Thread pool").
fn start_pool(threads: usize) -> CliResult<()> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .use_current_thread()
        .build_global()
        .map_err(|e| CliError::Failed(format!("cannot start the thread pool: {e}")))
}

impl From<ModelError> for CliError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::Tensor(_) | ModelError::Write { .. } => CliError::Failed(e.to_string()),
            other => CliError::Input(other.to_string()),
        }
    }
}

impl ModelArgs {
    /// The settings these flags give, under the library's names.
    pub fn hyperparameters(&self) -> Hyperparameters {
        Hyperparameters {
            cell: self.cell,
            hidden: self.hidden,
            latent: self.latent,
            layers: self.layers,
            bidirectional: self.bidirectional,
            dropout: self.dropout,
            patch: self.patch,
            pooling: self.pooling,
            decoder_input: self.decoder_input,
            teacher_ratio: self.teacher_ratio,
            same_order: self.same_order,
            epochs: self.epochs,
            min_updates: self.min_updates,
            batch: self.batch,
            lr: self.lr,
            clip: self.clip,
            seed: self.seed,
            normalize: self.normalize,
            val_fraction: self.val_fraction,
            patience: self.patience,
            plateau: self.plateau,
            objective: self.objective,
            contrast_weight: self.contrast_weight,
            min_crop: self.min_crop,
            backend: self.backend,
        }
    }

    /// The model architecture, training settings and backend these flags describe.
    pub fn configs(&self) -> CliResult<(ModelConfig, TrainConfig, Backend)> {
        Ok(self.hyperparameters().configs(Spelling::Flag)?)
    }

    /// A trainer for these flags with the seed `seed`.
    pub fn trainer(&self, seed: u64) -> CliResult<Trainer<'static>> {
        let hp = Hyperparameters {
            seed,
            ..self.hyperparameters()
        };
        Ok(hp.trainer(Spelling::Flag)?)
    }

    /// Trains on `set` with these flags, drawing a progress bar unless `--quiet`, with
    /// checkpoints as `checkpoint` says.
    pub fn fit(&self, set: &SequenceSet, checkpoint: Option<Checkpointing>) -> CliResult<Fitted> {
        let mut trainer = self.trainer(self.seed)?;
        if let Some(c) = checkpoint {
            trainer = trainer.checkpoint(c);
        }
        fit_with_progress(set, trainer, self.quiet)
    }
}

/// Trains with a progress bar (epoch, loss, time left) on standard error. A divergence is
/// returned in the result, for the caller to report (and to save the last good model).
pub fn fit_with_progress(
    set: &SequenceSet,
    trainer: Trainer<'_>,
    quiet: bool,
) -> CliResult<Fitted> {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} epoch {msg} [{elapsed_precise}, {eta} left]")
            .expect("valid template"),
    );
    // From here on Ctrl-C stops training after the batch instead of ending the process.
    crate::signals::install();
    let last = std::cell::RefCell::new(String::new());
    let fitted = trainer
        .on_epoch(|r| {
            let text = match r.val_loss {
                Some(v) => format!("loss {:.4} val {v:.4}", r.train_loss),
                None => format!("loss {:.4}", r.train_loss),
            };
            bar.set_message(format!("{}/{} {text}", r.epoch, r.epochs));
            *last.borrow_mut() = text;
        })
        .on_batch(|b| {
            if bar.length() == Some(0) {
                bar.set_length((b.epochs * b.batches) as u64);
            }
            bar.inc(1);
            if b.batch == 1 && b.epoch == 1 {
                bar.set_message(format!("1/{} loss {:.4}", b.epochs, b.loss));
            }
        })
        .stop_when(|| crate::signals::received().is_some())
        .fit(set);
    bar.finish_and_clear();
    let fitted = fitted?;
    if !quiet && fitted.diverged.is_none() {
        let h = fitted.model.history();
        eprintln!(
            "trained {} epochs{} on {} sequences: {}",
            h.train_loss.len(),
            if h.stopped_early {
                " (stopped early)"
            } else {
                ""
            },
            h.train_size,
            last.borrow()
        );
    }
    Ok(fitted)
}

/// The fit, or the divergence (exit code 1) or the interruption (exit code 130/143) as an
/// error, for commands that have nothing to save.
pub fn converged(fitted: Fitted) -> CliResult<Fitted> {
    if let Some(signal) = crate::signals::received().filter(|_| fitted.interrupted.is_some()) {
        return Err(CliError::Interrupted {
            message: format!(
                "stopped by {} during training; nothing was written",
                crate::signals::name(signal)
            ),
            signal,
        });
    }
    match &fitted.diverged {
        Some(d) => Err(CliError::Failed(d.to_string())),
        None => Ok(fitted),
    }
}

/// Loads a model directory for inference on `backend`.
pub fn load_model(dir: &Path, backend: Backend) -> CliResult<SeqAe> {
    Ok(SeqAe::load(dir, backend)?)
}

/// Sequences embedded at a time when embedding a file: with an `.npy` file only this many
/// sequences are in memory at once (16,384 of length 128 are 8 MiB).
pub const EMBED_CHUNK: usize = 16_384;

/// Embeds `set` into a table with the set's ids and labels.
pub fn embed_table(model: &SeqAe, set: &SequenceSet) -> CliResult<Table> {
    let mut table = EmbeddingTable::default();
    table.push(model, set)?;
    Ok(table.finish())
}

/// Embeddings gathered chunk by chunk, numbered across the chunks.
#[derive(Default)]
struct EmbeddingTable {
    ids: Vec<String>,
    labels: Option<Vec<String>>,
    values: Vec<f32>,
}

impl EmbeddingTable {
    /// Appends the embeddings of `set`, whose sequences follow those pushed so far.
    fn push(&mut self, model: &SeqAe, set: &SequenceSet) -> CliResult<()> {
        let base = self.ids.len();
        let z = model.embed(set).map_err(|e| e.shifted(base))?;
        self.values.extend_from_slice(z.as_slice());
        match set.ids() {
            Some(ids) => self.ids.extend_from_slice(ids),
            None => self
                .ids
                .extend((base..base + set.len()).map(|i| i.to_string())),
        }
        if let Some(l) = set.labels() {
            self.labels
                .get_or_insert_with(Vec::new)
                .extend_from_slice(l);
        }
        Ok(())
    }

    fn finish(self) -> Table {
        Table::new(self.ids, self.labels, "z", 0, self.values)
    }
}

impl DataArgs {
    /// Reads the data for `model` (loaded from `model_dir`), refusing a channel count the
    /// model was not trained on with both paths named.
    pub fn read_for(&self, model: &SeqAe, model_dir: &Path) -> CliResult<SequenceSet> {
        let set = self.read()?;
        self.check_channels(set.channels(), model, model_dir)?;
        Ok(set)
    }

    /// Embeds the data with `model` (loaded from `model_dir`) a chunk of [`EMBED_CHUNK`]
    /// sequences at a time, so that an `.npy` file is never whole in memory.
    pub fn embed_with(&self, model: &SeqAe, model_dir: &Path) -> CliResult<Table> {
        self.embed_chunks(self.chunks()?, model, model_dir)
    }

    /// The data opened for reading in chunks of [`EMBED_CHUNK`] sequences (an `.npy` file's
    /// header checked, any other input read).
    pub fn chunks(&self) -> CliResult<seqae_data::Chunks> {
        Ok(seqae_data::read_chunks(
            &self.path,
            &self.options()?,
            EMBED_CHUNK,
        )?)
    }

    /// [`DataArgs::embed_with`] on chunks already opened.
    pub fn embed_chunks(
        &self,
        mut chunks: seqae_data::Chunks,
        model: &SeqAe,
        model_dir: &Path,
    ) -> CliResult<Table> {
        let mut table = EmbeddingTable::default();
        while let Some(set) = chunks.next_chunk()? {
            self.check_channels(set.channels(), model, model_dir)?;
            table.push(model, &set)?;
        }
        Ok(table.finish())
    }

    fn check_channels(&self, channels: usize, model: &SeqAe, model_dir: &Path) -> CliResult<()> {
        if channels != model.channels() {
            return Err(CliError::Input(format!(
                "{}: has {} channels, but the model {} was trained on {}",
                self.path.display(),
                channels,
                model_dir.display(),
                model.channels()
            )));
        }
        Ok(())
    }

    /// Data at `path` read with default options.
    pub fn plain(path: &Path) -> DataArgs {
        DataArgs {
            path: path.to_path_buf(),
            format: None,
            allow_missing: false,
            label_column: None,
            id_column: None,
            time_column: None,
            header: None,
            delimiter: None,
        }
    }
}
