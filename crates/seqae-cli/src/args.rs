//! Command-line arguments (clap).
//!
//! Every default comes from the library (`ModelConfig::default()`, `TrainConfig::default()`,
//! ...), so `seqae train` with no flags trains the model the library's defaults describe.
use crate::error::{CliError, CliResult};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use seqae_data::Normalization;
use seqae_data::read::{Column, Format, ReadOptions};
use seqae_model::{
    Backend, Cell, DecoderInput, Kernel, ModelConfig, Objective, Patch, Pooling, TrainConfig,
};
use std::path::PathBuf;

/// The library's model defaults.
fn model_default() -> ModelConfig {
    ModelConfig::default()
}

/// The library's training defaults.
fn train_default() -> TrainConfig {
    TrainConfig::default()
}

/// `--decoder-input`: the names [`DecoderInput`] parses, listed in `--help`.
fn decoder_input_parser() -> impl TypedValueParser<Value = DecoderInput> {
    PossibleValuesParser::new(DecoderInput::NAMES).map(|name| {
        name.parse::<DecoderInput>()
            .expect("every listed name parses")
    })
}

/// `--method`: the names [`seqae_latent::Method`] parses, listed in `--help`.
fn method_parser() -> impl TypedValueParser<Value = seqae_latent::Method> {
    PossibleValuesParser::new(seqae_latent::Method::NAMES).map(|name| {
        name.parse::<seqae_latent::Method>()
            .expect("every listed name parses")
    })
}

/// Help of `--epochs`, with the library's numbers.
fn epochs_help() -> String {
    let t = train_default();
    format!(
        "Passes over the data [default: {}, and more on small data so that training makes at least {} updates (--min-updates); with --epochs, exactly this many]",
        t.epochs,
        t.min_updates.unwrap_or(0)
    )
}

/// Sequence autoencoders for unsupervised learning on time series: train a recurrent
/// autoencoder, embed sequences as latent vectors, cluster, reduce and plot them.
#[derive(Parser, Debug)]
#[command(name = "seqae", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Describe a dataset: sequences, channels, lengths, labels, missing values.
    Info(InfoArgs),
    /// Train a sequence autoencoder and save it (with its loss history and loss curve).
    Train(TrainArgs),
    /// Embed sequences with a trained model: one latent vector per sequence.
    Embed(EmbedArgs),
    /// Cluster embeddings, or sequences (with --model, or with --method kshape).
    Cluster(ClusterArgs),
    /// Reduce embeddings with PCA.
    Reduce(ReduceArgs),
    /// Reconstruct sequences with a trained model and score them (anomaly score), worst first.
    Reconstruct(ReconstructArgs),
    /// Draw a chart: latent, loss, reconstructions, prototypes, scree or silhouette.
    Plot(PlotArgs),
    /// The unsupervised protocol on labelled data: train without labels, cluster, score NMI/ARI.
    Evaluate(EvaluateArgs),
    /// The main job on a shipped dataset: train, embed, cluster, reduce, plot, report.
    Demo(DemoArgs),
    /// Benchmark training and encoding speed on synthetic sines (optionally beside PyTorch).
    Bench(BenchArgs),
}

/// Where the data is and how to read it.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file (.ts, .tsv, .csv, .npy) or a folder of them (merged, NAME_TRAIN before NAME_TEST).
    pub path: PathBuf,
    /// Format, overriding the file extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Accept NaN or empty cells inside sequences as missing values (.tsv, .csv, .npy).
    #[arg(long)]
    pub allow_missing: bool,
    /// CSV: the label column, by header name or 0-based index [default: a column named label or class].
    #[arg(long, value_name = "COLUMN")]
    pub label_column: Option<String>,
    /// CSV: the id column, by header name or 0-based index [default: a column named id].
    #[arg(long, value_name = "COLUMN")]
    pub id_column: Option<String>,
    /// Long CSV: the time column, by header name or 0-based index [default: time, else column 1].
    #[arg(long, value_name = "COLUMN")]
    pub time_column: Option<String>,
    /// CSV: whether the first row is a header (true/false) [default: detected].
    #[arg(long, value_name = "BOOL")]
    pub header: Option<bool>,
    /// CSV: the field delimiter, one character [default: ,].
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
}

