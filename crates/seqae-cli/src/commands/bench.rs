//! `seqae bench`: trains the PyTorch benchmark's model (encoder -> latent -> decoder fed the
//! reversed target, teacher forcing) on its synthetic sines with Adam and clipping, after one
//! warm-up epoch, then encodes in batches of 256; prints sequences per second and peak memory,
//! and with `--peer` runs the PyTorch script in the same process tree for a side-by-side table.
use crate::args::BenchArgs;
use crate::error::{CliError, CliResult};
use seqae_data::Normalization;
use seqae_data::synthetic::Synthetic;
use seqae_model::{
    Backend, Cell, DecoderInput, ModelConfig, Patch, RunOptions, TrainConfig, Trainer,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What one benchmark run measured.
#[derive(Clone, Debug, Default)]
struct Measured {
    train: f64,
    encode: f64,
    peak_mib: Option<f64>,
    first_loss: f64,
    last_loss: f64,
    /// The side's own float32 matrix-product speed on 1024 x 1024 matrices, GFLOP/s.
    sgemm_gflops: Option<f64>,
}

/// One side's runs: each run as measured, and the median of each figure.
#[derive(Clone, Debug)]
struct Runs {
    each: Vec<Measured>,
    median: Measured,
}

impl Runs {
    fn new(each: Vec<Measured>) -> Runs {
        let of = |f: &dyn Fn(&Measured) -> Option<f64>| {
            let mut v: Vec<f64> = each.iter().filter_map(f).filter(|v| !v.is_nan()).collect();
            v.sort_by(f64::total_cmp);
            match v.len() {
                0 => None,
                n if n % 2 == 1 => Some(v[n / 2]),
                n => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
            }
        };
        let median = Measured {
            train: of(&|m| Some(m.train)).unwrap_or(f64::NAN),
            encode: of(&|m| Some(m.encode)).unwrap_or(f64::NAN),
            peak_mib: of(&|m| m.peak_mib),
            first_loss: of(&|m| Some(m.first_loss)).unwrap_or(f64::NAN),
            last_loss: of(&|m| Some(m.last_loss)).unwrap_or(f64::NAN),
            sgemm_gflops: of(&|m| m.sgemm_gflops),
        };
        Runs { each, median }
    }

    /// `min-max` of a figure over the runs.
    fn range(&self, f: impl Fn(&Measured) -> f64) -> String {
        let (lo, hi) = self
            .each
            .iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        format!("{lo:.0}-{hi:.0}")
    }
}

/// Side of the matrices whose product measures the machine's sgemm peak.
const PEAK_SIZE: usize = 1024;

/// Runs the command.
pub fn run(args: &BenchArgs) -> CliResult<()> {
    if args.n == 0
        || args.len == 0
        || args.dim == 0
        || args.batch == 0
        || args.epochs == 0
        || args.runs == 0
    {
        return Err(CliError::Input(
            "--n, --len, --dim, --batch, --epochs and --runs must be at least 1".into(),
        ));
    }
    let (cell, backend) = (args.cell, args.backend);
    // The device (a GPU that is missing fails here, before any work) and the kernel it runs.
    let device = backend.device_name()?;
    let kernel = args.kernel;
    // The peer's script is checked before the long run, so that a wrong path fails fast.
    let peer = match &args.peer {
        Some(python) => {
            let script = args.peer_script.as_deref().ok_or_else(|| {
                CliError::Input("--peer needs --peer-script (the PyTorch benchmark script)".into())
            })?;
            Some((python.clone(), peer_script(script)?))
        }
        None => None,
    };
    // (`commands::run` checked `--threads` and started the thread pool with it.)
    // The sides alternate, so that a slow spell of a shared machine falls on both.
    let (mut mine, mut peers) = (Vec::new(), Vec::new());
    // The CPU's sgemm is the yardstick of CPU runs only.
    let on_cpu = backend != Backend::Gpu;
    // Whether seqae's layers ran the fused kernel (a GPU whose shared memory is too small
    // for the model runs the reference layers).
    let mut fused = false;
    for _ in 0..args.runs {
        let (mut m, ran_fused) = bench(args, cell, backend)?;
        fused = ran_fused;
        if on_cpu {
            m.sgemm_gflops = Some(seqae_latent::peak::sgemm_gflops(PEAK_SIZE, args.threads, 5));
        }
        mine.push(m);
        if let Some((python, script)) = &peer {
            peers.push(run_peer(python, script, args)?);
        }
    }
    let all = Runs::new(mine);
    let peer_runs = (!peers.is_empty()).then(|| Runs::new(peers));
    let ours = &all.median;
    let theirs = peer_runs.as_ref().map(|r| &r.median);
    let (train_flops, encode_flops) = recurrent_flops(cell, args);
    // The peak is the faster of the two sides' own sgemm: the fraction is then never flattered
    // by a slow yardstick.
    let peak = std::iter::once(ours.sgemm_gflops)
        .chain(theirs.map(|t| t.sgemm_gflops))
        .flatten()
        .fold(f64::NAN, f64::max);
    let train_gflops = ours.train * train_flops * 1e-9;
    let encode_gflops = ours.encode * encode_flops * 1e-9;
    let cpu = cpu_model();
    let isa = seqae_model::Isa::best();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    if args.json {
        let side = |r: &Runs| {
            let m = &r.median;
            serde_json::json!({
                "train_seq_per_s": m.train,
                "encode_seq_per_s": m.encode,
                "peak_mib": m.peak_mib,
                "loss_first": m.first_loss,
                "loss_last": m.last_loss,
                "sgemm_gflop_per_s": m.sgemm_gflops,
                "train_seq_per_s_runs": r.each.iter().map(|m| m.train).collect::<Vec<_>>(),
                "encode_seq_per_s_runs": r.each.iter().map(|m| m.encode).collect::<Vec<_>>(),
            })
        };
        let mut v = side(&all);
        v["cell"] = cell.name().into();
        v["backend"] = backend.name().into();
        v["kernel"] = kernel.name().into();
        v["fused_layers"] = fused.into();
        v["device"] = device.clone().into();
        v["isa"] = isa.name().into();
        v["cpu"] = cpu.clone().into();
        v["threads"] = args.threads.into();
        v["runs"] = args.runs.into();
        v["train_recurrent_gflop_per_s"] = train_gflops.into();
        v["encode_recurrent_gflop_per_s"] = encode_gflops.into();
        v["sgemm_peak_gflop_per_s"] = peak.into();
        v["train_fraction_of_peak"] = (train_gflops / peak).into();
        v["encode_fraction_of_peak"] = (encode_gflops / peak).into();
        v["n"] = args.n.into();
        v["len"] = args.len.into();
        v["dim"] = args.dim.into();
        v["hidden"] = args.hidden.into();
        v["latent"] = args.latent.into();
        v["batch"] = args.batch.into();
        v["epochs"] = args.epochs.into();
        if let Some(r) = &peer_runs {
            let t = &r.median;
            v["peer"] = side(r);
            v["train_ratio"] = ratio(ours.train, t.train).into();
            v["encode_ratio"] = ratio(ours.encode, t.encode).into();
        }
        say!("{v}");
        return Ok(());
    }
    say!(
        "seqae {} {} device={device:?} kernel={} isa={} cell={} n={} len={} dim={} hidden={} latent={} batch={} epochs={} threads={} runs={}",
        env!("CARGO_PKG_VERSION"),
        backend.name(),
        kernel.name(),
        isa.name(),
        cell.name(),
        args.n,
        args.len,
        args.dim,
        args.hidden,
        args.latent,
        args.batch,
        args.epochs,
        args.threads,
        args.runs
    );
    let mib = |m: &Measured| m.peak_mib.map_or("?".to_string(), |v| format!("{v:.0}"));
    say!(
        "{:<10} {:>14} {:>14} {:>10} {:>18} {:>14} {:>14}",
        "median",
        "train seq/s",
        "encode seq/s",
        "peak MiB",
        "loss first->last",
        "train range",
        "encode range"
    );
    let row = |name: &str, r: &Runs| {
        let m = &r.median;
        say!(
            "{:<10} {:>14.0} {:>14.0} {:>10} {:>18} {:>14} {:>14}",
            name,
            m.train,
            m.encode,
            mib(m),
            format!("{:.4}->{:.4}", m.first_loss, m.last_loss),
            r.range(|m| m.train),
            r.range(|m| m.encode)
        )
    };
    row("seqae", &all);
    let gflops = |rate: f64, flops: f64| format!("{:.1}", rate * flops * 1e-9);
    if let Some(r) = &peer_runs {
        let t = &r.median;
        row("pytorch", r);
        let mem = match (ours.peak_mib, t.peak_mib) {
            (Some(a), Some(b)) => format!("{:.2}", ratio(a, b)),
            _ => "?".into(),
        };
        say!(
            "{:<10} {:>14} {:>14} {:>10}",
            "ratio",
            format!("{:.2}x", ratio(ours.train, t.train)),
            format!("{:.2}x", ratio(ours.encode, t.encode)),
            mem
        );
    }
    if !on_cpu {
        let layers = match (kernel, fused) {
            (_, true) => "fused CubeCL kernels",
            (seqae_model::Kernel::Reference, false) => "burn tensor operations (reference)",
            (seqae_model::Kernel::Fused, false) => {
                "burn tensor operations (the fused kernels' state exceeds the GPU's shared memory)"
            }
        };
        say!("device: {device}; seqae layers: {layers}");
        say!(
            "recurrent GEMM work: training {} GFLOP/s, encoding {} GFLOP/s (seqae)",
            gflops(ours.train, train_flops),
            gflops(ours.encode, encode_flops)
        );
        return Ok(());
    }
    say!("cpu: {cpu}; seqae kernels: {isa} path");
    let side = |m: &Measured| m.sgemm_gflops.map_or("?".into(), |g| format!("{g:.1}"));
    say!(
        "sgemm peak ({PEAK_SIZE}^3, {} threads): gemm crate {} GFLOP/s{}",
        args.threads,
        side(ours),
        theirs.map_or(String::new(), |t| format!(", PyTorch {} GFLOP/s", side(t)))
    );
    say!(
        "recurrent GEMM work: training {} GFLOP/s ({:.0}% of peak), encoding {} GFLOP/s ({:.0}%) (seqae)",
        gflops(ours.train, train_flops),
        100.0 * train_gflops / peak,
        gflops(ours.encode, encode_flops),
        100.0 * encode_gflops / peak
    );
    Ok(())
}

/// Checks `--threads`: 1 to 4 x the CPUs (before the thread pool is started with it).
pub fn check_threads(threads: usize) -> CliResult<()> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 0 || threads > 4 * cpus {
        return Err(CliError::Input(format!(
            "--threads {threads}: must be 1 to {} (4 x the {cpus} CPUs this process may use)",
            4 * cpus
        )));
    }
    Ok(())
}

