//! [`AutoEncoder`]: the encoder and decoder as one burn module.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;

use crate::batch::{DeviceBatch, Target};
use crate::config::{DecoderInput, ModelConfig};
use crate::decoder::{Decoder, Feed};
use crate::encoder::Encoder;
use crate::fused::RunOptions;

/// The sequence autoencoder's weights.
#[derive(Module, Debug)]
pub struct AutoEncoder {
    /// Sequence -> latent.
    pub encoder: Encoder,
    /// Latent -> sequence (in target order).
    pub decoder: Decoder,
}

impl AutoEncoder {
    /// Random weights for data with `channels` channels, drawn from `rng`; the recurrent
    /// layers read (and the decoder writes) `channels * config.patch_size()` values a step.
    pub fn init(config: &ModelConfig, channels: usize, rng: &mut StdRng, device: &Device) -> Self {
        let width = channels * config.patch_size();
        let encoder = Encoder::init(config, width, rng, device);
        let decoder = Decoder::init(config, width, rng, device);
        AutoEncoder { encoder, decoder }
    }

    /// Latent vectors `[B, latent]` (no dropout).
    pub fn encode(&self, batch: &DeviceBatch, run: RunOptions) -> Tensor<2> {
        self.encoder.forward(batch, run, None)
    }

    /// Latent vectors and reconstructions `[B, T, C]` in target order. With `rng` (training),
    /// dropout and teacher forcing apply as configured; without it (inference) the decoder is
    /// fed its own outputs (or zeros when unconditioned). Teacher forcing needs the batch's
    /// `target` (without one the decoder is fed its own outputs).
    pub fn forward(
        &self,
        batch: &DeviceBatch,
        target: Option<&Target>,
        config: &ModelConfig,
        run: RunOptions,
        mut rng: Option<&mut StdRng>,
    ) -> (Tensor<2>, Tensor<3>) {
        let p = config.dropout;
        let z = self
            .encoder
            .forward(batch, run, rng.as_deref_mut().map(|r| (r, p)));
        let feed = match (config.decoder_input, rng.is_some(), target) {
            (DecoderInput::Unconditioned, _, _) => Feed::Zeros,
            (DecoderInput::Latent, _, _) => Feed::Latent,
            (DecoderInput::TeacherForcing { ratio }, true, Some(target)) => Feed::Teacher {
                inputs: &target.teacher,
                ratio,
            },
            _ => Feed::Free,
        };
        let y =
            self.decoder
                .forward_stacked(z.clone(), batch.steps, feed, run, rng.map(|r| (r, p)));
        (z, y)
    }
}
