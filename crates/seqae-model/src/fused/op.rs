//! The fused layer as a burn backend extension: one operation for the flex and ndarray
//! backends (host code, [`host`]) and for the cubecl backend (GPU kernels, `gpu` feature), and
//! one autodiff node for their autodiff wrappers, whose two halves each backend gives through
//! [`FusedNode`].
// burn marks NdArray deprecated; the project still offers it.
#![allow(deprecated)]
#[cfg(feature = "gpu")]
use burn::backend::Cube;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, Backend, Flex, NdArray, Shape, Slice, TensorMetadata, backend_extension,
    try_read_sync,
};
use burn::tensor::TensorData;

use super::FusedCall;
use super::host::{self, CellMath, Dims, Gru, Lstm, Projection, Rnn, Saved, Weights};
use crate::config::Cell;

/// The fused recurrent layer of one direction.
#[backend_extension(Autodiff, NdArray, Flex, Cube: cfg(feature = "gpu"))]
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

/// The two halves of a fused call's autodiff node on one backend: the forward pass, keeping
/// what the backward pass needs, and the backward pass.
pub trait FusedNode: Backend {
    /// What the forward pass keeps for the backward pass.
    type Kept: Clone + Send + Sync + std::fmt::Debug + 'static;
    /// Whether the node takes the output projection in (`N` = 9 parents); where it does not,
    /// [`project_by_ops`] composes it from tensor operations after the node.
    const FOLDS_PROJECTION: bool;

    /// `y` of the call on [`Parents`], and with `save` what the backward pass needs.
    fn forward_node<const N: usize>(
        parents: Parents<FloatTensor<Self>, N>,
        mask: FloatTensor<Self>,
        call: FusedCall,
        save: bool,
    ) -> (FloatTensor<Self>, Option<Self::Kept>);

    /// The gradients of the parents from `dy`, `y`'s, in [`Parents`] order (`x`'s only when
    /// `need_x`; `None` where not computed).
    fn backward_node(
        kept: &Self::Kept,
        dy: FloatTensor<Self>,
        need_x: bool,
    ) -> Vec<Option<FloatTensor<Self>>>;
}

/// What a CPU backend's node keeps: the host inputs and activations (shared, read-only).
#[derive(Clone)]
pub struct HostKept {
    data: std::sync::Arc<(Inputs, Saved)>,
    call: FusedCall,
}

impl std::fmt::Debug for HostKept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FusedRecurrentState({:?}, {:?})",
            self.data.0.dims, self.call
        )
    }
}

/// The backward pass on the host: [`host::backward`], its gradients back on `dev`.
fn host_backward<B: Backend>(
    kept: &HostKept,
    dy: FloatTensor<B>,
    need_x: bool,
) -> Vec<Option<FloatTensor<B>>> {
    let dev = dy.device();
    let dy = host::<B>(dy);
    let (inp, saved) = &*kept.data;
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
    let call = kept.call;
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
    parts
        .into_iter()
        .enumerate()
        .map(|(i, (v, shape))| {
            let wanted = (i > 0 || need_x) && (i < 7 || k > 0);
            wanted.then(|| device::<B>(v, shape, &dev))
        })
        .collect()
}

/// Implements [`FusedRecurrentOps`] for `$t` (with the generics in brackets) from two
/// functions of ([`Parents`], mask, call): `$plain` for the seven parents of
/// `fused_recurrent`, `$projected` for the nine of `fused_recurrent_projected`.
macro_rules! fused_ops {
    ([$($g:tt)*] $t:ty, $plain:expr, $projected:expr) => {
        impl<$($g)*> FusedRecurrentOps for $t {
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
                ($plain)([x, h0, c0, w_ih, w_hh, b_ih, b_hh], mask, call)
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
                ($projected)(parents, mask, call)
            }
        }
    };
}

macro_rules! cpu_backend {
    ($b:ty) => {
        fused_ops!(
            [] $b,
            |p, mask, call| forward_on::<Self, 7>(p, mask, call, false).0,
            |p, mask, call| forward_on::<Self, 9>(p, mask, call, false).0
        );

        impl FusedNode for $b {
            type Kept = HostKept;
            const FOLDS_PROJECTION: bool = true;

            fn forward_node<const N: usize>(
                parents: Parents<FloatTensor<Self>, N>,
                mask: FloatTensor<Self>,
                call: FusedCall,
                save: bool,
            ) -> (FloatTensor<Self>, Option<HostKept>) {
                let (y, kept) = forward_on::<Self, N>(parents, mask, call, save);
                let kept = kept.map(|data| HostKept {
                    data: std::sync::Arc::new(data),
                    call,
                });
                (y, kept)
            }

            fn backward_node(
                kept: &HostKept,
                dy: FloatTensor<Self>,
                need_x: bool,
            ) -> Vec<Option<FloatTensor<Self>>> {
                host_backward::<Self>(kept, dy, need_x)
            }
        }
    };
}
cpu_backend!(Flex);
cpu_backend!(NdArray);