/// Trains and encodes with seqae; also whether its layers ran the fused kernel.
fn bench(args: &BenchArgs, cell: Cell, backend: Backend) -> CliResult<(Measured, bool)> {
    let set = Synthetic::bench_sines(args.n, args.len, args.dim, args.seed).generate()?;
    let model = ModelConfig {
        cell,
        hidden: args.hidden,
        latent: args.latent,
        layers: 1,
        bidirectional: false,
        dropout: 0.0,
        decoder_input: DecoderInput::TeacherForcing { ratio: 1.0 },
        reverse_target: true,
        // One time step per recurrent step, as in the PyTorch peer.
        patch: Patch::Size(1),
        pooling: seqae_model::Pooling::Last,
    };
    let train = TrainConfig {
        epochs: args.epochs + 1,
        min_updates: None,
        batch_size: args.batch,
        lr: 1e-3,
        clip_norm: Some(1.0),
        seed: args.seed,
        val_fraction: 0.0,
        patience: None,
        plateau: None,
        normalization: Normalization::None,
        bucket: false,
        ..TrainConfig::default()
    };
    let mut warm_end = Duration::ZERO;
    let mut end = Duration::ZERO;
    let mut losses = Vec::new();
    let fitted = Trainer::new(model, train)
        .backend(backend)
        .run_options(RunOptions::with_kernel(args.kernel))
        .on_epoch(|r| {
            if r.epoch == 1 {
                warm_end = r.elapsed;
            }
            end = r.elapsed;
            losses.push(r.train_loss);
        })
        .fit(&set)?;
    let fitted = crate::commands::converged(fitted)?;
    let timed = (end - warm_end).as_secs_f64();
    let start = Instant::now();
    let z = fitted.model.embed(&set)?;
    let encode_s = start.elapsed().as_secs_f64();
    std::hint::black_box(z);
    let measured = Measured {
        train: (args.n * args.epochs) as f64 / timed,
        encode: args.n as f64 / encode_s,
        peak_mib: peak_mib(),
        // The first timed epoch and the last, as the PyTorch script prints them.
        first_loss: losses.get(1).copied().unwrap_or(f64::NAN),
        last_loss: losses.last().copied().unwrap_or(f64::NAN),
        sgemm_gflops: None,
    };
    Ok((measured, fitted.model.runs_fused()))
}

