//! Labelled synthetic sequences for tests, examples and benchmarks.
//!
//! The sine family is the data of the PyTorch benchmark model (`torch_seq_ae.py` in the
//! project's shared bench folder): on the grid `t = linspace(0, 8π, len)`, each channel is
//! `sin(f t + φ) + noise · N(0, 1)` with `φ ~ U(0, 6.28)` and `f ~ 0.5 + U(0, 1)`.
use crate::error::{DataError, Result};
use crate::sequence::{SequenceSet, SequenceSetBuilder};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use std::f32::consts::PI;

/// A family of synthetic sequences; its name is the label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `sin(f t + φ)`.
    Sine,
    /// `sign(sin(f t + φ))`.
    Square,
    /// A sawtooth rising from -1 to 1 once per period `2π / f`.
    Sawtooth,
    /// A Gaussian random walk from 0 with step standard deviation 0.2.
    RandomWalk,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 4] = [
        Family::Sine,
        Family::Square,
        Family::Sawtooth,
        Family::RandomWalk,
    ];

    /// The label of the family.
    pub fn name(self) -> &'static str {
        match self {
            Family::Sine => "sine",
            Family::Square => "square",
            Family::Sawtooth => "sawtooth",
            Family::RandomWalk => "random-walk",
        }
    }
}

/// What to generate. Sequence `i` belongs to family `families[i % families.len()]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Synthetic {
    /// Number of sequences.
    pub n: usize,
    /// Length of every sequence, or the longest when `min_len` is set.
    pub len: usize,
    /// With `Some(m)`, each length is drawn uniformly from `m..=len`.
    pub min_len: Option<usize>,
    /// Channels per step; each channel draws its own phase and frequency.
    pub channels: usize,
    /// Families, assigned in turn.
    pub families: Vec<Family>,
    /// Standard deviation of the added Gaussian noise.
    pub noise: f32,
    /// Seed of every random draw.
    pub seed: u64,
}

impl Default for Synthetic {
    fn default() -> Self {
        Synthetic {
            n: 256,
            len: 64,
            min_len: None,
            channels: 1,
            families: vec![Family::Sine, Family::Square],
            noise: 0.1,
            seed: 0,
        }
    }
}

impl Synthetic {
    /// The benchmark data of `torch_seq_ae.py`: `n` sine sequences, `len` steps, `dim` channels.
    pub fn bench_sines(n: usize, len: usize, dim: usize, seed: u64) -> Synthetic {
        Synthetic {
            n,
            len,
            min_len: None,
            channels: dim,
            families: vec![Family::Sine],
            noise: 0.1,
            seed,
        }
    }

    /// Generates the sequences, labelled with their family names.
    pub fn generate(&self) -> Result<SequenceSet> {
        if self.n == 0 || self.len == 0 || self.channels == 0 || self.families.is_empty() {
            return Err(DataError::Invalid(
                "synthetic data needs n, len and channels of at least 1 and one family".into(),
            ));
        }
        if let Some(m) = self.min_len
            && (m == 0 || m > self.len)
        {
            return Err(DataError::Invalid(format!(
                "min_len {m} must be in 1..={}",
                self.len
            )));
        }
        if !self.noise.is_finite() || self.noise < 0.0 {
            return Err(DataError::Invalid(
                "noise must be a finite value >= 0".into(),
            ));
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let step = if self.len > 1 {
            8.0 * PI / (self.len - 1) as f32
        } else {
            0.0
        };
        let c = self.channels;
        let mut b = SequenceSetBuilder::new(c)
            .with_class_names(self.families.iter().map(|f| f.name().to_string()).collect());
        for i in 0..self.n {
            let family = self.families[i % self.families.len()];
            let len = match self.min_len {
                Some(m) => rng.random_range(m..=self.len),
                None => self.len,
            };
            // 6.28, not TAU: the constant of the PyTorch benchmark's generator
            #[allow(clippy::approx_constant)]
            let phase: Vec<f32> = (0..c).map(|_| rng.random::<f32>() * 6.28).collect();
            let freq: Vec<f32> = (0..c).map(|_| 0.5 + rng.random::<f32>()).collect();
            let mut walk = vec![0f32; c];
            let mut values = Vec::with_capacity(len * c);
            for t in 0..len {
                let x = t as f32 * step;
                for k in 0..c {
                    let angle = freq[k] * x + phase[k];
                    let clean = match family {
                        Family::Sine => angle.sin(),
                        Family::Square => angle.sin().signum(),
                        Family::Sawtooth => 2.0 * (angle / (2.0 * PI)).fract() - 1.0,
                        Family::RandomWalk => {
                            if t > 0 {
                                let z: f32 = StandardNormal.sample(&mut rng);
                                walk[k] += 0.2 * z;
                            }
                            walk[k]
                        }
                    };
                    let z: f32 = StandardNormal.sample(&mut rng);
                    values.push(clean + self.noise * z);
                }
            }
            b.push(&values, Some(family.name().to_string()), None)?;
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_labelled_families() {
        let cfg = Synthetic {
            n: 40,
            len: 50,
            min_len: Some(10),
            channels: 3,
            families: Family::ALL.to_vec(),
            noise: 0.0,
            seed: 7,
        };
        let set = cfg.generate().unwrap();
        assert_eq!(set.len(), 40);
        assert_eq!(set.channels(), 3);
        assert_eq!(set.class_names().len(), 4);
        assert!(set.lengths().iter().all(|&l| (10..=50).contains(&l)));
        assert!(set.lengths().iter().any(|&l| l != 50));
        // noise-free families stay in their ranges
        for i in 0..40 {
            let s = set.sequence(i);
            match set.labels().unwrap()[i].as_str() {
                "sine" | "sawtooth" => assert!(s.iter().all(|v| v.abs() <= 1.0 + 1e-6)),
                "square" => assert!(s.iter().all(|v| v.abs() == 1.0)),
                _ => assert_eq!(&s[..3], &[0.0, 0.0, 0.0]),
            }
        }
        assert_eq!(set, cfg.generate().unwrap());
        assert_ne!(
            set,
            Synthetic {
                seed: 8,
                ..cfg.clone()
            }
            .generate()
            .unwrap()
        );
    }

    #[test]
    fn bench_sines_match_the_torch_generator() {
        let set = Synthetic::bench_sines(64, 128, 3, 0).generate().unwrap();
        assert_eq!((set.len(), set.max_len(), set.channels()), (64, 128, 3));
        // sin + 0.1 N(0,1): mean about 0, variance about 0.5 + 0.01
        let v = set.values();
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 0.05, "{mean}");
        assert!((var - 0.51).abs() < 0.05, "{var}");
        assert!(
            Synthetic {
                n: 0,
                ..Default::default()
            }
            .generate()
            .is_err()
        );
    }
}
