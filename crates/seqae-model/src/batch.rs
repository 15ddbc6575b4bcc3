//! [`DeviceBatch`]: a padded [`Batch`] laid out as the tensors the model consumes.
use burn::tensor::{Device, Tensor};
use seqae_data::{Batch, SequenceSet};

use crate::config::ModelConfig;
use crate::tensor::tensor;

/// A batch on a device: per-step inputs and masks for the recurrent layers, and the target
/// (the input, reversed within each sequence's length when `reverse`) with its observed mask.
#[derive(Clone, Debug)]
pub struct DeviceBatch {
    /// Sequences (`B`).
    pub size: usize,
    /// Padded length (`T`).
    pub steps: usize,
    /// Channels (`C`).
    pub channels: usize,
    /// Length of each row.
    pub lengths: Vec<usize>,
    /// Per step, the inputs `[B, C]` (0 at padding and missing values).
    pub inputs: Vec<Tensor<2>>,
    /// Per step, `[B, 1]` with 1 at valid steps; `None` where every row is valid.
    pub masks: Vec<Option<Tensor<2>>>,
    /// Whether the target runs in reverse order.
    pub reverse: bool,
    /// Per step, the target `[B, C]` (for teacher forcing); empty unless asked for.
    pub targets: Vec<Tensor<2>>,
    /// Target `[B, T, C]`; None unless asked for.
    pub target: Option<Tensor<3>>,
    /// `[B, T, C]`: 1 where the target is observed; None unless asked for.
    pub observed: Option<Tensor<3>>,
    /// Host copy of the target `[B, T, C]`.
    pub target_host: Vec<f32>,
    /// Host copy of the observed mask of the target `[B, T, C]`.
    pub observed_host: Vec<f32>,
}

/// The position in the input of step `t` of the target of a sequence of length `len`.
pub fn source_step(t: usize, len: usize, reverse: bool) -> usize {
    if reverse && t < len { len - 1 - t } else { t }
}

impl DeviceBatch {
    /// The sequences at `indices` of `set`, gathered, regrouped into the model's patches and
    /// laid out on `device` as the model `config` describes: the one layout both training and
    /// inference use.
    pub fn for_model(
        set: &SequenceSet,
        indices: &[usize],
        config: &ModelConfig,
        with_target: bool,
        device: &Device,
    ) -> Self {
        let batch = Batch::gather(set, indices).patched(config.patch_size());
        DeviceBatch::new(&batch, config.reverse_target, with_target, device)
    }

    /// Lays out `batch` on `device`. With `with_target`, also builds the target tensors
    /// (needed for the loss and teacher forcing, not for embedding).
    pub fn new(batch: &Batch, reverse: bool, with_target: bool, device: &Device) -> Self {
        let (b, t_max, c) = (batch.size(), batch.max_len, batch.channels);
        let mut inputs = Vec::with_capacity(t_max);
        let mut masks = Vec::with_capacity(t_max);
        for t in 0..t_max {
            let mut x = Vec::with_capacity(b * c);
            for row in 0..b {
                let at = (row * t_max + t) * c;
                x.extend_from_slice(&batch.values[at..at + c]);
            }
            inputs.push(tensor(x, [b, c], device));
            let m: Vec<f32> = (0..b).map(|row| batch.mask[row * t_max + t]).collect();
            masks.push(if m.iter().all(|&v| v == 1.0) {
                None
            } else {
                Some(tensor(m, [b, 1], device))
            });
        }
        let mut target_host = vec![0.0; b * t_max * c];
        let mut observed_host = vec![0.0; b * t_max * c];
        for row in 0..b {
            let len = batch.lengths[row];
            for t in 0..len {
                let src = (row * t_max + source_step(t, len, reverse)) * c;
                let dst = (row * t_max + t) * c;
                target_host[dst..dst + c].copy_from_slice(&batch.values[src..src + c]);
                observed_host[dst..dst + c].copy_from_slice(&batch.observed[src..src + c]);
            }
        }
        let (mut targets, mut target, mut observed) = (Vec::new(), None, None);
        if with_target {
            for t in 0..t_max {
                let mut x = Vec::with_capacity(b * c);
                for row in 0..b {
                    let at = (row * t_max + t) * c;
                    x.extend_from_slice(&target_host[at..at + c]);
                }
                targets.push(tensor(x, [b, c], device));
            }
            target = Some(tensor(target_host.clone(), [b, t_max, c], device));
            observed = Some(tensor(observed_host.clone(), [b, t_max, c], device));
        }
        DeviceBatch {
            size: b,
            steps: t_max,
            channels: c,
            lengths: batch.lengths.clone(),
            inputs,
            masks,
            reverse,
            targets,
            target,
            observed,
            target_host,
            observed_host,
        }
    }

    /// Number of observed target values.
    pub fn observed_count(&self) -> f64 {
        self.observed_host.iter().map(|&v| v as f64).sum()
    }
}
