//! The recurrence as two CubeCL kernels, each one launch per layer and direction: a cube
//! (workgroup) runs every step of one batch row, with the state in shared memory and two
//! barriers per step forward, one backward (batch rows are independent, so no cube waits on
//! another). Forward, the cube's units first stride over the gate columns (one dot product
//! of the hidden state each), then over the hidden units (the cell); backward, over the
//! hidden units. The launches are unchecked: [`super`] allocates every tensor the kernels
//! index and checks the shapes of those it is given.
//!
//! Layouts (row-major, contiguous): `xw` `[T * B, G]` is `x w_ih` without its bias, `mask`
//! `[T, B]` (1 = valid step; a padded step carries the state), states `[B, H]`, `w_hh`
//! `[H, G]`, biases `[G]`, with `G = gates * H` in the cell's gate blocks: RNN `a`; LSTM
//! `i, f, g, o`; GRU `r, z, n`. The maths is [`crate::fused::host::cells`]'s, step for step.
// A kernel's value set in one of its cell's branches starts as a placeholder.
#![allow(unused_assignments)]
use cubecl::prelude::*;

/// [`forward`]'s and [`backward`]'s `cell`: the vanilla cell.
pub const RNN: u32 = 0;
/// See [`RNN`]: the LSTM.
pub const LSTM: u32 = 1;
/// See [`RNN`]: the GRU.
pub const GRU: u32 = 2;

/// Gate blocks of `H` columns in the weights of `cell`.
pub fn gates(cell: u32) -> usize {
    match cell {
        RNN => 1,
        LSTM => 4,
        _ => 3,
    }
}

/// Bytes of shared memory a cube of [`forward`] or [`backward`] takes for `hidden` units:
/// forward the hidden state twice, the cell state and the gates' recurrent pre-activations;
/// backward the gradients of both states and the pre-activations' twice.
pub fn shared_bytes(cell: u32, hidden: usize) -> usize {
    let gate_cols = gates(cell) * hidden;
    4 * (3 * hidden + gate_cols).max(2 * hidden + 2 * gate_cols)
}

/// Blocks of `H` values saved per row and step for the backward pass: RNN `h'`; LSTM
/// `i, f, g, o, tanh(c')`; GRU `r, z, n, hn` (`hn` the recurrent part of the candidate).
pub fn saved(cell: u32) -> usize {
    match cell {
        RNN => 1,
        LSTM => 5,
        _ => 4,
    }
}

/// `1 / (1 + e^-x)`, exact at both ends (`e^-x` overflowing to infinity gives 0).
#[cube]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `tanh` as `1 - 2 / (e^2x + 1)`: ±1 at both ends, where the quotient form gives NaN once
/// `e^2x` overflows.
#[cube]
fn tanh_(x: f32) -> f32 {
    1.0 - 2.0 / ((2.0 * x).exp() + 1.0)
}

/// The batch row of this cube; a spare cube (a grid of more cubes than rows has a few at its
/// end) stops here.
#[cube]
fn cube_row(batch: usize) -> usize {
    let b = CUBE_POS;
    if b >= batch {
        terminate!();
    }
    b
}

