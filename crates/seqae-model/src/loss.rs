//! The reconstruction loss: mean squared error over valid, observed positions only.
use burn::tensor::Tensor;

/// Stacks per-step outputs (`[B, C]` each) into `[B, T, C]`.
pub fn stack_steps(outputs: Vec<Tensor<2>>) -> Tensor<3> {
    Tensor::stack(outputs, 1)
}

/// Mean of `(y - target)^2` over the positions where `observed` is 1; `count` is the number of
/// such positions (at least 1 is used). Returns a one-element tensor.
pub fn masked_mse(y: Tensor<3>, target: Tensor<3>, observed: Tensor<3>, count: f64) -> Tensor<1> {
    let diff = (y - target) * observed;
    diff.square().sum().div_scalar(count.max(1.0))
}

/// Per-sequence sums of squared errors over observed positions, `[B]`.
pub fn per_sequence_sse(y: Tensor<3>, target: Tensor<3>, observed: Tensor<3>) -> Tensor<1> {
    let diff = (y - target) * observed;
    let [b, _, _] = diff.dims();
    diff.square().sum_dims(&[1, 2]).reshape([b])
}
