//! Small helpers between host buffers and burn tensors.
use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand::rngs::StdRng;

use crate::error::{ModelError, Result};

/// A float tensor of `shape` from host values (converted to the device's float type).
pub fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// The values of a tensor as `f32`, row-major.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| ModelError::Tensor(format!("{e:?}")))
}

/// A scalar tensor's value as `f64`.
pub fn scalar(t: Tensor<1>) -> Result<f64> {
    let v = t
        .into_data()
        .try_into_vec_as::<f64>()
        .map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
    v.first()
        .copied()
        .ok_or_else(|| ModelError::Tensor("empty tensor".into()))
}

/// `n` values drawn uniformly from `[-bound, bound]`.
pub fn uniform(rng: &mut StdRng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..=bound)).collect()
}

/// A trainable parameter from host values.
pub fn param<const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &Device,
) -> Param<Tensor<D>> {
    Param::from_tensor(tensor(values, shape, device))
}

/// A linear layer `y = x W + b` (`W`: `[input, output]`), initialised like PyTorch's
/// `nn.Linear`: weights and bias uniform in `±1/sqrt(input)`.
pub fn linear(input: usize, output: usize, rng: &mut StdRng, device: &Device) -> Linear {
    let bound = 1.0 / (input as f32).sqrt();
    Linear {
        weight: param(uniform(rng, input * output, bound), [input, output], device),
        bias: Some(param(uniform(rng, output, bound), [output], device)),
    }
}
