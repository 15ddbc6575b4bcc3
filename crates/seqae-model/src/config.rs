//! Configurations: [`ModelConfig`] (what the model is, stored in the model file) and
//! [`TrainConfig`] (how it is fitted).
use seqae_data::Normalization;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::objective::{Contrast, Objective};

/// The recurrent cell. Gate order and conventions are PyTorch's (`nn.RNN`, `nn.LSTM`, `nn.GRU`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Cell {
    /// The vanilla cell: `h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`.
    Rnn,
    /// Long short-term memory; gates `i, f, g, o`.
    Lstm,
    /// Gated recurrent unit; gates `r, z, n` (the default: docs/QUALITY.md).
    #[default]
    Gru,
}

seqae_data::named_enum!(Cell, "cell", {
    Rnn => "rnn" | "vanilla" | "tanh",
    Lstm => "lstm",
    Gru => "gru",
});

impl Cell {
    /// Every cell.
    pub const ALL: [Cell; 3] = [Cell::Rnn, Cell::Lstm, Cell::Gru];

    /// Number of stacked gates (blocks of `hidden` rows in the weights).
    pub fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// What the decoder receives as input at step `t` (step 0 always receives zeros).
///
/// In training, [`TeacherForcing`](DecoderInput::TeacherForcing) feeds the previous target
/// with probability `ratio` (one coin flip per step and batch) and the decoder's own previous
/// output otherwise. At inference (embed needs no decoder; reconstruct and reconstruction
/// error do) both teacher forcing and free running feed the previous output, since the target
/// is what is being reconstructed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum DecoderInput {
    /// The previous target with probability `ratio`, else the previous output.
    TeacherForcing {
        /// Probability of feeding the target, in `[0, 1]`.
        ratio: f64,
    },
    /// The decoder's own previous output.
    FreeRunning,
    /// Nothing (zeros): the decoder works from the latent state alone.
    Unconditioned,
    /// The latent vector itself at every step (besides the initial state), so that the
    /// conditioning does not fade over long sequences; like the unconditioned decoder, it sees
    /// nothing of the target.
    Latent,
}

/// The default is [`Unconditioned`](DecoderInput::Unconditioned): with teacher forcing the
/// decoder learns to predict from the previous values and the latent vector carries little
/// (measured on a two-family set: training loss far lower, but 2-means on the latents at chance
/// level), while an unconditioned decoder must rebuild the sequence from the latent alone.
impl Default for DecoderInput {
    fn default() -> Self {
        DecoderInput::Unconditioned
    }
}

impl DecoderInput {
    /// The teacher-forcing ratio a bare `teacher-forcing` means.
    pub const DEFAULT_TEACHER_RATIO: f64 = 0.5;

    /// The names [`FromStr`](std::str::FromStr) accepts, canonical ones first.
    pub const NAMES: [&'static str; 4] =
        ["unconditioned", "latent", "teacher-forcing", "free-running"];

    /// The canonical name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            DecoderInput::Unconditioned => "unconditioned",
            DecoderInput::Latent => "latent",
            DecoderInput::TeacherForcing { .. } => "teacher-forcing",
            DecoderInput::FreeRunning => "free-running",
        }
    }

    /// The same mode; teacher forcing with `ratio`.
    pub fn with_ratio(self, ratio: f64) -> DecoderInput {
        match self {
            DecoderInput::TeacherForcing { .. } => DecoderInput::TeacherForcing { ratio },
            other => other,
        }
    }
}

impl std::fmt::Display for DecoderInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `unconditioned` (or `none`), `latent` (or `repeat`), `teacher-forcing` (or
/// `teacher`; ratio 0.5, see [`DecoderInput::with_ratio`]) or `free-running` (or `free`).
impl std::str::FromStr for DecoderInput {
    type Err = seqae_data::UnknownName;

    fn from_str(name: &str) -> std::result::Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "teacher-forcing" | "teacher" | "tf" => Ok(DecoderInput::TeacherForcing {
                ratio: Self::DEFAULT_TEACHER_RATIO,
            }),
            "free-running" | "free" => Ok(DecoderInput::FreeRunning),
            "unconditioned" | "none" | "zeros" => Ok(DecoderInput::Unconditioned),
            "latent" | "repeat" => Ok(DecoderInput::Latent),
            _ => Err(seqae_data::UnknownName {
                what: "decoder input",
                name: name.to_string(),
                expected: seqae_data::names::one_of(&Self::NAMES),
            }),
        }
    }
}

/// How many consecutive time steps the recurrent layers read as one step (and the decoder
/// writes as one output), in the manner of the patches of PatchTST (Nie et al., ICLR 2023).
///
/// A recurrent autoencoder must carry the whole sequence through every step, and over a few
/// hundred steps an unconditioned decoder did not learn at all: on ArrowHead (length 251)
/// every reconstruction came out the same curve (loss 0.19, worse than the mean curve) and the
/// clusters were near chance. Read 8 steps at a time (32 recurrent steps) it fits to a loss of
/// about 0.04 in a seventh of the time per epoch, and its clusters match k-means on the raw
/// values (docs/QUALITY.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Patch {
    /// Chosen when fitting: the smallest size that leaves at most [`Patch::AUTO_STEPS`]
    /// recurrent steps for the longest training sequence.
    Auto,
    /// This many time steps per recurrent step (1: one each, the classic model).
    Size(usize),
}

