//! The fused recurrent layer on the GPU (burn's cubecl backend; `gpu` feature): the input
//! projection of every step as one matrix product, then the whole recurrence as one
//! [`kernels::forward`] launch; backward, one [`kernels::backward`] launch, then the weight
//! gradients of all steps and rows as matrix products. Nothing is read back to the host.
//!
//! An output projection is not folded in here: the GPU composes it from tensor operations
//! after the layer ([`super::op::project_by_ops`]).
use burn::backend::ops::FloatTensorOps;
use burn::backend::{Cube, DType, Shape, TensorMetadata};
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::{CubeCount, CubeDim};

use super::FusedCall;
use crate::config::Cell;

pub mod kernels;

/// Most units of a cube: each strides over the hidden units when there are more. The unit
/// tests take 16, so that their hidden sizes 17 and 33 run the striding (the integration
/// tests, with the library as built, one unit per hidden unit).
const MAX_UNITS: usize = if cfg!(test) { 16 } else { 256 };

/// A contiguous tensor of `shape` on `like`'s device (rows unpadded, as the kernels index
/// them), its values unset.
fn empty(like: &CubeTensor, shape: &[usize]) -> CubeTensor {
    empty_device_contiguous_dtype(
        like.client.clone(),
        like.device.clone(),
        Shape::from(shape.to_vec()),
        DType::F32,
    )
}

/// The kernels' cell code.
pub(crate) fn cell_code(cell: Cell) -> u32 {
    match cell {
        Cell::Rnn => kernels::RNN,
        Cell::Lstm => kernels::LSTM,
        Cell::Gru => kernels::GRU,
    }
}

/// `[a, b, ..]` as `[a * b, ..]`.
fn rows(t: CubeTensor, rows: usize) -> CubeTensor {
    let cols = t.shape().num_elements() / rows.max(1);
    Cube::float_reshape(t, Shape::new([rows, cols]))
}

/// What the forward pass keeps for the backward pass, on the device.
#[derive(Clone)]
pub struct Kept {
    call: FusedCall,
    /// `[T, B, C]` input, `[C, G]` and `[G, H]` (transposed) weights, `[T, B]` mask.
    x: CubeTensor,
    w_ih: CubeTensor,
    w_hh_t: CubeTensor,
    mask: CubeTensor,
    /// The state before each step, the LSTM cell state's, the cell's activations.
    hp: CubeTensor,
    cp: CubeTensor,
    acts: CubeTensor,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuKept({:?}, {:?})", self.x.shape(), self.call)
    }
}

/// A cube of `work` units at most (the gate columns or the hidden units it strides over).
fn cube_dim(like: &CubeTensor, work: usize) -> CubeDim {
    let hw = &like.client.properties().hardware;
    let max = (hw.max_cube_dim.0).min(hw.max_units_per_cube) as usize;
    CubeDim::new_1d(work.min(MAX_UNITS).min(max).max(1) as u32)
}

/// Most cubes in a grid's first dimension (a GPU's limit is 65,535). The unit tests take 8,
/// so that their batches of 9 to 20 rows run the two-dimensional grid and its spare cubes.
const MAX_GRID_X: usize = if cfg!(test) { 8 } else { 65_535 };

/// One cube per batch row, in a grid of two dimensions where one ([`MAX_GRID_X`] cubes)
/// does not hold them.
fn cube_count(batch: usize) -> CubeCount {
    let (x, y) = (batch.min(MAX_GRID_X), batch.div_ceil(MAX_GRID_X));
    CubeCount::Static(x as u32, y as u32, 1)
}

/// Checks what the unchecked kernels index: `t` has `shape`.
fn expect_shape(t: &CubeTensor, shape: &[usize], what: &str) {
    assert_eq!(
        t.shape().as_slice(),
        shape,
        "fused GPU layer: the shape of {what}"
    );
}

