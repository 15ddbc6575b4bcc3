//! Fused recurrent layers: one autodiff node per layer and direction, with hand-written
//! backpropagation through time: on the CPU backends on host `f32` buffers (products by
//! [`small_gemm`]), on the GPU as CubeCL kernels (`gpu` module, feature `gpu`).
//!
//! [`RunOptions`] (carried by each model, not by the process) choose whether the encoder and
//! decoder run the reference layers ([`crate::layer::run_direction`], built from burn tensor
//! operations) or the fused ones, and which CPU code path the fused ones take.
use seqae_simd::Isa;
use serde::{Deserialize, Serialize};

/// Which implementation runs the recurrent layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// Built from burn tensor operations (every backend; the oracle of the tests).
    Reference,
    /// One fused operation per layer and direction (every backend; the default).
    #[default]
    Fused,
}

seqae_data::named_enum!(Kernel, "kernel", {
    Reference => "reference" | "ref",
    Fused => "fused",
});

/// How a model runs its recurrent layers: the implementation and, for the fused one, the CPU
/// code path. Results agree to rounding between all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Reference or fused layers.
    pub kernel: Kernel,
    /// The CPU code path of the fused layers ([`Isa::best`] by default; the GPU ignores it).
    pub isa: Isa,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            kernel: Kernel::Fused,
            isa: Isa::best(),
        }
    }
}

impl RunOptions {
    /// Whether the fused kernel runs layers like `cell` (its kind, width and device): when it
    /// is chosen and, on the GPU, a workgroup's shared memory holds a cube's state (the LSTM
    /// takes 40 bytes a hidden unit: 40 KiB at hidden 1,024); else the reference layers run.
    pub fn fused_for(&self, cell: &crate::cell::CellWeights) -> bool {
        self.kernel == Kernel::Fused && {
            let device = cell.w_hh.val().device();
            match crate::backend::gpu_shared_memory(&device) {
                None => true,
                #[cfg(feature = "gpu")]
                Some(limit) => {
                    gpu::kernels::shared_bytes(gpu::cell_code(cell.cell()), cell.hidden()) <= limit
                }
                #[cfg(not(feature = "gpu"))]
                Some(_) => false,
            }
        }
    }

    /// The default options with another kernel.
    pub fn with_kernel(kernel: Kernel) -> Self {
        RunOptions {
            kernel,
            ..Self::default()
        }
    }
}

#[cfg(feature = "gpu")]
pub mod gpu;
pub mod host;
pub mod op;
mod small_gemm;

use burn::backend::Dispatch;
use burn::nn::Linear;
use burn::tensor::Tensor;

use crate::cell::{CellWeights, State};
use crate::config::Cell;
pub use host::Pass;
use op::FusedRecurrentOps;

/// What a fused call runs: the cell, the direction and outputs, and the code path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FusedCall {
    /// The cell.
    pub cell: Cell,
    /// Direction and outputs.
    pub pass: Pass,
    /// The CPU code path.
    pub isa: Isa,
}

/// Runs one cell over a whole sequence as one fused operation: `x` `[T, B, C]`, `mask`
/// `[T, B]` (1 = valid step; a padded step carries the state), from `init`, in reverse time
/// order when `reverse`, on the code path `isa`. Returns the hidden states `[T, B, H]` in time order and the final
/// state, exactly as [`crate::layer::run_direction`] does.
pub fn run_fused(
    cell: &CellWeights,
    x: Tensor<3>,
    mask: Tensor<2>,
    init: State,
    reverse: bool,
    isa: Isa,
) -> (Tensor<3>, State) {
    let steps = x.dims()[0];
    let pass = Pass {
        reverse,
        all_steps: true,
    };
    let y = fused_call(cell, x, mask, init, pass, isa, None);
    let last = if reverse { 0 } else { steps - 1 };
    let fin = final_state(cell, &y, last, steps);
    (y.narrow(0, 0, steps), fin)
}

