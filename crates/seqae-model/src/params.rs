//! The hyperparameters of a fit as users give them: one flat set named like `seqae train`'s
//! flags (`--teacher-ratio` is `teacher_ratio`), filled by the command line and by Python's
//! estimators alike, turned into a [`ModelConfig`] and a [`TrainConfig`] by one function, and
//! stored in the model file so that a loaded model reports what it was fitted with.
use serde::{Deserialize, Serialize};

use crate::config::{Cell, DecoderInput, ModelConfig, Patch, Plateau, Pooling, TrainConfig};
use crate::error::{ModelError, Result};
use crate::objective::{Contrast, Objective};
use crate::{Backend, Trainer};
use seqae_data::Normalization;

/// Every setting of a fit, as the user gave it (`None`: the library's default, which may
/// depend on other settings). The defaults are `seqae train` with no flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hyperparameters {
    /// Recurrent cell.
    #[serde(with = "by_name")]
    pub cell: Cell,
    /// Hidden units per layer and direction.
    pub hidden: usize,
    /// Size of the latent vector.
    pub latent: usize,
    /// Stacked recurrent layers.
    pub layers: usize,
    /// A bidirectional encoder.
    pub bidirectional: bool,
    /// Dropout between stacked layers (needs `layers >= 2`).
    pub dropout: f64,
    /// Time steps per recurrent step, or auto.
    #[serde(with = "by_name")]
    pub patch: Patch,
    /// How the encoder's states become the latent vector.
    #[serde(with = "by_name")]
    pub pooling: Pooling,
    /// What the decoder reads at each step.
    #[serde(with = "by_name")]
    pub decoder_input: DecoderInput,
    /// With teacher forcing: the probability of feeding the true previous value (`None`:
    /// [`DecoderInput::DEFAULT_TEACHER_RATIO`]).
    pub teacher_ratio: Option<f64>,
    /// Reconstruct in the input's order instead of reversed.
    pub same_order: bool,
    /// Epochs (`None`: the library's, with the `min_updates` floor).
    pub epochs: Option<usize>,
    /// The least number of updates (`None`: the library's floor without `epochs`, none with
    /// it; `Some(0)`: no floor).
    pub min_updates: Option<usize>,
    /// Sequences per batch.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Gradient-norm clipping (0: off).
    pub clip: f64,
    /// Seed of every random draw.
    pub seed: u64,
    /// The normalisation fitted on the training data.
    #[serde(with = "by_name")]
    pub normalize: Normalization,
    /// Fraction held out for validation.
    pub val_fraction: f64,
    /// Early stopping after this many epochs without improvement.
    pub patience: Option<usize>,
    /// Halve the learning rate after this many epochs without improvement.
    pub plateau: Option<usize>,
    /// What training minimises.
    #[serde(with = "by_name")]
    pub objective: Objective,
    /// With the contrastive objective: the weight of its term (`None`: the library's).
    pub contrast_weight: Option<f64>,
    /// With the contrastive objective: the shortest crop (`None`: the library's).
    pub min_crop: Option<f64>,
    /// The compute backend.
    #[serde(with = "by_name")]
    pub backend: Backend,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        let m = ModelConfig::default();
        let t = TrainConfig::default();
        Hyperparameters {
            cell: m.cell,
            hidden: m.hidden,
            latent: m.latent,
            layers: m.layers,
            bidirectional: m.bidirectional,
            dropout: m.dropout,
            patch: m.patch,
            pooling: m.pooling,
            decoder_input: m.decoder_input,
            teacher_ratio: None,
            same_order: !m.reverse_target,
            epochs: None,
            min_updates: None,
            batch: t.batch_size,
            lr: t.lr,
            clip: t.clip_norm.unwrap_or(0.0),
            seed: t.seed,
            normalize: t.normalization,
            val_fraction: t.val_fraction,
            patience: t.patience,
            plateau: t.plateau.map(|p| p.patience),
            objective: t.objective,
            contrast_weight: None,
            min_crop: None,
            backend: Backend::default(),
        }
    }
}

