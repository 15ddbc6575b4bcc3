//! Renders every seqae-plot chart from synthetic data into a folder.
//!
//! ```sh
//! cargo run --release -p seqae-plot --example gallery -- [OUT_DIR] [png|svg]
//! ```
//!
//! OUT_DIR defaults to `target/seqae-plot-gallery`, the format to png. Degenerate inputs
//! (a single point, constant and missing values, the smallest size) go to OUT_DIR/edge-cases.

use std::error::Error;
use std::path::PathBuf;

use seqae_plot::{
    ChartOptions, ClusterPrototypes, ExplainedVariance, LatentScatter, LossCurve, Prototype,
    Reconstructions, SequencePair, SilhouetteCurve, YScale, cluster_prototypes, explained_variance,
    latent_scatter, loss_curve, reconstructions, silhouette_curve,
};

/// A small deterministic generator (xorshift), so the example needs no random crate.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Roughly normal noise (sum of uniforms).
    fn normal(&mut self) -> f32 {
        (0..6).map(|_| self.uniform()).sum::<f32>() - 3.0
    }
}

/// One sequence of `steps` steps and `channels` channels from family `family`, time-major.
fn sequence(rng: &mut Rng, family: usize, steps: usize, channels: usize) -> Vec<f32> {
    let phase = rng.uniform() * 0.6;
    let mut out = Vec::with_capacity(steps * channels);
    for t in 0..steps {
        let x = t as f32 / steps as f32 * std::f32::consts::TAU * 2.0 + phase;
        for c in 0..channels {
            let base = match family {
                0 => x.sin(),
                1 => x.sin().signum() * 0.8,
                _ => (x / std::f32::consts::TAU).fract() * 2.0 - 1.0,
            };
            out.push(base * (1.0 + 0.4 * c as f32) + 0.3 * c as f32 + 0.12 * rng.normal());
        }
    }
    out
}