/// The forward pass of one batch row per cube (`CUBE_POS`): writes `y`, `[T+1, B, H]` with
/// `all_steps` (the hidden state after each step in time order, then the final LSTM cell
/// state, zeros for other cells), else `[2, B, H]` (the final hidden and cell states). With
/// `save` also `hp` (and `cp` for the LSTM) `[T, B, H]`, the state before each step in time
/// order, and `acts` `[T, B, saved * H]` ([`saved`]); they are placeholders otherwise.
#[allow(clippy::too_many_arguments)]
#[cube(launch_unchecked)]
pub fn forward(
    xw: &Tensor<f32>,
    mask: &Tensor<f32>,
    h0: &Tensor<f32>,
    c0: &Tensor<f32>,
    w_hh: &Tensor<f32>,
    b_ih: &Tensor<f32>,
    b_hh: &Tensor<f32>,
    y: &mut Tensor<f32>,
    hp: &mut Tensor<f32>,
    cp: &mut Tensor<f32>,
    acts: &mut Tensor<f32>,
    #[comptime] cell: u32,
    #[comptime] hidden: usize,
    #[comptime] reverse: bool,
    #[comptime] all_steps: bool,
    #[comptime] save: bool,
) {
    let (steps, batch) = (mask.shape(0), mask.shape(1));
    let b = cube_row(batch);
    let stride = CUBE_DIM_X as usize;
    let h = hidden;
    let g_cols = comptime!(gates(cell) * hidden);
    let n_saved = comptime!(saved(cell) * hidden);
    // The hidden state in two halves (read one, write the other, swap each step), the LSTM
    // cell state (each unit's own, read and written by one thread) and the step's recurrent
    // pre-activations `h w_hh + b_hh`.
    let mut hs = Shared::<[f32]>::new_slice(2 * hidden);
    let mut cs = Shared::<[f32]>::new_slice(hidden);
    let mut rec = Shared::<[f32]>::new_slice(comptime!(gates(cell) * hidden));
    let mut j = UNIT_POS_X as usize;
    while j < h {
        hs[j] = h0[b * h + j];
        cs[j] = c0[b * h + j];
        j += stride;
    }
    sync_cube();
    let mut cur = 0usize;
    for s in 0..steps {
        let t = if reverse { steps - 1 - s } else { s };
        let row = t * batch + b;
        let m = mask[row];
        let nxt = h - cur;
        let xr = row * g_cols;
        let mut col = UNIT_POS_X as usize;
        while col < g_cols {
            let mut a = b_hh[col];
            for k in 0..h {
                a += hs[cur + k] * w_hh[k * g_cols + col];
            }
            rec[col] = a;
            col += stride;
        }
        sync_cube();
        let mut j = UNIT_POS_X as usize;
        while j < h {
            let hprev = hs[cur + j];
            let mut hnew = 0.0f32;
            if comptime!(cell == RNN) {
                hnew = tanh_(xw[xr + j] + b_ih[j] + rec[j]);
                if save {
                    acts[row * n_saved + j] = hnew;
                }
            } else if comptime!(cell == LSTM) {
                let i = sigmoid(xw[xr + j] + b_ih[j] + rec[j]);
                let f = sigmoid(xw[xr + h + j] + b_ih[h + j] + rec[h + j]);
                let g = tanh_(xw[xr + 2 * h + j] + b_ih[2 * h + j] + rec[2 * h + j]);
                let o = sigmoid(xw[xr + 3 * h + j] + b_ih[3 * h + j] + rec[3 * h + j]);
                let cprev = cs[j];
                let cn = f * cprev + i * g;
                let tc = tanh_(cn);
                hnew = o * tc;
                cs[j] = cprev + m * (cn - cprev);
                if save {
                    let a = row * n_saved + j;
                    acts[a] = i;
                    acts[a + h] = f;
                    acts[a + 2 * h] = g;
                    acts[a + 3 * h] = o;
                    acts[a + 4 * h] = tc;
                    cp[row * h + j] = cprev;
                }
            } else {
                let r = sigmoid(xw[xr + j] + b_ih[j] + rec[j]);
                let z = sigmoid(xw[xr + h + j] + b_ih[h + j] + rec[h + j]);
                let hn = rec[2 * h + j];
                let cand = tanh_(xw[xr + 2 * h + j] + b_ih[2 * h + j] + r * hn);
                hnew = cand + z * (hprev - cand);
                if save {
                    let a = row * n_saved + j;
                    acts[a] = r;
                    acts[a + h] = z;
                    acts[a + 2 * h] = cand;
                    acts[a + 3 * h] = hn;
                }
            }
            let hb = hprev + m * (hnew - hprev);
            hs[nxt + j] = hb;
            if save {
                hp[row * h + j] = hprev;
            }
            if all_steps {
                y[row * h + j] = hb;
            }
            j += stride;
        }
        sync_cube();
        cur = nxt;
    }
    let mut j = UNIT_POS_X as usize;
    while j < h {
        let mut c = 0.0f32;
        if comptime!(cell == LSTM) {
            c = cs[j];
        }
        if all_steps {
            y[(steps * batch + b) * h + j] = c;
        } else {
            y[b * h + j] = hs[cur + j];
            y[(batch + b) * h + j] = c;
        }
        j += stride;
    }
}

