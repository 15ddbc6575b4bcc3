//! seqae-latent vs scikit-learn: k-means (k = 10, n_init = 10) and PCA on a 100,000 x 32 matrix.
//!
//! ```text
//! cargo run --release -p seqae-latent --example latent_bench -- [--peers PYTHON] [--rows N]
//!     [--cols D] [--k K] [--n-init N] [--n-components C] [--repeats R]
//! ```
//! `--peers` (or env `SEQAE_PEERS`, a python executable or a venv directory) runs
//! `fixtures/sklearn_bench.py` on the same matrix in the same run; without it only seqae is
//! timed. Times are the best of `--repeats` runs; k-means run r uses seed r on both sides.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seqae_latent::{KMeans, Matrix, Pca};

struct Args {
    rows: usize,
    cols: usize,
    k: usize,
    n_init: usize,
    n_components: usize,
    repeats: usize,
    peers: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        rows: 100_000,
        cols: 32,
        k: 10,
        n_init: 10,
        n_components: 2,
        repeats: 3,
        peers: std::env::var_os("SEQAE_PEERS").map(PathBuf::from),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |s: String| s.parse::<usize>().map_err(|e| format!("{s}: {e}"));
        match flag.as_str() {
            "--rows" => a.rows = num(val()?)?,
            "--cols" => a.cols = num(val()?)?,
            "--k" => a.k = num(val()?)?,
            "--n-init" => a.n_init = num(val()?)?,
            "--n-components" => a.n_components = num(val()?)?,
            "--repeats" => a.repeats = num(val()?)?.max(1),
            "--peers" => a.peers = Some(PathBuf::from(val()?)),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

/// Deterministic, overlapping blobs: `k` centres uniform in [-2, 2]^cols, points = centre + N(0, 1).
fn make_data(rows: usize, cols: usize, k: usize) -> Matrix {
    let mut rng = StdRng::seed_from_u64(2024);
    let centres: Vec<f32> = (0..k * cols)
        .map(|_| rng.random_range(-2.0f32..2.0))
        .collect();
    let mut data = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        let c = &centres[(i % k) * cols..(i % k + 1) * cols];
        for &cv in c {
            // Box-Muller
            let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            let u2: f64 = rng.random();
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            data.push(cv + z as f32);
        }
    }
    Matrix::new(data, rows, cols).expect("finite data")
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn python_of(p: PathBuf) -> PathBuf {
    if p.is_dir() { p.join("bin/python") } else { p }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("latent_bench: {e}");
            std::process::exit(2);
        }
    };
    let m = make_data(args.rows, args.cols, args.k);
    println!(
        "matrix {} x {}, k-means k = {} n_init = {}, PCA n_components = {}, best of {} runs, {} rayon threads",
        args.rows,
        args.cols,
        args.k,
        args.n_init,
        args.n_components,
        args.repeats,
        rayon::current_num_threads()
    );

    let mut km_t = Vec::new();
    let mut km_inertia = Vec::new();
    let mut km_iter = Vec::new();
    for r in 0..args.repeats {
        let t0 = Instant::now();
        let model = KMeans::new(args.k)
            .with_n_init(args.n_init)
            .with_seed(r as u64)
            .fit(&m)
            .expect("k-means");
        km_t.push(t0.elapsed().as_secs_f64());
        km_inertia.push(model.inertia());
        km_iter.push(model.n_iter());
    }
    let mut pca_t = Vec::new();
    let mut evr = Vec::new();
    for _ in 0..args.repeats {
        let t0 = Instant::now();
        let (model, y) = Pca::new(args.n_components).fit_transform(&m).expect("pca");
        pca_t.push(t0.elapsed().as_secs_f64());
        assert_eq!(y.shape(), (args.rows, args.n_components));
        evr = model.explained_variance_ratio().to_vec();
    }

