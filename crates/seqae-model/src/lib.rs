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
pub mod autoencoder;
pub mod backend;
pub mod batch;
pub mod cell;
pub mod checkpoint;
pub mod config;
pub mod decoder;
pub mod encoder;
pub mod error;
pub mod file;
pub mod fused;
mod grads;
pub mod history;
pub mod layer;
pub mod loss;
pub mod memory;
pub mod model;
pub mod objective;
pub mod params;
pub mod tensor;
pub mod train;

pub use autoencoder::AutoEncoder;
pub use backend::Backend;
pub use cell::{CellWeights, State};
pub use config::{Cell, DecoderInput, ModelConfig, Patch, Plateau, Pooling, TrainConfig};
pub use error::{ModelError, Result};
pub use file::{FORMAT_VERSION, ModelFile, read_config, read_history};
pub use fused::{Kernel, RunOptions};
pub use history::{BatchReport, Divergence, EpochReport, History};
pub use layer::{LayerOutput, RecurrentLayer};
pub use model::SeqAe;
pub use objective::{Contrast, Objective};
pub use params::{Hyperparameters, Spelling};
pub use seqae_simd::Isa;
pub use train::{Checkpointing, Fitted, Trainer};
