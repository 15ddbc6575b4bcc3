//! The reconstruction loss: mean squared error over valid, observed positions only.
use burn::tensor::Tensor;

use crate::batch::Target;

/// Stacks per-step outputs (`[B, C]` each) into `[B, T, C]`.
pub fn stack_steps(outputs: Vec<Tensor<2>>) -> Tensor<3> {
    Tensor::stack(outputs, 1)
}

/// Mean of `(y - target)^2` over the observed positions of the target (divided by at least
/// 1). Returns a one-element tensor.
pub fn masked_mse(y: Tensor<3>, target: &Target) -> Tensor<1> {
    let diff = (y - target.values.clone()) * target.observed.clone();
    diff.square()
        .sum()
        .div_scalar(target.observed_count().max(1.0))
}

/// Per-sequence sums of squared errors over observed positions, `[B]`.
pub fn per_sequence_sse(y: Tensor<3>, target: &Target) -> Tensor<1> {
    let diff = (y - target.values.clone()) * target.observed.clone();
    let [b, _, _] = diff.dims();
    diff.square().sum_dims(&[1, 2]).reshape([b])
}
