//! The whole autoencoder (stacked, bidirectional encoder with variable lengths; teacher-forced
//! and unconditioned decoders) gives the same loss and gradients with the reference and the
//! fused kernels, on every CPU code path this machine has.
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use seqae_data::Batch;
use seqae_data::synthetic::{Family, Synthetic};
use seqae_model::batch::{DeviceBatch, Target};
use seqae_model::loss::masked_mse;
use seqae_model::tensor::to_vec;
use seqae_model::{
    AutoEncoder, Backend, Cell, DecoderInput, Isa, Kernel, ModelConfig, Patch, Pooling, RunOptions,
};

/// Every parameter's gradient, flattened, in module order.
struct Collect<'a> {
    grads: &'a GradientsParams,
    out: Vec<Vec<f32>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let g = self
            .grads
            .get::<D>(param.id)
            .expect("every parameter has a gradient");
        self.out.push(to_vec(g).unwrap());
    }
}

fn loss_and_grads(
    net: &AutoEncoder,
    config: &ModelConfig,
    (db, target): (&DeviceBatch, &Target),
    run: RunOptions,
) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(5);
    let (z, y) = net.forward(db, Some(target), config, run, Some(&mut rng));
    let loss = masked_mse(y, target);
    let mut out = vec![to_vec(z).unwrap(), to_vec(loss.clone()).unwrap()];
    let grads = GradientsParams::from_grads(loss.backward(), net);
    let mut c = Collect {
        grads: &grads,
        out: Vec::new(),
    };
    net.visit(&mut c);
    out.extend(c.out);
    out
}

#[test]
fn whole_model_agrees_across_kernels() {
    let set = Synthetic {
        n: 12,
        len: 15,
        min_len: Some(4),
        channels: 2,
        families: vec![Family::Sine, Family::Square],
        noise: 0.1,
        seed: 3,
    }
    .generate()
    .unwrap();
    let idx: Vec<usize> = (0..set.len()).collect();
    let batch = Batch::gather(&set, &idx);
    let paths: Vec<Isa> = Isa::ALL.into_iter().filter(|isa| isa.supported()).collect();
    for isa in Isa::ALL.iter().filter(|isa| !isa.supported()) {
        eprintln!("fused {isa} path not run: this CPU lacks it");
    }
    for backend in Backend::CPU {
        let device = backend.autodiff_device().unwrap();
        let (db, target) = DeviceBatch::with_target(&batch, true, &device);
        for cell in Cell::ALL {
            for (decoder_input, pooling) in [
                (DecoderInput::TeacherForcing { ratio: 1.0 }, Pooling::Last),
                (DecoderInput::Unconditioned, Pooling::Last),
                (DecoderInput::Latent, Pooling::Last),
                (DecoderInput::Unconditioned, Pooling::Mean),
                (DecoderInput::Unconditioned, Pooling::Max),
                (DecoderInput::Latent, Pooling::LastMean),
            ] {
                let config = ModelConfig {
                    cell,
                    hidden: 6,
                    latent: 3,
                    layers: 2,
                    bidirectional: true,
                    dropout: 0.0,
                    decoder_input,
                    reverse_target: true,
                    patch: Patch::Size(1),
                    pooling,
                };
                let net = AutoEncoder::init(&config, 2, &mut StdRng::seed_from_u64(9), &device);
                let reference = RunOptions::with_kernel(Kernel::Reference);
                let a = loss_and_grads(&net, &config, (&db, &target), reference);
                for &isa in &paths {
                    let fused = RunOptions {
                        kernel: Kernel::Fused,
                        isa,
                    };
                    let b = loss_and_grads(&net, &config, (&db, &target), fused);
                    assert_eq!(a.len(), b.len());
                    for (k, (u, v)) in a.iter().zip(&b).enumerate() {
                        for (p, q) in u.iter().zip(v) {
                            assert!(
                                (p - q).abs() <= 1e-5 * (1.0 + p.abs()),
                                "{backend} {cell} {decoder_input:?} {pooling}: {isa}: part {k}: reference {p} fused {q}"
                            );
                        }
                    }
                }
            }
        }
    }
}