/// Each setting's name, the values it takes (as Python writes them) and what it does: the
/// source of the Python estimators' parameter documentation (`params::tests` checks that it
/// covers every field of [`Hyperparameters`], in order).
pub const DESCRIPTIONS: [(&str, &str, &str); 25] = [
    (
        "cell",
        "{\"rnn\", \"lstm\", \"gru\"}",
        "Recurrent cell (rnn: the vanilla tanh cell).",
    ),
    ("hidden", "int", "Hidden units per layer (and direction)."),
    (
        "latent",
        "int",
        "Size of the latent vector (the embedding).",
    ),
    (
        "layers",
        "int",
        "Stacked recurrent layers in the encoder and the decoder.",
    ),
    (
        "bidirectional",
        "bool",
        "Read each sequence in both directions in the encoder.",
    ),
    (
        "dropout",
        "float",
        "Dropout between stacked layers while training, in [0, 1); needs layers >= 2.",
    ),
    (
        "patch",
        "\"auto\" or int",
        "Time steps read as one recurrent step: \"auto\" leaves at most 32 recurrent steps for the longest training sequence; 1 reads every step.",
    ),
    (
        "pooling",
        "{\"mean\", \"last\", \"max\", \"last-mean\"}",
        "How the encoder's states become the latent vector.",
    ),
    (
        "decoder_input",
        "{\"unconditioned\", \"latent\", \"teacher-forcing\", \"free-running\"}",
        "What the decoder receives at each step: nothing (the latent vector alone carries the sequence), the latent vector again, the previous true value (teacher forcing) or its own previous output.",
    ),
    (
        "teacher_ratio",
        "float or None",
        "With decoder_input=\"teacher-forcing\": the probability of feeding the true previous value (None: 0.5).",
    ),
    (
        "same_order",
        "bool",
        "Reconstruct in the input's order instead of reversed.",
    ),
    (
        "epochs",
        "int or None",
        "Passes over the data. None: the library's 100, and more on small data so that training makes at least min_updates updates; an int: exactly that many.",
    ),
    (
        "min_updates",
        "int or None",
        "Train at least this many batches (0: no floor). None: the library's 2000 unless epochs is given.",
    ),
    ("batch", "int", "Sequences per batch."),
    ("lr", "float", "Adam's learning rate."),
    (
        "clip",
        "float",
        "Clip the global gradient norm to this (0: off).",
    ),
    (
        "seed",
        "int",
        "Seed of the weights, the shuffling and every random draw: the same seed gives the same model as `seqae train --seed`.",
    ),
    (
        "normalize",
        "{\"global\", \"zscore\", \"minmax\", \"none\"}",
        "Normalisation fitted on the training data and stored in the model (global: per channel over the training set).",
    ),
    (
        "val_fraction",
        "float",
        "Fraction of the sequences held out for validation (0: none).",
    ),
    (
        "patience",
        "int or None",
        "Stop after this many epochs without improvement, keeping the best weights.",
    ),
    (
        "plateau",
        "int or None",
        "Halve the learning rate after this many epochs without improvement.",
    ),
    (
        "objective",
        "{\"reconstruction\", \"contrastive\"}",
        "What training minimises: reconstruction alone, or with a contrastive term on augmented views.",
    ),
    (
        "contrast_weight",
        "float or None",
        "With objective=\"contrastive\": the weight of the contrastive term (None: the library's).",
    ),
    (
        "min_crop",
        "float or None",
        "With objective=\"contrastive\": the shortest crop of a view, as a fraction of the sequence (None: the library's).",
    ),
    (
        "backend",
        "{\"flex\", \"ndarray\"}",
        "The burn backend that computes.",
    ),
];

/// How a front end spells a parameter in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// `--teacher-ratio`, as the command line.
    Flag,
    /// `teacher_ratio`, as Python's keyword arguments.
    Keyword,
}

impl Spelling {
    /// `name` (a field of [`Hyperparameters`]) as this front end spells it.
    pub fn of(self, name: &str) -> String {
        match self {
            Spelling::Flag => format!("--{}", name.replace('_', "-")),
            Spelling::Keyword => name.to_string(),
        }
    }

    /// `name` given `value`, as this front end writes it (`--clip -1`, `clip = -1`).
    pub fn given(self, name: &str, value: impl std::fmt::Display) -> String {
        match self {
            Spelling::Flag => format!("{} {value}", self.of(name)),
            Spelling::Keyword => format!("{name} = {value}"),
        }
    }
}

impl Hyperparameters {
    /// The architecture, training settings and backend these settings describe, checked;
    /// messages name the parameters as `spelling` says. Settings that would do nothing in
    /// the combination given (a teacher-forcing ratio without teacher forcing, contrastive
    /// settings without the contrastive objective, dropout with one layer) are refused.
    pub fn configs(&self, spelling: Spelling) -> Result<(ModelConfig, TrainConfig, Backend)> {
        let model = ModelConfig {
            cell: self.cell,
            hidden: self.hidden,
            latent: self.latent,
            layers: self.layers,
            bidirectional: self.bidirectional,
            dropout: self.dropout,
            decoder_input: match self.teacher_ratio {
                Some(r) => self.decoder_input.with_ratio(r),
                None => self.decoder_input,
            },
            reverse_target: !self.same_order,
            patch: self.patch,
            pooling: self.pooling,
        };
        model.validate()?;
        let unused = |name: &str, value: f64, needs: String| {
            Err(ModelError::Config(format!(
                "{}: does nothing without {needs}",
                spelling.given(name, value)
            )))
        };
        let teacher = matches!(self.decoder_input, DecoderInput::TeacherForcing { .. });
        if let (Some(r), false) = (self.teacher_ratio, teacher) {
            return unused(
                "teacher_ratio",
                r,
                spelling.given("decoder_input", "teacher-forcing"),
            );
        }
        if self.objective != Objective::Contrastive {
            for (name, value) in [
                ("contrast_weight", self.contrast_weight),
                ("min_crop", self.min_crop),
            ] {
                if let Some(v) = value {
                    return unused(name, v, spelling.given("objective", "contrastive"));
                }
            }
        }
        if self.dropout != 0.0 && self.layers == 1 {
            return unused(
                "dropout",
                self.dropout,
                format!(
                    "{} or more (it acts between layers)",
                    spelling.given("layers", 2)
                ),
            );
        }
        if !self.clip.is_finite() || self.clip < 0.0 {
            return Err(ModelError::Config(format!(
                "{}: must be 0 (off) or positive",
                spelling.given("clip", self.clip)
            )));
        }
        let defaults = TrainConfig::default();
        // `epochs` alone means exactly that many; `min_updates` 0 turns the floor off.
        let min_updates = match (self.min_updates, self.epochs) {
            (Some(0), _) => None,
            (Some(n), _) => Some(n),
            (None, None) => defaults.min_updates,
            (None, Some(_)) => None,
        };
        let train = TrainConfig {
            epochs: self.epochs.unwrap_or(defaults.epochs),
            min_updates,
            batch_size: self.batch,
            lr: self.lr,
            clip_norm: (self.clip > 0.0).then_some(self.clip),
            seed: self.seed,
            val_fraction: self.val_fraction,
            patience: self.patience,
            plateau: self.plateau.map(|patience| Plateau {
                patience,
                ..Default::default()
            }),
            normalization: self.normalize,
            bucket: defaults.bucket,
            objective: self.objective,
            contrast: Contrast {
                weight: self.contrast_weight.unwrap_or(defaults.contrast.weight),
                min_crop: self.min_crop.unwrap_or(defaults.contrast.min_crop),
                ..defaults.contrast.clone()
            },
        };
        train.validate()?;
        Ok((model, train, self.backend))
    }

