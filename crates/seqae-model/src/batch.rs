//! [`DeviceBatch`]: a padded [`Batch`] laid out as the tensors the model consumes, and its
//! reconstruction [`Target`].
use burn::tensor::{Device, Tensor};
use seqae_data::{Batch, SequenceSet};

use crate::config::ModelConfig;
use crate::tensor::tensor;

/// A batch on a device: the inputs and mask for the recurrent layers (whole, as the fused
/// layers read them, or step by step for the reference layers).
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
    /// The inputs `[T, B, C]` (0 at padding and missing values).
    pub(crate) stacked: Tensor<3>,
    /// `[T, B]`: 1 at valid steps.
    pub(crate) mask: Tensor<2>,
    /// Host copy of `mask`.
    mask_host: Vec<f32>,
    /// Whether the target runs in reverse order.
    pub(crate) reverse: bool,
}

/// What a batch is reconstructed into: the input, reversed within each sequence's length when
/// the model reconstructs in reverse, with the mask of observed values.
#[derive(Clone, Debug)]
pub struct Target {
    /// The decoder's inputs under teacher forcing, `[T, B, C]`: zeros at step 0, the target
    /// of step `t - 1` at step `t`.
    pub(crate) teacher: Tensor<3>,
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
        let mut all_m = Vec::with_capacity(t_max * b);
        for t in 0..t_max {
            all_m.extend((0..b).map(|row| batch.mask[row * t_max + t]));
        }
        DeviceBatch {
            size: b,
            steps: t_max,
            channels: c,
            lengths: batch.lengths.clone(),
            stacked: tensor(
                time_major(&batch.values, b, t_max, c),
                [t_max, b, c],
                device,
            ),
            mask: tensor(all_m.clone(), [t_max, b], device),
            mask_host: all_m,
            reverse,
        }
    }

    /// The inputs step by step, `[B, C]` each (for the reference layers).
    pub(crate) fn step_inputs(&self) -> Vec<Tensor<2>> {
        split_steps(&self.stacked)
    }

    /// The mask step by step, `[B, 1]` each with 1 at valid steps, `None` where every row is
    /// valid (for the reference layers).
    pub(crate) fn step_masks(&self) -> Vec<Option<Tensor<2>>> {
        let device = self.stacked.device();
        self.mask_host
            .chunks_exact(self.size.max(1))
            .map(|m| {
                (!m.iter().all(|&v| v == 1.0)).then(|| tensor(m.to_vec(), [self.size, 1], &device))
            })
            .collect()
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
        // Step t of the teacher-forced inputs is step t - 1 of the target (zeros at step 0).
        let mut teacher = vec![0.0; b * t_max * c];
        let shifted = time_major(&target_host, b, t_max, c);
        let step = (b * c).min(teacher.len());
        teacher[step..].copy_from_slice(&shifted[..shifted.len() - step]);
        let target = Target {
            teacher: tensor(teacher, [t_max, b, c], device),
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

/// `[B, T, C]` values as `[T, B, C]`.
fn time_major(values: &[f32], b: usize, t_max: usize, c: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(b * t_max * c);
    for t in 0..t_max {
        for row in 0..b {
            let at = (row * t_max + t) * c;
            out.extend_from_slice(&values[at..at + c]);
        }
    }
    out
}

/// Step `t` of a `[T, B, C]` tensor, `[B, C]`.
pub(crate) fn step_of(x: &Tensor<3>, t: usize) -> Tensor<2> {
    let [_, b, c] = x.dims();
    x.clone().narrow(0, t, 1).reshape([b, c])
}

/// A `[T, B, C]` tensor as its `T` steps, `[B, C]` each.
pub(crate) fn split_steps(x: &Tensor<3>) -> Vec<Tensor<2>> {
    (0..x.dims()[0]).map(|t| step_of(x, t)).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::tensor::to_vec;
    use seqae_data::SequenceSetBuilder;

    /// Two one-channel sequences, `[1, 2, 3]` and `[4, 5]`.
    fn set() -> SequenceSet {
        let mut b = SequenceSetBuilder::new(1);
        b.push(&[1.0, 2.0, 3.0], None, None).unwrap();
        b.push(&[4.0, 5.0], None, None).unwrap();
        b.finish().unwrap()
    }

    /// The teacher-forced inputs are zeros at step 0, then the target of the step before
    /// (reversed within each length when the target is, zero past a sequence's end); the
    /// stacked inputs and mask are time-major.
    #[test]
    fn teacher_inputs_are_the_target_one_step_late() {
        let device = Backend::Flex.device().expect("flex is built in");
        let batch = Batch::gather(&set(), &[0, 1]);
        for (reverse, teacher) in [
            (false, [0.0, 0.0, 1.0, 4.0, 2.0, 5.0]),
            (true, [0.0, 0.0, 3.0, 5.0, 2.0, 4.0]),
        ] {
            let (db, target) = DeviceBatch::with_target(&batch, reverse, &device);
            assert_eq!(
                to_vec(target.teacher).unwrap(),
                teacher,
                "reverse {reverse}"
            );
            let x = to_vec(db.stacked.clone()).unwrap();
            assert_eq!(x, [1.0, 4.0, 2.0, 5.0, 3.0, 0.0]);
            assert_eq!(
                to_vec(db.mask.clone()).unwrap(),
                [1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
            );
            let steps: Vec<Vec<f32>> = db
                .step_inputs()
                .into_iter()
                .map(|t| to_vec(t).unwrap())
                .collect();
            assert_eq!(steps, [vec![1.0, 4.0], vec![2.0, 5.0], vec![3.0, 0.0]]);
            let masks = db.step_masks();
            assert!(masks[0].is_none() && masks[1].is_none());
            let last = masks[2].clone().map(|m| to_vec(m).unwrap());
            assert_eq!(last, Some(vec![1.0, 0.0]));
        }
    }
}
