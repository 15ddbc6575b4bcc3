//! k-Shape speed and quality beside tslearn's `KShape`, on the same data in the same run.
//!
//! `cargo run --release --example kshape_bench -- DATA [--runs N] [--n-init N] [--peer PYTHON]`
//!
//! Times `seqae_latent::KShape` (seeds 0..runs, `--n-init` restarts each, at most 100
//! iterations) on DATA (train and test merged, k = the number of labels) and scores NMI. With
//! `--peer PYTHON`, runs `examples/kshape_peer.py` (tslearn's `KShape` with the same seeds,
//! restarts and iteration limit, on the same z-normalised series) and prints both side by
//! side with the ratio, then one JSON line. The seqae half needs no Python.
use seqae::data::{ReadOptions, read_path};
use seqae::latent::{KShape, metrics};
use std::process::Command;
use std::time::Instant;

/// One side's figures.
struct Side {
    seconds: Vec<f64>,
    nmi: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = args
        .first()
        .ok_or("usage: kshape_bench DATA [--runs N] [--n-init N] [--peer PYTHON]")?;
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let runs: usize = flag("--runs").map_or(Ok(3), |v| v.parse())?;
    let n_init: usize = flag("--n-init").map_or(Ok(1), |v| v.parse())?;
    let set = read_path(data, &ReadOptions::default())?;
    let labels = set.label_indices().ok_or("DATA has no labels")?;
    let k = set.class_names().len();
    let mut ours = Side {
        seconds: Vec::new(),
        nmi: Vec::new(),
    };
    for seed in 0..runs as u64 {
        let start = Instant::now();
        let model = KShape::new(k)
            .with_n_init(n_init)
            .with_seed(seed)
            .fit(&set)?;
        ours.seconds.push(start.elapsed().as_secs_f64());
        ours.nmi.push(metrics::nmi(&labels, model.labels())?);
    }
    let peer = match flag("--peer") {
        None => None,
        Some(python) => {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kshape_peer.py");
            let out = Command::new(python)
                .args([script, data, &runs.to_string(), &n_init.to_string()])
                .output()?;
            if !out.status.success() {
                return Err(
                    format!("peer failed: {}", String::from_utf8_lossy(&out.stderr)).into(),
                );
            }
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            let list = |key: &str| -> Vec<f64> {
                v[key].as_array().map_or(Vec::new(), |a| {
                    a.iter().filter_map(|x| x.as_f64()).collect()
                })
            };
            Some(Side {
                seconds: list("seconds"),
                nmi: list("nmi"),
            })
        }
    };
    let s = set.summary();
    println!(
        "{data}: {} sequences, {} channels, length {}..{}, k = {k}; {runs} runs, n_init {n_init}, {} threads",
        s.n,
        s.channels,
        s.min_len,
        s.max_len,
        rayon::current_num_threads()
    );
    println!("| | median s per fit | mean NMI |");
    println!("|---|---|---|");
    println!(
        "| seqae KShape | {:.3} | {:.3} |",
        median(&ours.seconds),
        mean(&ours.nmi)
    );
    if let Some(p) = &peer {
        println!(
            "| tslearn KShape | {:.3} | {:.3} |",
            median(&p.seconds),
            mean(&p.nmi)
        );
        println!(
            "| ratio (tslearn / seqae time) | {:.1}x | |",
            median(&p.seconds) / median(&ours.seconds)
        );
    }
    let json = serde_json::json!({
        "data": data, "n": s.n, "k": k, "runs": runs, "n_init": n_init,
        "seqae": {"seconds": ours.seconds, "nmi": ours.nmi},
        "tslearn": peer.as_ref().map(|p| serde_json::json!({"seconds": p.seconds, "nmi": p.nmi})),
    });
    println!("{json}");
    Ok(())
}
