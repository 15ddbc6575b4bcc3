//! Raw-value features for the classical baseline: each sequence z-normalised per channel (as
//! the UCR archive's methods do) and linearly resampled to one length, then flattened.
use crate::error::Result;
use crate::matrix::Matrix;
use crate::sequence::SequenceSet;

/// The median sequence length of `set` (the lower median; 0 for an empty set).
pub fn median_length(set: &SequenceSet) -> usize {
    let mut lengths = set.lengths();
    lengths.sort_unstable();
    lengths
        .get(lengths.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

/// The values of sequence `i` of `set` (`length * channels`, step-major) with every channel
/// z-normalised over its observed values (constant channels become zeros; missing values read
/// as 0 after normalisation).
pub fn znormalized(set: &SequenceSet, i: usize) -> Vec<f32> {
    let c = set.channels();
    let seq = set.sequence(i);
    let n = set.length(i);
    let mut z = seq[..n * c].to_vec();
    for ch in 0..c {
        let obs: Vec<f64> = (0..n)
            .map(|t| seq[t * c + ch] as f64)
            .filter(|v| v.is_finite())
            .collect();
        let mean = obs.iter().sum::<f64>() / obs.len().max(1) as f64;
        let var = obs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / obs.len().max(1) as f64;
        let sd = if var.sqrt() > 1e-8 { var.sqrt() } else { 1.0 };
        for t in 0..n {
            let v = &mut z[t * c + ch];
            *v = if v.is_finite() {
                ((*v as f64 - mean) / sd) as f32
            } else {
                0.0
            };
        }
    }
    z
}

/// One row per sequence: [`znormalized`], resampled linearly to `len` steps, step-major
/// (`len * channels` columns).
pub fn znormalized_resampled(set: &SequenceSet, len: usize) -> Result<Matrix> {
    let c = set.channels();
    let len = len.max(1);
    let mut data = Vec::with_capacity(set.len() * len * c);
    for i in 0..set.len() {
        let n = set.length(i);
        let z = znormalized(set, i);
        for s in 0..len {
            // Position of output step s on the input's time axis (ends aligned).
            let pos = if len == 1 || n == 1 {
                0.0
            } else {
                s as f64 * (n - 1) as f64 / (len - 1) as f64
            };
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            let w = (pos - lo as f64) as f32;
            for ch in 0..c {
                data.push(z[lo * c + ch] * (1.0 - w) + z[hi * c + ch] * w);
            }
        }
    }
    Matrix::new(data, set.len(), len * c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SequenceSetBuilder;

    #[test]
    fn normalises_and_resamples() {
        let mut b = SequenceSetBuilder::new(1);
        b.push(&[1.0, 3.0], None, None).unwrap();
        b.push(&[5.0, 5.0, 5.0, 5.0], None, None).unwrap();
        b.push(&[0.0, 1.0, 2.0], None, None).unwrap();
        let set = b.finish().unwrap();
        assert_eq!(median_length(&set), 3);
        let m = znormalized_resampled(&set, 3).unwrap();
        assert_eq!(m.row(0).unwrap(), &[-1.0, 0.0, 1.0]);
        assert_eq!(m.row(1).unwrap(), &[0.0, 0.0, 0.0]);
        let r = m.row(2).unwrap();
        assert!((r[0] + 1.2247).abs() < 1e-3 && r[1].abs() < 1e-6 && (r[2] - 1.2247).abs() < 1e-3);
    }
}