/// [`FusedRecurrentOps::fused_recurrent_projected`] of [`Parents`] as the layer then a linear
/// layer built from `B`'s tensor operations (on an autodiff backend, their gradients are burn's).
pub fn project_by_ops<B: FusedRecurrentOps>(
    parents: Parents<FloatTensor<B>, 9>,
    mask: FloatTensor<B>,
    call: FusedCall,
) -> FloatTensor<B> {
    let [x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_out, b_out] = parents;
    let [steps, batch, _] = x.shape().dims::<3>();
    let [hidden, k] = w_out.shape().dims::<2>();
    let y = B::fused_recurrent(x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh, call);
    let all = Slice::new(0, None, 1);
    let states = B::float_slice(y, &[Slice::new(0, Some(steps as isize), 1), all, all]);
    let states = B::float_reshape(states, Shape::new([steps * batch, hidden]));
    let out = B::float_add(
        B::float_matmul(states, w_out),
        B::float_reshape(b_out, Shape::new([1, k])),
    );
    B::float_reshape(out, Shape::new([steps, batch, k]))
}

#[cfg(feature = "gpu")]
fused_ops!(
    [] Cube,
    |p, mask, call| super::gpu::forward(p, mask, call, false).0,
    project_by_ops::<Cube>
);

#[cfg(feature = "gpu")]
impl FusedNode for Cube {
    type Kept = super::gpu::Kept;
    const FOLDS_PROJECTION: bool = false;

    fn forward_node<const N: usize>(
        parents: Parents<FloatTensor<Self>, N>,
        mask: FloatTensor<Self>,
        call: FusedCall,
        save: bool,
    ) -> (FloatTensor<Self>, Option<Self::Kept>) {
        let parents: [FloatTensor<Self>; 7] = Vec::from(parents)
            .try_into()
            .expect("seven parents: the GPU composes the output projection outside the node");
        super::gpu::forward(parents, mask, call, save)
    }

    fn backward_node(
        kept: &Self::Kept,
        dy: FloatTensor<Self>,
        need_x: bool,
    ) -> Vec<Option<FloatTensor<Self>>> {
        super::gpu::backward(kept, dy, need_x).into()
    }
}

#[derive(Debug)]
struct FusedBackward;

impl<B: FusedNode, const N: usize> Backward<B, N> for FusedBackward {
    type State = B::Kept;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        // Parent 0 is the input: tracked only when it comes from a layer below.
        let need_x = ops.parents[0].is_some();
        let g = B::backward_node(&ops.state, dy, need_x);
        for (parent, grad) in ops.parents.iter().zip(g) {
            if let (Some(node), Some(grad)) = (parent, grad) {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

/// A fused call on an autodiff backend: one node whose parents are `parents`, with
/// [`FusedBackward`] as its backward pass.
fn autodiff_call<B: FusedNode, C: CheckpointStrategy, const N: usize>(
    parents: Parents<FloatTensor<Autodiff<B, C>>, N>,
    mask: FloatTensor<Autodiff<B, C>>,
    call: FusedCall,
) -> FloatTensor<Autodiff<B, C>> {
    let nodes = parents.each_ref().map(|t| t.node());
    let prims = parents.map(|t| t.into_primitive());
    let mask = mask.into_primitive();
    match FusedBackward.prepare::<C>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (y, kept) = B::forward_node::<N>(prims, mask, call, true);
            prep.finish(
                kept.expect("forward_node keeps what it is asked to save"),
                y,
            )
        }
        OpsKind::UnTracked(prep) => prep.finish(B::forward_node::<N>(prims, mask, call, false).0),
    }
}

fused_ops!(
    [B: FusedRecurrentOps + FusedNode, C: CheckpointStrategy] Autodiff<B, C>,
    autodiff_call::<B, C, 7>,
    |p, mask, call| if B::FOLDS_PROJECTION {
        autodiff_call::<B, C, 9>(p, mask, call)
    } else {
        project_by_ops::<Self>(p, mask, call)
    }
);
