//! The fused layer against the reference one: outputs, final states and every gradient.
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::backend::Backend;
use crate::layer::run_direction;
use crate::tensor::{tensor, to_vec, uniform};
use seqae_simd::Isa;

/// `(steps, batch, input, hidden)`; batch 20 splits into two row blocks with two workers;
/// hidden 17 and 33 fill several blocks of the fused product and leave one partly padded.
const SIZES: [(usize, usize, usize, usize); 5] = [
    (1, 1, 1, 1),
    (5, 3, 2, 4),
    (9, 20, 3, 6),
    (4, 9, 2, 17),
    (3, 17, 4, 33),
];

struct Case {
    values: Vec<Vec<f32>>,
}

/// Which layer computes a [`Case`].
#[derive(Clone, Copy, PartialEq)]
enum Layer {
    Reference,
    /// The fused layer on a code path.
    Fused(Isa),
    /// The fused layer that returns the final state only.
    FusedFinal(Isa),
    /// A linear layer (with a bias or without) on every step's state: folded into the fused
    /// layer on a code path, or after the reference layer (`None`). Forward only.
    Projected(Option<Isa>, bool),
}

/// The code paths this CPU has (those it lacks are reported, not counted).
fn paths() -> Vec<Isa> {
    for isa in Isa::ALL.iter().filter(|isa| !isa.supported()) {
        eprintln!("fused {isa} path not run: this CPU lacks it");
    }
    Isa::ALL.into_iter().filter(|isa| isa.supported()).collect()
}

/// Loss `sum(out R0) + sum(h R1) + sum(c R2)` (without the first term for
/// [`Layer::FusedFinal`] and for the reference it is checked against, `final_only`; for
/// [`Layer::Projected`], `sum(projected R3)` alone) and the gradients of every input.
#[allow(clippy::too_many_arguments)]
fn run(
    cell: Cell,
    size: (usize, usize, usize, usize),
    masked: bool,
    reverse: bool,
    layer: Layer,
    final_only: bool,
    backend: Backend,
    seed: u64,
) -> Case {
    let (steps, batch, input, hidden) = size;
    let dev: Device = backend.autodiff_device().expect("a CPU backend");
    let mut rng = StdRng::seed_from_u64(seed);
    let cw = CellWeights::init(cell, input, hidden, &mut rng, &dev);
    let x = tensor(
        uniform(&mut rng, steps * batch * input, 1.0),
        [steps, batch, input],
        &dev,
    )
    .require_grad();
    let h0 = tensor(
        uniform(&mut rng, batch * hidden, 0.5),
        [batch, hidden],
        &dev,
    )
    .require_grad();
    let c0 = tensor(
        uniform(&mut rng, batch * hidden, 0.5),
        [batch, hidden],
        &dev,
    )
    .require_grad();
    let r0 = tensor(
        uniform(&mut rng, steps * batch * hidden, 1.0),
        [steps, batch, hidden],
        &dev,
    );
    let r1 = tensor(
        uniform(&mut rng, batch * hidden, 1.0),
        [batch, hidden],
        &dev,
    );
    let r2 = tensor(
        uniform(&mut rng, batch * hidden, 1.0),
        [batch, hidden],
        &dev,
    );
    // Row b has length steps - (b % steps) when masked.
    let lens: Vec<usize> = (0..batch)
        .map(|b| if masked { steps - b % steps } else { steps })
        .collect();
    let masks: Vec<Option<Tensor<2>>> = (0..steps)
        .map(|t| {
            let m: Vec<f32> = lens.iter().map(|&l| (t < l) as u8 as f32).collect();
            (masked && m.contains(&0.0)).then(|| tensor(m, [batch, 1], &dev))
        })
        .collect();
    let lstm = cell == Cell::Lstm;
    let init = State {
        h: h0.clone(),
        c: lstm.then(|| c0.clone()),
    };
    let mask = || stack_masks(&masks, steps, batch, &dev);
    let reference = || {
        let inputs: Vec<Tensor<2>> = (0..steps)
            .map(|t| x.clone().narrow(0, t, 1).reshape([batch, input]))
            .collect();
        let (outs, fin) = run_direction(&cw, &inputs, &masks, init.clone(), reverse);
        (Tensor::stack::<3>(outs, 0), fin)
    };
    if let Layer::Projected(isa, bias) = layer {
        let mut lin = crate::tensor::linear(hidden, 3, &mut rng, &dev);
        if !bias {
            lin.bias = None;
        }
        let r3 = tensor(
            uniform(&mut rng, steps * batch * 3, 1.0),
            [steps, batch, 3],
            &dev,
        );
        let out = match isa {
            Some(isa) => run_fused_projected(&cw, x.clone(), mask(), init.clone(), &lin, isa),
            None => lin.forward(reference().0),
        };
        let grads = (out.clone() * r3).sum().backward();
        let mut values = vec![
            to_vec(out).unwrap(),
            to_vec(x.grad(&grads).unwrap()).unwrap(),
        ];
        let mut states = vec![h0.grad(&grads)];
        if lstm {
            states.push(c0.grad(&grads));
        }
        states.extend([cw.w_ih.val(), cw.w_hh.val(), lin.weight.val()].map(|w| w.grad(&grads)));
        values.extend(states.into_iter().map(|g| to_vec(g.unwrap()).unwrap()));
        let biases = [Some(&cw.b_ih), Some(&cw.b_hh), lin.bias.as_ref()];
        for b in biases.into_iter().flatten() {
            values.push(to_vec(b.val().grad(&grads).unwrap()).unwrap());
        }
        return Case { values };
    }
    let (out, fin) = if let Layer::Fused(isa) = layer {
        run_fused(&cw, x.clone(), mask(), init, reverse, isa)
    } else if let Layer::FusedFinal(isa) = layer {
        let fin = run_fused_final(&cw, x.clone(), mask(), init, reverse, isa);
        (Tensor::zeros([steps, batch, hidden], &dev), fin)
    } else {
        reference()
    };
    let mut loss = (fin.h.clone() * r1).sum();
    if !final_only {
        loss = loss + (out.clone() * r0).sum();
    }
    if let Some(c) = fin.c.clone() {
        loss = loss + (c * r2).sum();
    }
    let grads = loss.backward();
    let mut values = vec![to_vec(out).unwrap(), to_vec(fin.h).unwrap()];
    if let Some(c) = fin.c {
        values.push(to_vec(c).unwrap());
    }
    values.push(to_vec(x.grad(&grads).unwrap()).unwrap());
    values.push(to_vec(h0.grad(&grads).unwrap()).unwrap());
    if lstm {
        values.push(to_vec(c0.grad(&grads).unwrap()).unwrap());
    }
    for w in [cw.w_ih.val().grad(&grads), cw.w_hh.val().grad(&grads)] {
        values.push(to_vec(w.unwrap()).unwrap());
    }
    for b in [cw.b_ih.val().grad(&grads), cw.b_hh.val().grad(&grads)] {
        values.push(to_vec(b.unwrap()).unwrap());
    }
    Case { values }
}

