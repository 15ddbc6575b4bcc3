//! The fused layer as a burn backend extension: one operation for the flex and ndarray
//! backends, and one autodiff node (with [`host::backward`] as its backward pass) for their
//! autodiff wrappers.
// burn marks NdArray deprecated; the project still offers it.
#![allow(deprecated)]
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, Backend, Flex, NdArray, TensorMetadata, backend_extension, try_read_sync,
};
use burn::tensor::TensorData;

use super::FusedCall;
use super::host::{self, CellMath, Dims, Gru, Lstm, Projection, Rnn, Saved, Weights};
use crate::config::Cell;

/// The fused recurrent layer of one direction.
#[backend_extension(Autodiff, NdArray, Flex)]
pub trait FusedRecurrentOps: Backend {
    /// Runs `call.cell` over `x` `[T, B, C]` with `mask` `[T, B]` from `h0`, `c0` `[B, H]`;
    /// returns, with `call.pass.all_steps`, `[T+1, B, H]`: the hidden state after each step in
    /// time order, then the final LSTM cell state (zeros for other cells); without,
    /// `[2, B, H]`: the final hidden and cell states.
    #[allow(clippy::too_many_arguments)]
    fn fused_recurrent(
        x: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_ih: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        call: FusedCall,
    ) -> FloatTensor<Self>;

    /// [`fused_recurrent`](Self::fused_recurrent) over every step with the output projection
    /// `out_t = h_t w_out + b_out` (`[H, K]`, `[K]`) folded in: returns `[T, B, K]`, the
    /// projected outputs of each step in time order, and nothing else. `call.pass.all_steps`
    /// must be set (the host code panics otherwise); the decoder, its one caller, runs
    /// forward in time.
    #[allow(clippy::too_many_arguments)]
    fn fused_recurrent_projected(
        x: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_ih: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        w_out: FloatTensor<Self>,
        b_out: FloatTensor<Self>,
        call: FusedCall,
    ) -> FloatTensor<Self>;
}

/// The inputs of one fused call that get gradients, in the order of the autodiff node's
/// parents: `x`, `h0`, `c0`, `w_ih`, `w_hh`, `b_ih`, `b_hh`, then `w_out`, `b_out` when the
/// output projection is folded in (`N` = 7 or 9).
type Parents<T, const N: usize> = [T; N];

/// A tensor's values on the host.
fn host<B: Backend>(t: FloatTensor<B>) -> Vec<f32> {
    try_read_sync(B::float_into_data(t))
        .expect("a CPU tensor is readable at once")
        .expect("tensor read")
        .try_into_vec_as::<f32>()
        .expect("f32 values")
}

/// Host values back into a tensor of `shape` on `device`.
fn device<B: Backend>(
    v: Vec<f32>,
    shape: Vec<usize>,
    device: &burn::backend::tensor::Device<B>,
) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(v, shape), device)
}

/// Everything a forward call reads, on the host.
struct Inputs {
    dims: Dims,
    x: Vec<f32>,
    mask: Vec<f32>,
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    b_ih: Vec<f32>,
    b_hh: Vec<f32>,
    /// The folded output projection's `[H, K]` weights and `[K]` bias, if any.
    out: Option<(Vec<f32>, Vec<f32>)>,
}

impl Inputs {
    fn weights(&self) -> Weights<'_> {
        Weights {
            w_ih: &self.w_ih,
            w_hh: &self.w_hh,
            b_ih: &self.b_ih,
            b_hh: &self.b_hh,
            out: self.out.as_ref().map(|(w, b)| Projection { w, b }),
        }
    }
}

