//! The output projection `out_t = h_t W + b` folded into a fused call (the decoder's last
//! layer): the workers apply it to each step's states while they are in cache, and its
//! gradients join the reverse loop, so the `[T, B, H]` states never leave the call.
use super::layout::{Layout, Projection};

/// Lanes of the projection's loops: the padded state width is a multiple of it.
const LANES: usize = 8;

/// A [`Projection`] laid out for the workers: `W^T` (`[K, P U]`, zero in the padding units)
/// and the bias.
pub(super) struct Projector {
    /// Outputs `K`.
    pub(super) outputs: usize,
    /// Padded state width `P U`.
    padded: usize,
    /// `W^T`, `[K, P U]`.
    wt: Vec<f32>,
    /// `[K]`.
    bias: Vec<f32>,
}

impl Projector {
    pub(super) fn new(l: &Layout, p: Projection<'_>) -> Projector {
        let outputs = p.b.len();
        assert_eq!(
            p.w.len(),
            l.hidden * outputs,
            "projection weights are [H, K]"
        );
        assert!(
            l.padded.is_multiple_of(LANES),
            "padded states fill whole lanes"
        );
        let mut wt = vec![0.0f32; outputs * l.padded];
        for (j, row) in p.w.chunks_exact(outputs).enumerate() {
            for (k, &v) in row.iter().enumerate() {
                wt[k * l.padded + j] = v;
            }
        }
        Projector {
            outputs,
            padded: l.padded,
            wt,
            bias: p.b.to_vec(),
        }
    }

    /// `out = h W + b` for rows of padded states `h` (`[rows, P U]` into `[rows, K]`).
    #[inline(always)]
    pub(super) fn apply(&self, h: &[f32], out: &mut [f32]) {
        for (row, o) in h
            .chunks_exact(self.padded)
            .zip(out.chunks_exact_mut(self.outputs))
        {
            for ((v, w), &b) in o
                .iter_mut()
                .zip(self.wt.chunks_exact(self.padded))
                .zip(&self.bias)
            {
                *v = b + dot(row, w);
            }
        }
    }

    /// The gradient of one row's state from its outputs' gradient: `dh = dout W^T`
    /// (`[P U]`, overwritten).
    #[inline(always)]
    pub(super) fn state_grad(&self, dout: &[f32], dh: &mut [f32]) {
        dh.fill(0.0);
        for (&g, w) in dout.iter().zip(self.wt.chunks_exact(self.padded)) {
            for (d, &v) in dh.iter_mut().zip(w) {
                *d += g * v;
            }
        }
    }

    /// Values of a worker's sum of the weight gradients: `W^T`'s, then the bias's.
    pub(super) fn grad_len(&self) -> usize {
        self.outputs * (self.padded + 1)
    }

    /// Adds one row's `h^T dout` and `dout` to a worker's sum (`grad_len` values).
    #[inline(always)]
    pub(super) fn add_weight_grad(&self, dout: &[f32], h: &[f32], sum: &mut [f32]) {
        let (dwt, db) = sum.split_at_mut(self.outputs * self.padded);
        for ((&g, dw), b) in dout.iter().zip(dwt.chunks_exact_mut(self.padded)).zip(db) {
            for (d, &v) in dw.iter_mut().zip(h) {
                *d += g * v;
            }
            *b += g;
        }
    }

    /// A worker sum (as [`add_weight_grad`](Self::add_weight_grad) fills it) as the gradients
    /// of `W` (`[H, K]`) and `b` (`[K]`).
    pub(super) fn weight_grads(&self, sum: &[f32], hidden: usize) -> (Vec<f32>, Vec<f32>) {
        let (dwt, db) = sum.split_at(self.outputs * self.padded);
        let mut dw = vec![0.0f32; hidden * self.outputs];
        for (k, col) in dwt.chunks_exact(self.padded).enumerate() {
            for (j, &v) in col[..hidden].iter().enumerate() {
                dw[j * self.outputs + k] = v;
            }
        }
        (dw, db.to_vec())
    }
}

/// `a . b` in `LANES` running sums (so that the loop vectorises), then their sum.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum()
}
