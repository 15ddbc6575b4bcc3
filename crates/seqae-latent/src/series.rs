//! Raw sequences prepared for the shape-based methods ([`crate::kshape`], the raw-value
//! views of [`crate::views`]): every channel z-normalised over the sequence's observed values
//! ([`seqae_data::features::znormalized`]), zero-padded to the longest sequence, step-major
//! like [`SequenceSet`].
use seqae_data::SequenceSet;

use crate::error::{LatentError, Result};

/// z-normalised, zero-padded sequences of one channel count.
#[derive(Clone, Debug)]
pub struct Series {
    channels: usize,
    max_len: usize,
    lens: Vec<usize>,
    /// `n * max_len * channels` values: sequence `i`, step `t`, channel `c` at
    /// `(i * max_len + t) * channels + c`.
    values: Vec<f32>,
}

impl Series {
    /// The sequences of `set`, z-normalised per channel.
    pub fn new(set: &SequenceSet) -> Result<Self> {
        if set.is_empty() {
            return Err(LatentError::Empty { what: "sequences" });
        }
        let (c, max_len) = (set.channels(), set.max_len().max(1));
        let mut values = vec![0.0f32; set.len() * max_len * c];
        for (i, out) in values.chunks_exact_mut(max_len * c).enumerate() {
            let z = seqae_data::features::znormalized(set, i);
            out[..z.len()].copy_from_slice(&z);
        }
        Ok(Series {
            channels: c,
            max_len,
            lens: set.lengths(),
            values,
        })
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// Whether there are no sequences (never, for a built value).
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Channels per step.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The longest sequence's length: every row is this long, zero-padded.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The length of sequence `i` before padding.
    pub fn length(&self, i: usize) -> usize {
        self.lens[i]
    }

    /// Sequence `i`, padded: `max_len * channels` values, step-major.
    pub fn row(&self, i: usize) -> &[f32] {
        let w = self.max_len * self.channels;
        &self.values[i * w..(i + 1) * w]
    }

    /// The same sequences with at most `most` steps: a longer set is shortened by piecewise
    /// aggregate approximation (the mean of each of `most` equal spans of the longest length),
    /// so elastic distances stay affordable on long data. Returns `self` cloned when short
    /// enough.
    pub fn shortened(&self, most: usize) -> Series {
        let most = most.max(1);
        if self.max_len <= most {
            return self.clone();
        }
        let (c, old) = (self.channels, self.max_len);
        let mut values = Vec::with_capacity(self.len() * most * c);
        for i in 0..self.len() {
            let row = self.row(i);
            for s in 0..most {
                let (a, b) = (
                    s * old / most,
                    ((s + 1) * old / most).max(s * old / most + 1),
                );
                for ch in 0..c {
                    let sum: f32 = (a..b).map(|t| row[t * c + ch]).sum();
                    values.push(sum / (b - a) as f32);
                }
            }
        }
        let lens = self
            .lens
            .iter()
            .map(|&l| (l * most).div_ceil(old).clamp(1, most))
            .collect();
        Series {
            channels: c,
            max_len: most,
            lens,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqae_data::SequenceSetBuilder;

    #[test]
    fn normalises_pads_and_shortens() {
        let mut b = SequenceSetBuilder::new(1);
        b.push(&[1.0, 3.0], None, None).unwrap();
        b.push(&[5.0, 5.0, 5.0, 5.0], None, None).unwrap();
        b.push(&[0.0, f32::NAN, 2.0, 4.0], None, None).unwrap();
        let s = Series::new(&b.finish().unwrap()).unwrap();
        assert_eq!((s.len(), s.max_len(), s.channels()), (3, 4, 1));
        assert_eq!(s.row(0), &[-1.0, 1.0, 0.0, 0.0]);
        assert_eq!(s.row(1), &[0.0; 4]);
        assert_eq!(s.row(2)[1], 0.0);
        let short = s.shortened(2);
        assert_eq!(
            (short.max_len(), short.length(0), short.length(1)),
            (2, 1, 2)
        );
        assert_eq!(short.row(0), &[0.0, 0.0]);
    }
}
