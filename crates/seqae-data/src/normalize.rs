//! Normalisation of sequence values, with statistics kept so that a trained model applies the
//! same transform to new data and can map its outputs back to the original units.
use crate::error::{DataError, Result};
use crate::sequence::SequenceSet;
use serde::{Deserialize, Serialize};

/// Which normalisation to apply. Missing values (`NaN`) are ignored by the statistics and stay
/// missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    /// Each sequence and channel to mean 0 and standard deviation 1 (the UCR convention).
    Zscore,
    /// Each channel to mean 0 and standard deviation 1 over the whole training set (the
    /// default: it keeps the differences of level and scale between sequences, which
    /// docs/QUALITY.md measured to cluster better).
    #[default]
    Global,
    /// Each channel to the range [0, 1] over the whole training set.
    Minmax,
    /// Values as they are.
    None,
}

crate::named_enum!(Normalization, "normalisation", {
    Zscore => "zscore" | "z-score",
    Global => "global",
    Minmax => "minmax" | "min-max",
    None => "none",
});

/// Standard deviations (or ranges) below this are treated as 1, so that a constant sequence or
/// channel maps to zeros instead of dividing by zero.
const MIN_SCALE: f64 = 1e-8;

/// A fitted normalisation: `y = (x - shift) / scale` per channel. For [`Normalization::Zscore`]
/// the shift and scale are computed per sequence at transform time, so none are stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// The kind of normalisation.
    pub kind: Normalization,
    /// Channels of the data it was fitted on.
    pub channels: usize,
    /// Per-channel shift (empty for `zscore`).
    pub shift: Vec<f32>,
    /// Per-channel scale (empty for `zscore`).
    pub scale: Vec<f32>,
}

/// The shift and scale used for each sequence and channel by one transform, to map values
/// back to the original units.
#[derive(Clone, Debug, PartialEq)]
pub struct Scales {
    channels: usize,
    shift: Vec<f32>,
    scale: Vec<f32>,
}

impl Scales {
    /// Maps normalised step-major `values` of sequence `i` back to the original units.
    pub fn invert(&self, i: usize, values: &mut [f32]) {
        let c = self.channels;
        let (shift, scale) = (
            &self.shift[i * c..(i + 1) * c],
            &self.scale[i * c..(i + 1) * c],
        );
        for (k, v) in values.iter_mut().enumerate() {
            *v = *v * scale[k % c] + shift[k % c];
        }
    }

    /// The scale of sequence `i`, channel `c` (to express errors in original units).
    pub fn scale(&self, i: usize, c: usize) -> f32 {
        self.scale[i * self.channels + c]
    }
}

/// Mean and standard deviation (population) of the non-missing values of one channel of
/// step-major data.
fn mean_std<'a>(values: impl Iterator<Item = &'a f32>) -> (f64, f64) {
    let (mut n, mut sum, mut sq) = (0usize, 0f64, 0f64);
    for &v in values.filter(|v| !v.is_nan()) {
        n += 1;
        sum += v as f64;
        sq += (v as f64) * (v as f64);
    }
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = sum / n as f64;
    let var = (sq / n as f64 - mean * mean).max(0.0);
    (mean, var.sqrt())
}

fn guard(scale: f64) -> f32 {
    if scale < MIN_SCALE { 1.0 } else { scale as f32 }
}

