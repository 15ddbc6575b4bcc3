//! Gradient helpers of the training loop: the global L2 norm and scaling (for clipping).
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::error::Result;
use crate::tensor::scalar;

/// Collects the squared norm of each parameter's gradient.
struct SquaredNorms<'a> {
    grads: &'a GradientsParams,
    parts: Vec<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.parts.push(g.square().sum());
        }
    }
}

/// The global L2 norm of all gradients (one read-back).
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> Result<f64> {
    let mut v = SquaredNorms {
        grads,
        parts: Vec::new(),
    };
    module.visit(&mut v);
    if v.parts.is_empty() {
        return Ok(0.0);
    }
    Ok(scalar(Tensor::cat(v.parts, 0).sum())?.sqrt())
}

/// Multiplies every gradient by `factor`.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// Scales every gradient of `module` in `grads` by `factor`.
pub fn scale_grads<M: Module>(module: &M, grads: &mut GradientsParams, factor: f64) {
    module.visit(&mut Scale { grads, factor });
}
