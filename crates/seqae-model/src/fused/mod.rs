//! Fused CPU recurrent layers: one autodiff node per layer and direction, with hand-written
//! backpropagation through time on host `f32` buffers (products by [`small_gemm`]).
//!
//! [`Kernel`] chooses, for the whole process, whether the encoder and decoder run the
//! reference layers ([`crate::layer::run_direction`], built from burn tensor operations) or
//! the fused ones.
use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::{ModelError, Result};

/// Which implementation runs the recurrent layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Built from burn tensor operations (every backend; the oracle of the tests).
    Reference,
    /// One fused operation per layer and direction (flex and ndarray backends; the default).
    #[default]
    Fused,
}

impl Kernel {
    /// Parses `reference` or `fused`.
    pub fn parse(name: &str) -> Result<Kernel> {
        match name.to_ascii_lowercase().as_str() {
            "reference" | "ref" => Ok(Kernel::Reference),
            "fused" => Ok(Kernel::Fused),
            other => Err(ModelError::UnknownName {
                what: "kernel",
                name: other.to_string(),
                expected: "reference or fused",
            }),
        }
    }

    /// The name `parse` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Reference => "reference",
            Kernel::Fused => "fused",
        }
    }
}

static KERNEL: AtomicU8 = AtomicU8::new(Kernel::Fused as u8);

/// Selects the kernel of every model run after this call, in the whole process
/// ([`Kernel::Fused`] until changed).
pub fn set_kernel(kernel: Kernel) {
    KERNEL.store(kernel as u8, Ordering::Relaxed);
}

/// The kernel selected by [`set_kernel`].
pub fn kernel() -> Kernel {
    match KERNEL.load(Ordering::Relaxed) {
        0 => Kernel::Reference,
        _ => Kernel::Fused,
    }
}

pub mod host;
pub mod op;
mod small_gemm;

use burn::backend::Dispatch;
use burn::tensor::Tensor;

use crate::cell::{CellWeights, State};
use crate::config::Cell;
use op::FusedRecurrentOps;

/// Runs one cell over a whole sequence as one fused operation: `x` `[T, B, C]`, `mask`
/// `[T, B]` (1 = valid step; a padded step carries the state), from `init`, in reverse time
/// order when `reverse`. Returns the hidden states `[T, B, H]` in time order and the final
/// state, exactly as [`crate::layer::run_direction`] does.
pub fn run_fused(
    cell: &CellWeights,
    x: Tensor<3>,
    mask: Tensor<2>,
    init: State,
    reverse: bool,
) -> (Tensor<3>, State) {
    let steps = x.dims()[0];
    let y = fused_call(cell, x, mask, init, (reverse, true));
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
) -> State {
    let y = fused_call(cell, x, mask, init, (reverse, false));
    final_state(cell, &y, 0, 1)
}

/// The fused operation; see [`op::FusedRecurrentOps::fused_recurrent`] for `y`'s layout.
fn fused_call(
    cell: &CellWeights,
    x: Tensor<3>,
    mask: Tensor<2>,
    init: State,
    (reverse, all_steps): (bool, bool),
) -> Tensor<3> {
    let batch = x.dims()[1];
    let c0 = init
        .c
        .clone()
        .unwrap_or_else(|| Tensor::zeros([batch, cell.hidden()], &x.device()));
    let kind = match cell.cell() {
        Cell::Rnn => 0,
        Cell::Lstm => 1,
        Cell::Gru => 2,
    };
    Tensor::<3>::from_dispatch(Dispatch::fused_recurrent(
        x.into_dispatch(),
        mask.into_dispatch(),
        init.h.into_dispatch(),
        c0.into_dispatch(),
        cell.w_ih.val().into_dispatch(),
        cell.w_hh.val().into_dispatch(),
        cell.b_ih.val().into_dispatch(),
        cell.b_hh.val().into_dispatch(),
        kind,
        reverse,
        all_steps,
    ))
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
