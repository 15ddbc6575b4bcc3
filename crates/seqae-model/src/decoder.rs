//! [`Decoder`]: latent -> initial states -> recurrent pass -> channels.
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use rand::Rng;
use rand::rngs::StdRng;

use crate::batch::{split_steps, step_of};
use crate::cell::{CellWeights, State};
use crate::config::{DecoderInput, ModelConfig};
use crate::fused::{RunOptions, run_fused, run_fused_projected};
use crate::layer::{dropout, dropout_one, run_direction};
use crate::loss::stack_steps;
use crate::tensor::linear;

/// What the decoder is fed at steps `t >= 1` (step 0 always gets zeros).
#[derive(Clone, Copy, Debug)]
pub enum Feed<'a> {
    /// The previous target with probability `ratio` (one draw per step), else the previous
    /// output. Draws need a training RNG; without one the ratio is treated as 1.
    Teacher {
        /// The teacher-forced inputs `[T, B, C]`: zeros at step 0, the target of step
        /// `t - 1` at step `t`.
        inputs: &'a Tensor<3>,
        /// Probability of feeding the target.
        ratio: f64,
    },
    /// The decoder's own previous output.
    Free,
    /// Zeros.
    Zeros,
    /// The latent vector, at every step including the first (the first layer's input size is
    /// then the latent size).
    Latent,
}

/// The decoder: `z -> tanh(Linear) ->` the initial hidden state of each of the `layers`
/// forward layers (LSTM cell states start at zero), then per step the last layer's hidden
/// state `-> Linear ->` the channels.
#[derive(Module, Debug)]
pub struct Decoder {
    /// Latent -> initial hidden states of all layers, `[latent, layers*H]`.
    pub from_latent: Linear,
    /// The stacked layers (forward only).
    pub layers: Vec<CellWeights>,
    /// Hidden state -> channels.
    pub output: Linear,
}

impl Decoder {
    /// Random weights for `channels` outputs.
    pub fn init(config: &ModelConfig, channels: usize, rng: &mut StdRng, device: &Device) -> Self {
        let h = config.hidden;
        let from_latent = linear(config.latent, config.layers * h, rng, device);
        let first_input = match config.decoder_input {
            DecoderInput::Latent => config.latent,
            _ => channels,
        };
        let layers = (0..config.layers)
            .map(|l| {
                CellWeights::init(
                    config.cell,
                    if l == 0 { first_input } else { h },
                    h,
                    rng,
                    device,
                )
            })
            .collect();
        Decoder {
            from_latent,
            layers,
            output: linear(h, channels, rng, device),
        }
    }

    /// Output channels.
    pub fn channels(&self) -> usize {
        self.output.weight.dims()[1]
    }

    /// Initial states of the layers from the latent vectors `z` (`[B, latent]`).
    pub fn initial_states(&self, z: Tensor<2>) -> Vec<State> {
        let hs = self.from_latent.forward(z).tanh();
        let batch = hs.dims()[0];
        let device = hs.device();
        self.layers
            .iter()
            .enumerate()
            .map(|(l, cell)| {
                let h = hs.clone().narrow(1, l * cell.hidden(), cell.hidden());
                let c = cell.zero_state(batch, &device).c;
                State { h, c }
            })
            .collect()
    }

    /// The inputs of every step, `[T, B, C]`, when they do not depend on the decoder's own
    /// outputs (zeros, the latent vector, or full teacher forcing), else `None`.
    fn known_inputs(
        &self,
        z: &Tensor<2>,
        steps: usize,
        feed: Feed<'_>,
        training: bool,
    ) -> Option<Tensor<3>> {
        let batch = z.dims()[0];
        match feed {
            Feed::Zeros => Some(Tensor::zeros([steps, batch, self.channels()], &z.device())),
            Feed::Latent => Some(z.clone().unsqueeze_dim::<3>(0).repeat_dim(0, steps)),
            Feed::Teacher { inputs, ratio } if ratio >= 1.0 || !training => {
                Some(inputs.clone().narrow(0, 0, steps))
            }
            _ => None,
        }
    }

