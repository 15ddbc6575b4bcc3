//! The fused recurrence on host buffers: forward with saved activations, and backpropagation
//! through time. One generic loop serves the three cells through [`CellMath`].
//!
//! Layouts (row-major): inputs `x` `[T, B, C]`, mask `[T, B]` (1 = valid step; a padded step
//! carries the state), states `[B, H]`, `w_ih` `[C, G*H]`, `w_hh` `[H, G*H]`, biases `[G*H]`.
//! The batch rows are independent, so each worker runs the whole sequence for a block of rows.
//!
//! Each step is one product `[x_t | h] F + f` with both weight matrices stacked into `F`
//! (`(C + H)` rows) and the two biases summed into `f`, whose columns are regrouped
//! ([`layout::Layout`]): a block of 32 columns holds every pre-activation of `U = 32 / GROUPS`
//! hidden units. The cell is applied to each register tile of the product as soon as it is
//! summed, so pre-activations never go to memory. The backward pass sums the weight gradients
//! per worker, a chunk of rows at a time while they are in cache.
//!
//! Modules: [`cells`] (the cells' maths), [`layout`] (sizes, the fused weight layout),
//! [`buffers`] (the buffers workers fill), [`forward`], `lstm_avx512` (the LSTM's forward
//! cell on the AVX-512 path), `projection` (an output projection folded into the call),
//! [`backward`], `warm` (the pool's threads kept awake between calls).

/// Runs `$body::<M, P>(p, job, r0, nb)` for rows `r0..r0 + nb` on the path `isa` asks for: on
/// the AVX-512 and AVX2 paths inside a wrapper compiled for them (the body is inlined into it).
macro_rules! on_path {
    ($isa:expr, $body:ident::<$m:ty>($job:ty, $j:expr, $r0:expr, $nb:expr) -> $ret:ty) => {{
        #[cfg(target_arch = "x86_64")]
        if let Some(token) = $isa.avx512() {
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn run<M: CellMath>(token: seqae_simd::Avx512, j: &$job, r0: usize, nb: usize) -> $ret {
                $body::<M, seqae_simd::Avx512>(token, j, r0, nb)
            }
            // SAFETY: the token proves that the CPU has AVX-512F, AVX2 and FMA.
            return unsafe { run::<$m>(token, $j, $r0, $nb) };
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(token) = $isa.avx2_fma() {
            #[target_feature(enable = "avx2,fma")]
            fn run<M: CellMath>(
                token: seqae_simd::Avx2Fma,
                j: &$job,
                r0: usize,
                nb: usize,
            ) -> $ret {
                $body::<M, seqae_simd::Avx2Fma>(token, j, r0, nb)
            }
            // SAFETY: the token proves that the CPU has AVX2 and FMA.
            return unsafe { run::<$m>(token, $j, $r0, $nb) };
        }
        $body::<$m, seqae_simd::Portable>(seqae_simd::Portable, $j, $r0, $nb)
    }};
}

pub mod backward;
pub mod buffers;
pub mod cells;
pub mod forward;
pub mod layout;
#[cfg(target_arch = "x86_64")]
mod lstm_avx512;
mod projection;
mod warm;

pub use backward::{Grads, backward};
pub use cells::{CellMath, Gru, Lstm, Rnn};
pub use forward::{Saved, forward};
pub use layout::{Dims, Projection, Weights};

use layout::Layout;

/// Which way a fused call runs and what it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pass {
    /// Process the steps in reverse time order.
    pub reverse: bool,
    /// Return the state after every step (else the final states only); a folded output
    /// projection needs it, and then returns the projected outputs of every step instead.
    pub all_steps: bool,
}

/// What both passes read of the sequence batch.
#[derive(Clone, Copy)]
struct Sequences<'a> {
    l: Layout,
    steps: usize,
    batch: usize,
    x: &'a [f32],
    mask: &'a [f32],
    pass: Pass,
}

impl<'a> Sequences<'a> {
    fn new(l: Layout, d: Dims, (x, mask): (&'a [f32], &'a [f32]), pass: Pass) -> Self {
        Sequences {
            l,
            steps: d.steps,
            batch: d.batch,
            x,
            mask,
            pass,
        }
    }

    /// The block of `y` (of `B` rows) that holds the final LSTM cell state: its last.
    fn cell_block(&self) -> usize {
        output_blocks(self.steps, self.pass.all_steps) - 1
    }

    /// The time index of processing step `k`.
    fn time(&self, k: usize) -> usize {
        if self.pass.reverse {
            self.steps - 1 - k
        } else {
            k
        }
    }
}

/// Blocks of `B` rows in [`forward`]'s `y`: every step and the final cell state with
/// `all_steps`, else the final hidden and cell states.
fn output_blocks(steps: usize, all_steps: bool) -> usize {
    if all_steps { steps + 1 } else { 2 }
}

/// The shape of [`forward`]'s `y`: `[T, B, K]` with a folded projection of `K` outputs, else
/// [`output_blocks`] of `[B, H]`.
pub fn output_shape(d: Dims, pass: Pass, projected: Option<usize>) -> [usize; 3] {
    match projected {
        Some(k) => [d.steps, d.batch, k],
        None => [output_blocks(d.steps, pass.all_steps), d.batch, d.hidden],
    }
}

/// Blocks of batch rows, one per worker (at least 8 rows each).
fn row_blocks(batch: usize) -> Vec<(usize, usize)> {
    let workers = rayon::current_num_threads().min(batch.div_ceil(8)).max(1);
    let per = batch.div_ceil(workers);
    (0..batch)
        .step_by(per)
        .map(|r| (r, per.min(batch - r)))
        .collect()
}
