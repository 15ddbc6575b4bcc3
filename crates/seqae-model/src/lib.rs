//! Sequence autoencoders (RNN, LSTM, GRU) built from burn tensor operations: training,
//! embedding, reconstruction, anomaly scores and model files.
//!
//! ```no_run
//! use seqae_model::{Backend, ModelConfig, SeqAe, TrainConfig};
//! # fn main() -> seqae_model::Result<()> {
//! let set = seqae_data::synthetic::Synthetic::default().generate()?;
//! let fitted = SeqAe::fit(&set, &ModelConfig::default(), &TrainConfig::default(), Backend::Flex, &mut |r| {
//!     eprintln!("epoch {} loss {:.4}", r.epoch, r.train_loss)
//! })?;
//! let z = fitted.model.embed(&set)?; // n x latent, row-major
//! fitted.model.save("model")?;
//! # Ok(()) }
//! ```
pub mod autoencoder;
pub mod backend;
pub mod batch;
pub mod cell;
pub mod config;
pub mod decoder;
pub mod encoder;
pub mod error;
pub mod file;
pub mod fused;
pub mod layer;
pub mod loss;
pub mod model;
pub mod tensor;
pub mod train;

pub use autoencoder::AutoEncoder;
pub use backend::Backend;
pub use cell::{CellWeights, State};
pub use config::{Cell, DecoderInput, ModelConfig, Patch, Plateau, TrainConfig};
pub use error::{ModelError, Result};
pub use file::{FORMAT_VERSION, ModelFile, read_config};
pub use fused::{Kernel, kernel, set_kernel};
pub use layer::{LayerOutput, RecurrentLayer};
pub use model::SeqAe;
pub use train::{BatchReport, EpochReport, Fitted, History};
