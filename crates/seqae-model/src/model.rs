//! [`SeqAe`]: a fitted model and its scikit-learn-like API (embed, reconstruct, score).
use burn::module::Module;
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use seqae_data::{Matrix, Normalizer, SequenceSet, SequenceSetBuilder};

use crate::autoencoder::AutoEncoder;
use crate::backend::Backend;
use crate::batch::{DeviceBatch, source_step};
use crate::config::{DecoderInput, ModelConfig, Patch};
use crate::decoder::Feed;
use crate::error::{ModelError, Result};
use crate::fused::RunOptions;
use crate::history::History;
use crate::loss::per_sequence_sse;
use crate::params::Hyperparameters;
use crate::tensor::{tensor, to_vec};

/// Sequences per inference batch.
pub const INFERENCE_BATCH: usize = 256;

/// A sequence autoencoder with its normalisation, ready for inference (no autodiff).
#[derive(Debug)]
pub struct SeqAe {
    pub(crate) config: ModelConfig,
    pub(crate) channels: usize,
    pub(crate) normalizer: Normalizer,
    pub(crate) backend: Backend,
    /// How the layers run (kernel and CPU path).
    pub(crate) run: RunOptions,
    pub(crate) net: AutoEncoder,
    pub(crate) history: History,
    pub(crate) hyperparameters: Option<Hyperparameters>,
}

