use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seqae_latent::{KMeans, Matrix};
use std::time::Instant;
fn main() {
    let (rows, cols, k) = (100_000, 32, 10);
    let mut rng = StdRng::seed_from_u64(2024);
    let centres: Vec<f32> = (0..k * cols)
        .map(|_| rng.random_range(-2.0f32..2.0))
        .collect();
    let mut data = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for &cv in &centres[(i % k) * cols..(i % k + 1) * cols] {
            let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            let u2: f64 = rng.random();
            data.push(
                cv + ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32,
            );
        }
    }
    let m = Matrix::new(data, rows, cols).unwrap();
    for (ni, mi) in [(1, 1), (10, 1), (1, 300), (10, 300)] {
        for _ in 0..2 {
            let t = Instant::now();
            let r = KMeans::new(k)
                .with_n_init(ni)
                .with_max_iter(mi)
                .fit(&m)
                .unwrap();
            println!(
                "n_init {ni} max_iter {mi}: {:.4}s n_iter {} inertia {}",
                t.elapsed().as_secs_f64(),
                r.n_iter(),
                r.inertia()
            );
        }
    }
}