impl DataArgs {
    /// The reader options these flags describe.
    pub fn options(&self) -> CliResult<ReadOptions> {
        let delimiter = match self.delimiter {
            Some(c) if c.is_ascii() => Some(c as u8),
            Some(c) => {
                return Err(CliError::Input(format!(
                    "--delimiter '{c}': must be one ASCII character"
                )));
            }
            None => None,
        };
        Ok(ReadOptions {
            format: self.format,
            allow_missing: self.allow_missing,
            header: self.header,
            label_column: self.label_column.as_deref().map(Column::parse),
            id_column: self.id_column.as_deref().map(Column::parse),
            time_column: self.time_column.as_deref().map(Column::parse),
            delimiter,
        })
    }
}

/// `seqae info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON object (keys n, channels, min_len, median_len, max_len, labels, missing).
    #[arg(long)]
    pub json: bool,
}

/// Where an output goes and whether it may replace an existing file.
#[derive(Args, Debug, Clone)]
pub struct OutArgs {
    /// Output file.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// The model and its training; every default is the library's.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Recurrent cell (rnn: the vanilla tanh cell).
    #[arg(long, value_enum, default_value_t = model_default().cell)]
    pub cell: Cell,
    /// Hidden units per layer (and direction).
    #[arg(long, allow_negative_numbers = true, default_value_t = model_default().hidden)]
    pub hidden: usize,
    /// Size of the latent vector (the embedding).
    #[arg(long, allow_negative_numbers = true, default_value_t = model_default().latent)]
    pub latent: usize,
    /// Stacked recurrent layers in the encoder and the decoder.
    #[arg(long, allow_negative_numbers = true, default_value_t = model_default().layers)]
    pub layers: usize,
    /// Read each sequence in both directions in the encoder (`--bidirectional false` for one).
    #[arg(long, default_value_t = model_default().bidirectional, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "BOOL")]
    pub bidirectional: bool,
    /// Dropout between stacked layers while training, in [0, 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = model_default().dropout)]
    pub dropout: f64,
    /// Decoder input: unconditioned (the latent vector alone must carry the sequence, which
    /// gives the most informative embeddings), latent (the latent vector again at every step),
    /// teacher-forcing or free-running.
    #[arg(long, value_parser = decoder_input_parser(), default_value_t = model_default().decoder_input)]
    pub decoder_input: DecoderInput,
    /// With --decoder-input teacher-forcing: probability of feeding the true previous value
    /// [default: 0.5].
    #[arg(long, allow_negative_numbers = true)]
    pub teacher_ratio: Option<f64>,
    /// Reconstruct in the same order instead of reversed.
    #[arg(long)]
    pub same_order: bool,
    /// Time steps read as one recurrent step: auto (at most 32 recurrent steps for the longest
    /// sequence, so 1 up to length 32) or a size (1: every time step).
    #[arg(long, default_value_t = model_default().patch)]
    pub patch: Patch,
    /// How the encoder's states become the latent vector: the final states, or their mean or
    /// maximum over time (less tied to where in time a pattern is).
    #[arg(long, value_enum, default_value_t = model_default().pooling)]
    pub pooling: Pooling,
    #[arg(long, allow_negative_numbers = true, help = epochs_help())]
    pub epochs: Option<usize>,
    /// Train at least this many updates (batches), adding epochs on small data (0: off)
    /// [default: the library's, unless --epochs is given].
    #[arg(long, allow_negative_numbers = true)]
    pub min_updates: Option<usize>,
    /// Sequences per batch.
    #[arg(long, allow_negative_numbers = true, default_value_t = train_default().batch_size)]
    pub batch: usize,
    /// Adam learning rate.
    #[arg(long, allow_negative_numbers = true, default_value_t = train_default().lr)]
    pub lr: f64,
    /// Clip the global gradient norm to this (0: no clipping).
    #[arg(long, allow_negative_numbers = true, default_value_t = train_default().clip_norm.unwrap_or(0.0))]
    pub clip: f64,
    /// Seed of weights, shuffling and every random draw.
    #[arg(long, allow_negative_numbers = true, default_value_t = train_default().seed)]
    pub seed: u64,
    /// Fraction of sequences held out for validation (0: none).
    #[arg(long, allow_negative_numbers = true, default_value_t = train_default().val_fraction)]
    pub val_fraction: f64,
    /// Stop after this many epochs without improvement (keeps the best weights).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Halve the learning rate after this many epochs without improvement.
    #[arg(long)]
    pub plateau: Option<usize>,
    /// What training minimises: reconstruction alone, or with a contrastive term on augmented
    /// views (crops, scaling, jitter) that makes embeddings shift- and scale-invariant.
    #[arg(long, value_enum, default_value_t = train_default().objective)]
    pub objective: Objective,
    #[arg(long, allow_negative_numbers = true, help = format!(
        "Weight of the contrastive term (with --objective contrastive) [default: {}]",
        train_default().contrast.weight
    ))]
    pub contrast_weight: Option<f64>,
    #[arg(long, allow_negative_numbers = true, help = format!(
        "Shortest crop of a contrastive view, as a fraction of the sequence (with --objective contrastive) [default: {}]",
        train_default().contrast.min_crop
    ))]
    pub min_crop: Option<f64>,
    /// Normalisation: zscore (per sequence), global (per channel over the training set),
    /// minmax or none.
    #[arg(long, value_enum, default_value_t = train_default().normalization)]
    pub normalize: Normalization,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::default())]
    pub backend: Backend,
    /// Hide the progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `seqae train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Output model directory (config.json, weights.bpk, history.json, loss.png). While
    /// training it holds the checkpoint of the last finished epoch.
    #[arg(long, short, value_name = "MODEL")]
    pub out: PathBuf,
    /// Replace an existing model directory (only the files seqae wrote there).
    #[arg(long)]
    pub force: bool,
    /// Continue from the checkpoint in --out (the same command, interrupted): the result is
    /// the model an uninterrupted run would have made.
    #[arg(long)]
    pub resume: bool,
    /// Least seconds between two checkpoints (0: after every epoch; the last epoch always
    /// writes one).
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub checkpoint_secs: f64,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `seqae embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Trained model directory.
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutArgs,
    /// Compute backend for inference.
    #[arg(long, value_enum, default_value_t = Backend::default())]
    pub backend: Backend,
}

/// Number of clusters: a number or `auto` (chosen by silhouette).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KChoice {
    /// This many clusters.
    Fixed(usize),
    /// Chosen by the best mean silhouette over 2..=k-max.
    Auto,
}

impl std::str::FromStr for KChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(KChoice::Auto);
        }
        match s.parse::<usize>() {
            Ok(k) if k >= 1 => Ok(KChoice::Fixed(k)),
            _ => Err(format!(
                "'{s}' is not a number of clusters (1 or more) or 'auto'"
            )),
        }
    }
}

/// `seqae cluster`.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// Embeddings (.csv, .npy, .json); with --model, the data to embed first; with
    /// --method kshape and no model, the data.
    pub input: PathBuf,
    /// Embed INPUT with this model first (INPUT is then data).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Compute backend that embeds with --model.
    #[arg(long, value_enum, default_value_t = Backend::default(), requires = "model")]
    pub backend: Backend,
    /// Number of clusters, or auto (best silhouette over 2..=k-max).
    #[arg(long, default_value = "auto")]
    pub k: KChoice,
    /// Largest k tried by --k auto.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10)]
    pub k_max: usize,
    /// Restarts of k-means (also inside spectral clustering) or k-Shape; the lowest cost
    /// wins [default: 10; k-Shape 3].
    #[arg(long, allow_negative_numbers = true)]
    pub n_init: Option<usize>,
    /// Seed of every random choice.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// How the clusters are found once k is known: auto (with --model, the best of the
    /// latent, raw, shape and warping views by stability; on embeddings alone, spectral),
    /// spectral (the embeddings' nearest-neighbour graph), kmeans, or kshape (the raw
    /// sequences). --k auto compares k by k-means silhouettes.
    #[arg(long, alias = "clusterer", value_parser = method_parser(), default_value_t = seqae_latent::Method::default())]
    pub method: seqae_latent::Method,
    /// Output file (.csv, .npy or .json): the cluster of each sequence.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `seqae reduce`.
#[derive(Args, Debug)]
pub struct ReduceArgs {
    /// Embeddings (.csv, .npy or .json).
    pub embeddings: PathBuf,
    /// Number of principal components to keep.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2)]
    pub components: usize,
    /// Scale the components to unit variance.
    #[arg(long)]
    pub whiten: bool,
    #[command(flatten)]
    pub out: OutArgs,
}

/// `seqae reconstruct`.
#[derive(Args, Debug)]
pub struct ReconstructArgs {
    /// Trained model directory.
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output (.csv: id, label, error, then t0_c0, t0_c1, ... of the reconstruction; or .json).
    #[command(flatten)]
    pub out: OutArgs,
    /// Compute backend for inference.
    #[arg(long, value_enum, default_value_t = Backend::default())]
    pub backend: Backend,
    /// How many of the worst sequences to print.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10)]
    pub top: usize,
}

/// `seqae plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// What to draw.
    #[command(subcommand)]
    pub kind: PlotKind,
}