/// [`Patch::Auto`], the benchmarked default (docs/QUALITY.md).
impl Default for Patch {
    fn default() -> Self {
        Patch::Auto
    }
}

impl Patch {
    /// The most recurrent steps [`Patch::Auto`] leaves.
    pub const AUTO_STEPS: usize = 32;

    /// One time step per recurrent step: what a model file written before patches existed
    /// means.
    pub fn one() -> Patch {
        Patch::Size(1)
    }

    /// The size for data whose longest sequence has `max_len` steps.
    pub fn resolve(self, max_len: usize) -> usize {
        match self {
            Patch::Auto => max_len.div_ceil(Self::AUTO_STEPS).max(1),
            Patch::Size(n) => n,
        }
    }
}

/// How the encoder turns the last layer's hidden states into the latent vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The final state of each direction (the classic sequence autoencoder).
    Last,
    /// The mean of the states over the valid steps: less tied to where in time a pattern is
    /// (the default: docs/QUALITY.md).
    #[default]
    Mean,
    /// The largest value of each state unit over the valid steps (TS2Vec's instance
    /// representation, Yue et al., AAAI 2022).
    Max,
    /// The final states and the mean, side by side.
    LastMean,
}

seqae_data::named_enum!(Pooling, "pooling", {
    Last => "last" | "final",
    Mean => "mean" | "average",
    Max => "max",
    LastMean => "last-mean",
});

impl Pooling {
    /// How many state vectors of the last layer's width the pooling puts side by side.
    pub fn parts(self) -> usize {
        match self {
            Pooling::LastMean => 2,
            _ => 1,
        }
    }

    /// What a model file written before pooling existed means.
    pub fn before_pooling() -> Pooling {
        Pooling::Last
    }
}

/// The architecture of a sequence autoencoder (stored in the model file). The defaults are
/// the ones docs/QUALITY.md benchmarked, the same as `seqae train` with no flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Recurrent cell of the encoder and the decoder.
    pub cell: Cell,
    /// Hidden units per layer and direction.
    pub hidden: usize,
    /// Size of the latent vector (the embedding).
    pub latent: usize,
    /// Stacked recurrent layers, in the encoder and in the decoder.
    pub layers: usize,
    /// Bidirectional encoder (the decoder always runs forward).
    pub bidirectional: bool,
    /// Dropout between stacked layers during training, in `[0, 1)`.
    pub dropout: f64,
    /// What the decoder receives as input.
    pub decoder_input: DecoderInput,
    /// Reconstruct the sequence in reverse order (the default, after Srivastava et al. 2015).
    pub reverse_target: bool,
    /// Time steps per recurrent step; a fitted model always holds a [`Patch::Size`] (files
    /// written before patches existed have none: one step).
    #[serde(default = "Patch::one")]
    pub patch: Patch,
    /// How the encoder's states become the latent vector (files written before pooling
    /// existed have none: the final states).
    #[serde(default = "Pooling::before_pooling")]
    pub pooling: Pooling,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            cell: Cell::Gru,
            hidden: 64,
            latent: 32,
            layers: 1,
            bidirectional: true,
            dropout: 0.0,
            decoder_input: DecoderInput::default(),
            reverse_target: true,
            patch: Patch::default(),
            pooling: Pooling::default(),
        }
    }
}

impl std::fmt::Display for Patch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Patch::Auto => f.write_str("auto"),
            Patch::Size(n) => write!(f, "{n}"),
        }
    }
}

/// Parses `auto` or a whole number of at least 1.
impl std::str::FromStr for Patch {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("auto") {
            return Ok(Patch::Auto);
        }
        match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Patch::Size(n)),
            _ => Err(format!(
                "patch must be auto or a whole number >= 1, not {text:?}"
            )),
        }
    }
}

impl ModelConfig {
    /// The default configuration with another cell.
    pub fn with_cell(cell: Cell) -> Self {
        ModelConfig {
            cell,
            ..Default::default()
        }
    }

    /// Time steps per recurrent step: the size of a [`Patch::Size`], 1 for an unresolved
    /// [`Patch::Auto`] (see [`ModelConfig::resolved`]).
    pub fn patch_size(&self) -> usize {
        self.patch.resolve(1)
    }

    /// This configuration with [`Patch::Auto`] replaced by the size for data whose longest
    /// sequence has `max_len` steps.
    pub fn resolved(&self, max_len: usize) -> ModelConfig {
        ModelConfig {
            patch: Patch::Size(self.patch.resolve(max_len)),
            ..self.clone()
        }
    }

