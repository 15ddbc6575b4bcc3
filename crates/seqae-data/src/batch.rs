//! Padded batches with masks, seeded shuffling and length bucketing.
use crate::error::{DataError, Result};
use crate::sequence::SequenceSet;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Sequences padded to the longest in the batch, as flat row-major buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Index of each batch row in the source set.
    pub indices: Vec<usize>,
    /// Length of each row's sequence.
    pub lengths: Vec<usize>,
    /// Longest length in the batch (`T`).
    pub max_len: usize,
    /// Values per step (`C`).
    pub channels: usize,
    /// `[B, T, C]` values; padding and missing values are 0.
    pub values: Vec<f32>,
    /// `[B, T]`: 1 at a sequence's steps, 0 at padding.
    pub mask: Vec<f32>,
    /// `[B, T, C]`: 1 where a value is present (a valid step and not missing), else 0.
    pub observed: Vec<f32>,
}

impl Batch {
    /// Gathers the sequences at `indices` of `set` into one padded batch.
    pub fn gather(set: &SequenceSet, indices: &[usize]) -> Batch {
        let c = set.channels();
        let lengths: Vec<usize> = indices.iter().map(|&i| set.length(i)).collect();
        let t_max = lengths.iter().copied().max().unwrap_or(0);
        let b = indices.len();
        let mut values = vec![0.0; b * t_max * c];
        let mut mask = vec![0.0; b * t_max];
        let mut observed = vec![0.0; b * t_max * c];
        for (row, &i) in indices.iter().enumerate() {
            let seq = set.sequence(i);
            let at = row * t_max * c..row * t_max * c + seq.len();
            // Branch-free, so that the loop vectorises: a missing value is 0, not observed.
            let (vs, os) = (&mut values[at.clone()], &mut observed[at]);
            for ((d, o), &v) in vs.iter_mut().zip(os.iter_mut()).zip(seq) {
                let seen = !v.is_nan();
                *d = if seen { v } else { 0.0 };
                *o = seen as u8 as f32;
            }
            mask[row * t_max..row * t_max + lengths[row]].fill(1.0);
        }
        Batch {
            indices: indices.to_vec(),
            lengths,
            max_len: t_max,
            channels: c,
            values,
            mask,
            observed,
        }
    }

    /// Number of sequences in the batch (`B`).
    pub fn size(&self) -> usize {
        self.indices.len()
    }

    /// The batch read `patch` steps at a time: step `s` of the result holds steps
    /// `s * patch .. (s + 1) * patch` of the input side by side (`patch * C` values, step-major),
    /// so a sequence of length `L` becomes `ceil(L / patch)` steps. The values past the end of a
    /// sequence in its last patch are padding (0, not observed). `patch` 1 (or 0) returns the
    /// batch unchanged.
    pub fn patched(self, patch: usize) -> Batch {
        if patch <= 1 {
            return self;
        }
        let (b, c) = (self.size(), self.channels);
        let lengths: Vec<usize> = self.lengths.iter().map(|&l| l.div_ceil(patch)).collect();
        let t_max = self.max_len.div_ceil(patch);
        let width = patch * c;
        let mut values = vec![0.0; b * t_max * width];
        let mut mask = vec![0.0; b * t_max];
        let mut observed = vec![0.0; b * t_max * width];
        for row in 0..b {
            // Steps 0..len of a row are contiguous in both layouts: only the row stride changes.
            let src = row * self.max_len * c;
            let dst = row * t_max * width;
            let n = self.lengths[row] * c;
            values[dst..dst + n].copy_from_slice(&self.values[src..src + n]);
            observed[dst..dst + n].copy_from_slice(&self.observed[src..src + n]);
            mask[row * t_max..row * t_max + lengths[row]].fill(1.0);
        }
        Batch {
            indices: self.indices,
            lengths,
            max_len: t_max,
            channels: width,
            values,
            mask,
            observed,
        }
    }
}

/// How a set is cut into batches each epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchOptions {
    /// Sequences per batch (the last batch may be smaller).
    pub batch_size: usize,
    /// Shuffle the order every epoch.
    pub shuffle: bool,
    /// Group sequences of similar length so that batches need little padding.
    pub bucket: bool,
    /// Seed of the shuffling; each epoch derives its own stream from it.
    pub seed: u64,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            batch_size: 32,
            shuffle: true,
            bucket: false,
            seed: 0,
        }
    }
}

/// With bucketing, sequences are sorted by length within windows of this many batches.
const BUCKET_WINDOW: usize = 16;