/// A smoothed copy, standing in for a model's reconstruction.
fn smooth(seq: &[f32], channels: usize) -> Vec<f32> {
    let steps = seq.len() / channels;
    (0..seq.len())
        .map(|k| {
            let (t, c) = (k / channels, k % channels);
            let lo = t.saturating_sub(2);
            let hi = (t + 2).min(steps - 1);
            let sum: f32 = (lo..=hi).map(|u| seq[u * channels + c]).sum();
            0.95 * sum / (hi - lo + 1) as f32
        })
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/seqae-plot-gallery".to_string()),
    );
    let ext = args.next().unwrap_or_else(|| "png".to_string());
    std::fs::create_dir_all(&dir)?;
    let out = |name: &str| dir.join(format!("{name}.{ext}"));
    let opts = ChartOptions::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // Data set: three families, 60 sequences each; labels are the families.
    let (steps, families, per_family) = (64, 3, 60);
    let mut seqs = Vec::new();
    let mut labels = Vec::new();
    for f in 0..families {
        for _ in 0..per_family {
            seqs.push(sequence(&mut rng, f, steps, 1));
            labels.push(["sine", "square", "sawtooth"][f].to_string());
        }
    }

    // 1. Latent scatter: blobs per family, with a few points "misclustered".
    let centres = [[-2.0f32, 1.0], [2.5, 0.5], [0.0, -2.0]];
    let mut points = Vec::new();
    let mut clusters = Vec::new();
    for (i, _) in seqs.iter().enumerate() {
        let f = i / per_family;
        let p = [
            centres[f][0] + 0.7 * rng.normal(),
            centres[f][1] + 0.5 * rng.normal(),
        ];
        points.push(p);
        let cluster = if rng.uniform() < 0.05 { (f + 1) % 3 } else { f };
        clusters.push(cluster);
    }
    latent_scatter(
        out("1-latent-scatter"),
        &LatentScatter {
            points: &points,
            clusters: Some(&clusters),
            labels: Some(&labels),
            explained_variance_ratio: Some([0.432, 0.217]),
        },
        &opts,
    )?;

    // 2. Loss curve: train and validation, auto scale.
    let epochs = 60;
    let train: Vec<f32> = (0..epochs)
        .map(|e| 0.9 * (-0.09 * e as f32).exp() + 0.02 + 0.004 * rng.normal().abs())
        .collect();
    let val: Vec<f32> = (0..epochs)
        .map(|e| {
            let e = e as f32;
            0.95 * (-0.08 * e).exp() + 0.035 + 0.00025 * e * e / 10.0 + 0.006 * rng.normal().abs()
        })
        .collect();
    loss_curve(
        out("2-loss-curve"),
        &LossCurve {
            train: &train,
            validation: Some(&val),
            y_scale: YScale::Auto,
        },
        &opts,
    )?;
    let wide: Vec<f32> = (0..40)
        .map(|e| 5.0 * (-0.25 * e as f32).exp() + 1e-4)
        .collect();
    loss_curve(
        out("2b-loss-curve-log"),
        &LossCurve {
            train: &wide,
            validation: None,
            y_scale: YScale::Auto,
        },
        &ChartOptions::titled("Training loss (auto: log scale)"),
    )?;

    // 3. Reconstructions: six sequences, two of each family.
    let picks = [0, 1, 60, 61, 120, 121];
    let recons: Vec<Vec<f32>> = picks.iter().map(|&i| smooth(&seqs[i], 1)).collect();
    let names: Vec<String> = picks
        .iter()
        .map(|&i| format!("#{i} ({})", labels[i]))
        .collect();
    let pairs: Vec<SequencePair> = picks
        .iter()
        .enumerate()
        .map(|(j, &i)| SequencePair {
            name: &names[j],
            original: &seqs[i],
            reconstruction: &recons[j],
        })
        .collect();
    reconstructions(
        out("3-reconstructions"),
        &Reconstructions {
            sequences: &pairs,
            channels: 1,
            max_channels: 4,
        },
        &opts,
    )?;
    // Multichannel variant: 5 channels, the first 3 drawn, with a gap of missing values.
    let mut multi: Vec<Vec<f32>> = (0..4).map(|f| sequence(&mut rng, f % 3, 48, 5)).collect();
    for t in 20..26 {
        multi[0][t * 5] = f32::NAN;
    }
    let multi_rec: Vec<Vec<f32>> = multi.iter().map(|s| smooth(s, 5)).collect();
    let multi_names: Vec<String> = (0..4).map(|i| format!("sequence {i}")).collect();
    let multi_pairs: Vec<SequencePair> = (0..4)
        .map(|i| SequencePair {
            name: &multi_names[i],
            original: &multi[i],
            reconstruction: &multi_rec[i],
        })
        .collect();
    reconstructions(
        out("3b-reconstructions-multichannel"),
        &Reconstructions {
            sequences: &multi_pairs,
            channels: 5,
            max_channels: 3,
        },
        &ChartOptions::titled("Reconstructions (5 channels)"),
    )?;

    // 4. Cluster prototypes from the cluster assignments above.
    let protos: Vec<Prototype> = (0..3)
        .map(|c| {
            let members: Vec<&[f32]> = seqs
                .iter()
                .zip(&clusters)
                .filter(|(_, k)| **k == c)
                .map(|(s, _)| s.as_slice())
                .collect();
            Prototype::from_members(c, &members, 1)
        })
        .collect::<Result<_, _>>()?;
    cluster_prototypes(
        out("4-cluster-prototypes"),
        &ClusterPrototypes {
            prototypes: &protos,
            channels: 1,
            max_channels: 4,
        },
        &opts,
    )?;
    let multi_protos: Vec<Prototype> = (0..4)
        .map(|c| {
            let members: Vec<Vec<f32>> =
                (0..12).map(|_| sequence(&mut rng, c % 3, 48, 2)).collect();
            let refs: Vec<&[f32]> = members.iter().map(Vec::as_slice).collect();
            Prototype::from_members(c, &refs, 2)
        })
        .collect::<Result<_, _>>()?;
    cluster_prototypes(
        out("4b-cluster-prototypes-multichannel"),
        &ClusterPrototypes {
            prototypes: &multi_protos,
            channels: 2,
            max_channels: 4,
        },
        &ChartOptions::titled("Cluster prototypes (2 channels)"),
    )?;

    // 5. Explained variance of 10 components.
    let raw: Vec<f32> = (0..10).map(|i| 0.6f32.powi(i)).collect();
    let total: f32 = raw.iter().sum::<f32>() * 1.05;
    let ratios: Vec<f32> = raw.iter().map(|r| r / total).collect();
    explained_variance(
        out("5-explained-variance"),
        &ExplainedVariance { ratios: &ratios },
        &opts,
    )?;

    // 6. Silhouette against k.
    let ks: Vec<usize> = (2..=10).collect();
    let scores = [0.52f32, 0.68, 0.61, 0.55, 0.49, 0.45, 0.41, 0.40, 0.37];
    silhouette_curve(
        out("6-silhouette"),
        &SilhouetteCurve {
            ks: &ks,
            scores: &scores,
            chosen_k: Some(3),
        },
        &opts,
    )?;

    // Many clusters: the palette cycles and the legend column overflows.
    let many_points: Vec<[f32; 2]> = (0..600)
        .map(|i| {
            let c = (i % 30) as f32;
            [
                (c * 0.7).cos() * c + 0.3 * rng.normal(),
                (c * 0.7).sin() * c + 0.3 * rng.normal(),
            ]
        })
        .collect();
    let many_clusters: Vec<usize> = (0..600).map(|i| i % 30).collect();
    latent_scatter(
        out("1b-latent-scatter-30-clusters"),
        &LatentScatter {
            points: &many_points,
            clusters: Some(&many_clusters),
            labels: None,
            explained_variance_ratio: None,
        },
        &ChartOptions::titled("Latent space (30 clusters)"),
    )?;

    edge_cases(&dir.join("edge-cases"), &ext)?;

    println!("wrote the gallery to {}", dir.display());
    Ok(())
}

