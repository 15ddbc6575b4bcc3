//! The `gpu` backend against the CPU, end to end: a fit on the GPU follows the same losses, its
//! embeddings equal the CPU's, and its model file embeds alike on either. Built only with the
//! `gpu` feature. A model too wide for the fused kernels' shared memory runs the reference
//! layers instead. The device's name says which shader language ran. Without a usable GPU (a
//! real one, or lavapipe on the CPU) each test fails saying what is missing, so none passes
//! without having run.
#![cfg(feature = "gpu")]
use seqae_data::{SequenceSet, SequenceSetBuilder};
use seqae_model::{
    Backend, Cell, Kernel, ModelConfig, Patch, Pooling, RunOptions, SeqAe, TrainConfig, Trainer,
};

/// Fails the test, naming what is missing, when there is no GPU.
fn require_gpu() {
    match Backend::Gpu.device_name() {
        Ok(name) => eprintln!("GPU: {name}"),
        Err(e) => panic!("not run: {e}"),
    }
}

/// Twenty sequences of two channels and lengths 5 to 11 (padded batches, masks).
fn ragged() -> SequenceSet {
    let mut b = SequenceSetBuilder::new(2);
    for i in 0..20 {
        let len = 5 + i % 7;
        let v: Vec<f32> = (0..len * 2)
            .map(|k| ((k + 3 * i) as f32 * 0.3).sin())
            .collect();
        b.push(&v, None, None).unwrap();
    }
    b.finish().unwrap()
}

fn model(cell: Cell) -> ModelConfig {
    ModelConfig {
        cell,
        hidden: 12,
        latent: 4,
        layers: 2,
        bidirectional: true,
        patch: Patch::Size(1),
        pooling: Pooling::Mean,
        ..ModelConfig::default()
    }
}

fn train() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        min_updates: None,
        batch_size: 8,
        ..TrainConfig::default()
    }
}

fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tol * (1.0 + x.abs()),
            "{what}: {x} against {y}"
        );
    }
}

/// The device's name ends with its graphics API and the language its kernels are compiled
/// to: WGSL in the `gpu` build; SPIR-V in the `vulkan` build on a Vulkan device that has the
/// features cubecl's compiler needs (WGSL on one that lacks them).
#[test]
fn the_gpus_name_says_its_graphics_api_and_shader_language() {
    require_gpu();
    let name = Backend::Gpu.device_name().unwrap();
    let api_and_language = name.rsplit_once(" (").map(|(_, tail)| tail);
    let Some((api, language)) =
        api_and_language.and_then(|t| t.strip_suffix(')')?.split_once(", "))
    else {
        panic!("{name:?} does not end with \"(API, language)\"");
    };
    assert!(!api.is_empty(), "{name:?}");
    let expected: &[&str] = if cfg!(feature = "vulkan") && api == "Vulkan" {
        &["SPIR-V", "WGSL"]
    } else {
        &["WGSL"]
    };
    assert!(
        expected.contains(&language),
        "{name:?}: {language} is not one of {expected:?}"
    );
}

#[test]
fn a_fit_on_the_gpu_matches_the_cpu_and_its_file_runs_on_either() {
    require_gpu();
    let set = ragged();
    for cell in Cell::ALL {
        let fit = |backend| {
            Trainer::new(model(cell), train())
                .backend(backend)
                .fit(&set)
                .unwrap()
                .model
        };
        let (cpu, gpu) = (fit(Backend::Flex), fit(Backend::Gpu));
        // The same updates: the losses agree to rounding.
        for (a, b) in cpu
            .history()
            .train_loss
            .iter()
            .zip(&gpu.history().train_loss)
        {
            assert!(
                (a - b).abs() <= 1e-3 * a.abs(),
                "{cell}: loss {a} against {b}"
            );
        }
        // The GPU-trained model embeds alike on the GPU and, moved, on the CPU.
        let on_gpu = gpu.embed(&set).unwrap();
        let dir = tempfile::tempdir().unwrap();
        gpu.save(dir.path()).unwrap();
        let loaded = SeqAe::load(dir.path(), Backend::Flex).unwrap();
        let on_cpu = loaded.embed(&set).unwrap();
        assert_close(on_cpu.as_slice(), on_gpu.as_slice(), 1e-4, "embeddings");
        // And a CPU-trained model on the GPU.
        let cpu_embed = cpu.embed(&set).unwrap();
        let moved = cpu.with_backend(Backend::Gpu).unwrap();
        assert_eq!(moved.backend(), Backend::Gpu);
        assert_close(
            cpu_embed.as_slice(),
            moved.embed(&set).unwrap().as_slice(),
            1e-4,
            "embeddings of a CPU model",
        );
        let rec = moved.reconstruct(&set).unwrap();
        assert_eq!(rec.len(), set.len());
    }
}

#[test]
fn a_model_too_wide_for_the_gpus_shared_memory_runs_the_reference_layers() {
    require_gpu();
    use seqae_model::fused::gpu::kernels::{LSTM, shared_bytes};
    let device = Backend::Gpu.device().unwrap();
    let limit = seqae_model::gpu_shared_memory(&device).expect("the GPU device's shared memory");
    // The widest LSTM whose cube state fits, and one hidden unit more.
    let widest = (1..)
        .take_while(|&h| shared_bytes(LSTM, h) <= limit)
        .last()
        .unwrap_or(1);
    eprintln!("shared memory {limit} bytes: the fused LSTM fits {widest} hidden units");
    let set = {
        let mut b = SequenceSetBuilder::new(2);
        for i in 0..4 {
            let v: Vec<f32> = (0..6).map(|k| ((k + i) as f32 * 0.7).cos()).collect();
            b.push(&v, None, None).unwrap();
        }
        b.finish().unwrap()
    };
    for (hidden, fused) in [(widest, true), (widest + 1, false)] {
        let config = ModelConfig {
            cell: Cell::Lstm,
            hidden,
            latent: 3,
            layers: 1,
            bidirectional: false,
            patch: Patch::Size(1),
            pooling: Pooling::Last,
            ..ModelConfig::default()
        };
        let fit = |backend| {
            let train = TrainConfig {
                epochs: 1,
                batch_size: 4,
                ..train()
            };
            Trainer::new(config.clone(), train)
                .backend(backend)
                .fit(&set)
                .unwrap()
                .model
        };
        let (cpu, gpu) = (fit(Backend::Flex), fit(Backend::Gpu));
        assert_eq!(
            gpu.runs_fused(),
            fused,
            "hidden {hidden}: the fused kernel runs"
        );
        let (a, b) = (cpu.history().train_loss[0], gpu.history().train_loss[0]);
        assert!(
            (a - b).abs() <= 1e-3 * a.abs(),
            "hidden {hidden}: loss {a} against {b}"
        );
        let z = gpu.embed(&set).unwrap();
        assert_close(
            cpu.embed(&set).unwrap().as_slice(),
            z.as_slice(),
            1e-4,
            "embeddings",
        );
        // Which layers ran: the reference layers, asked for, give the same bits only where
        // they ran anyway (the fused kernel sums in another order).
        let reference = gpu
            .with_run_options(RunOptions::with_kernel(Kernel::Reference))
            .embed(&set)
            .unwrap();
        assert_eq!(
            z.as_slice() == reference.as_slice(),
            !fused,
            "hidden {hidden}: the embeddings equal the reference layers' bit for bit"
        );
    }
}
