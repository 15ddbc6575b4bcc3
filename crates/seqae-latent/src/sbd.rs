//! The shape-based distance (Paparrizos and Gravano, SIGMOD 2015): one minus the largest
//! normalised cross-correlation of two sequences over every shift, computed for all shifts at
//! once through the FFT. Multivariate sequences share one shift: the channels'
//! cross-correlations are summed and normalised by the norms over all channels.
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::series::Series;

/// The transforms for one FFT length, shareable between threads.
#[derive(Clone)]
pub(crate) struct Transforms {
    len: usize,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
}

impl Transforms {
    /// Transforms of the power of two that holds every shift of two sequences of `max_len`.
    pub(crate) fn for_length(max_len: usize) -> Self {
        let len = (2 * max_len.max(1)).next_power_of_two().max(2);
        let mut planner = RealFftPlanner::<f32>::new();
        Transforms {
            len,
            forward: planner.plan_fft_forward(len),
            inverse: planner.plan_fft_inverse(len),
        }
    }

    /// Frequency bins per channel.
    pub(crate) fn bins(&self) -> usize {
        self.len / 2 + 1
    }

    /// The spectra of the channels of one step-major sequence of `channels` channels into
    /// `out` (`channels * bins` values, channel-major).
    pub(crate) fn spectra(&self, row: &[f32], channels: usize, out: &mut [Complex<f32>]) {
        let mut buf = vec![0.0f32; self.len];
        let steps = row.len() / channels.max(1);
        for (ch, spec) in out.chunks_exact_mut(self.bins()).enumerate() {
            buf.iter_mut().for_each(|v| *v = 0.0);
            for t in 0..steps {
                buf[t] = row[t * channels + ch];
            }
            // The buffers have the plan's lengths, so the transform cannot fail.
            let done = self.forward.process(&mut buf, spec);
            debug_assert!(done.is_ok());
        }
    }
}

/// Working buffers of one thread for [`Spectra::best_shift`].
pub(crate) struct Scratch {
    product: Vec<Complex<f32>>,
    cc: Vec<f32>,
}

/// The spectra and norms of a set of sequences, ready for cross-correlation.
pub(crate) struct Spectra {
    transforms: Transforms,
    channels: usize,
    max_len: usize,
    /// Sequence `i`'s spectra at `i * channels * bins`.
    values: Vec<Complex<f32>>,
    norms: Vec<f32>,
}

impl Spectra {
    /// The spectra of every sequence of `series`.
    pub(crate) fn new(series: &Series) -> Self {
        let transforms = Transforms::for_length(series.max_len());
        let (c, bins) = (series.channels(), transforms.bins());
        let mut values = vec![Complex::new(0.0, 0.0); series.len() * c * bins];
        use rayon::prelude::*;
        values
            .par_chunks_mut(c * bins)
            .enumerate()
            .for_each(|(i, out)| transforms.spectra(series.row(i), c, out));
        let norms = (0..series.len()).map(|i| norm(series.row(i))).collect();
        Spectra {
            transforms,
            channels: c,
            max_len: series.max_len(),
            values,
            norms,
        }
    }

    /// Number of sequences.
    pub(crate) fn len(&self) -> usize {
        self.norms.len()
    }

    /// The transforms used.
    pub(crate) fn transforms(&self) -> &Transforms {
        &self.transforms
    }

    /// Buffers for one thread.
    pub(crate) fn scratch(&self) -> Scratch {
        Scratch {
            product: vec![Complex::new(0.0, 0.0); self.transforms.bins()],
            cc: vec![0.0; self.transforms.len],
        }
    }

    /// Spectra of sequence `i`.
    pub(crate) fn of(&self, i: usize) -> &[Complex<f32>] {
        let w = self.channels * self.transforms.bins();
        &self.values[i * w..(i + 1) * w]
    }

    /// The largest normalised cross-correlation of a sequence (spectra `a`, norm `norm_a`)
    /// with sequence `j`, and the shift that gives it: the shift `s` moves sequence `j` by `s`
    /// steps later (negative: earlier) to align it with the first. 0 when either is all zeros.
    pub(crate) fn best_shift(
        &self,
        a: &[Complex<f32>],
        norm_a: f32,
        j: usize,
        scratch: &mut Scratch,
    ) -> (f32, isize) {
        let denom = norm_a * self.norms[j];
        if denom <= f32::EPSILON {
            return (0.0, 0);
        }
        let bins = self.transforms.bins();
        let b = self.of(j);
        let p = &mut scratch.product;
        p.iter_mut().for_each(|v| *v = Complex::new(0.0, 0.0));
        for ch in 0..self.channels {
            let (sa, sb) = (
                &a[ch * bins..(ch + 1) * bins],
                &b[ch * bins..(ch + 1) * bins],
            );
            for ((o, x), y) in p.iter_mut().zip(sa).zip(sb) {
                // conj(x) * y: the correlation sum_t a[t] b[t + s] at index s.
                *o += x.conj() * y;
            }
        }
        // A real signal's DC and Nyquist bins are real.
        p[0].im = 0.0;
        p[bins - 1].im = 0.0;
        let done = self.transforms.inverse.process(p, &mut scratch.cc);
        debug_assert!(done.is_ok());
        let len = self.transforms.len;
        let reach = self.max_len as isize - 1;
        let (mut best, mut shift) = (f32::NEG_INFINITY, 0isize);
        for s in -reach..=reach {
            let v = scratch.cc[s.rem_euclid(len as isize) as usize];
            if v > best {
                (best, shift) = (v, s);
            }
        }
        // The inverse transform is unnormalised: divide by its length. b[t + s] = a[t] means
        // sequence j runs s steps later, so it moves by -s to align.
        (best / (len as f32 * denom), -shift)
    }