/// The charts.
#[derive(Subcommand, Debug)]
pub enum PlotKind {
    /// The latent space: PCA to 2-D, coloured by cluster, marker by true label.
    Latent {
        /// Embeddings (.csv, .npy or .json).
        embeddings: PathBuf,
        /// Cluster assignments from `seqae cluster` (default: k-means with --k).
        #[arg(long, value_name = "FILE")]
        clusters: Option<PathBuf>,
        /// Clusters when --clusters is not given: a number or auto.
        #[arg(long, default_value = "auto")]
        k: KChoice,
        #[command(flatten)]
        out: OutArgs,
    },
    /// The training loss curve of a model.
    Loss {
        /// Trained model directory.
        model: PathBuf,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Reconstructions over originals for a few sequences.
    Reconstructions {
        /// Trained model directory.
        model: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        /// How many sequences (the first ones).
        #[arg(long, allow_negative_numbers = true, default_value_t = 4)]
        count: usize,
        /// Compute backend.
        #[arg(long, value_enum, default_value_t = Backend::default())]
        backend: Backend,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Cluster prototypes: mean sequence per cluster with a ±1 std band.
    Prototypes {
        #[command(flatten)]
        data: DataArgs,
        /// Cluster assignments from `seqae cluster` (one row per sequence, in data order).
        #[arg(long, value_name = "FILE")]
        clusters: PathBuf,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Explained variance ratio per principal component (scree plot).
    Scree {
        /// Embeddings (.csv, .npy or .json).
        embeddings: PathBuf,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Mean silhouette against k.
    Silhouette {
        /// Embeddings (.csv, .npy or .json).
        embeddings: PathBuf,
        /// Largest k tried.
        #[arg(long, allow_negative_numbers = true, default_value_t = 10)]
        k_max: usize,
        #[command(flatten)]
        out: OutArgs,
    },
}

/// `seqae evaluate`.
#[derive(Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Clusters [default: the number of distinct labels].
    #[arg(long)]
    pub k: Option<usize>,
    /// Number of seeds (seed, seed+1, ...), each a full training run.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seeds: usize,
    /// Print one JSON object (nmi_mean, ari_mean, per_seed, ...).
    #[arg(long)]
    pub json: bool,
    /// How the sequences are clustered (as `seqae cluster --method`): auto (the best of the
    /// latent, raw, shape and warping views by stability), spectral or kmeans on the
    /// embeddings, or kshape on the raw sequences.
    #[arg(long, alias = "clusterer", value_parser = method_parser(), default_value_t = seqae_latent::Method::default())]
    pub method: seqae_latent::Method,
    /// Also score the classical baselines with the same k and seeds: k-means on the raw values
    /// (z-normalised per sequence, resampled to the median length) and k-Shape. Does the
    /// autoencoder earn its keep?
    #[arg(long)]
    pub baseline: bool,
}

/// `seqae demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output folder for the report.
    #[arg(long, short, default_value = "seqae-demo")]
    pub out: PathBuf,
    /// Replace the files of an existing report folder.
    #[arg(long)]
    pub force: bool,
    /// Dataset [default: BasicMotions, built into the binary].
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `seqae bench`: the model and data of the PyTorch benchmark script, timed.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Recurrent cell (the benchmark's default is the LSTM, the hardest case).
    #[arg(long, value_enum, default_value_t = Cell::Lstm)]
    pub cell: Cell,
    /// Number of sequences.
    #[arg(long, default_value_t = 2048)]
    pub n: usize,
    /// Sequence length.
    #[arg(long = "len", default_value_t = 128)]
    pub len: usize,
    /// Channels.
    #[arg(long, default_value_t = 3)]
    pub dim: usize,
    /// Hidden units.
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Latent size.
    #[arg(long, default_value_t = 16)]
    pub latent: usize,
    /// Sequences per training batch.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Timed training epochs (after one warm-up epoch).
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Worker threads (rayon pool, GEMMs).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Runs of each side, alternating seqae and the peer; the report gives the median of each
    /// figure and the range.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::default())]
    pub backend: Backend,
    /// Recurrent layer implementation.
    #[arg(long, value_enum, default_value_t = Kernel::default())]
    pub kernel: Kernel,
    /// Seed of the data and the weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also run the PyTorch script (--peer-script) with this Python and print both side by
    /// side.
    #[arg(long, value_name = "PYTHON", requires = "peer_script")]
    pub peer: Option<PathBuf>,
    /// The PyTorch benchmark script run by --peer (`torch_seq_ae.py`; not shipped with seqae).
    #[arg(long, value_name = "FILE", requires = "peer")]
    pub peer_script: Option<PathBuf>,
}