/// Floating-point operations of the recurrent layers' matrix products per sequence, for
/// training (forward and backward, encoder and decoder) and for encoding (encoder forward):
/// per step and layer, `2 G H (C + H)` forward and twice that backward.
fn recurrent_flops(cell: Cell, args: &BenchArgs) -> (f64, f64) {
    let gh = (cell.gates() * args.hidden) as f64;
    let per_step = 2.0 * gh * (args.dim + args.hidden) as f64;
    let steps = args.len as f64;
    (2.0 * 3.0 * per_step * steps, per_step * steps)
}

/// The CPU's model name (`/proc/cpuinfo`; "unknown CPU" elsewhere).
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Peak resident memory of this process (VmHWM), in MiB (Linux only).
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Finds the PyTorch script: as given, else relative to the repository root.
fn peer_script(given: &Path) -> CliResult<PathBuf> {
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    Err(CliError::Input(format!(
        "--peer-script {}: not found (the PyTorch benchmark script torch_seq_ae.py is not part \
         of this repository; pass its path with --peer-script)",
        given.display()
    )))
}

/// Runs the PyTorch script with `python` and the same sizes, and reads its throughput and
/// its peak resident memory.
fn run_peer(python: &Path, script: &Path, args: &BenchArgs) -> CliResult<Measured> {
    // runpy keeps the script unchanged and lets the same interpreter report its peak RSS.
    let wrapper = "import runpy, resource, sys\n\
                   script = sys.argv[1]\n\
                   sys.argv = sys.argv[1:]\n\
                   runpy.run_path(script, run_name='__main__')\n\
                   print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n\
                   import time, torch\n\
                   a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)\n\
                   best = float('inf')\n\
                   for r in range(6):\n\
                   \x20   t = time.perf_counter(); torch.mm(a, b); t = time.perf_counter() - t\n\
                   \x20   best = min(best, t) if r else best\n\
                   print('sgemm_gflops', 2 * 1024 ** 3 / best * 1e-9)\n";
    let out = Command::new(python)
        .arg("-c")
        .arg(wrapper)
        .arg(script)
        .args([
            "--cell",
            args.cell.name(),
            "--n",
            &args.n.to_string(),
            "--len",
            &args.len.to_string(),
            "--dim",
            &args.dim.to_string(),
            "--hidden",
            &args.hidden.to_string(),
            "--latent",
            &args.latent.to_string(),
            "--batch",
            &args.batch.to_string(),
            "--epochs",
            &args.epochs.to_string(),
            "--threads",
            &args.threads.to_string(),
        ])
        // On the GPU the peer runs on CUDA (cuDNN's fused layers).
        .args(match args.backend {
            Backend::Gpu => &["--device", "cuda"][..],
            _ => &[],
        })
        .output()
        .map_err(|e| CliError::Input(format!("--peer {}: cannot run: {e}", python.display())))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(CliError::Failed(format!(
            "the PyTorch peer failed ({}): {}",
            out.status,
            stderr.lines().last().unwrap_or("")
        )));
    }
    parse_peer(&stdout).ok_or_else(|| {
        CliError::Failed(format!(
            "cannot read the PyTorch peer's output: {}",
            stdout.trim()
        ))
    })
}

