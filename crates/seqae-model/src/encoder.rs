//! [`Encoder`]: stacked recurrent layers, final hidden state(s) of the last layer -> latent.
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;

use crate::cell::CellWeights;
use crate::config::ModelConfig;
use crate::fused::{Kernel, RunOptions, run_fused, run_fused_final, stack_masks};
use crate::layer::{RecurrentLayer, dropout, dropout_one};
use crate::tensor::linear;

/// The encoder: `layers` recurrent layers (optionally bidirectional) and a linear map from the
/// final hidden state(s) of the last layer (`[B, D*H]`) to the latent vector.
#[derive(Module, Debug)]
pub struct Encoder {
    /// The stacked layers.
    pub layers: Vec<RecurrentLayer>,
    /// Final hidden states -> latent.
    pub to_latent: Linear,
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
            to_latent: linear(d * config.hidden, config.latent, rng, device),
        }
    }

    /// The latent vectors `[B, latent]` of a batch given as per-step inputs and masks
    /// (see [`RecurrentLayer::forward`]), with the layers `run` chooses. With
    /// `train = Some((rng, p))`, dropout `p` is applied between layers.
    pub fn forward(
        &self,
        inputs: &[Tensor<2>],
        masks: &[Option<Tensor<2>>],
        run: RunOptions,
        mut train: Option<(&mut StdRng, f64)>,
    ) -> Tensor<2> {
        if run.kernel == Kernel::Fused {
            return self.forward_fused(inputs, masks, run, train);
        }
        let mut steps: Option<Vec<Tensor<2>>> = None;
        let mut finals = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let out = layer.forward(steps.as_deref().unwrap_or(inputs), masks, None);
            finals = out.finals;
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
        inputs: &[Tensor<2>],
        masks: &[Option<Tensor<2>>],
        run: RunOptions,
        mut train: Option<(&mut StdRng, f64)>,
    ) -> Tensor<2> {
        let [batch, _] = inputs[0].dims();
        let steps = inputs.len();
        let device = inputs[0].device();
        let mask = stack_masks(masks, steps, batch, &device);
        let mut x: Tensor<3> = Tensor::stack(inputs.to_vec(), 0);
        let mut finals = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let cells: Vec<(&CellWeights, bool)> = std::iter::once((&layer.fwd, false))
                .chain(layer.bwd.iter().map(|c| (c, true)))
                .collect();
            let mut outs = Vec::new();
            finals.clear();
            // Of the last layer only the final states are used.
            let last = l + 1 == self.layers.len();
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
