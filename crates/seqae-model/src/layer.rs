//! [`RecurrentLayer`]: one layer (one or two directions) run over a whole padded batch.
//!
//! A sequence is given as one `[B, C]` tensor per time step together with one optional
//! `[B, 1]` mask per step (1 = valid step; `None` when every row is valid at that step).
//! At a padded step the state is carried unchanged, so the forward direction ends at each
//! sequence's own last valid step, and the backward direction, which runs from the last step
//! down to the first, starts each sequence at its own last valid step (from the initial state).
//! This is the reference implementation, built from burn tensor operations; a fused kernel can
//! replace [`run_direction`] per layer.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;

use crate::cell::{CellWeights, State};
use crate::config::Cell;

/// One recurrent layer: a forward cell and, when bidirectional, a backward cell.
#[derive(Module, Debug)]
pub struct RecurrentLayer {
    /// Weights of the forward direction.
    pub fwd: CellWeights,
    /// Weights of the backward direction (bidirectional layers only).
    pub bwd: Option<CellWeights>,
}

/// What a layer returns.
#[derive(Clone, Debug)]
pub struct LayerOutput {
    /// Per step, the hidden states `[B, D*H]` (forward then backward direction). Values at
    /// padded steps are carried states and carry no meaning.
    pub outputs: Vec<Tensor<2>>,
    /// Final state per direction (forward first): at each sequence's last valid step for the
    /// forward direction, after its first step for the backward direction.
    pub finals: Vec<State>,
}

/// Runs one cell over the steps (in reverse order when `reverse`), starting from `init`.
/// Returns the per-step hidden states in time order and the final state.
pub fn run_direction(
    cell: &CellWeights,
    inputs: &[Tensor<2>],
    masks: &[Option<Tensor<2>>],
    init: State,
    reverse: bool,
) -> (Vec<Tensor<2>>, State) {
    let steps = inputs.len();
    let mut outputs = Vec::with_capacity(steps);
    let mut state = init;
    for k in 0..steps {
        let t = if reverse { steps - 1 - k } else { k };
        let next = cell.step(cell.project(inputs[t].clone()), &state);
        state = match masks.get(t).and_then(|m| m.as_ref()) {
            Some(mask) => state.blend(next, mask),
            None => next,
        };
        outputs.push(state.h.clone());
    }
    if reverse {
        outputs.reverse();
    }
    (outputs, state)
}

impl RecurrentLayer {
    /// Random weights.
    pub fn init(
        cell: Cell,
        input: usize,
        hidden: usize,
        bidirectional: bool,
        rng: &mut StdRng,
        device: &Device,
    ) -> Self {
        let fwd = CellWeights::init(cell, input, hidden, rng, device);
        let bwd = bidirectional.then(|| CellWeights::init(cell, input, hidden, rng, device));
        RecurrentLayer { fwd, bwd }
    }

    /// Number of directions (1 or 2).
    pub fn directions(&self) -> usize {
        1 + self.bwd.is_some() as usize
    }

    /// Runs the layer over `inputs` (one `[B, input]` tensor per step) with per-step `masks`
    /// (empty, or one entry per step). `init` gives the initial state per direction (zeros
    /// when None).
    pub fn forward(
        &self,
        inputs: &[Tensor<2>],
        masks: &[Option<Tensor<2>>],
        init: Option<Vec<State>>,
    ) -> LayerOutput {
        assert!(
            !inputs.is_empty(),
            "a recurrent layer needs at least one step"
        );
        let batch = inputs[0].dims()[0];
        let device = inputs[0].device();
        let mut init = init.map(|v| v.into_iter());
        let mut start = |cell: &CellWeights| {
            init.as_mut()
                .and_then(|it| it.next())
                .unwrap_or_else(|| cell.zero_state(batch, &device))
        };
        let (fwd_out, fwd_final) = run_direction(&self.fwd, inputs, masks, start(&self.fwd), false);
        match &self.bwd {
            None => LayerOutput {
                outputs: fwd_out,
                finals: vec![fwd_final],
            },
            Some(bwd) => {
                let (bwd_out, bwd_final) = run_direction(bwd, inputs, masks, start(bwd), true);
                let outputs = fwd_out
                    .into_iter()
                    .zip(bwd_out)
                    .map(|(f, b)| Tensor::cat(vec![f, b], 1))
                    .collect();
                LayerOutput {
                    outputs,
                    finals: vec![fwd_final, bwd_final],
                }
            }
        }
    }
}

/// Inverted dropout of every step's tensor with probability `p`, masks drawn from `rng`.
pub fn dropout(steps: Vec<Tensor<2>>, p: f64, rng: &mut StdRng) -> Vec<Tensor<2>> {
    if p <= 0.0 {
        return steps;
    }
    steps.into_iter().map(|x| dropout_one(x, p, rng)).collect()
}

/// Inverted dropout of one tensor.
pub fn dropout_one(x: Tensor<2>, p: f64, rng: &mut StdRng) -> Tensor<2> {
    use rand::Rng;
    if p <= 0.0 {
        return x;
    }
    let [b, h] = x.dims();
    let keep = 1.0 / (1.0 - p) as f32;
    let mask: Vec<f32> = (0..b * h)
        .map(|_| if rng.random::<f64>() < p { 0.0 } else { keep })
        .collect();
    let mask = crate::tensor::tensor(mask, [b, h], &x.device());
    x * mask
}