impl Normalizer {
    /// Fits the statistics of `kind` on `set`. Refuses data whose statistics do not fit in
    /// `f32` (values near the limits of `f32`), which could not be saved or applied.
    pub fn fit(kind: Normalization, set: &SequenceSet) -> Result<Normalizer> {
        let c = set.channels();
        let channel = |k: usize| set.values().iter().skip(k).step_by(c);
        let (shift, scale) = match kind {
            Normalization::Zscore | Normalization::None => (Vec::new(), Vec::new()),
            Normalization::Global => (0..c)
                .map(|k| {
                    let (m, s) = mean_std(channel(k));
                    (m as f32, guard(s))
                })
                .unzip(),
            Normalization::Minmax => (0..c)
                .map(|k| {
                    let (lo, hi) = channel(k)
                        .filter(|v| !v.is_nan())
                        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                            (lo.min(v), hi.max(v))
                        });
                    if lo > hi {
                        (0.0, 1.0)
                    } else {
                        (lo, guard(hi as f64 - lo as f64))
                    }
                })
                .unzip(),
        };
        if let Some(k) = (0..shift.len()).find(|&k| !(shift[k].is_finite() && scale[k].is_finite()))
        {
            return Err(DataError::Invalid(format!(
                "{kind} normalisation: the statistics of channel {} do not fit in f32 (shift {}, scale {}): \
                 rescale the data or pass --normalize none",
                k + 1,
                shift[k],
                scale[k]
            )));
        }
        Ok(Normalizer {
            kind,
            channels: c,
            shift,
            scale,
        })
    }

    /// Maps step-major normalised `values` back with the stored per-channel statistics
    /// (`global`, `minmax`); values of `zscore` and `none` are left as they are.
    pub fn invert_stored(&self, values: &mut [f32]) {
        if self.shift.is_empty() {
            return;
        }
        let c = self.channels;
        for (k, v) in values.iter_mut().enumerate() {
            *v = *v * self.scale[k % c] + self.shift[k % c];
        }
    }

    /// Checks stored statistics (a model file's): per-channel shift and scale for `global`
    /// and `minmax`, none otherwise; finite values; positive scales. The error says what is
    /// wrong.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let per_channel = matches!(self.kind, Normalization::Global | Normalization::Minmax);
        let want = if per_channel { self.channels } else { 0 };
        for (name, values) in [("shift", &self.shift), ("scale", &self.scale)] {
            if values.len() != want {
                return Err(format!(
                    "{} normalisation of {} channels stores {} {name} values, expected {want}",
                    self.kind,
                    self.channels,
                    values.len()
                ));
            }
        }
        let bad = (0..want).find(|&k| {
            !(self.shift[k].is_finite() && self.scale[k].is_finite() && self.scale[k] > 0.0)
        });
        match bad {
            Some(k) => Err(format!(
                "{} normalisation, channel {}: shift {} and scale {} (the scale must be finite and positive)",
                self.kind,
                k + 1,
                self.shift[k],
                self.scale[k]
            )),
            None => Ok(()),
        }
    }

    /// Applies the transform to `set`, returning the normalised copy and the scales used.
    /// The channel count must match the data the normaliser was fitted on.
    pub fn transform(&self, set: &SequenceSet) -> Result<(SequenceSet, Scales)> {
        let c = set.channels();
        if c != self.channels {
            return Err(DataError::Invalid(format!(
                "data has {c} channels but the normalisation was fitted on {} channels",
                self.channels
            )));
        }
        let mut out = set.clone();
        let n = set.len();
        let mut shift = Vec::with_capacity(n * c);
        let mut scale = Vec::with_capacity(n * c);
        for i in 0..n {
            let seq = out.sequence_mut(i);
            let first = shift.len();
            for k in 0..c {
                let (a, b) = match self.kind {
                    Normalization::Zscore => {
                        let (m, s) = mean_std(seq.iter().skip(k).step_by(c));
                        (m as f32, guard(s))
                    }
                    Normalization::None => (0.0, 1.0),
                    _ => (self.shift[k], self.scale[k]),
                };
                shift.push(a);
                scale.push(b);
            }
            // (v - 0) / 1 is v: nothing to do without normalisation.
            if self.kind != Normalization::None {
                let (a, b) = (&shift[first..], &scale[first..]);
                // Step by step over the channels, so that the loop vectorises.
                for step in seq.chunks_exact_mut(c) {
                    for ((v, a), b) in step.iter_mut().zip(a).zip(b) {
                        *v = (*v - a) / b;
                    }
                }
            }
        }
        Ok((
            out,
            Scales {
                channels: c,
                shift,
                scale,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SequenceSetBuilder;

    fn data() -> SequenceSet {
        let mut b = SequenceSetBuilder::new(2);
        b.push(&[1.0, 10.0, 3.0, 30.0, 5.0, f32::NAN], None, None)
            .unwrap();
        b.push(&[7.0, 70.0], None, None).unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn stored_statistics_are_validated() {
        let set = data();
        let n = Normalizer::fit(Normalization::Global, &set).unwrap();
        assert!(n.validate().is_ok());
        let mut bad = n.clone();
        bad.scale[0] = -1.0;
        assert!(bad.validate().unwrap_err().contains("channel 1"));
        let mut bad = n.clone();
        bad.shift.push(0.0);
        assert!(
            bad.validate()
                .unwrap_err()
                .contains("3 shift values, expected 2")
        );
        let mut bad = Normalizer::fit(Normalization::Zscore, &set).unwrap();
        bad.scale.push(1.0);
        assert!(bad.validate().is_err());
    }

    #[test]
    fn zscore_per_sequence_and_channel() {
        let set = data();
        let (z, scales) = Normalizer::fit(Normalization::Zscore, &set)
            .unwrap()
            .transform(&set)
            .unwrap();
        let s = z.sequence(0);
        assert!(
            (s[0] + 1.2247449).abs() < 1e-5 && s[2].abs() < 1e-6 && (s[4] - 1.2247449).abs() < 1e-5
        );
        assert!((s[1] + 1.0).abs() < 1e-6 && (s[3] - 1.0).abs() < 1e-6 && s[5].is_nan());
        // a one-step sequence is constant: it becomes zeros, not NaN
        assert_eq!(z.sequence(1), &[0.0, 0.0]);
        let mut back = s.to_vec();
        scales.invert(0, &mut back);
        assert!((back[2] - 3.0).abs() < 1e-5 && (back[3] - 30.0).abs() < 1e-4);
    }

    #[test]
    fn global_and_minmax_apply_to_new_data() {
        let set = data();
        let g = Normalizer::fit(Normalization::Global, &set).unwrap();
        assert!((g.shift[0] - 4.0).abs() < 1e-6);
        let m = Normalizer::fit(Normalization::Minmax, &set).unwrap();
        let (y, _) = m.transform(&set).unwrap();
        assert_eq!(y.sequence(0)[0], 0.0);
        assert_eq!(y.sequence(1), &[1.0, 1.0]);
        let json = serde_json::to_string(&m).unwrap();
        let back: Normalizer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        let mut b = SequenceSetBuilder::new(1);
        b.push(&[1.0], None, None).unwrap();
        assert!(m.transform(&b.finish().unwrap()).is_err());
        assert_eq!(
            "MinMax".parse::<Normalization>().unwrap(),
            Normalization::Minmax
        );
        assert!("l2".parse::<Normalization>().is_err());
    }

    #[test]
    fn statistics_that_do_not_fit_f32_are_refused() {
        let mut b = SequenceSetBuilder::new(1);
        b.push(&[3e38, -3e38, 1.0], None, None).unwrap();
        let set = b.finish().unwrap();
        let e = Normalizer::fit(Normalization::Minmax, &set).unwrap_err();
        assert!(e.to_string().contains("channel 1"), "{e}");
        // the standard deviation of the same values fits, so global normalisation works
        let g = Normalizer::fit(Normalization::Global, &set).unwrap();
        assert!(g.scale[0].is_finite() && g.shift[0].is_finite());
    }
}
