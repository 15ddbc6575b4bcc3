//! Training objectives beside reconstruction: the contrastive term of [`Objective::Contrastive`]
//! (two augmented views of each sequence, their latent vectors pulled together and those of
//! other sequences pushed apart: the NT-Xent loss of SimCLR, Chen et al., ICML 2020).
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};
use rand::Rng;
use rand::rngs::StdRng;
use seqae_data::{SequenceSet, SequenceSetBuilder};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::tensor::tensor;

/// What training minimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// The reconstruction error alone: the plain sequence autoencoder.
    #[default]
    Reconstruction,
    /// The reconstruction error plus a contrastive term on two augmented views (random crop,
    /// scaling, jitter) of each sequence, which makes the latent vectors invariant to time
    /// shifts and amplitude (see [`Contrast`]).
    Contrastive,
}

seqae_data::named_enum!(Objective, "objective", {
    Reconstruction => "reconstruction" | "ae",
    Contrastive => "contrastive",
});

/// The settings of the contrastive term.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contrast {
    /// Weight of the contrastive term beside the reconstruction error.
    pub weight: f64,
    /// Temperature of the similarities (cosine similarity divided by this).
    pub temperature: f64,
    /// A view keeps a random contiguous part of at least this fraction of the sequence.
    pub min_crop: f64,
    /// A view's values are multiplied by a factor drawn log-uniformly from
    /// `[1 / scale, scale]` (one per sequence).
    pub scale: f64,
    /// Standard deviation of the noise added to a view (normalised units).
    pub jitter: f64,
}

impl Default for Contrast {
    fn default() -> Self {
        Contrast {
            weight: 1.0,
            temperature: 0.5,
            min_crop: 0.7,
            scale: 1.25,
            jitter: 0.05,
        }
    }
}

impl Contrast {
    /// Checks every value.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err(format!("contrast weight must be >= 0, not {}", self.weight));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "contrast temperature must be > 0, not {}",
                self.temperature
            ));
        }
        if !(self.min_crop > 0.0 && self.min_crop <= 1.0) {
            return Err(format!(
                "minimum crop must be in (0, 1], not {}",
                self.min_crop
            ));
        }
        if !(self.scale.is_finite() && self.scale >= 1.0) {
            return Err(format!("scale must be >= 1, not {}", self.scale));
        }
        if !(self.jitter.is_finite() && self.jitter >= 0.0) {
            return Err(format!("jitter must be >= 0, not {}", self.jitter));
        }
        Ok(())
    }

    /// One augmented view of each sequence `indices` of `set` (normalised values): a random
    /// contiguous crop, one random scale factor, Gaussian-like jitter; missing values stay
    /// missing.
    pub fn view(
        &self,
        set: &SequenceSet,
        indices: &[usize],
        rng: &mut StdRng,
    ) -> Result<SequenceSet> {
        let c = set.channels();
        let mut b = SequenceSetBuilder::new(c);
        let log_scale = self.scale.ln();
        for &i in indices {
            let seq = set.sequence(i);
            let len = set.length(i);
            let keep = ((len as f64 * rng.random_range(self.min_crop..=1.0)).round() as usize)
                .clamp(len.min(2), len);
            let start = rng.random_range(0..=len - keep);
            let factor = if log_scale > 0.0 {
                rng.random_range(-log_scale..=log_scale).exp() as f32
            } else {
                1.0
            };
            let mut v = seq[start * c..(start + keep) * c].to_vec();
            for x in v.iter_mut() {
                // The sum of three uniforms: mean 0, variance 1 (close to Gaussian, cheap).
                let noise: f32 = (0..3).map(|_| rng.random_range(-1.0f32..1.0)).sum::<f32>();
                *x = *x * factor + self.jitter as f32 * noise;
            }
            b.push(&v, None, None)?;
        }
        Ok(b.finish()?)
    }
}

/// The NT-Xent loss of two views' latent vectors `z1`, `z2` (`[B, d]`, row `i` of both from
/// sequence `i`): for each of the `2B` vectors, the cross-entropy of picking its partner among
/// the other `2B - 1` by cosine similarity over `temperature`. Returns a one-element tensor.
pub fn nt_xent(z1: Tensor<2>, z2: Tensor<2>, temperature: f64, device: &Device) -> Tensor<1> {
    let [b, d] = z1.dims();
    let n = 2 * b;
    let z = Tensor::cat(vec![z1, z2], 0);
    let norm = z.clone().square().sum_dim(1).add_scalar(1e-12).sqrt();
    let z = z / norm.repeat_dim(1, d);
    let sim = z.clone().matmul(z.transpose()).div_scalar(temperature);
    // A vector is not its own partner: its similarity to itself is pushed to -inf.
    let mut own = vec![0.0f32; n * n];
    let mut partner = vec![0.0f32; n * n];
    for i in 0..n {
        own[i * n + i] = 1.0;
        partner[i * n + (i + b) % n] = 1.0;
    }
    let logits = sim - tensor(own, [n, n], device).mul_scalar(1e9);
    let log_p = log_softmax(logits, 1);
    (log_p * tensor(partner, [n, n], device))
        .sum()
        .div_scalar(-(n as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::tensor::to_vec;
    use rand::SeedableRng;

    #[test]
    fn nt_xent_is_low_for_matching_views_and_high_for_swapped_ones() {
        let dev = Backend::Flex.device().expect("flex is built in");
        let a = tensor(vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.0], [3, 2], &dev);
        let same = to_vec(nt_xent(a.clone(), a.clone(), 0.5, &dev)).unwrap()[0];
        let b = tensor(vec![0.0, 1.0, -1.0, 0.0, 1.0, 0.0], [3, 2], &dev);
        let other = to_vec(nt_xent(a, b, 0.5, &dev)).unwrap()[0];
        // log(2B - 1) = log 5 is the loss of a uniform guess.
        assert!(same < 5f32.ln() && other > 5f32.ln(), "{same} {other}");
    }

    #[test]
    fn views_crop_scale_and_keep_lengths_in_range() {
        let mut b = SequenceSetBuilder::new(2);
        let v: Vec<f32> = (0..40).map(|x| x as f32).collect();
        b.push(&v, None, None).unwrap();
        let set = b.finish().unwrap();
        let c = Contrast::default();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..20 {
            let view = c.view(&set, &[0], &mut rng).unwrap();
            let len = view.length(0);
            assert!((14..=20).contains(&len), "{len}");
        }
        assert!(c.validate().is_ok());
        assert!(Contrast { min_crop: 0.0, ..c }.validate().is_err());
    }
}
