//! The weights and the one-step update of the three cells, with PyTorch's conventions.
//!
//! Weights are stored transposed with respect to PyTorch (`x W` rather than `W x`):
//! `w_ih` is `[input, G*H]`, `w_hh` is `[H, G*H]`, biases are `[G*H]`, with the `G` gates
//! stacked in PyTorch's order (LSTM `i, f, g, o`; GRU `r, z, n`).
use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;

use crate::config::Cell;
use crate::tensor::{param, uniform};

/// The recurrent state of a batch: `h` `[B, H]`, and for an LSTM the cell state `c`.
#[derive(Clone, Debug)]
pub struct State {
    /// Hidden state `[B, H]`.
    pub h: Tensor<2>,
    /// LSTM cell state `[B, H]` (None for RNN and GRU).
    pub c: Option<Tensor<2>>,
}

impl State {
    /// Blends towards `next` where `mask` (`[B, 1]`, 1 = valid step) is 1 and keeps `self`
    /// where it is 0: padded steps carry the state unchanged.
    pub fn blend(self, next: State, mask: &Tensor<2>) -> State {
        let mix = |old: Tensor<2>, new: Tensor<2>| old.clone() + (new - old) * mask.clone();
        State {
            h: mix(self.h, next.h),
            c: match (self.c, next.c) {
                (Some(a), Some(b)) => Some(mix(a, b)),
                _ => None,
            },
        }
    }
}

/// The weights of one cell (one layer, one direction).
#[derive(Module, Debug)]
pub struct CellWeights {
    /// Input weights `[input, G*H]`.
    pub w_ih: Param<Tensor<2>>,
    /// Recurrent weights `[H, G*H]`.
    pub w_hh: Param<Tensor<2>>,
    /// Input bias `[G*H]`.
    pub b_ih: Param<Tensor<1>>,
    /// Recurrent bias `[G*H]`.
    pub b_hh: Param<Tensor<1>>,
    /// 0 = RNN, 1 = LSTM, 2 = GRU (a primitive, so that the module derive treats it as a
    /// constant).
    kind: u8,
}

fn kind_of(cell: Cell) -> u8 {
    match cell {
        Cell::Rnn => 0,
        Cell::Lstm => 1,
        Cell::Gru => 2,
    }
}

impl CellWeights {
    /// Random weights, uniform in `±1/sqrt(hidden)` like PyTorch.
    pub fn init(
        cell: Cell,
        input: usize,
        hidden: usize,
        rng: &mut StdRng,
        device: &Device,
    ) -> Self {
        let g = cell.gates() * hidden;
        let bound = 1.0 / (hidden as f32).sqrt();
        CellWeights {
            w_ih: param(uniform(rng, input * g, bound), [input, g], device),
            w_hh: param(uniform(rng, hidden * g, bound), [hidden, g], device),
            b_ih: param(uniform(rng, g, bound), [g], device),
            b_hh: param(uniform(rng, g, bound), [g], device),
            kind: kind_of(cell),
        }
    }

    /// Weights given in PyTorch's layout (`weight_ih` `[G*H, input]`, `weight_hh` `[G*H, H]`,
    /// `bias_ih`, `bias_hh` `[G*H]`), as found in a `state_dict`.
    #[allow(clippy::too_many_arguments)]
    pub fn from_torch(
        cell: Cell,
        input: usize,
        hidden: usize,
        weight_ih: &[f32],
        weight_hh: &[f32],
        bias_ih: &[f32],
        bias_hh: &[f32],
        device: &Device,
    ) -> Self {
        let g = cell.gates() * hidden;
        assert_eq!(weight_ih.len(), g * input, "weight_ih must be [G*H, input]");
        assert_eq!(weight_hh.len(), g * hidden, "weight_hh must be [G*H, H]");
        assert_eq!(
            (bias_ih.len(), bias_hh.len()),
            (g, g),
            "biases must be [G*H]"
        );
        let transpose = |w: &[f32], cols: usize| {
            let mut out = vec![0.0; w.len()];
            for r in 0..g {
                for c in 0..cols {
                    out[c * g + r] = w[r * cols + c];
                }
            }
            out
        };
        CellWeights {
            w_ih: param(transpose(weight_ih, input), [input, g], device),
            w_hh: param(transpose(weight_hh, hidden), [hidden, g], device),
            b_ih: param(bias_ih.to_vec(), [g], device),
            b_hh: param(bias_hh.to_vec(), [g], device),
            kind: kind_of(cell),
        }
    }

