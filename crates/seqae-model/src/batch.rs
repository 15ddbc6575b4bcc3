//! [`DeviceBatch`]: a padded [`Batch`] laid out as the tensors the model consumes, and its
//! reconstruction [`Target`].
use burn::tensor::{Device, Tensor};
use seqae_data::{Batch, SequenceSet};

use crate::config::ModelConfig;
use crate::tensor::tensor;

/// A batch on a device: per-step inputs and masks for the recurrent layers.
#[derive(Clone, Debug)]
pub struct DeviceBatch {
    /// Sequences (`B`).
    pub(crate) size: usize,
    /// Padded length (`T`).
    pub(crate) steps: usize,
    /// Channels (`C`).
    pub(crate) channels: usize,
    /// Length of each row.
    pub(crate) lengths: Vec<usize>,
    /// Per step, the inputs `[B, C]` (0 at padding and missing values).
    pub(crate) inputs: Vec<Tensor<2>>,
    /// Per step, `[B, 1]` with 1 at valid steps; `None` where every row is valid.
    pub(crate) masks: Vec<Option<Tensor<2>>>,
    /// The inputs as one `[T, B, C]` tensor, as the fused layers read them (built from the
    /// host values: stacking the per-step tensors was a twentieth of embedding's time).
    pub(crate) stacked: Tensor<3>,
    /// `[T, B]`: 1 at valid steps.
    pub(crate) mask: Tensor<2>,
    /// Whether the target runs in reverse order.
    pub(crate) reverse: bool,
}

/// What a batch is reconstructed into: the input, reversed within each sequence's length when
/// the model reconstructs in reverse, with the mask of observed values.
#[derive(Clone, Debug)]
pub struct Target {
    /// Per step, the target `[B, C]` (for teacher forcing).
    pub(crate) steps: Vec<Tensor<2>>,
    /// The target `[B, T, C]`.
    pub(crate) values: Tensor<3>,
    /// `[B, T, C]`: 1 where the target is observed.
    pub(crate) observed: Tensor<3>,
    /// Host copy of `observed`.
    pub(crate) observed_host: Vec<f32>,
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
        device: &Device,
    ) -> Self {
        let batch = Batch::gather(set, indices).patched(config.patch_size());
        DeviceBatch::new(&batch, config.reverse_target, device)
    }

    /// [`for_model`](Self::for_model) with the reconstruction target (for the loss).
    pub fn for_model_with_target(
        set: &SequenceSet,
        indices: &[usize],
        config: &ModelConfig,
        device: &Device,
    ) -> (Self, Target) {
        let batch = Batch::gather(set, indices).patched(config.patch_size());
        DeviceBatch::with_target(&batch, config.reverse_target, device)
    }

    /// Lays out `batch` on `device` (the target runs in reverse order when `reverse`).
    pub fn new(batch: &Batch, reverse: bool, device: &Device) -> Self {
        let (b, t_max, c) = (batch.size(), batch.max_len, batch.channels);
        let mut inputs = Vec::with_capacity(t_max);
        let mut masks = Vec::with_capacity(t_max);
        let (mut all_x, mut all_m) = (Vec::with_capacity(t_max * b * c), Vec::new());
        for t in 0..t_max {
            let mut x = Vec::with_capacity(b * c);
            for row in 0..b {
                let at = (row * t_max + t) * c;
                x.extend_from_slice(&batch.values[at..at + c]);
            }
            all_x.extend_from_slice(&x);
            inputs.push(tensor(x, [b, c], device));
            let m: Vec<f32> = (0..b).map(|row| batch.mask[row * t_max + t]).collect();
            all_m.extend_from_slice(&m);
            masks.push(if m.iter().all(|&v| v == 1.0) {
                None
            } else {
                Some(tensor(m, [b, 1], device))
            });
        }
        DeviceBatch {
            size: b,
            steps: t_max,
            channels: c,
            lengths: batch.lengths.clone(),
            inputs,
            masks,
            stacked: tensor(all_x, [t_max, b, c], device),
            mask: tensor(all_m, [t_max, b], device),
            reverse,
        }
    }

    /// [`new`](Self::new) and the batch's reconstruction target.
    pub fn with_target(batch: &Batch, reverse: bool, device: &Device) -> (Self, Target) {
        let db = DeviceBatch::new(batch, reverse, device);
        let (b, t_max, c) = (batch.size(), batch.max_len, batch.channels);
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
        let steps = (0..t_max)
            .map(|t| {
                let mut x = Vec::with_capacity(b * c);
                for row in 0..b {
                    let at = (row * t_max + t) * c;
                    x.extend_from_slice(&target_host[at..at + c]);
                }
                tensor(x, [b, c], device)
            })
            .collect();
        let target = Target {
            steps,
            values: tensor(target_host, [b, t_max, c], device),
            observed: tensor(observed_host.clone(), [b, t_max, c], device),
            observed_host,
        };
        (db, target)
    }

    /// Sequences in the batch (`B`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Padded length in recurrent steps (`T`).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Values per recurrent step (channels times the patch size).
    pub fn channels(&self) -> usize {
        self.channels
    }
}

impl Target {
    /// Number of observed target values.
    pub fn observed_count(&self) -> f64 {
        self.observed_host.iter().map(|&v| v as f64).sum()
    }

    /// Observed values of row `row` of a batch whose rows hold `per_row` values.
    pub(crate) fn observed_in_row(&self, row: usize, per_row: usize) -> f64 {
        self.observed_host[row * per_row..(row + 1) * per_row]
            .iter()
            .map(|&v| v as f64)
            .sum()
    }
}