impl SeqAe {
    /// An untrained model with random weights drawn from `seed` (for tests and tools; use
    /// [`SeqAe::fit`] to train one).
    pub fn new(
        config: &ModelConfig,
        channels: usize,
        normalizer: Normalizer,
        backend: Backend,
        seed: u64,
    ) -> Result<SeqAe> {
        config.validate()?;
        if config.patch == Patch::Auto {
            return Err(ModelError::config(
                "patch auto is chosen from the data when fitting; give a patch size",
            ));
        }
        if channels == 0 {
            return Err(ModelError::config(
                "the data must have at least one channel",
            ));
        }
        if normalizer.channels != channels {
            return Err(ModelError::Channels {
                expected: channels,
                found: normalizer.channels,
            });
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let net = AutoEncoder::init(config, channels, &mut rng, &backend.device()?);
        Ok(SeqAe {
            config: config.clone(),
            channels,
            normalizer,
            backend,
            run: RunOptions::default(),
            net,
            history: History::default(),
            hyperparameters: None,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Channels of the data the model was trained on.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Size of the embeddings.
    pub fn latent_dim(&self) -> usize {
        self.config.latent
    }

    /// The normalisation applied to data before the network.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// The backend that runs inference.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The same model on another backend (an error if that backend cannot run here).
    pub fn with_backend(self, backend: Backend) -> Result<SeqAe> {
        let net = self.net.to_device(&backend.device()?);
        Ok(SeqAe {
            backend,
            net,
            ..self
        })
    }

    /// How the recurrent layers run (kernel and CPU path).
    pub fn run_options(&self) -> RunOptions {
        self.run
    }

    /// Whether the encoder's layers (and the decoder's, where its inputs are known before it
    /// runs) run the fused kernel on this model's device: chosen by the run options and, on
    /// the GPU, held by a workgroup's shared memory; else the reference layers run
    /// ([`RunOptions::fused_for`]).
    pub fn runs_fused(&self) -> bool {
        self.run.fused_for(&self.net.encoder.layers[0].fwd)
    }

    /// The same model with other run options (the results agree to rounding).
    pub fn with_run_options(self, run: RunOptions) -> SeqAe {
        SeqAe { run, ..self }
    }

    /// How the model was fitted (empty for an untrained model).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The settings the model was fitted with, as the user gave them (`None` for a model
    /// not fitted through [`Hyperparameters`], or written before they were stored).
    pub fn hyperparameters(&self) -> Option<&Hyperparameters> {
        self.hyperparameters.as_ref()
    }

    /// The network's weights.
    pub fn network(&self) -> &AutoEncoder {
        &self.net
    }

    /// Number of trainable values.
    pub fn num_params(&self) -> usize {
        self.net.num_params()
    }

    fn device(&self) -> Result<Device> {
        self.backend.device()
    }

    /// Fails with a message that names both channel counts when `set` does not match.
    pub fn check(&self, set: &SequenceSet) -> Result<()> {
        if set.channels() != self.channels {
            return Err(ModelError::Channels {
                expected: self.channels,
                found: set.channels(),
            });
        }
        Ok(())
    }

    /// Embeddings of every sequence: an `n x latent_dim()` matrix. Fails on an empty set and
    /// on a non-finite embedding (a broken model), rather than returning one.
    pub fn embed(&self, set: &SequenceSet) -> Result<Matrix> {
        self.check(set)?;
        let (norm, _) = self.normalizer.transform(set)?;
        let k = self.latent_dim();
        let mut out = vec![0.0; set.len() * k];
        for_batches(&norm, &self.config, &self.device()?, |db, idx| {
            let z = to_vec(self.net.encode(db, self.run))?;
            for (row, &i) in idx.iter().enumerate() {
                out[i * k..(i + 1) * k].copy_from_slice(&z[row * k..(row + 1) * k]);
            }
            Ok(())
        })?;
        if let Some(at) = out.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                what: "embedding",
                index: at / k.max(1),
            });
        }
        Ok(Matrix::new(out, set.len(), k)?)
    }

    /// Reconstructions of every sequence in the original units (normalisation undone), with
    /// the labels and ids of `set`. Missing values are reconstructed too.
    pub fn reconstruct(&self, set: &SequenceSet) -> Result<SequenceSet> {
        self.check(set)?;
        let (norm, scales) = self.normalizer.transform(set)?;
        let mut out = set.clone();
        let (c, p) = (self.channels, self.config.patch_size());
        for_batches(&norm, &self.config, &self.device()?, |db, idx| {
            let (_, y) = self.net.forward(db, None, &self.config, self.run, None);
            let y = to_vec(y)?;
            for (row, &i) in idx.iter().enumerate() {
                let (len, full) = (db.lengths[row], set.length(i));
                let seq = out.sequence_mut(i);
                for t in 0..len {
                    // Output step t rebuilds patch s: time steps s*p .. (s+1)*p of the input.
                    let s = source_step(t, len, db.reverse);
                    let (start, end) = (s * p * c, ((s + 1) * p).min(full) * c);
                    let at = (row * db.steps + t) * db.channels;
                    seq[start..end].copy_from_slice(&y[at..at + end - start]);
                }
                scales.invert(i, seq);
                if seq.iter().any(|v| !v.is_finite()) {
                    return Err(ModelError::NonFinite {
                        what: "reconstruction",
                        index: i,
                    });
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The sequences of `length` steps that the decoder writes from latent vectors `z`
    /// (`n x latent`, as [`embed`](Self::embed) gives them): cluster centres as sequences,
    /// say. In the original units for `global` and `minmax` normalisation; for `zscore`
    /// (whose shift and scale belong to each input sequence) and `none`, in normalised units.
    pub fn decode(&self, z: &Matrix, length: usize) -> Result<SequenceSet> {
        if z.cols() != self.latent_dim() {
            return Err(ModelError::config(format!(
                "the latent vectors have {} values, but the model's have {}",
                z.cols(),
                self.latent_dim()
            )));
        }
        if length == 0 {
            return Err(ModelError::config(
                "a decoded sequence needs at least one step",
            ));
        }
        let (c, p) = (self.channels, self.config.patch_size());
        let steps = length.div_ceil(p);
        let feed = match self.config.decoder_input {
            DecoderInput::Unconditioned => Feed::Zeros,
            DecoderInput::Latent => Feed::Latent,
            DecoderInput::TeacherForcing { .. } | DecoderInput::FreeRunning => Feed::Free,
        };
        let device = self.device()?;
        let mut builder = SequenceSetBuilder::new(c);
        let mut seq = vec![0.0f32; length * c];
        for first in (0..z.rows()).step_by(INFERENCE_BATCH) {
            let rows: Vec<usize> = (first..z.rows().min(first + INFERENCE_BATCH)).collect();
            crate::memory::check_inference_fits(&self.config, c, rows.len(), length)?;
            let values = z.select_rows(&rows).into_vec();
            let zt = tensor(values, [rows.len(), z.cols()], &device);
            let y = to_vec(
                self.net
                    .decoder
                    .forward_stacked(zt, steps, feed, self.run, None),
            )?;
            for (row, &i) in rows.iter().enumerate() {
                for t in 0..steps {
                    let s = source_step(t, steps, self.config.reverse_target);
                    let (start, end) = (s * p * c, ((s + 1) * p).min(length) * c);
                    let at = (row * steps + t) * p * c;
                    seq[start..end].copy_from_slice(&y[at..at + end - start]);
                }
                self.normalizer.invert_stored(&mut seq);
                if seq.iter().any(|v| !v.is_finite()) {
                    return Err(ModelError::NonFinite {
                        what: "decoded sequence",
                        index: i,
                    });
                }
                builder.push(&seq, None, None)?;
            }
        }
        Ok(builder.finish()?)
    }

    /// Per-sequence reconstruction error (the anomaly score): the mean squared error over the
    /// observed values, in normalised units. NaN for a sequence with no observed value.
    pub fn reconstruction_error(&self, set: &SequenceSet) -> Result<Vec<f32>> {
        self.check(set)?;
        let (norm, _) = self.normalizer.transform(set)?;
        let (sse, counts) = errors(&self.net, &norm, &self.config, self.run, &self.device()?)?;
        Ok(sse
            .iter()
            .zip(&counts)
            .map(|(&s, &n)| if n > 0.0 { (s / n) as f32 } else { f32::NAN })
            .collect())
    }
}

/// Per-sequence sums of squared errors and observed counts of a normalised set, at inference.
pub(crate) fn errors(
    net: &AutoEncoder,
    norm: &SequenceSet,
    config: &ModelConfig,
    run: RunOptions,
    device: &Device,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut sse = vec![0.0; norm.len()];
    let mut counts = vec![0.0; norm.len()];
    for idx in inference_order(norm).chunks(INFERENCE_BATCH) {
        check_batch(norm, config, idx)?;
        let (db, target) = DeviceBatch::for_model_with_target(norm, idx, config, device);
        let (_, y) = net.forward(&db, Some(&target), config, run, None);
        let s = to_vec(per_sequence_sse(y, &target))?;
        let per_row = db.steps * db.channels;
        for (row, &i) in idx.iter().enumerate() {
            sse[i] = s[row] as f64;
            counts[i] = target.observed_in_row(row, per_row);
        }
    }
    Ok((sse, counts))
}

/// Runs `f` over inference batches of `set` (sorted by length, so little padding), laid out
/// for the model `config` describes, giving the batch and the set indices of its rows.
pub(crate) fn for_batches(
    set: &SequenceSet,
    config: &ModelConfig,
    device: &Device,
    mut f: impl FnMut(&DeviceBatch, &[usize]) -> Result<()>,
) -> Result<()> {
    for idx in inference_order(set).chunks(INFERENCE_BATCH) {
        check_batch(set, config, idx)?;
        f(&DeviceBatch::for_model(set, idx, config, device), idx)?;
    }
    Ok(())
}

/// Refuses a batch (set indices `idx`) that would not fit in memory, before it is laid out.
fn check_batch(set: &SequenceSet, config: &ModelConfig, idx: &[usize]) -> Result<()> {
    let longest = idx.iter().map(|&i| set.length(i)).max().unwrap_or(0);
    crate::memory::check_inference_fits(config, set.channels(), idx.len(), longest)
}

/// The order inference batches take the sequences in: by length, so that a batch holds
/// sequences of similar length and little padding.
fn inference_order(set: &SequenceSet) -> Vec<usize> {
    let mut order: Vec<usize> = (0..set.len()).collect();
    order.sort_by_key(|&i| set.length(i));
    order
}