    /// Weights from tensors in this crate's layout (`w_ih` `[input, G*H]`, `w_hh` `[H, G*H]`,
    /// biases `[G*H]`); the tensors become trainable parameters.
    pub fn from_tensors(
        cell: Cell,
        w_ih: Tensor<2>,
        w_hh: Tensor<2>,
        b_ih: Tensor<1>,
        b_hh: Tensor<1>,
    ) -> Self {
        let [h, g] = w_hh.dims();
        assert_eq!(g, cell.gates() * h, "w_hh must be [H, G*H]");
        assert_eq!(w_ih.dims()[1], g, "w_ih must be [input, G*H]");
        assert_eq!(
            (b_ih.dims()[0], b_hh.dims()[0]),
            (g, g),
            "biases must be [G*H]"
        );
        CellWeights {
            w_ih: Param::from_tensor(w_ih),
            w_hh: Param::from_tensor(w_hh),
            b_ih: Param::from_tensor(b_ih),
            b_hh: Param::from_tensor(b_hh),
            kind: kind_of(cell),
        }
    }

    /// The cell type.
    pub fn cell(&self) -> Cell {
        match self.kind {
            0 => Cell::Rnn,
            1 => Cell::Lstm,
            _ => Cell::Gru,
        }
    }

    /// Input size.
    pub fn input_size(&self) -> usize {
        self.w_ih.dims()[0]
    }

    /// Hidden size.
    pub fn hidden(&self) -> usize {
        self.w_hh.dims()[0]
    }

    /// The zero state of a batch of `batch` sequences.
    pub fn zero_state(&self, batch: usize, device: &Device) -> State {
        let h = Tensor::zeros([batch, self.hidden()], device);
        let c = (self.cell() == Cell::Lstm).then(|| h.clone());
        State { h, c }
    }

    /// The input projection `x W_ih + b_ih` (`[B, G*H]`) of one step's input `x` (`[B, input]`).
    pub fn project(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.w_ih.val()) + self.b_ih.val().unsqueeze_dim(0)
    }

    /// One step from `state` given the projected input `xp` (see [`project`](Self::project)).
    pub fn step(&self, xp: Tensor<2>, state: &State) -> State {
        let hsz = self.hidden();
        let gh = state.h.clone().matmul(self.w_hh.val()) + self.b_hh.val().unsqueeze_dim(0);
        let gate = |t: &Tensor<2>, k: usize| t.clone().narrow(1, k * hsz, hsz);
        match self.cell() {
            Cell::Rnn => State {
                h: (xp + gh).tanh(),
                c: None,
            },
            Cell::Lstm => {
                let g = xp + gh;
                let i = sigmoid(gate(&g, 0));
                let f = sigmoid(gate(&g, 1));
                let cand = gate(&g, 2).tanh();
                let o = sigmoid(gate(&g, 3));
                let c_prev = state.c.clone().expect("an LSTM state has a cell state");
                let c = f * c_prev + i * cand;
                State {
                    h: o * c.clone().tanh(),
                    c: Some(c),
                }
            }
            Cell::Gru => {
                let r = sigmoid(gate(&xp, 0) + gate(&gh, 0));
                let z = sigmoid(gate(&xp, 1) + gate(&gh, 1));
                let n = (gate(&xp, 2) + r * gate(&gh, 2)).tanh();
                // h' = (1 - z) n + z h = n + z (h - n)
                State {
                    h: n.clone() + z * (state.h.clone() - n),
                    c: None,
                }
            }
        }
    }
}
