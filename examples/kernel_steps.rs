//! Times the fused recurrent kernels alone, on one thread, for every code path this CPU has:
//! one forward pass (with the saved activations) and one backward pass over a worker's block
//! of rows. Each figure is the fastest of `--reps` calls, the one least disturbed by other
//! processes; the paths take turns call by call, so that a slow spell of a shared machine falls
//! on all of them (the end-to-end speed beside PyTorch is `seqae bench`).
//!
//! `cargo run --release --example kernel_steps -- [--cell lstm|gru|rnn] [--rows 32] [--len 128]
//! [--dim 3] [--hidden 64] [--reps 30] [--encode] [--path avx512] [--json]`; with `--encode`,
//! the forward pass only, as encoding runs it (final states, nothing saved); with `--path`,
//! that path only (for a profile of one path).
use seqae::model::Isa;
use seqae::model::fused::host::{CellMath, Dims, Gru, Lstm, Pass, Rnn, Weights, backward, forward};
use std::time::Instant;

/// Sizes and repetitions from the command line.
struct Options {
    cell: String,
    rows: usize,
    len: usize,
    dim: usize,
    hidden: usize,
    reps: usize,
    encode: bool,
    json: bool,
    /// The one path to run (else every path the CPU has).
    path: Option<Isa>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        cell: "lstm".into(),
        rows: 32,
        len: 128,
        dim: 3,
        hidden: 64,
        reps: 30,
        encode: false,
        json: false,
        path: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--json" || flag == "--encode" {
            (o.json, o.encode) = (o.json || flag == "--json", o.encode || flag == "--encode");
            continue;
        }
        let value = args.next().ok_or(format!("{flag}: needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .ok()
                .filter(|&v| v > 0)
                .ok_or(format!("{flag} {value}: not a positive whole number"))
        };
        match flag.as_str() {
            "--cell" => o.cell = value.clone(),
            "--rows" => o.rows = number()?,
            "--len" => o.len = number()?,
            "--dim" => o.dim = number()?,
            "--hidden" => o.hidden = number()?,
            "--reps" => o.reps = number()?,
            "--path" => {
                let isa = Isa::from_name(&value)
                    .ok_or(format!("--path {value}: not portable, avx2 or avx512"))?;
                if !isa.supported() {
                    return Err(format!("--path {value}: this CPU lacks it"));
                }
                o.path = Some(isa);
            }
            _ => return Err(format!("{flag}: unknown option")),
        }
    }
    Ok(o)
}

/// A cell's timer: [`time`] for one cell.
type Timer = fn(&Options, Isa) -> (f64, f64);

/// Seconds of one forward and one backward call of cell `M` on `isa`.
fn time<M: CellMath>(o: &Options, isa: Isa) -> (f64, f64) {
    let d = Dims {
        steps: o.len,
        batch: o.rows,
        input: o.dim,
        hidden: o.hidden,
    };
    let gh = M::GATES * o.hidden;
    // Small deterministic values, the scale of trained weights.
    let fill = |n: usize, seed: usize| -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.2)
            .collect()
    };
    let x = fill(o.len * o.rows * o.dim, 1);
    let mask = vec![1.0f32; o.len * o.rows];
    let h0 = vec![0.0f32; o.rows * o.hidden];
    let (w_ih, w_hh) = (fill(o.dim * gh, 2), fill(o.hidden * gh, 3));
    let (b_ih, b_hh) = (fill(gh, 4), fill(gh, 5));
    let w = Weights {
        w_ih: &w_ih,
        w_hh: &w_hh,
        b_ih: &b_ih,
        b_hh: &b_hh,
        out: None,
    };
    let pass = Pass {
        reverse: false,
        all_steps: !o.encode,
    };
    let dy = fill((o.len + 1) * o.rows * o.hidden, 6);
    let start = Instant::now();
    let (y, saved) = forward::<M>(d, &x, &mask, &h0, &h0, w, pass, !o.encode, isa);
    let fwd = start.elapsed().as_secs_f64();
    std::hint::black_box(y);
    if o.encode {
        return (fwd, f64::NAN);
    }
    let start = Instant::now();
    let g = backward::<M>(d, &x, &mask, w, &saved, &dy, pass, false, isa);
    let bwd = start.elapsed().as_secs_f64();
    std::hint::black_box(g);
    (fwd, bwd)
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kernel_steps: {e}");
            std::process::exit(2);
        }
    };
    let (timer, gates): (Timer, usize) = match o.cell.as_str() {
        "lstm" => (time::<Lstm>, Lstm::GATES),
        "gru" => (time::<Gru>, Gru::GATES),
        "rnn" => (time::<Rnn>, Rnn::GATES),
        other => {
            eprintln!("kernel_steps: --cell {other}: not lstm, gru or rnn");
            std::process::exit(2);
        }
    };
    // One worker: the kernels split the rows over the rayon pool.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("the global pool is built once, here");
    // The model's product work, as `seqae bench` counts it: 2 G H (C + H) per row and step
    // forward, twice that backward.
    let flops = 2.0 * (gates * o.hidden * (o.dim + o.hidden) * o.rows * o.len) as f64;
    if !o.json {
        println!(
            "cell={} rows={} len={} dim={} hidden={} reps={} (fastest call, one thread)",
            o.cell, o.rows, o.len, o.dim, o.hidden, o.reps
        );
        println!(
            "{:<9} {:>12} {:>12} {:>14} {:>14}",
            "path", "forward ms", "backward ms", "fwd GFLOP/s", "bwd GFLOP/s"
        );
    }
    let paths: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|i| i.supported() && o.path.is_none_or(|p| p == *i))
        .collect();
    let mut best = vec![(f64::INFINITY, f64::INFINITY); paths.len()];
    for _ in 0..o.reps {
        for (isa, best) in paths.iter().zip(&mut best) {
            let (f, b) = timer(&o, *isa);
            *best = (best.0.min(f), best.1.min(b));
        }
    }
    for isa in Isa::ALL.into_iter().filter(|i| !i.supported()) {
        if !o.json {
            println!("{:<9} not run: this CPU lacks it", isa.name());
        }
    }
    for (isa, &(f, b)) in paths.iter().zip(&best) {
        // `--encode` runs no backward pass.
        let b = if o.encode { f64::NAN } else { b };
        let (fg, bg) = (flops / f * 1e-9, 2.0 * flops / b * 1e-9);
        if o.json {
            // `null` for the backward pass that `--encode` leaves out (NaN is not JSON).
            let json = |v: f64| {
                if v.is_finite() {
                    v.to_string()
                } else {
                    "null".into()
                }
            };
            println!(
                "{{\"cell\":\"{}\",\"isa\":\"{}\",\"encode\":{},\"forward_s\":{f},\"backward_s\":{},\"forward_gflop_per_s\":{fg},\"backward_gflop_per_s\":{}}}",
                o.cell,
                isa.name(),
                o.encode,
                json(b),
                json(bg)
            );
        } else {
            let (b, bg) = if o.encode {
                ("-".to_string(), "-".to_string())
            } else {
                (format!("{:.3}", b * 1e3), format!("{bg:.1}"))
            };
            println!(
                "{:<9} {:>12.3} {:>12} {:>14.1} {:>14}",
                isa.name(),
                f * 1e3,
                b,
                fg,
                bg
            );
        }
    }
}