/// The backward pass of one batch row per cube, from `dy` (the gradient of [`forward`]'s
/// `y`) and what it saved: writes `dxp` `[T, B, G]`, the gradient of the input side's
/// pre-activations `x w_ih + b_ih` (time order), for the GRU `dhp` `[T, B, G]`, that of the
/// recurrent side's `h w_hh + b_hh` (equal to `dxp` for the other cells, which get a
/// placeholder), and the initial states' `dh0`, `dc0` `[B, H]` (zeros but for the LSTM).
#[allow(clippy::too_many_arguments)]
#[cube(launch_unchecked)]
pub fn backward(
    dy: &Tensor<f32>,
    mask: &Tensor<f32>,
    w_hh_t: &Tensor<f32>,
    hp: &Tensor<f32>,
    cp: &Tensor<f32>,
    acts: &Tensor<f32>,
    dxp: &mut Tensor<f32>,
    dhp: &mut Tensor<f32>,
    dh0: &mut Tensor<f32>,
    dc0: &mut Tensor<f32>,
    #[comptime] cell: u32,
    #[comptime] hidden: usize,
    #[comptime] reverse: bool,
    #[comptime] all_steps: bool,
) {
    let (steps, batch) = (mask.shape(0), mask.shape(1));
    let b = cube_row(batch);
    let stride = CUBE_DIM_X as usize;
    let h = hidden;
    let g_cols = comptime!(gates(cell) * hidden);
    let n_saved = comptime!(saved(cell) * hidden);
    // The gradient of the hidden state after the step at hand (then of the state before it)
    // and the LSTM cell state's, each unit's own (one thread reads and writes it), and the
    // recurrent pre-activations' of the step in two halves (the step at `p`, the next at the
    // other), so that one barrier a step keeps a step's writes from the last one's reads.
    let mut dh = Shared::<[f32]>::new_slice(hidden);
    let mut dc = Shared::<[f32]>::new_slice(hidden);
    let mut dpre = Shared::<[f32]>::new_slice(comptime!(2 * gates(cell) * hidden));
    let mut p = 0usize;
    let mut j = UNIT_POS_X as usize;
    while j < h {
        if all_steps {
            dh[j] = 0.0;
            dc[j] = dy[(steps * batch + b) * h + j];
        } else {
            dh[j] = dy[b * h + j];
            dc[j] = dy[(batch + b) * h + j];
        }
        j += stride;
    }
    sync_cube();
    for s in 0..steps {
        // The forward pass's steps, last first.
        let t = if reverse { s } else { steps - 1 - s };
        let row = t * batch + b;
        let m = mask[row];
        let xr = row * g_cols;
        let a = row * n_saved;
        let mut j = UNIT_POS_X as usize;
        while j < h {
            let mut gsum = dh[j];
            if all_steps {
                gsum += dy[row * h + j];
            }
            // A padded step carries the state: its gradient passes straight through.
            let dnew = m * gsum;
            let mut dprev = (1.0 - m) * gsum;
            if comptime!(cell == RNN) {
                let v = acts[a + j];
                let da = dnew * (1.0 - v * v);
                dxp[xr + j] = da;
                dpre[p + j] = da;
            } else if comptime!(cell == LSTM) {
                let i = acts[a + j];
                let f = acts[a + h + j];
                let g = acts[a + 2 * h + j];
                let o = acts[a + 3 * h + j];
                let tc = acts[a + 4 * h + j];
                let gc = dc[j];
                let dcn = m * gc + dnew * o * (1.0 - tc * tc);
                dc[j] = (1.0 - m) * gc + dcn * f;
                let di = dcn * g * i * (1.0 - i);
                let df = dcn * cp[row * h + j] * f * (1.0 - f);
                let dg = dcn * i * (1.0 - g * g);
                let d_o = dnew * tc * o * (1.0 - o);
                dxp[xr + j] = di;
                dxp[xr + h + j] = df;
                dxp[xr + 2 * h + j] = dg;
                dxp[xr + 3 * h + j] = d_o;
                dpre[p + j] = di;
                dpre[p + h + j] = df;
                dpre[p + 2 * h + j] = dg;
                dpre[p + 3 * h + j] = d_o;
            } else {
                let r = acts[a + j];
                let z = acts[a + h + j];
                let cand = acts[a + 2 * h + j];
                let hn = acts[a + 3 * h + j];
                dprev += dnew * z;
                let dz = dnew * (hp[row * h + j] - cand) * z * (1.0 - z);
                let da = dnew * (1.0 - z) * (1.0 - cand * cand);
                let dr = da * hn * r * (1.0 - r);
                dxp[xr + j] = dr;
                dxp[xr + h + j] = dz;
                dxp[xr + 2 * h + j] = da;
                dhp[xr + j] = dr;
                dhp[xr + h + j] = dz;
                dhp[xr + 2 * h + j] = da * r;
                dpre[p + j] = dr;
                dpre[p + h + j] = dz;
                dpre[p + 2 * h + j] = da * r;
            }
            dh[j] = dprev;
            j += stride;
        }
        sync_cube();
        // Through the recurrent weights: dh_prev += dpre w_hh^T.
        let mut j = UNIT_POS_X as usize;
        while j < h {
            let mut acc = dh[j];
            for col in 0..g_cols {
                acc += dpre[p + col] * w_hh_t[col * h + j];
            }
            dh[j] = acc;
            j += stride;
        }
        p = g_cols - p;
    }
    let mut j = UNIT_POS_X as usize;
    while j < h {
        dh0[b * h + j] = dh[j];
        let mut c = 0.0f32;
        if comptime!(cell == LSTM) {
            c = dc[j];
        }
        dc0[b * h + j] = c;
        j += stride;
    }
}