    /// A [`Trainer`] for these settings (checked as [`configs`](Self::configs) checks them);
    /// the model it fits carries them into its model file.
    pub fn trainer(&self, spelling: Spelling) -> Result<Trainer<'static>> {
        let (model, train, backend) = self.configs(spelling)?;
        Ok(Trainer::new(model, train)
            .backend(backend)
            .hyperparameters(self.clone()))
    }
}

/// Serde of the named settings by their canonical names (`"gru"`, `"teacher-forcing"`,
/// `"auto"`, `"8"`), as the flags spell them.
mod by_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<T: std::fmt::Display, S: Serializer>(
        value: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
        D: Deserializer<'de>,
    {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_librarys() {
        let (model, train, backend) = Hyperparameters::default().configs(Spelling::Flag).unwrap();
        assert_eq!(model, ModelConfig::default());
        assert_eq!(train, TrainConfig::default());
        assert_eq!(backend, Backend::default());
    }

    #[test]
    fn settings_that_do_nothing_are_refused_in_each_spelling() {
        let cases = [
            (
                Hyperparameters {
                    teacher_ratio: Some(0.3),
                    ..Default::default()
                },
                "--teacher-ratio 0.3: does nothing without --decoder-input teacher-forcing",
            ),
            (
                Hyperparameters {
                    contrast_weight: Some(2.0),
                    ..Default::default()
                },
                "--contrast-weight 2: does nothing without --objective contrastive",
            ),
            (
                Hyperparameters {
                    dropout: 0.2,
                    layers: 1,
                    ..Default::default()
                },
                "--dropout 0.2: does nothing without --layers 2 or more",
            ),
        ];
        for (hp, message) in cases {
            let e = hp.configs(Spelling::Flag).unwrap_err().to_string();
            assert!(e.contains(message), "{e}");
            let e = hp.configs(Spelling::Keyword).unwrap_err().to_string();
            assert!(e.contains(" = ") && !e.contains("--"), "{e}");
        }
        let tf = Hyperparameters {
            decoder_input: "teacher-forcing".parse().unwrap(),
            teacher_ratio: Some(0.3),
            ..Default::default()
        };
        let (model, _, _) = tf.configs(Spelling::Flag).unwrap();
        assert_eq!(
            model.decoder_input,
            DecoderInput::TeacherForcing { ratio: 0.3 }
        );
    }

    #[test]
    fn every_setting_is_described_in_order() {
        let json = serde_json::to_value(Hyperparameters::default()).unwrap();
        let names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let described: Vec<&str> = DESCRIPTIONS.iter().map(|d| d.0).collect();
        let mut sorted = described.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "serde_json sorts keys: compare as sets");
        let order = [
            "cell",
            "hidden",
            "latent",
            "layers",
            "bidirectional",
            "dropout",
            "patch",
        ];
        assert_eq!(&described[..order.len()], order);
    }

    #[test]
    fn the_settings_survive_json() {
        let hp = Hyperparameters {
            patch: Patch::Size(8),
            epochs: Some(20),
            cell: Cell::Lstm,
            decoder_input: "teacher-forcing".parse().unwrap(),
            teacher_ratio: Some(0.25),
            ..Default::default()
        };
        let json = serde_json::to_string(&hp).unwrap();
        assert!(json.contains("\"patch\":\"8\"") && json.contains("\"cell\":\"lstm\""));
        assert_eq!(serde_json::from_str::<Hyperparameters>(&json).unwrap(), hp);
        assert!(serde_json::from_str::<Hyperparameters>(r#"{"hiden": 3}"#).is_err());
    }
}
