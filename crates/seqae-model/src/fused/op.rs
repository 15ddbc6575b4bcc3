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
use super::host::{self, CellMath, Dims, Gru, Lstm, Rnn, Saved, Weights};
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
}

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
}

impl Inputs {
    fn weights(&self) -> Weights<'_> {
        Weights {
            w_ih: &self.w_ih,
            w_hh: &self.w_hh,
            b_ih: &self.b_ih,
            b_hh: &self.b_hh,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn read_inputs<B: Backend>(
    x: FloatTensor<B>,
    mask: FloatTensor<B>,
    w_ih: FloatTensor<B>,
    w_hh: FloatTensor<B>,
    b_ih: FloatTensor<B>,
    b_hh: FloatTensor<B>,
) -> Inputs {
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
#[allow(clippy::too_many_arguments)]
fn forward_on<B: Backend>(
    x: FloatTensor<B>,
    mask: FloatTensor<B>,
    h0: FloatTensor<B>,
    c0: FloatTensor<B>,
    w_ih: FloatTensor<B>,
    w_hh: FloatTensor<B>,
    b_ih: FloatTensor<B>,
    b_hh: FloatTensor<B>,
    call: FusedCall,
    save: bool,
) -> (FloatTensor<B>, Option<(Inputs, Saved)>) {
    let dev = x.device();
    let inp = read_inputs::<B>(x, mask, w_ih, w_hh, b_ih, b_hh);
    let (h0, c0) = (host::<B>(h0), host::<B>(c0));
    let (y, saved) = forward_call(call, &inp, &h0, &c0, save);
    let d = inp.dims;
    let blocks = host::output_blocks(d.steps, call.pass.all_steps);
    let y = device::<B>(y, vec![blocks, d.batch, d.hidden], &dev);
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
                forward_on::<Self>(x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh, call, false).0
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

impl<B: Backend> Backward<B, 7> for FusedBackward {
    type State = NodeState;

    fn backward(self, ops: Ops<Self::State, 7>, grads: &mut Gradients, _: &mut Checkpointer) {
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
        let gw = g.b_ih.len();
        let parts = [
            (g.x, vec![d.steps, d.batch, d.input]),
            (g.h0, vec![d.batch, d.hidden]),
            (g.c0, vec![d.batch, d.hidden]),
            (g.w_ih, vec![d.input, gw]),
            (g.w_hh, vec![d.hidden, gw]),
            (g.b_ih, vec![gw]),
            (g.b_hh, vec![gw]),
        ];
        for (parent, (v, shape)) in ops.parents.iter().zip(parts) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, device::<B>(v, shape, &dev));
            }
        }
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
        let nodes = [
            x.node(),
            h0.node(),
            c0.node(),
            w_ih.node(),
            w_hh.node(),
            b_ih.node(),
            b_hh.node(),
        ];
        let prims = (
            x.into_primitive(),
            mask.into_primitive(),
            h0.into_primitive(),
            c0.into_primitive(),
            w_ih.into_primitive(),
            w_hh.into_primitive(),
            b_ih.into_primitive(),
            b_hh.into_primitive(),
        );
        let (x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh) = prims;
        match FusedBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (y, kept) =
                    forward_on::<B>(x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh, call, true);
                let state = NodeState {
                    data: std::sync::Arc::new(
                        kept.expect("forward_on keeps what it is asked to save"),
                    ),
                    call,
                };
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => {
                let (y, _) = forward_on::<B>(x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh, call, false);
                prep.finish(y)
            }
        }
    }
}
