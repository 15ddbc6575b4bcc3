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

/// Bytes that inference on a batch of `rows` sequences of up to `max_len` steps takes at
/// most (an upper bound): per recurrent step and row, the input patch three times (data,
/// normalised copy, layout) and every layer's gate pre-activations and states, both
/// directions, encoder and decoder.
pub fn inference_bytes(model: &ModelConfig, channels: usize, rows: usize, max_len: usize) -> f64 {
    let gates = match model.cell {
        Cell::Rnn => 1.0,
        Cell::Gru => 3.0,
        Cell::Lstm => 4.0,
    };
    let patch = model.patch_size().max(1);
    let steps = max_len.div_ceil(patch) as f64;
    let dirs = if model.bidirectional { 2.0 } else { 1.0 };
    let per_step = 3.0 * (patch * channels.max(1)) as f64
        + 2.0 * model.layers as f64 * dirs * model.hidden as f64 * (gates + 2.0);
    rows as f64 * steps * per_step * 4.0
}

/// Refuses an inference batch whose [`inference_bytes`] exceed the memory available now
/// (the smaller of `MemAvailable` and what the address-space limit, `ulimit -v`, leaves).
pub fn check_inference_fits(
    model: &ModelConfig,
    channels: usize,
    rows: usize,
    max_len: usize,
) -> Result<()> {
    let need = inference_bytes(model, channels, rows, max_len);
    let Some(available) = available_memory() else {
        return Ok(());
    };
    if need > available as f64 {
        return Err(ModelError::Memory(format!(
            "a sequence of {max_len} steps needs up to {:.1} GiB at once to run through the model (patch {}), but {:.1} GiB of memory is available; split long sequences into shorter ones",
            need / f64::from(1 << 30),
            model.patch_size(),
            available as f64 / f64::from(1 << 30)
        )));
    }
    Ok(())
}

/// Memory available to new allocations: `MemAvailable` of /proc/meminfo, or less where the
/// address-space limit (`ulimit -v`) leaves less beside what the process maps already.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    let free = kib * 1024;
    Some(address_space_left().map_or(free, |left| left.min(free)))
}

/// What the address-space limit leaves: the limit less the process's virtual size
/// (`VmSize` of /proc/self/status); `None` without a limit.
fn address_space_left() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft = line.split_whitespace().nth(3)?;
    let limit: u64 = soft.parse().ok()?; // "unlimited" does not parse: no limit
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let vm = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let used: u64 = vm.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024;
    Some(limit.saturating_sub(used))
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

    #[test]
    fn inference_memory_grows_with_length_and_a_huge_sequence_is_refused() {
        let m = ModelConfig::default().resolved(1);
        let small = inference_bytes(&m, 1, 256, 128);
        assert!(small < 1e9, "{small}");
        assert_eq!(
            inference_bytes(&m, 1, 1, 2000),
            2.0 * inference_bytes(&m, 1, 1, 1000)
        );
        if available_memory().is_some() {
            let e = check_inference_fits(&m, 1, 1, 1 << 40)
                .unwrap_err()
                .to_string();
            assert!(e.contains("split long sequences"), "{e}");
            check_inference_fits(&m, 1, 256, 128).unwrap();
        }
    }
}