    /// Number of encoder directions (1 or 2).
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<()> {
        if self.hidden == 0 {
            return Err(ModelError::config("hidden size must be at least 1"));
        }
        if self.latent == 0 {
            return Err(ModelError::config("latent size must be at least 1"));
        }
        if self.layers == 0 {
            return Err(ModelError::config(
                "the number of layers must be at least 1",
            ));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(ModelError::config(format!(
                "dropout must be in [0, 1), not {}",
                self.dropout
            )));
        }
        if self.patch == Patch::Size(0) {
            return Err(ModelError::config("patch size must be at least 1"));
        }
        if let DecoderInput::TeacherForcing { ratio } = self.decoder_input
            && !(ratio.is_finite() && (0.0..=1.0).contains(&ratio))
        {
            return Err(ModelError::config(format!(
                "teacher-forcing ratio must be in [0, 1], not {ratio}"
            )));
        }
        Ok(())
    }
}

/// A plateau learning-rate schedule: multiply the rate by `factor` when the monitored loss
/// (validation loss if there is a validation split, else training loss) has not improved for
/// `patience` epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    /// Factor in `(0, 1)`.
    pub factor: f64,
    /// Epochs without improvement before a reduction.
    pub patience: usize,
    /// The rate never goes below this.
    pub min_lr: f64,
}

impl Default for Plateau {
    fn default() -> Self {
        Plateau {
            factor: 0.5,
            patience: 5,
            min_lr: 1e-6,
        }
    }
}

/// How a model is fitted. The defaults are the benchmarked ones (docs/QUALITY.md), the same
/// as `seqae train` with no flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Passes over the training sequences.
    pub epochs: usize,
    /// With `Some(n)`, more epochs than `epochs` where the data is small, so that the fit makes
    /// at least `n` updates (batches); see [`TrainConfig::epochs_for`].
    pub min_updates: Option<usize>,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Gradients are scaled so that their global L2 norm is at most this (None: no clipping).
    pub clip_norm: Option<f64>,
    /// Seed of weights, shuffling, the validation split, dropout and teacher-forcing draws.
    pub seed: u64,
    /// Fraction of sequences held out for validation, in `[0, 1)` (0: none).
    pub val_fraction: f64,
    /// Stop after this many epochs without improvement of the validation loss (or of the
    /// training loss without a validation split), and keep the best weights.
    pub patience: Option<usize>,
    /// Optional plateau schedule of the learning rate.
    pub plateau: Option<Plateau>,
    /// Normalisation fitted on the training sequences and stored in the model.
    pub normalization: Normalization,
    /// Batch sequences of similar length together.
    pub bucket: bool,
    /// What training minimises.
    pub objective: Objective,
    /// The settings of [`Objective::Contrastive`].
    pub contrast: Contrast,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 100,
            // On ArrowHead (211 sequences, 7 batches an epoch) 100 epochs left some seeds short
            // of fitting (docs/QUALITY.md).
            min_updates: Some(2000),
            batch_size: 32,
            lr: 1e-3,
            clip_norm: Some(1.0),
            seed: 0,
            val_fraction: 0.0,
            patience: None,
            plateau: None,
            normalization: Normalization::Global,
            bucket: true,
            objective: Objective::default(),
            contrast: Contrast::default(),
        }
    }
}

impl TrainConfig {
    /// The epochs a fit on `sequences` training sequences runs: `epochs`, or more if that many
    /// batches fall short of `min_updates`.
    pub fn epochs_for(&self, sequences: usize) -> usize {
        let batches = sequences.div_ceil(self.batch_size.max(1)).max(1);
        match self.min_updates {
            Some(n) => self.epochs.max(n.div_ceil(batches)),
            None => self.epochs,
        }
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(ModelError::config("epochs must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(ModelError::config("batch size must be at least 1"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(ModelError::config(format!(
                "learning rate must be > 0, not {}",
                self.lr
            )));
        }
        if let Some(c) = self.clip_norm
            && !(c.is_finite() && c > 0.0)
        {
            return Err(ModelError::config(format!(
                "clip norm must be > 0, not {c}"
            )));
        }
        if !(self.val_fraction.is_finite() && (0.0..1.0).contains(&self.val_fraction)) {
            return Err(ModelError::config(format!(
                "validation fraction must be in [0, 1), not {}",
                self.val_fraction
            )));
        }
        self.contrast.validate().map_err(ModelError::config)?;
        if self.patience == Some(0) {
            return Err(ModelError::config("patience must be at least 1"));
        }
        if let Some(p) = &self.plateau {
            if !(p.factor > 0.0 && p.factor < 1.0) {
                return Err(ModelError::config(format!(
                    "plateau factor must be in (0, 1), not {}",
                    p.factor
                )));
            }
            if p.patience == 0 {
                return Err(ModelError::config("plateau patience must be at least 1"));
            }
            if !(p.min_lr.is_finite() && p.min_lr >= 0.0) {
                return Err(ModelError::config(
                    "plateau minimum learning rate must be >= 0",
                ));
            }
        }
        Ok(())
    }
}