/// The forward pass (`parents`: `x`, `h0`, `c0`, `w_ih`, `w_hh`, `b_ih`, `b_hh`); `y` as
/// [`super::op::FusedRecurrentOps::fused_recurrent`] returns it, and with `save`, what the
/// backward pass needs.
pub fn forward(
    parents: [CubeTensor; 7],
    mask: CubeTensor,
    call: FusedCall,
    save: bool,
) -> (CubeTensor, Option<Kept>) {
    let [x, h0, c0, w_ih, w_hh, b_ih, b_hh] = parents.map(into_contiguous);
    let mask = into_contiguous(mask);
    let [steps, batch, _] = x.shape().dims::<3>();
    let [hidden, g_cols] = w_hh.shape().dims::<2>();
    let code = cell_code(call.cell);
    assert_eq!(
        g_cols,
        kernels::gates(code) * hidden,
        "fused GPU layer: gate columns"
    );
    expect_shape(&mask, &[steps, batch], "the mask");
    expect_shape(&h0, &[batch, hidden], "h0");
    expect_shape(&c0, &[batch, hidden], "c0");
    expect_shape(&b_ih, &[g_cols], "b_ih");
    expect_shape(&b_hh, &[g_cols], "b_hh");
    let xw = into_contiguous(Cube::float_matmul(
        rows(x.clone(), steps * batch),
        w_ih.clone(),
    ));
    let blocks = if call.pass.all_steps { steps + 1 } else { 2 };
    let y = empty(&x, &[blocks, batch, hidden]);
    let (hp, cp, acts) = if save {
        let lstm = call.cell == Cell::Lstm;
        (
            empty(&x, &[steps, batch, hidden]),
            empty(&x, &[if lstm { steps } else { 1 }, batch, hidden]),
            empty(&x, &[steps, batch, kernels::saved(code) * hidden]),
        )
    } else {
        (empty(&x, &[1]), empty(&x, &[1]), empty(&x, &[1]))
    };
    if batch > 0 {
        // SAFETY: every tensor indexed has the shape the kernel assumes (checked above, or
        // allocated here), so every index is in bounds.
        unsafe {
            kernels::forward::launch_unchecked(
                &x.client,
                cube_count(batch),
                cube_dim(&x, g_cols),
                xw.into_tensor_arg(),
                mask.clone().into_tensor_arg(),
                h0.into_tensor_arg(),
                c0.into_tensor_arg(),
                w_hh.clone().into_tensor_arg(),
                b_ih.into_tensor_arg(),
                b_hh.into_tensor_arg(),
                y.clone().into_tensor_arg(),
                hp.clone().into_tensor_arg(),
                cp.clone().into_tensor_arg(),
                acts.clone().into_tensor_arg(),
                code,
                hidden,
                call.pass.reverse,
                call.pass.all_steps,
                save,
            );
        }
    }
    let kept = save.then(|| Kept {
        call,
        w_hh_t: into_contiguous(Cube::float_transpose(w_hh)),
        x,
        w_ih,
        mask,
        hp,
        cp,
        acts,
    });
    (y, kept)
}

/// The gradients of the forward pass's parents from `dy`, the gradient of its `y`, in the
/// parents' order (`x` only when `need_x`).
pub fn backward(kept: &Kept, dy: CubeTensor, need_x: bool) -> [Option<CubeTensor>; 7] {
    let dy = into_contiguous(dy);
    let [steps, batch, input] = kept.x.shape().dims::<3>();
    let [g_cols, hidden] = kept.w_hh_t.shape().dims::<2>();
    let code = cell_code(kept.call.cell);
    let gru = kept.call.cell == Cell::Gru;
    let dxp = empty(&dy, &[steps, batch, g_cols]);
    let dhp = empty(
        &dy,
        &if gru {
            vec![steps, batch, g_cols]
        } else {
            vec![1]
        },
    );
    let (dh0, dc0) = (empty(&dy, &[batch, hidden]), empty(&dy, &[batch, hidden]));
    let blocks = if kept.call.pass.all_steps {
        steps + 1
    } else {
        2
    };
    expect_shape(&dy, &[blocks, batch, hidden], "the output's gradient");
    let client = dy.client.clone();
    if batch > 0 {
        // SAFETY: as in `forward`: `dy` checked, the rest allocated by `forward` or here.
        unsafe {
            kernels::backward::launch_unchecked(
                &client,
                cube_count(batch),
                cube_dim(&dy, hidden),
                dy.into_tensor_arg(),
                kept.mask.clone().into_tensor_arg(),
                kept.w_hh_t.clone().into_tensor_arg(),
                kept.hp.clone().into_tensor_arg(),
                kept.cp.clone().into_tensor_arg(),
                kept.acts.clone().into_tensor_arg(),
                dxp.clone().into_tensor_arg(),
                dhp.clone().into_tensor_arg(),
                dh0.clone().into_tensor_arg(),
                dc0.clone().into_tensor_arg(),
                code,
                hidden,
                kept.call.pass.reverse,
                kept.call.pass.all_steps,
            );
        }
    }
    let n = steps * batch;
    let dxp = rows(dxp, n);
    let dhp = if gru { rows(dhp, n) } else { dxp.clone() };
    // Sums over every step and row: a product with the transposed inputs, or a column sum.
    let wgrad = |input: CubeTensor, d: CubeTensor| {
        Cube::float_matmul(Cube::float_transpose(rows(input, n)), d)
    };
    let bgrad =
        |d: CubeTensor| Cube::float_reshape(Cube::float_sum_dim(d, 0), Shape::new([g_cols]));
    let dx = need_x.then(|| {
        let d = Cube::float_matmul(dxp.clone(), Cube::float_transpose(kept.w_ih.clone()));
        Cube::float_reshape(d, Shape::new([steps, batch, input]))
    });
    [
        dx,
        Some(dh0),
        Some(dc0),
        Some(wgrad(kept.x.clone(), dxp.clone())),
        Some(wgrad(kept.hp.clone(), dhp.clone())),
        Some(bgrad(dxp)),
        Some(bgrad(dhp)),
    ]
}
