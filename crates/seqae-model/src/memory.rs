//! Whether a model fits: an upper-bound estimate of its training memory, checked against the
//! memory available before anything is allocated (an allocation that fails aborts the process,
//! taking a Python interpreter with it).
use crate::config::{Cell, ModelConfig};
use crate::error::{ModelError, Result};

/// Bytes that the weights, gradients and Adam's two moments of `model` take at most, for data
/// of `channels` channels: every layer's gates over input, state and bias, both directions,
/// encoder and decoder, with input patches of up to 64 steps.
pub fn training_bytes(model: &ModelConfig, channels: usize) -> f64 {
    let gates = match model.cell {
        Cell::Rnn => 1.0,
        Cell::Gru => 3.0,
        Cell::Lstm => 4.0,
    };
    let (h, layers) = (model.hidden as f64, model.layers as f64);
    let dirs = if model.bidirectional { 2.0 } else { 1.0 };
    let input = (channels.max(1) * 64) as f64;
    let recurrent = gates * h * (input + dirs * h + h + 2.0) * layers;
    let params = recurrent * (dirs + 1.0) + (dirs * 2.0 * h + h) * model.latent as f64 * 2.0;
    params * 4.0 * 4.0
}

/// Refuses a model whose [`training_bytes`] exceed the memory available now (`MemAvailable`;
/// no check where that is unknown).
pub fn check_fits(model: &ModelConfig, channels: usize) -> Result<()> {
    let need = training_bytes(model, channels);
    let Some(available) = available_memory() else {
        return Ok(());
    };
    if need > available as f64 {
        return Err(ModelError::Config(format!(
            "--hidden {} --layers {} --latent {}: up to {:.1} GiB for weights, gradients and optimiser state, but {:.1} GiB of memory is available; choose a smaller model",
            model.hidden,
            model.layers,
            model.latent,
            need / f64::from(1 << 30),
            available as f64 / f64::from(1 << 30)
        )));
    }
    Ok(())
}

/// Memory available to new allocations (`MemAvailable` of /proc/meminfo), where known.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_model_is_refused_and_the_default_fits() {
        let huge = ModelConfig {
            hidden: 1 << 20,
            ..ModelConfig::default()
        };
        assert!(training_bytes(&huge, 1) > 1e13);
        if available_memory().is_some() {
            let e = check_fits(&huge, 1).unwrap_err().to_string();
            assert!(e.contains("GiB of memory is available"), "{e}");
        }
        check_fits(&ModelConfig::default(), 3).unwrap();
    }
}