/// [`run_fused`] when only the final state is wanted (the last encoder layer): the states of
/// the other steps are neither written nor kept.
pub fn run_fused_final(
    cell: &CellWeights,
    x: Tensor<3>,
    mask: Tensor<2>,
    init: State,
    reverse: bool,
    isa: Isa,
) -> State {
    let pass = Pass {
        reverse,
        all_steps: false,
    };
    let y = fused_call(cell, x, mask, init, pass, isa, None);
    final_state(cell, &y, 0, 1)
}

/// [`run_fused`] with the output projection `out_t = h_t W + b` of `output` folded in (the
/// decoder's last layer): returns the outputs `[T, B, K]` in time order, and the states of the
/// steps never leave the call. Equal to `output.forward(run_fused(..).0)` to rounding.
pub fn run_fused_projected(
    cell: &CellWeights,
    x: Tensor<3>,
    mask: Tensor<2>,
    init: State,
    output: &Linear,
    isa: Isa,
) -> Tensor<3> {
    let pass = Pass {
        reverse: false,
        all_steps: true,
    };
    fused_call(cell, x, mask, init, pass, isa, Some(output))
}

/// The fused operation, with the output projection of `output` folded in if given; see
/// [`op::FusedRecurrentOps::fused_recurrent`] and
/// [`op::FusedRecurrentOps::fused_recurrent_projected`] for `y`'s layout.
fn fused_call(
    cell: &CellWeights,
    x: Tensor<3>,
    mask: Tensor<2>,
    init: State,
    pass: Pass,
    isa: Isa,
    output: Option<&Linear>,
) -> Tensor<3> {
    let batch = x.dims()[1];
    let device = x.device();
    let c0 = init
        .c
        .unwrap_or_else(|| Tensor::zeros([batch, cell.hidden()], &device));
    let call = FusedCall {
        cell: cell.cell(),
        pass,
        isa,
    };
    let (x, mask, h0, c0) = (
        x.into_dispatch(),
        mask.into_dispatch(),
        init.h.into_dispatch(),
        c0.into_dispatch(),
    );
    let (w_ih, w_hh) = (
        cell.w_ih.val().into_dispatch(),
        cell.w_hh.val().into_dispatch(),
    );
    let (b_ih, b_hh) = (
        cell.b_ih.val().into_dispatch(),
        cell.b_hh.val().into_dispatch(),
    );
    Tensor::<3>::from_dispatch(match output {
        None => Dispatch::fused_recurrent(x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh, call),
        Some(out) => {
            let k = out.weight.dims()[1];
            let b_out = out
                .bias
                .as_ref()
                .map_or_else(|| Tensor::zeros([k], &device), |b| b.val());
            let (w_out, b_out) = (out.weight.val().into_dispatch(), b_out.into_dispatch());
            Dispatch::fused_recurrent_projected(
                x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh, w_out, b_out, call,
            )
        }
    })
}

/// The state in blocks `h_at` (hidden) and `c_at` (LSTM cell) of a fused output.
fn final_state(cell: &CellWeights, y: &Tensor<3>, h_at: usize, c_at: usize) -> State {
    let [_, batch, hidden] = y.dims();
    State {
        h: y.clone().narrow(0, h_at, 1).reshape([batch, hidden]),
        c: (cell.cell() == Cell::Lstm)
            .then(|| y.clone().narrow(0, c_at, 1).reshape([batch, hidden])),
    }
}

/// The per-step `[B, 1]` masks of a batch as one `[T, B]` mask (ones where `None`).
pub fn stack_masks(
    masks: &[Option<Tensor<2>>],
    steps: usize,
    batch: usize,
    device: &burn::tensor::Device,
) -> Tensor<2> {
    if masks.iter().all(Option::is_none) {
        return Tensor::ones([steps, batch], device);
    }
    let rows = (0..steps)
        .map(|t| match masks.get(t).and_then(|m| m.as_ref()) {
            Some(m) => m.clone().reshape([1, batch]),
            None => Tensor::ones([1, batch], device),
        })
        .collect();
    Tensor::cat(rows, 0)
}

#[cfg(test)]
mod tests;
