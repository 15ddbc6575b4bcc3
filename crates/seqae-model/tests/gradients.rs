//! Gradients of each cell (through a whole bidirectional layer, with and without padding
//! masks) against central finite differences, for inputs, weights and biases, on both
//! backends. The devices are configured for f64 where the backend allows it, so the
//! comparison is tight.
use burn::tensor::{DType, Device, FloatDType, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seqae_model::{Backend, Cell, CellWeights, RecurrentLayer};
use std::sync::Once;

static CONFIGURE: Once = Once::new();

/// Configures every device for f64 (once per process, before any tensor exists).
fn configure() {
    CONFIGURE.call_once(|| {
        for backend in Backend::CPU {
            let _ = backend.device().unwrap().configure(FloatDType::F64);
            let _ = backend
                .autodiff_device()
                .unwrap()
                .configure(FloatDType::F64);
        }
    });
}

fn t<const D: usize>(v: &[f64], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

fn read<const D: usize>(x: Tensor<D>) -> Vec<f64> {
    x.into_data().try_into_vec_as::<f64>().unwrap()
}

struct Problem {
    cell: Cell,
    b: usize,
    steps: usize,
    c: usize,
    h: usize,
    lengths: Vec<usize>,
    x: Vec<f64>,
    /// fwd w_ih, w_hh, b_ih, b_hh, then bwd.
    params: Vec<Vec<f64>>,
    r: Vec<f64>,
    q: Vec<f64>,
}

impl Problem {
    fn new(cell: Cell, masked: bool, seed: u64) -> Problem {
        let (b, steps, c, h) = (3, 4, 2, 3);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut draw =
            |n: usize, s: f64| -> Vec<f64> { (0..n).map(|_| rng.random_range(-s..s)).collect() };
        let g = cell.gates() * h;
        let mut params = Vec::new();
        for _ in 0..2 {
            params.push(draw(c * g, 0.8));
            params.push(draw(h * g, 0.8));
            params.push(draw(g, 0.5));
            params.push(draw(g, 0.5));
        }
        let lengths = if masked { vec![4, 2, 1] } else { vec![4, 4, 4] };
        Problem {
            cell,
            b,
            steps,
            c,
            h,
            lengths,
            x: draw(b * steps * c, 1.0),
            params,
            r: draw(steps * b * 2 * h, 1.0),
            q: draw(2 * 2 * b * h, 1.0),
        }
    }

    fn shapes(&self) -> [Vec<usize>; 4] {
        let g = self.cell.gates() * self.h;
        [vec![self.c, g], vec![self.h, g], vec![g], vec![g]]
    }

    fn layer(&self, params: &[Vec<f64>], device: &Device) -> RecurrentLayer {
        let [si, sh, _, _] = self.shapes();
        let cw = |k: usize| {
            CellWeights::from_tensors(
                self.cell,
                t(&params[k], [si[0], si[1]], device),
                t(&params[k + 1], [sh[0], sh[1]], device),
                t(&params[k + 2], [sh[1]], device),
                t(&params[k + 3], [sh[1]], device),
            )
        };
        RecurrentLayer {
            fwd: cw(0),
            bwd: Some(cw(4)),
        }
    }

    /// Sum of outputs and final states weighted by fixed random values.
    fn loss(&self, layer: &RecurrentLayer, x: Tensor<3>, device: &Device) -> Tensor<1> {
        let (b, c, h) = (self.b, self.c, self.h);
        let inputs: Vec<Tensor<2>> = (0..self.steps)
            .map(|s| x.clone().narrow(1, s, 1).reshape([b, c]))
            .collect();
        let masks: Vec<Option<Tensor<2>>> = (0..self.steps)
            .map(|s| {
                let m: Vec<f64> = self.lengths.iter().map(|&l| (s < l) as u8 as f64).collect();
                m.contains(&0.0).then(|| t(&m, [b, 1], device))
            })
            .collect();
        let out = layer.forward(&inputs, &masks, None);
        let n = b * 2 * h;
        let mut total = Tensor::<1>::zeros([1], device);
        for (s, o) in out.outputs.into_iter().enumerate() {
            total = total + (o * t(&self.r[s * n..(s + 1) * n], [b, 2 * h], device)).sum();
        }
        for (d, st) in out.finals.into_iter().enumerate() {
            let q = |k: usize| {
                t(
                    &self.q[(2 * d + k) * b * h..(2 * d + k + 1) * b * h],
                    [b, h],
                    device,
                )
            };
            total = total + (st.h * q(0)).sum();
            if let Some(cs) = st.c {
                total = total + (cs * q(1)).sum();
            }
        }
        total
    }

    fn value(&self, params: &[Vec<f64>], x: &[f64], device: &Device) -> f64 {
        let layer = self.layer(params, device);
        read(self.loss(&layer, t(x, [self.b, self.steps, self.c], device), device))[0]
    }
}

fn check(cell: Cell, masked: bool, backend: Backend) {
    configure();
    let ad = backend.autodiff_device().unwrap();
    let plain = backend.device().unwrap();
    let f64_mode = Tensor::<1>::zeros([1], &plain).dtype() == DType::F64;
    // burn-ndarray evaluates sigmoid at f32 precision even on f64 tensors, so its finite
    // differences need a larger step (measured: flex f64 agrees to ~1e-9 with eps 1e-6).
    let (eps, atol, rtol) = match (f64_mode, backend) {
        (true, Backend::Flex) => (1e-6, 1e-7, 1e-6),
        (true, _) => (1e-3, 5e-4, 1e-3),
        (false, _) => (1e-2, 2e-3, 2e-2),
    };
    let p = Problem::new(cell, masked, 11 + masked as u64);
    let layer = p.layer(&p.params, &ad);
    let x = t(&p.x, [p.b, p.steps, p.c], &ad).require_grad();
    let grads = p.loss(&layer, x.clone(), &ad).backward();
    let mut analytic = vec![read(x.grad(&grads).unwrap())];
    for cw in [&layer.fwd, layer.bwd.as_ref().unwrap()] {
        analytic.push(read(cw.w_ih.val().grad(&grads).unwrap()));
        analytic.push(read(cw.w_hh.val().grad(&grads).unwrap()));
        analytic.push(read(cw.b_ih.val().grad(&grads).unwrap()));
        analytic.push(read(cw.b_hh.val().grad(&grads).unwrap()));
    }
    let names = [
        "x", "fwd.w_ih", "fwd.w_hh", "fwd.b_ih", "fwd.b_hh", "bwd.w_ih", "bwd.w_hh", "bwd.b_ih",
        "bwd.b_hh",
    ];
    let mut worst = 0.0f64;
    for (k, grad) in analytic.iter().enumerate() {
        let base: &Vec<f64> = if k == 0 { &p.x } else { &p.params[k - 1] };
        assert_eq!(grad.len(), base.len());
        for e in 0..base.len() {
            let shifted = |delta: f64| {
                let mut v = base.clone();
                v[e] += delta;
                if k == 0 {
                    p.value(&p.params, &v, &plain)
                } else {
                    let mut params = p.params.clone();
                    params[k - 1] = v;
                    p.value(&params, &p.x, &plain)
                }
            };
            let fd = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
            let err = (grad[e] - fd).abs();
            worst = worst.max(err / (atol + rtol * fd.abs()));
            assert!(
                err <= atol + rtol * fd.abs(),
                "{cell} masked={masked} {backend} f64={f64_mode}: d/d{}[{e}] autodiff {} vs finite difference {fd}",
                names[k],
                grad[e]
            );
        }
    }
    if masked {
        // padded input steps have no influence at all
        let gx = &analytic[0];
        for (r, &len) in p.lengths.iter().enumerate() {
            for s in len..p.steps {
                for ch in 0..p.c {
                    assert_eq!(gx[(r * p.steps + s) * p.c + ch], 0.0, "gradient at padding");
                }
            }
        }
    }
    eprintln!(
        "{cell} masked={masked} {backend} f64={f64_mode}: worst error / tolerance = {worst:.3}"
    );
}

#[test]
fn rnn_gradients_match_finite_differences() {
    for backend in Backend::CPU {
        for masked in [false, true] {
            check(Cell::Rnn, masked, backend);
        }
    }
}

#[test]
fn lstm_gradients_match_finite_differences() {
    for backend in Backend::CPU {
        for masked in [false, true] {
            check(Cell::Lstm, masked, backend);
        }
    }
}

#[test]
fn gru_gradients_match_finite_differences() {
    for backend in Backend::CPU {
        for masked in [false, true] {
            check(Cell::Gru, masked, backend);
        }
    }
}