/// Charts of degenerate inputs, to check that they stay readable.
fn edge_cases(dir: &std::path::Path, ext: &str) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    let out = |name: &str| dir.join(format!("{name}.{ext}"));
    let opts = ChartOptions::default();
    latent_scatter(
        out("scatter-single-point"),
        &LatentScatter {
            points: &[[0.25, -3.0]],
            clusters: Some(&[4]),
            labels: None,
            explained_variance_ratio: Some([0.9, 0.1]),
        },
        &opts,
    )?;
    loss_curve(
        out("loss-one-epoch"),
        &LossCurve {
            train: &[0.42],
            validation: Some(&[0.5]),
            y_scale: YScale::Auto,
        },
        &opts,
    )?;
    loss_curve(
        out("loss-constant-with-nan"),
        &LossCurve {
            train: &[1.0, 1.0, f32::NAN, 1.0, f32::INFINITY, 1.0, 1.0],
            validation: None,
            y_scale: YScale::Auto,
        },
        &opts,
    )?;
    let constant = vec![2.0f32; 30];
    let missing = vec![f32::NAN; 30];
    let mut gaps: Vec<f32> = (0..30).map(|t| (t as f32 * 0.3).sin()).collect();
    for v in &mut gaps[8..12] {
        *v = f32::NAN;
    }
    gaps[20] = f32::NAN;
    let recon_gaps: Vec<f32> = (0..30).map(|t| 0.9 * (t as f32 * 0.3).sin()).collect();
    let pairs = [
        SequencePair {
            name: "constant",
            original: &constant,
            reconstruction: &constant,
        },
        SequencePair {
            name: "all missing",
            original: &missing,
            reconstruction: &missing,
        },
        SequencePair {
            name: "missing values",
            original: &gaps,
            reconstruction: &recon_gaps,
        },
        SequencePair {
            name: "one step",
            original: &[0.5],
            reconstruction: &[0.4],
        },
    ];
    reconstructions(
        out("reconstructions-degenerate"),
        &Reconstructions {
            sequences: &pairs,
            channels: 1,
            max_channels: 4,
        },
        &opts,
    )?;
    let protos = [
        Prototype {
            cluster: 0,
            size: 1,
            mean: vec![1.0; 20],
            std: vec![0.0; 20],
        },
        Prototype {
            cluster: 1,
            size: 0,
            mean: vec![f32::NAN; 20],
            std: vec![f32::NAN; 20],
        },
        Prototype {
            cluster: 2,
            size: 5,
            mean: (0..20)
                .map(|t| if t == 7 { f32::NAN } else { t as f32 * 0.1 })
                .collect(),
            std: vec![0.2; 20],
        },
    ];
    cluster_prototypes(
        out("prototypes-degenerate"),
        &ClusterPrototypes {
            prototypes: &protos,
            channels: 1,
            max_channels: 4,
        },
        &opts,
    )?;
    explained_variance(
        out("variance-single-component"),
        &ExplainedVariance { ratios: &[1.0] },
        &opts,
    )?;
    silhouette_curve(
        out("silhouette-single-k"),
        &SilhouetteCurve {
            ks: &[4],
            scores: &[0.3],
            chosen_k: Some(4),
        },
        &opts,
    )?;
    let many: Vec<f32> = (0..64).map(|i| 0.5f32.powi(i + 1)).collect();
    explained_variance(
        out("variance-64-components"),
        &ExplainedVariance { ratios: &many },
        &opts,
    )?;
    latent_scatter(
        out("scatter-smallest-size"),
        &LatentScatter {
            points: &[[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]],
            clusters: Some(&[0, 1, 1]),
            labels: None,
            explained_variance_ratio: Some([0.6, 0.3]),
        },
        &ChartOptions::default().with_size(seqae_plot::MIN_SIZE.0, seqae_plot::MIN_SIZE.1),
    )?;
    Ok(())
}
