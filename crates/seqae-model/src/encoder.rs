//! [`Encoder`]: stacked recurrent layers, final hidden state(s) of the last layer -> latent.
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;

use crate::batch::DeviceBatch;
use crate::cell::CellWeights;
use crate::config::{ModelConfig, Pooling};
use crate::fused::{RunOptions, run_fused, run_fused_final};
use crate::layer::{RecurrentLayer, dropout, dropout_one};
use crate::tensor::linear;

/// The encoder: `layers` recurrent layers (optionally bidirectional) and a linear map from the
/// final hidden state(s) of the last layer (`[B, D*H]`) to the latent vector.
#[derive(Module, Debug)]
pub struct Encoder {
    /// The stacked layers.
    pub layers: Vec<RecurrentLayer>,
    /// Pooled hidden states -> latent.
    pub to_latent: Linear,
    /// How the last layer's states are pooled (part of the configuration, not a weight).
    #[module(skip)]
    pub pooling: Pooling,
}

impl Encoder {
    /// Random weights for `channels` inputs.
    pub fn init(config: &ModelConfig, channels: usize, rng: &mut StdRng, device: &Device) -> Self {
        let d = config.directions();
        let layers = (0..config.layers)
            .map(|l| {
                let input = if l == 0 { channels } else { d * config.hidden };
                RecurrentLayer::init(
                    config.cell,
                    input,
                    config.hidden,
                    config.bidirectional,
                    rng,
                    device,
                )
            })
            .collect();
        Encoder {
            layers,
            to_latent: linear(
                d * config.hidden * config.pooling.parts(),
                config.latent,
                rng,
                device,
            ),
            pooling: config.pooling,
        }
    }

    /// The latent vectors `[B, latent]` of a batch, with the layers `run` chooses. With
    /// `train = Some((rng, p))`, dropout `p` is applied between layers.
    pub fn forward(
        &self,
        batch: &DeviceBatch,
        run: RunOptions,
        mut train: Option<(&mut StdRng, f64)>,
    ) -> Tensor<2> {
        if run.fused_for(&self.layers[0].fwd) {
            return self.forward_fused(batch, run, train);
        }
        let (inputs, masks) = (&batch.step_inputs(), &batch.step_masks());
        let mut steps: Option<Vec<Tensor<2>>> = None;
        let mut finals = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let out = layer.forward(steps.as_deref().unwrap_or(inputs), masks, None);
            finals = out.finals;
            if l + 1 == self.layers.len() && self.pooling != Pooling::Last {
                let states: Tensor<3> = Tensor::stack(out.outputs, 0);
                let last = finals.iter().map(|s| s.h.clone()).collect();
                return self.latent(states, batch.mask.clone(), last);
            }
            let mut next = out.outputs;
            if l + 1 < self.layers.len()
                && let Some((rng, p)) = train.as_mut()
            {
                next = dropout(next, *p, rng);
            }
            steps = Some(next);
        }
        let h = Tensor::cat(finals.into_iter().map(|s| s.h).collect(), 1);
        self.to_latent.forward(h)
    }

    /// [`forward`](Self::forward) with the fused layers (one operation per layer and
    /// direction over the whole sequence).
    fn forward_fused(
        &self,
        db: &DeviceBatch,
        run: RunOptions,
        mut train: Option<(&mut StdRng, f64)>,
    ) -> Tensor<2> {
        let batch = db.size;
        let device = db.stacked.device();
        let mask = db.mask.clone();
        let mut x: Tensor<3> = db.stacked.clone();
        let mut finals = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let cells: Vec<(&CellWeights, bool)> = std::iter::once((&layer.fwd, false))
                .chain(layer.bwd.iter().map(|c| (c, true)))
                .collect();
            let mut outs = Vec::new();
            finals.clear();
            // Of the last layer only the final states are used (unless pooled).
            let last = l + 1 == self.layers.len() && self.pooling == Pooling::Last;
            for (cell, reverse) in cells {
                let init = cell.zero_state(batch, &device);
                let fin = if last {
                    run_fused_final(cell, x.clone(), mask.clone(), init, reverse, run.isa)
                } else {
                    let (out, fin) =
                        run_fused(cell, x.clone(), mask.clone(), init, reverse, run.isa);
                    outs.push(out);
                    fin
                };
                finals.push(fin.h);
            }
            if last {
                break;
            }
            x = if outs.len() == 1 {
                outs.pop().expect("one direction")
            } else {
                Tensor::cat(outs, 2)
            };
            if l + 1 == self.layers.len() {
                return self.latent(x, mask, finals);
            }
            if l + 1 < self.layers.len()
                && let Some((rng, p)) = train.as_mut()
            {
                let [t, b, w] = x.dims();
                x = dropout_one(x.reshape([t * b, w]), *p, rng).reshape([t, b, w]);
            }
        }
        self.to_latent.forward(Tensor::cat(finals, 1))
    }
}

impl Encoder {
    /// The latent vectors from the last layer's states `[T, B, W]` (`mask` `[T, B]`) and final
    /// hidden states (one `[B, H]` per direction), as the pooling says.
    fn latent(&self, states: Tensor<3>, mask: Tensor<2>, finals: Vec<Tensor<2>>) -> Tensor<2> {
        let pooled = match self.pooling {
            Pooling::Last => Tensor::cat(finals, 1),
            Pooling::Mean | Pooling::Max => pool(states, mask, self.pooling),
            Pooling::LastMean => {
                let mean = pool(states, mask, Pooling::Mean);
                Tensor::cat(finals.into_iter().chain([mean]).collect(), 1)
            }
        };
        self.to_latent.forward(pooled)
    }
}

/// The states `[T, B, W]` of the valid steps (`mask` `[T, B]`) pooled to `[B, W]` by their
/// mean or maximum.
fn pool(states: Tensor<3>, mask: Tensor<2>, pooling: Pooling) -> Tensor<2> {
    let [t, b, w] = states.dims();
    // `[T, B, 1]`, broadcast over the state's width (a repeated copy was a seventh of
    // embedding's time).
    let m = mask.reshape([t, b, 1]);
    match pooling {
        Pooling::Mean => {
            let count = m.clone().sum_dim(0).reshape([b, 1]).clamp_min(1.0);
            (states * m).sum_dim(0).reshape([b, w]) / count
        }
        // States lie in [-1, 1] (tanh); padded steps are pushed far below.
        Pooling::Max | Pooling::Last | Pooling::LastMean => {
            (states + (m - 1.0) * 1e4).max_dim(0).reshape([b, w])
        }
    }
}