impl BatchOptions {
    /// The batches (lists of indices into `set`) for one epoch.
    pub fn plan(&self, set: &SequenceSet, epoch: u64) -> Result<Vec<Vec<usize>>> {
        if self.batch_size == 0 {
            return Err(DataError::Invalid("batch size must be at least 1".into()));
        }
        let mut rng = StdRng::seed_from_u64(self.seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut order: Vec<usize> = (0..set.len()).collect();
        if self.shuffle {
            order.shuffle(&mut rng);
        }
        if self.bucket {
            let window = if self.shuffle {
                self.batch_size * BUCKET_WINDOW
            } else {
                order.len().max(1)
            };
            for chunk in order.chunks_mut(window) {
                chunk.sort_by_key(|&i| set.length(i));
            }
        }
        let mut batches: Vec<Vec<usize>> =
            order.chunks(self.batch_size).map(|c| c.to_vec()).collect();
        if self.bucket && self.shuffle {
            batches.shuffle(&mut rng);
        }
        Ok(batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SequenceSetBuilder;

    fn ragged(n: usize) -> SequenceSet {
        let mut b = SequenceSetBuilder::new(1);
        for i in 0..n {
            let len = 1 + (i * 7) % 20;
            b.push(&vec![i as f32; len], None, None).unwrap();
        }
        b.finish().unwrap()
    }

    #[test]
    fn pads_and_masks() {
        let mut b = SequenceSetBuilder::new(2);
        b.push(&[1.0, 2.0, 3.0, f32::NAN], None, None).unwrap();
        b.push(&[5.0, 6.0], None, None).unwrap();
        let set = b.finish().unwrap();
        let batch = Batch::gather(&set, &[1, 0]);
        assert_eq!((batch.size(), batch.max_len, batch.channels), (2, 2, 2));
        assert_eq!(batch.values, vec![5.0, 6.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0]);
        assert_eq!(batch.mask, vec![1.0, 0.0, 1.0, 1.0]);
        assert_eq!(batch.observed, vec![1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn patches_group_steps_and_pad_the_last_patch() {
        let mut b = SequenceSetBuilder::new(2);
        // 5 steps x 2 channels, one value missing; and 2 steps.
        let long: Vec<f32> = vec![1.0, 2.0, 3.0, f32::NAN, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        b.push(&long, None, None).unwrap();
        b.push(&[11.0, 12.0, 13.0, 14.0], None, None).unwrap();
        let set = b.finish().unwrap();
        let p = Batch::gather(&set, &[0, 1]).patched(2);
        assert_eq!((p.size(), p.max_len, p.channels), (2, 3, 4));
        assert_eq!(p.lengths, vec![3, 1]);
        #[rustfmt::skip]
        assert_eq!(p.values, vec![
            1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 0.0, 0.0,
            11.0, 12.0, 13.0, 14.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ]);
        assert_eq!(p.mask, vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        #[rustfmt::skip]
        assert_eq!(p.observed, vec![
            1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0,
            1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ]);
        let same = Batch::gather(&set, &[0, 1]);
        assert_eq!(same.clone().patched(1), same);
    }

    #[test]
    fn plans_cover_every_index_once_and_repeat_with_the_seed() {
        let set = ragged(100);
        for bucket in [false, true] {
            let opts = BatchOptions {
                batch_size: 8,
                shuffle: true,
                bucket,
                seed: 3,
            };
            let plan = opts.plan(&set, 0).unwrap();
            let mut all: Vec<usize> = plan.concat();
            all.sort_unstable();
            assert_eq!(all, (0..100).collect::<Vec<_>>());
            assert_eq!(plan, opts.plan(&set, 0).unwrap());
            assert_ne!(plan, opts.plan(&set, 1).unwrap());
        }
        assert!(
            BatchOptions {
                batch_size: 0,
                ..Default::default()
            }
            .plan(&set, 0)
            .is_err()
        );
    }

    #[test]
    fn bucketing_reduces_padding() {
        let set = ragged(512);
        let padding = |bucket| {
            let opts = BatchOptions {
                batch_size: 16,
                shuffle: true,
                bucket,
                seed: 1,
            };
            opts.plan(&set, 0)
                .unwrap()
                .iter()
                .map(|b| {
                    let lens: Vec<usize> = b.iter().map(|&i| set.length(i)).collect();
                    let m = *lens.iter().max().unwrap();
                    lens.iter().map(|l| m - l).sum::<usize>()
                })
                .sum::<usize>()
        };
        assert!(
            padding(true) * 3 < padding(false),
            "{} vs {}",
            padding(true),
            padding(false)
        );
    }
}