/// Asserts that every value of `b` is `a`'s to `1e-5` (relative), but for the first `skip`
/// value sets; `context` names a value set in the message.
fn assert_close(a: &Case, b: &Case, skip: usize, context: impl Fn(usize) -> String) {
    assert_within(a, b, skip, 1e-5, context)
}

/// As [`assert_close`] to `tol`.
fn assert_within(a: &Case, b: &Case, skip: usize, tol: f32, context: impl Fn(usize) -> String) {
    assert_eq!(a.values.len(), b.values.len());
    for (k, (u, v)) in a.values.iter().zip(&b.values).enumerate().skip(skip) {
        assert_eq!(u.len(), v.len());
        for (p, q) in u.iter().zip(v) {
            assert!(
                (p - q).abs() <= tol * (1.0 + p.abs()),
                "{}: {p} against {q}",
                context(k)
            );
        }
    }
}

#[test]
fn fused_matches_reference_outputs_and_gradients() {
    let names = ["out", "h", "c|dx", "..."];
    let paths = paths();
    for backend in Backend::CPU {
        for cell in Cell::ALL {
            for (s, &size) in SIZES.iter().enumerate() {
                for masked in [false, true] {
                    for reverse in [false, true] {
                        let seed = 7 + s as u64;
                        let case = |layer, final_only| {
                            run(
                                cell, size, masked, reverse, layer, final_only, backend, seed,
                            )
                        };
                        let layers = paths.iter().flat_map(|&isa| {
                            [
                                (isa, Layer::Fused(isa), false),
                                (isa, Layer::FusedFinal(isa), true),
                            ]
                        });
                        for (isa, layer, final_only) in layers {
                            let a = case(Layer::Reference, final_only);
                            let b = case(layer, final_only);
                            // Without the states of every step there is no `out` to compare.
                            assert_close(&a, &b, final_only as usize, |k| {
                                format!(
                                    "{backend} {cell} {size:?} masked {masked} reverse \
                                     {reverse} final only {final_only} {isa}: value set {k} ({})",
                                    names.get(k).unwrap_or(&"grad")
                                )
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The decoder's last layer: the output projection folded into the fused call against the
/// reference layer followed by the linear layer, outputs and every gradient (the projection's
/// included), with and without padded steps, with and without the linear layer's bias, on
/// every path.
#[test]
fn projected_fused_matches_reference_then_linear() {
    let paths = paths();
    for backend in Backend::CPU {
        for cell in Cell::ALL {
            for (s, &size) in SIZES.iter().enumerate() {
                for masked in [false, true] {
                    let bias = s % 2 == 0;
                    let seed = 40 + s as u64;
                    let case = |isa| {
                        let layer = Layer::Projected(isa, bias);
                        run(cell, size, masked, false, layer, false, backend, seed)
                    };
                    let a = case(None);
                    for &isa in &paths {
                        assert_close(&a, &case(Some(isa)), 0, |k| {
                            format!(
                                "{backend} {cell} {size:?} masked {masked} bias {bias} {isa}: \
                                 value set {k}"
                            )
                        });
                    }
                }
            }
        }
    }
}

#[test]
fn fused_inference_matches_reference() {
    for cell in Cell::ALL {
        let dev = Backend::Flex.device().expect("flex is built in");
        let mut rng = StdRng::seed_from_u64(3);
        let cw = CellWeights::init(cell, 2, 5, &mut rng, &dev);
        let x = tensor(uniform(&mut rng, 4 * 3 * 2, 1.0), [4, 3, 2], &dev);
        let init = cw.zero_state(3, &dev);
        let inputs: Vec<Tensor<2>> = (0..4)
            .map(|t| x.clone().narrow(0, t, 1).reshape([3, 2]))
            .collect();
        let (r, _) = run_direction(&cw, &inputs, &[], init.clone(), false);
        let r = to_vec(Tensor::stack::<3>(r, 0)).unwrap();
        let lin = crate::tensor::linear(5, 2, &mut rng, &dev);
        let projected = to_vec(lin.forward(tensor(r.clone(), [4, 3, 5], &dev))).unwrap();
        for isa in paths() {
            let mask = || Tensor::ones([4, 3], &dev);
            let (f, _) = run_fused(&cw, x.clone(), mask(), init.clone(), false, isa);
            let p = run_fused_projected(&cw, x.clone(), mask(), init.clone(), &lin, isa);
            let pairs = r.iter().zip(to_vec(f).unwrap());
            for (a, b) in pairs.chain(projected.iter().zip(to_vec(p).unwrap())) {
                assert!((a - b).abs() < 1e-5, "{cell} {isa}: {a} vs {b}");
            }
        }
    }
}

/// The layers on the GPU (burn's wgpu runtime: a real GPU, or lavapipe on the CPU in CI)
/// against the reference on the CPU: the fused kernels (every step, the final state only,
/// the decoder's projection) and the reference layers there, outputs, final states and every
/// gradient, each cell, with and without padded steps, both directions. Without a usable GPU
/// it fails, saying what is missing: it never passes without having run.
#[cfg(feature = "gpu")]
#[test]
fn gpu_matches_cpu_outputs_and_gradients() {
    if let Err(e) = Backend::Gpu.device() {
        panic!("not run: {e}");
    }
    eprintln!("GPU: {}", Backend::Gpu.device_name().unwrap());
    let isa = Isa::best();
    for cell in Cell::ALL {
        for (s, &size) in SIZES.iter().enumerate() {
            for masked in [false, true] {
                for reverse in [false, true] {
                    let seed = 70 + s as u64;
                    let case = |layer, final_only, backend| {
                        run(
                            cell, size, masked, reverse, layer, final_only, backend, seed,
                        )
                    };
                    let cpu = case(Layer::Reference, false, Backend::Flex);
                    for layer in [Layer::Reference, Layer::Fused(isa)] {
                        let gpu = case(layer, false, Backend::Gpu);
                        assert_within(&cpu, &gpu, 0, 1e-4, |k| {
                            format!(
                                "{cell} {size:?} masked {masked} reverse {reverse} {}: value set {k}",
                                if layer == Layer::Reference {
                                    "reference"
                                } else {
                                    "fused"
                                }
                            )
                        });
                    }
                    let cpu = case(Layer::Reference, true, Backend::Flex);
                    let gpu = case(Layer::FusedFinal(isa), true, Backend::Gpu);
                    // The first value set is the states of every step, which this layer omits.
                    assert_within(&cpu, &gpu, 1, 1e-4, |k| {
                        format!(
                            "{cell} {size:?} masked {masked} reverse {reverse} final: value set {k}"
                        )
                    });
                }
                let case = |isa, backend| {
                    let layer = Layer::Projected(isa, s % 2 == 0);
                    run(
                        cell,
                        size,
                        masked,
                        false,
                        layer,
                        false,
                        backend,
                        90 + s as u64,
                    )
                };
                let cpu = case(None, Backend::Flex);
                for gpu_layer in [None, Some(isa)] {
                    assert_within(&cpu, &case(gpu_layer, Backend::Gpu), 0, 1e-4, |k| {
                        format!(
                            "{cell} {size:?} masked {masked} projected {}: value set {k}",
                            if gpu_layer.is_some() {
                                "fused"
                            } else {
                                "reference"
                            }
                        )
                    });
                }
            }
        }
    }
}