/// Reads the call's input and weights to the host (`weights`: the [`Parents`] after `x`,
/// `h0` and `c0`).
fn read_inputs<B: Backend>(
    x: FloatTensor<B>,
    mask: FloatTensor<B>,
    weights: Vec<FloatTensor<B>>,
) -> Inputs {
    let mut t = weights.into_iter();
    let mut next = || t.next().expect("every weight of the call");
    let (w_ih, w_hh, b_ih, b_hh) = (next(), next(), next(), next());
    let out = t
        .next()
        .map(|w| (host::<B>(w), host::<B>(t.next().expect("b_out"))));
    let xs = x.shape();
    let hidden = w_hh.shape()[0];
    let dims = Dims {
        steps: xs[0],
        batch: xs[1],
        input: xs[2],
        hidden,
    };
    Inputs {
        dims,
        x: host::<B>(x),
        mask: host::<B>(mask),
        w_ih: host::<B>(w_ih),
        w_hh: host::<B>(w_hh),
        b_ih: host::<B>(b_ih),
        b_hh: host::<B>(b_hh),
        out,
    }
}

/// The forward pass of `call`.
fn forward_call(
    call: FusedCall,
    inp: &Inputs,
    h0: &[f32],
    c0: &[f32],
    save: bool,
) -> (Vec<f32>, Saved) {
    fn run<M: CellMath>(
        call: FusedCall,
        inp: &Inputs,
        h0: &[f32],
        c0: &[f32],
        save: bool,
    ) -> (Vec<f32>, Saved) {
        host::forward::<M>(
            inp.dims,
            &inp.x,
            &inp.mask,
            h0,
            c0,
            inp.weights(),
            call.pass,
            save,
            call.isa,
        )
    }
    match call.cell {
        Cell::Rnn => run::<Rnn>(call, inp, h0, c0, save),
        Cell::Lstm => run::<Lstm>(call, inp, h0, c0, save),
        Cell::Gru => run::<Gru>(call, inp, h0, c0, save),
    }
}

/// The forward pass on any CPU backend (`save`: keep what the backward pass needs).
fn forward_on<B: Backend, const N: usize>(
    parents: Parents<FloatTensor<B>, N>,
    mask: FloatTensor<B>,
    call: FusedCall,
    save: bool,
) -> (FloatTensor<B>, Option<(Inputs, Saved)>) {
    let mut t = parents.into_iter();
    let mut next = || t.next().expect("x, h0 and c0");
    let (x, h0, c0) = (next(), next(), next());
    let dev = x.device();
    let inp = read_inputs::<B>(x, mask, t.collect());
    let (h0, c0) = (host::<B>(h0), host::<B>(c0));
    let (y, saved) = forward_call(call, &inp, &h0, &c0, save);
    let projected = inp.out.as_ref().map(|(_, b)| b.len());
    let shape = host::output_shape(inp.dims, call.pass, projected);
    let y = device::<B>(y, shape.to_vec(), &dev);
    (y, save.then_some((inp, saved)))
}

macro_rules! cpu_backend {
    ($b:ty) => {
        impl FusedRecurrentOps for $b {
            fn fused_recurrent(
                x: FloatTensor<Self>,
                mask: FloatTensor<Self>,
                h0: FloatTensor<Self>,
                c0: FloatTensor<Self>,
                w_ih: FloatTensor<Self>,
                w_hh: FloatTensor<Self>,
                b_ih: FloatTensor<Self>,
                b_hh: FloatTensor<Self>,
                call: FusedCall,
            ) -> FloatTensor<Self> {
                let parents = [x, h0, c0, w_ih, w_hh, b_ih, b_hh];
                forward_on::<Self, 7>(parents, mask, call, false).0
            }

            fn fused_recurrent_projected(
                x: FloatTensor<Self>,
                mask: FloatTensor<Self>,
                h0: FloatTensor<Self>,
                c0: FloatTensor<Self>,
                w_ih: FloatTensor<Self>,
                w_hh: FloatTensor<Self>,
                b_ih: FloatTensor<Self>,
                b_hh: FloatTensor<Self>,
                w_out: FloatTensor<Self>,
                b_out: FloatTensor<Self>,
                call: FusedCall,
            ) -> FloatTensor<Self> {
                let parents = [x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_out, b_out];
                forward_on::<Self, 9>(parents, mask, call, false).0
            }
        }
    };
}
cpu_backend!(Flex);
cpu_backend!(NdArray);

