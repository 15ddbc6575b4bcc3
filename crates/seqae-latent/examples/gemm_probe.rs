use rayon::prelude::*;
use std::time::Instant;
fn pass(
    x: &[f32],
    c: &[f32],
    n: usize,
    d: usize,
    k: usize,
    tile: usize,
    read: bool,
    par: bool,
) -> f32 {
    let nb = 64;
    let per = n.div_ceil(nb);
    let f = |b: usize| {
        let (s0, e0) = ((b * per).min(n), ((b + 1) * per).min(n));
        let mut out = vec![0f32; tile * k];
        let mut s = 0f32;
        let mut start = s0;
        while start < e0 {
            let end = (start + tile).min(e0);
            let m = end - start;
            unsafe {
                gemm::gemm(
                    m,
                    k,
                    d,
                    out.as_mut_ptr(),
                    1,
                    k as isize,
                    read,
                    x[start * d..].as_ptr(),
                    1,
                    d as isize,
                    c.as_ptr(),
                    d as isize,
                    1,
                    1.0f32,
                    -2.0f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            s += out[0];
            start = end;
        }
        s
    };
    if par {
        (0..nb).into_par_iter().map(f).sum()
    } else {
        (0..nb).map(f).sum()
    }
}
fn main() {
    let (n, d, k) = (100_000usize, 32usize, 10usize);
    let x: Vec<f32> = (0..n * d)
        .map(|i| ((i * 7919) % 1000) as f32 * 0.001)
        .collect();
    let c: Vec<f32> = (0..k * d).map(|i| ((i * 31) % 100) as f32 * 0.01).collect();
    for &(read, par) in &[(false, false), (true, false), (false, true), (true, true)] {
        for tile in [256usize, 2048] {
            let t = Instant::now();
            let mut s = 0f32;
            for _ in 0..20 {
                s += pass(&x, &c, n, d, k, tile, read, par);
            }
            println!(
                "read {read} par {par} tile {tile}: {:.2} ms per pass ({s})",
                t.elapsed().as_secs_f64() * 50.0
            );
        }
    }
}
