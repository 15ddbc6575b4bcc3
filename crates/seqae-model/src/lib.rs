//! Sequence autoencoders (RNN, LSTM, GRU) built from burn tensor operations: training,
//! embedding, reconstruction, anomaly scores and model files.
//!
//! ```no_run
//! use seqae_model::{SeqAe, Trainer};
//! # fn main() -> seqae_model::Result<()> {
//! let set = seqae_data::synthetic::Synthetic::default().generate()?;
//! let fitted = SeqAe::fit(&set)?; // the defaults: `seqae train` with no flags
//! let z = fitted.model.embed(&set)?; // an n x latent matrix
//! // Other settings and progress through a Trainer:
//! let quick = Trainer::default()
//!     .on_epoch(|r| eprintln!("epoch {} loss {:.4}", r.epoch, r.train_loss))
//!     .fit(&set)?;
//! fitted.model.save("model")?;
//! # Ok(()) }
//! ```
mod autoencoder;
mod backend;
#[doc(hidden)]
pub mod batch;
mod cell;
mod checkpoint;
mod config;
mod decoder;
mod encoder;
mod error;
mod file;
#[doc(hidden)]
pub mod fused;
mod grads;
mod history;
mod layer;
#[doc(hidden)]
pub mod loss;
mod memory;
mod model;
mod objective;
mod params;
mod stopping;
#[doc(hidden)]
pub mod tensor;
mod train;

pub use autoencoder::AutoEncoder;
pub use backend::{Backend, gpu_shared_memory};
pub use cell::{CellWeights, State};
pub use checkpoint::{BEST_FILE, OPTIMIZER_FILE, TRAINING_FILE};
pub use config::{Cell, DecoderInput, ModelConfig, Patch, Plateau, Pooling, TrainConfig};
pub use error::{ModelError, Result};
pub use file::{
    CONFIG_FILE, FORMAT_VERSION, HISTORY_FILE, ModelFile, WEIGHTS_FILE, read_config, read_history,
};
pub use fused::{Kernel, RunOptions};
pub use history::{BatchReport, Divergence, EpochReport, History};
pub use layer::{LayerOutput, RecurrentLayer};
pub use model::SeqAe;
pub use objective::{Contrast, Objective};
pub use params::{DESCRIPTIONS, Hyperparameters, Spelling};
pub use seqae_simd::Isa;
pub use train::{Checkpointing, Fitted, Trainer};