/// Reads `train N seq/s, encode N seq/s, loss A->B` and `peak_rss_kb N` from the peer.
fn parse_peer(text: &str) -> Option<Measured> {
    let after = |key: &str| -> Option<&str> {
        let at = text.find(key)? + key.len();
        Some(text[at..].trim_start())
    };
    let number = |s: &str| -> Option<f64> {
        let end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
            .unwrap_or(s.len());
        s[..end].parse().ok()
    };
    let train = number(after("train ")?)?;
    let encode = number(after("encode ")?)?;
    let loss = after("loss ")?;
    let (first, last) = loss.split_once("->")?;
    Some(Measured {
        train,
        encode,
        peak_mib: after("peak_rss_kb").and_then(number).map(|kb| kb / 1024.0),
        first_loss: number(first)?,
        last_loss: number(last)?,
        sgemm_gflops: after("sgemm_gflops").and_then(number),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peer_output() {
        let text = "torch 2.15.0 cpu cell=lstm n=64 len=16 dim=3 hidden=8 latent=4 batch=16: \
                    train 1399 seq/s, encode 14177 seq/s, loss 0.5012->0.4123\npeak_rss_kb 204800\n\
                    sgemm_gflops 123.5\n";
        let m = parse_peer(text).unwrap();
        assert_eq!((m.train, m.encode), (1399.0, 14177.0));
        assert_eq!((m.first_loss, m.last_loss), (0.5012, 0.4123));
        assert_eq!(m.peak_mib, Some(200.0));
        assert_eq!(m.sgemm_gflops, Some(123.5));
        assert!(parse_peer("nothing").is_none());
    }

    #[test]
    fn medians_and_ranges_over_runs() {
        let run = |train: f64, encode: f64, mib: Option<f64>| Measured {
            train,
            encode,
            peak_mib: mib,
            ..Measured::default()
        };
        let r = Runs::new(vec![
            run(3.0, 10.0, Some(5.0)),
            run(1.0, 30.0, None),
            run(2.0, 20.0, Some(7.0)),
        ]);
        assert_eq!((r.median.train, r.median.encode), (2.0, 20.0));
        // A figure missing from a run is left out, and an even count averages the middle two.
        assert_eq!(r.median.peak_mib, Some(6.0));
        assert_eq!(r.median.sgemm_gflops, None);
        assert_eq!(r.range(|m| m.train), "1-3");
    }
}
