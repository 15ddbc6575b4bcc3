//! The machine's own single-precision matrix-product speed, measured in the run: the yardstick
//! against which a benchmark states what fraction of the CPU's peak a kernel reaches.
use gemm::Parallelism;
use std::time::Instant;

/// GFLOP/s of the best of `repeats` products `c = a b` of `n x n` float32 matrices (after one
/// warm-up), computed by the `gemm` crate (which picks AVX-512, AVX2 or portable code for the
/// CPU) on `threads` threads of the current rayon pool.
pub fn sgemm_gflops(n: usize, threads: usize, repeats: usize) -> f64 {
    let n = n.max(1);
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.25 - 0.75).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
    let mut c = vec![0.0f32; n * n];
    let parallelism = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    let mut best = f64::INFINITY;
    for round in 0..=repeats.max(1) {
        let start = Instant::now();
        // SAFETY: a, b and c hold n x n values each, row-major (row stride n, column stride
        // 1), and c aliases neither input.
        unsafe {
            gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                n as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                parallelism,
            );
        }
        if round > 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    std::hint::black_box(&c);
    2.0 * (n as f64).powi(3) / best * 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_positive_finite_rate() {
        let g = sgemm_gflops(64, 1, 1);
        assert!(g.is_finite() && g > 0.0, "{g}");
    }
}