    /// Decodes `steps` steps from `z` like [`forward`](Self::forward), stacked as
    /// `[B, T, C]`; with the fused kernel (`run`) and inputs known in advance, each layer runs
    /// as one fused operation, the last with the output projection folded in.
    pub fn forward_stacked(
        &self,
        z: Tensor<2>,
        steps: usize,
        feed: Feed<'_>,
        run: RunOptions,
        mut train: Option<(&mut StdRng, f64)>,
    ) -> Tensor<3> {
        let known = self.known_inputs(&z, steps, feed, train.is_some());
        let (true, Some(inputs)) = (run.fused_for(&self.layers[0]), known) else {
            return stack_steps(self.forward(z, steps, feed, train));
        };
        let states = self.initial_states(z);
        let batch = states[0].h.dims()[0];
        let device = states[0].h.device();
        let mut x = inputs;
        let mask = Tensor::ones([steps, batch], &device);
        let (top, below) = self
            .layers
            .split_last()
            .expect("a model config has at least one layer");
        let mut states = states.into_iter();
        for (cell, init) in below.iter().zip(states.by_ref()) {
            let (out, _) = run_fused(cell, x, mask.clone(), init, false, run.isa);
            x = match train.as_mut() {
                Some((rng, p)) => {
                    let [t, b, w] = out.dims();
                    dropout_one(out.reshape([t * b, w]), *p, rng).reshape([t, b, w])
                }
                None => out,
            };
        }
        let init = states.next().expect("one initial state per layer");
        // The output projection runs inside the top layer's call: [T, B, C] -> [B, T, C].
        run_fused_projected(top, x, mask, init, &self.output, run.isa).swap_dims(0, 1)
    }

    /// Decodes `steps` steps from `z`; returns the per-step outputs `[B, C]` in target order.
    /// With `train = Some((rng, p))`, dropout `p` is applied between layers and teacher-forcing
    /// draws use `rng`.
    pub fn forward(
        &self,
        z: Tensor<2>,
        steps: usize,
        feed: Feed<'_>,
        mut train: Option<(&mut StdRng, f64)>,
    ) -> Vec<Tensor<2>> {
        let mut states = self.initial_states(z.clone());
        let batch = states[0].h.dims()[0];
        let device = states[0].h.device();
        let zeros = Tensor::<2>::zeros([batch, self.channels()], &device);
        let last = self.layers.len() - 1;
        // Inputs known in advance: run layer by layer over the whole sequence.
        if let Some(known) = self.known_inputs(&z, steps, feed, train.is_some()) {
            let mut x = split_steps(&known);
            for (l, (cell, init)) in self.layers.iter().zip(states).enumerate() {
                let (out, _) = run_direction(cell, &x, &[], init, false);
                x = match train.as_mut() {
                    Some((rng, p)) if l < last => dropout(out, *p, rng),
                    _ => out,
                };
            }
            return x.into_iter().map(|h| self.output.forward(h)).collect();
        }
        // Inputs depend on earlier outputs: step by step through all layers.
        let mut outputs: Vec<Tensor<2>> = Vec::with_capacity(steps);
        for t in 0..steps {
            let mut x = match (t, feed) {
                (_, Feed::Latent) => z.clone(),
                (0, _) | (_, Feed::Zeros) => zeros.clone(),
                (_, Feed::Free) => outputs[t - 1].clone(),
                (_, Feed::Teacher { inputs, ratio }) => {
                    let teach = match train.as_mut() {
                        Some((rng, _)) => rng.random::<f64>() < ratio,
                        None => true,
                    };
                    if teach {
                        step_of(inputs, t)
                    } else {
                        outputs[t - 1].clone()
                    }
                }
            };
            for (l, cell) in self.layers.iter().enumerate() {
                let next = cell.step(cell.project(x), &states[l]);
                x = match train.as_mut() {
                    Some((rng, p)) if l < last => dropout_one(next.h.clone(), *p, rng),
                    _ => next.h.clone(),
                };
                states[l] = next;
            }
            outputs.push(self.output.forward(x));
        }
        outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::config::Cell;
    use crate::tensor::{tensor, to_vec, uniform};
    use rand::SeedableRng;

    /// The whole-sequence path (inputs known in advance) and the step-by-step path agree.
    #[test]
    fn layerwise_and_stepwise_decoding_agree() {
        let device = Backend::Flex.device().expect("flex is built in");
        for cell in Cell::ALL {
            let config = ModelConfig {
                cell,
                hidden: 5,
                latent: 3,
                layers: 2,
                ..Default::default()
            };
            let mut rng = StdRng::seed_from_u64(1);
            let dec = Decoder::init(&config, 2, &mut rng, &device);
            let z = tensor(uniform(&mut rng, 4 * 3, 1.0), [4, 3], &device);
            // Zeros at step 0, then five targets.
            let mut teacher = vec![0.0; 8];
            teacher.extend(uniform(&mut rng, 5 * 8, 1.0));
            let inputs = tensor(teacher, [6, 4, 2], &device);
            let whole = dec.forward(
                z.clone(),
                6,
                Feed::Teacher {
                    inputs: &inputs,
                    ratio: 1.0,
                },
                Some((&mut rng, 0.0)),
            );
            let stepped = dec.forward(
                z,
                6,
                Feed::Teacher {
                    inputs: &inputs,
                    ratio: 1.0 - 1e-12,
                },
                Some((&mut rng, 0.0)),
            );
            for (a, b) in whole.into_iter().zip(stepped) {
                for (x, y) in to_vec(a).unwrap().iter().zip(to_vec(b).unwrap()) {
                    assert!((x - y).abs() < 1e-6, "{cell}: {x} vs {y}");
                }
            }
        }
    }
}