    let sk: Option<serde_json::Value> = args.peers.map(|p| {
        let python = python_of(p);
        let path =
            std::env::temp_dir().join(format!("seqae_latent_bench_{}.f32", std::process::id()));
        let bytes: Vec<u8> = m.as_slice().iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&path, bytes).expect("write temp matrix");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sklearn_bench.py");
        let out = Command::new(&python)
            .arg(&script)
            .arg(&path)
            .args(
                [
                    args.rows,
                    args.cols,
                    args.k,
                    args.n_init,
                    args.n_components,
                    args.repeats,
                ]
                .map(|v| v.to_string()),
            )
            .output();
        let _ = std::fs::remove_file(&path);
        let out = out.unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        if !out.status.success() {
            panic!(
                "sklearn_bench.py failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let line = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(line.trim()).expect("sklearn_bench.py JSON")
    });

    let f = |v: &serde_json::Value, key: &str| -> Vec<f64> {
        v[key]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default()
    };
    let (sk_km, sk_pca) = sk.as_ref().map_or((None, None), |v| {
        (Some(min(&f(v, "kmeans_s"))), Some(min(&f(v, "pca_s"))))
    });
    let (ours_km, ours_pca) = (min(&km_t), min(&pca_t));
    let ratio = |ours: f64, theirs: Option<f64>| theirs.map(|t| t / ours);
    let show =
        |v: Option<f64>, w: usize| v.map_or(format!("{:>w$}", "-"), |x| format!("{x:>w$.3}"));

    println!();
    println!("| task                         | seqae (s) | sklearn (s) | sklearn/seqae |");
    println!("|------------------------------|-----------|-------------|---------------|");
    println!(
        "| k-means k={:<3} n_init={:<3}     | {:>9.3} | {} | {} |",
        args.k,
        args.n_init,
        ours_km,
        show(sk_km, 11),
        show(ratio(ours_km, sk_km), 13)
    );
    println!(
        "| PCA fit+transform, {:>3} comps | {:>9.3} | {} | {} |",
        args.n_components,
        ours_pca,
        show(sk_pca, 11),
        show(ratio(ours_pca, sk_pca), 13)
    );
    println!("(sklearn/seqae > 1 means seqae is faster)");
    println!();
    println!(
        "seqae   k-means inertia per run {:?}, n_iter of best run {:?}",
        km_inertia, km_iter
    );
    if let Some(v) = &sk {
        println!(
            "sklearn k-means inertia per run {:?}, n_iter of best run {} (sklearn {}, PCA solver {})",
            f(v, "kmeans_inertia"),
            v["kmeans_n_iter"],
            v["sklearn"].as_str().unwrap_or("?"),
            v["pca_solver"].as_str().unwrap_or("?")
        );
        println!(
            "PCA explained variance ratio: seqae {:?}, sklearn {:?}",
            evr,
            f(v, "pca_evr")
        );
    } else {
        println!(
            "PCA explained variance ratio: seqae {evr:?} (no --peers / SEQAE_PEERS: sklearn not run)"
        );
    }
    let json = serde_json::json!({
        "bench": "seqae-latent",
        "rows": args.rows,
        "cols": args.cols,
        "threads": rayon::current_num_threads(),
        "kmeans": {
            "k": args.k, "n_init": args.n_init,
            "seqae_s": ours_km, "sklearn_s": sk_km,
            "sklearn_over_seqae": ratio(ours_km, sk_km),
            "seqae_runs_s": km_t, "seqae_inertia": km_inertia,
            "sklearn_runs_s": sk.as_ref().map(|v| f(v, "kmeans_s")),
            "sklearn_inertia": sk.as_ref().map(|v| f(v, "kmeans_inertia")),
        },
        "pca": {
            "n_components": args.n_components,
            "seqae_s": ours_pca, "sklearn_s": sk_pca,
            "sklearn_over_seqae": ratio(ours_pca, sk_pca),
            "seqae_runs_s": pca_t,
            "sklearn_runs_s": sk.as_ref().map(|v| f(v, "pca_s")),
        },
    });
    println!("{json}");
}