    /// The shape-based distance `1 - NCC` between sequences `i` and `j`, in `[0, 2]`.
    pub(crate) fn distance(&self, i: usize, j: usize, scratch: &mut Scratch) -> f32 {
        (1.0 - self.best_shift(self.of(i), self.norms[i], j, scratch).0).max(0.0)
    }
}

/// The Euclidean norm of a slice.
pub(crate) fn norm(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// The sequence `row` (`steps x channels`, step-major) moved `shift` steps later (negative:
/// earlier) into `out` of the same size, zero-filled where nothing moved in.
pub(crate) fn shifted(row: &[f32], channels: usize, shift: isize, out: &mut [f32]) {
    let steps = (row.len() / channels.max(1)) as isize;
    out.iter_mut().for_each(|v| *v = 0.0);
    for t in 0..steps {
        let from = t - shift;
        if (0..steps).contains(&from) {
            let (o, f) = (t as usize * channels, from as usize * channels);
            out[o..o + channels].copy_from_slice(&row[f..f + channels]);
        }
    }
}

/// The shape-based distances between every pair of rows of `series`, as a dense `n x n`
/// matrix (row-major; for tests and small sets).
pub fn sbd_matrix(series: &Series) -> Vec<f32> {
    let spectra = Spectra::new(series);
    let n = series.len();
    let mut scratch = spectra.scratch();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = spectra.distance(i, j, &mut scratch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqae_data::SequenceSetBuilder;

    fn series(rows: &[&[f32]], channels: usize) -> Series {
        let mut b = SequenceSetBuilder::new(channels);
        for r in rows {
            b.push(r, None, None).unwrap();
        }
        Series::new(&b.finish().unwrap()).unwrap()
    }

    /// Direct cross-correlation: max over shifts of sum_t a[t] b[t + s], normalised.
    fn direct(a: &[f32], b: &[f32]) -> (f32, isize) {
        let n = a.len() as isize;
        let mut best = (f32::NEG_INFINITY, 0);
        for s in -(n - 1)..n {
            let v: f32 = (0..n)
                .filter(|t| (0..n).contains(&(t + s)))
                .map(|t| a[t as usize] * b[(t + s) as usize])
                .sum();
            if v > best.0 {
                best = (v, -s);
            }
        }
        (best.0 / (norm(a) * norm(b)), best.1)
    }

    #[test]
    fn matches_the_direct_correlation() {
        let a: Vec<f32> = (0..37).map(|t| ((t * t) as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..37)
            .map(|t| (t as f32 * 0.9).cos() + 0.1 * t as f32)
            .collect();
        let s = series(&[&a, &b], 1);
        let spectra = Spectra::new(&s);
        let mut scratch = spectra.scratch();
        let (v, shift) = spectra.best_shift(spectra.of(0), spectra.norms[0], 1, &mut scratch);
        let (dv, dshift) = direct(s.row(0), s.row(1));
        assert!((v - dv).abs() < 1e-5, "{v} vs {dv}");
        assert_eq!(shift, dshift);
    }

    #[test]
    fn a_shifted_copy_is_at_distance_zero_and_aligns_back() {
        // A wavelet (zero at both ends and of zero mean, so z-normalisation keeps its ends
        // at zero and a shift loses nothing).
        let bump = |at: usize| -> Vec<f32> {
            (0..64)
                .map(|t| {
                    let x = (t as f32 - at as f32) / 3.0;
                    x * (-x * x).exp()
                })
                .collect()
        };
        let s = series(&[&bump(20), &bump(31), &bump(45)], 1);
        let d = sbd_matrix(&s);
        assert!(d[1] < 1e-3 && d[2] < 0.01, "{:?}", &d[..3]);
        let spectra = Spectra::new(&s);
        let mut scratch = spectra.scratch();
        let (_, shift) = spectra.best_shift(spectra.of(0), spectra.norms[0], 1, &mut scratch);
        assert_eq!(shift, -11);
        let mut moved = vec![0.0; 64];
        shifted(s.row(1), 1, shift, &mut moved);
        let gap: f32 = moved.iter().zip(s.row(0)).map(|(a, b)| (a - b).abs()).sum();
        assert!(gap < 1e-3, "{gap}");
    }

    #[test]
    fn channels_share_one_shift() {
        // Two wavelet channels moved together by 5 steps: distance 0.
        let make = |at: usize| -> Vec<f32> {
            (0..40)
                .flat_map(|t| {
                    let x = (t as f32 - at as f32) / 2.0;
                    [x * (-x * x).exp(), (x * x - 1.0) * (-x * x / 2.0).exp()]
                })
                .collect()
        };
        let s = series(&[&make(15), &make(20)], 2);
        let d = sbd_matrix(&s);
        assert!(d[1] < 1e-3, "{d:?}");
        assert!((d[1] - d[2]).abs() < 1e-5, "symmetric: {d:?}");
    }
}