/// What the autodiff node keeps: the host inputs and activations (shared, read-only).
#[derive(Clone)]
struct NodeState {
    data: std::sync::Arc<(Inputs, Saved)>,
    call: FusedCall,
}

impl std::fmt::Debug for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FusedRecurrentState({:?}, {:?})",
            self.data.0.dims, self.call
        )
    }
}

#[derive(Debug)]
struct FusedBackward;

impl<B: Backend, const N: usize> Backward<B, N> for FusedBackward {
    type State = NodeState;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy_t = grads.consume::<B>(&ops.node);
        let dev = dy_t.device();
        let dy = host::<B>(dy_t);
        let (inp, saved) = &*ops.state.data;
        fn run<M: CellMath>(
            call: FusedCall,
            inp: &Inputs,
            saved: &Saved,
            dy: &[f32],
            need_x: bool,
        ) -> host::Grads {
            host::backward::<M>(
                inp.dims,
                &inp.x,
                &inp.mask,
                inp.weights(),
                saved,
                dy,
                call.pass,
                need_x,
                call.isa,
            )
        }
        let call = ops.state.call;
        // Parent 0 is the input: tracked only when it comes from a layer below.
        let need_x = ops.parents[0].is_some();
        let g = match call.cell {
            Cell::Rnn => run::<Rnn>(call, inp, saved, &dy, need_x),
            Cell::Lstm => run::<Lstm>(call, inp, saved, &dy, need_x),
            Cell::Gru => run::<Gru>(call, inp, saved, &dy, need_x),
        };
        let d = inp.dims;
        let (gw, k) = (g.b_ih.len(), g.b_out.len());
        // (The projection's two come last: without it, `N` = 7 parents take the first seven.)
        let parts = [
            (g.x, vec![d.steps, d.batch, d.input]),
            (g.h0, vec![d.batch, d.hidden]),
            (g.c0, vec![d.batch, d.hidden]),
            (g.w_ih, vec![d.input, gw]),
            (g.w_hh, vec![d.hidden, gw]),
            (g.b_ih, vec![gw]),
            (g.b_hh, vec![gw]),
            (g.w_out, vec![d.hidden, k]),
            (g.b_out, vec![k]),
        ];
        for (parent, (v, shape)) in ops.parents.iter().zip(parts) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, device::<B>(v, shape, &dev));
            }
        }
    }
}

/// A fused call on an autodiff backend: one node whose parents are `parents`, with
/// [`FusedBackward`] as its backward pass.
fn autodiff_call<B: FusedRecurrentOps, C: CheckpointStrategy, const N: usize>(
    parents: Parents<FloatTensor<Autodiff<B, C>>, N>,
    mask: FloatTensor<Autodiff<B, C>>,
    call: FusedCall,
) -> FloatTensor<Autodiff<B, C>> {
    let nodes = parents.each_ref().map(|t| t.node());
    let prims = parents.map(|t| t.into_primitive());
    let mask = mask.into_primitive();
    match FusedBackward.prepare::<C>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (y, kept) = forward_on::<B, N>(prims, mask, call, true);
            let state = NodeState {
                data: std::sync::Arc::new(kept.expect("forward_on keeps what it is asked to save")),
                call,
            };
            prep.finish(state, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward_on::<B, N>(prims, mask, call, false).0),
    }
}

impl<B: FusedRecurrentOps, C: CheckpointStrategy> FusedRecurrentOps for Autodiff<B, C> {
    fn fused_recurrent(
        x: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_ih: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        call: FusedCall,
    ) -> FloatTensor<Self> {
        autodiff_call::<B, C, 7>([x, h0, c0, w_ih, w_hh, b_ih, b_hh], mask, call)
    }

    fn fused_recurrent_projected(
        x: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_ih: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        w_out: FloatTensor<Self>,
        b_out: FloatTensor<Self>,
        call: FusedCall,
    ) -> FloatTensor<Self> {
        let parents = [x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_out, b_out];
        autodiff_call::<B, C, 9>(parents, mask, call)
    }
}
