//! Rendering tests: every chart to PNG and SVG, degenerate inputs, and error cases.

use std::path::{Path, PathBuf};

use crate::*;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// Checks a written chart and that no temporary file is left beside it.
fn check_file(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match path.extension().and_then(|e| e.to_str()) {
        Some("png") => {
            assert!(
                bytes.starts_with(PNG_SIGNATURE),
                "{}: no PNG signature",
                path.display()
            );
            assert!(
                bytes.len() > 8_000,
                "{}: only {} bytes",
                path.display(),
                bytes.len()
            );
        }
        Some("svg") => {
            let text = String::from_utf8(bytes).expect("SVG is UTF-8");
            assert!(text.contains("<svg") && text.trim_end().ends_with("</svg>"));
            assert!(
                text.len() > 2_000,
                "{}: only {} bytes",
                path.display(),
                text.len()
            );
            assert!(text.contains("<text"), "{}: no text", path.display());
        }
        _ => panic!("unexpected extension"),
    }
    assert_no_temp_files(path.parent().unwrap());
}

fn assert_no_temp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.contains(".tmp."),
            "temporary file left behind: {name}"
        );
    }
}

fn both(dir: &Path, stem: &str) -> [PathBuf; 2] {
    [
        dir.join(format!("{stem}.png")),
        dir.join(format!("{stem}.svg")),
    ]
}

fn wave(steps: usize, channels: usize, phase: f32) -> Vec<f32> {
    (0..steps * channels)
        .map(|k| {
            let (t, c) = ((k / channels) as f32, (k % channels) as f32);
            (0.3 * t + phase + c).sin() * (1.0 + 0.5 * c)
        })
        .collect()
}

// ----- latent scatter ----------------------------------------------------------------------

fn scatter_points(n: usize) -> (Vec<[f32; 2]>, Vec<usize>, Vec<String>) {
    let points = (0..n)
        .map(|i| {
            let a = i as f32 * 0.7;
            [a.cos() * (1.0 + (i % 3) as f32), a.sin() + (i % 3) as f32]
        })
        .collect();
    let clusters = (0..n).map(|i| i % 3).collect();
    let labels = (0..n).map(|i| format!("class {}", i % 4)).collect();
    (points, clusters, labels)
}

#[test]
fn latent_scatter_png_and_svg() {
    let dir = tmp();
    let (points, clusters, labels) = scatter_points(120);
    let data = LatentScatter {
        points: &points,
        clusters: Some(&clusters),
        labels: Some(&labels),
        explained_variance_ratio: Some([0.432, 0.211]),
    };
    for path in both(dir.path(), "scatter") {
        latent_scatter(&path, &data, &ChartOptions::default()).unwrap();
        check_file(&path);
    }
    let svg = std::fs::read_to_string(dir.path().join("scatter.svg")).unwrap();
    assert!(
        svg.contains("PC1 (43.2%)"),
        "axis label with explained variance"
    );
    assert!(svg.contains("Latent space"), "default title");
}

#[test]
fn latent_scatter_degenerate_inputs() {
    let dir = tmp();
    // A single point, without clusters or labels.
    let one = [[1.5f32, -2.0]];
    let data = LatentScatter {
        points: &one,
        ..Default::default()
    };
    for path in both(dir.path(), "one") {
        latent_scatter(&path, &data, &ChartOptions::default()).unwrap();
        check_file(&path);
    }
    // All points equal; many clusters (palette cycles) and many labels (legend overflows).
    let same = vec![[0.0f32, 0.0]; 60];
    let clusters: Vec<usize> = (0..60).collect();
    let labels: Vec<String> = (0..60).map(|i| i.to_string()).collect();
    let data = LatentScatter {
        points: &same,
        clusters: Some(&clusters),
        labels: Some(&labels),
        explained_variance_ratio: None,
    };
    let path = dir.path().join("same.png");
    latent_scatter(&path, &data, &ChartOptions::default()).unwrap();
    check_file(&path);
    // Extreme magnitudes.
    let extreme = [[f32::MAX, -f32::MAX], [f32::MIN_POSITIVE, 1e-30]];
    let data = LatentScatter {
        points: &extreme,
        ..Default::default()
    };
    let path = dir.path().join("extreme.png");
    latent_scatter(&path, &data, &ChartOptions::default()).unwrap();
    check_file(&path);
}

#[test]
fn latent_scatter_errors() {
    let dir = tmp();
    let p = dir.path().join("s.png");
    let opts = ChartOptions::default();
    let err = latent_scatter(&p, &LatentScatter::default(), &opts).unwrap_err();
    assert!(matches!(err, PlotError::Empty { .. }), "{err}");
    let nan = [[0.0f32, 1.0], [f32::NAN, 1.0]];
    let err = latent_scatter(
        &p,
        &LatentScatter {
            points: &nan,
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("points[1][0]"), "{err}");
    let pts = [[0.0f32, 1.0], [1.0, 2.0]];
    let err = latent_scatter(
        &p,
        &LatentScatter {
            points: &pts,
            clusters: Some(&[0]),
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::LengthMismatch { .. }), "{err}");
    let labels = vec!["a".to_string()];
    let err = latent_scatter(
        &p,
        &LatentScatter {
            points: &pts,
            labels: Some(&labels),
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::LengthMismatch { .. }), "{err}");
    let err = latent_scatter(
        &p,
        &LatentScatter {
            points: &pts,
            explained_variance_ratio: Some([1.5, 0.1]),
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::Invalid(_)), "{err}");
    assert!(!p.exists(), "no file after an error");
    assert_no_temp_files(dir.path());
}

// ----- output handling ---------------------------------------------------------------------

#[test]
fn unsupported_format_and_bad_size_are_typed_errors() {
    let dir = tmp();
    let pts = [[0.0f32, 1.0]];
    let data = LatentScatter {
        points: &pts,
        ..Default::default()
    };
    for name in ["chart.jpg", "chart", "chart.png.txt", ".png"] {
        let p = dir.path().join(name);
        let err = latent_scatter(&p, &data, &ChartOptions::default()).unwrap_err();
        assert!(
            matches!(err, PlotError::UnsupportedFormat { .. }),
            "{name}: {err}"
        );
        assert!(!p.exists());
    }
    // Checked before the data: a bad extension wins over empty input.
    let err = latent_scatter(
        dir.path().join("x.gif"),
        &LatentScatter::default(),
        &ChartOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::UnsupportedFormat { .. }));
    for (w, h) in [(0, 0), (10, 600), (900, 10), (100_000, 600)] {
        let opts = ChartOptions::default().with_size(w, h);
        let err = latent_scatter(dir.path().join("x.png"), &data, &opts).unwrap_err();
        assert!(
            matches!(err, PlotError::InvalidSize { .. }),
            "{w}x{h}: {err}"
        );
    }
    // Upper-case extension is accepted.
    let p = dir.path().join("UPPER.PNG");
    latent_scatter(&p, &data, &ChartOptions::default()).unwrap();
    assert!(std::fs::read(&p).unwrap().starts_with(PNG_SIGNATURE));
    assert_eq!(dir.path().read_dir().unwrap().count(), 1);
}

#[test]
fn missing_directory_is_an_io_error() {
    let dir = tmp();
    let pts = [[0.0f32, 1.0]];
    let data = LatentScatter {
        points: &pts,
        ..Default::default()
    };
    for name in ["no/such/dir/c.png", "no/such/dir/c.svg"] {
        let err =
            latent_scatter(dir.path().join(name), &data, &ChartOptions::default()).unwrap_err();
        assert!(matches!(err, PlotError::Io { .. }), "{err}");
    }
}

#[test]
fn overwrites_existing_file_atomically() {
    let dir = tmp();
    let p = dir.path().join("c.png");
    std::fs::write(&p, b"old").unwrap();
    let pts = [[0.0f32, 1.0], [2.0, 3.0]];
    let data = LatentScatter {
        points: &pts,
        ..Default::default()
    };
    latent_scatter(&p, &data, &ChartOptions::titled("second")).unwrap();
    check_file(&p);
    // A failing call leaves the previous chart untouched.
    let before = std::fs::read(&p).unwrap();
    let _ = latent_scatter(&p, &LatentScatter::default(), &ChartOptions::default()).unwrap_err();
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

// ----- loss curve --------------------------------------------------------------------------

#[test]
fn loss_curve_png_and_svg() {
    let dir = tmp();
    let train: Vec<f32> = (0..50)
        .map(|e| 2.0 * (-0.08 * e as f32).exp() + 0.05)
        .collect();
    let val: Vec<f32> = (0..50)
        .map(|e| 2.1 * (-0.07 * e as f32).exp() + 0.08 + 0.0004 * e as f32)
        .collect();
    for scale in [YScale::Auto, YScale::Linear, YScale::Log] {
        let data = LossCurve {
            train: &train,
            validation: Some(&val),
            y_scale: scale,
        };
        for path in both(dir.path(), &format!("loss-{scale:?}")) {
            loss_curve(&path, &data, &ChartOptions::default()).unwrap();
            check_file(&path);
        }
    }
}

#[test]
fn loss_curve_degenerate_inputs() {
    let dir = tmp();
    type Case = (&'static str, Vec<f32>, Option<Vec<f32>>);
    let cases: Vec<Case> = vec![
        ("one-epoch", vec![0.5], None),
        ("constant", vec![1.0; 10], Some(vec![1.0; 10])),
        ("zeros", vec![0.0; 5], None),
        (
            "nan-gaps",
            vec![1.0, f32::NAN, 0.5, f32::INFINITY, 0.2, 0.1],
            Some(vec![]),
        ),
        (
            "longer-validation",
            vec![1.0, 0.5],
            Some(vec![1.2, 0.7, 0.6]),
        ),
        ("wide", vec![1e4, 1.0, 1e-6], None),
    ];
    for (name, train, val) in &cases {
        let data = LossCurve {
            train,
            validation: val.as_deref(),
            y_scale: YScale::Auto,
        };
        for path in both(dir.path(), name) {
            loss_curve(&path, &data, &ChartOptions::default()).unwrap();
            check_file(&path);
        }
    }
}

#[test]
fn loss_curve_errors() {
    let dir = tmp();
    let p = dir.path().join("l.png");
    let opts = ChartOptions::default();
    let err = loss_curve(&p, &LossCurve::default(), &opts).unwrap_err();
    assert!(matches!(err, PlotError::Empty { .. }), "{err}");
    let nan = [f32::NAN, f32::NAN];
    let err = loss_curve(
        &p,
        &LossCurve {
            train: &nan,
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::NonFinite { .. }), "{err}");
    let with_zero = [1.0, 0.0];
    let err = loss_curve(
        &p,
        &LossCurve {
            train: &with_zero,
            y_scale: YScale::Log,
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::Invalid(_)), "{err}");
    assert!(!p.exists());
}

// ----- reconstructions ---------------------------------------------------------------------

#[test]
fn reconstructions_png_and_svg() {
    let dir = tmp();
    for channels in [1usize, 3, 6] {
        let originals: Vec<Vec<f32>> = (0..5).map(|i| wave(40, channels, i as f32)).collect();
        let recons: Vec<Vec<f32>> = originals
            .iter()
            .map(|o| o.iter().map(|v| 0.9 * v + 0.05).collect())
            .collect();
        let names: Vec<String> = (0..5).map(|i| format!("sequence {i}")).collect();
        let pairs: Vec<SequencePair> = (0..5)
            .map(|i| SequencePair {
                name: &names[i],
                original: &originals[i],
                reconstruction: &recons[i],
            })
            .collect();
        let data = Reconstructions {
            sequences: &pairs,
            channels,
            max_channels: 4,
        };
        for path in both(dir.path(), &format!("recon-{channels}")) {
            reconstructions(&path, &data, &ChartOptions::default()).unwrap();
            check_file(&path);
        }
    }
}

#[test]
fn reconstructions_degenerate_inputs() {
    let dir = tmp();
    let constant = vec![2.0f32; 20];
    let missing = vec![f32::NAN; 20];
    let mut gaps = wave(20, 1, 0.0);
    gaps[3] = f32::NAN;
    gaps[5] = f32::NAN;
    let single = [0.5f32];
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
            name: "gaps",
            original: &gaps,
            reconstruction: &gaps,
        },
        SequencePair {
            name: "one step",
            original: &single,
            reconstruction: &single,
        },
    ];
    let data = Reconstructions {
        sequences: &pairs,
        ..Default::default()
    };
    for path in both(dir.path(), "recon-degenerate") {
        reconstructions(&path, &data, &ChartOptions::default()).unwrap();
        check_file(&path);
    }
}

#[test]
fn reconstructions_errors() {
    let dir = tmp();
    let p = dir.path().join("r.svg");
    let opts = ChartOptions::default();
    let err = reconstructions(&p, &Reconstructions::default(), &opts).unwrap_err();
    assert!(matches!(err, PlotError::Empty { .. }), "{err}");
    let a = [1.0f32, 2.0, 3.0];
    let b = [1.0f32, 2.0];
    let inf = [1.0f32, f32::INFINITY, 3.0];
    let case = |pair: SequencePair, channels: usize, max_channels: usize| {
        let pairs = [pair];
        reconstructions(
            &p,
            &Reconstructions {
                sequences: &pairs,
                channels,
                max_channels,
            },
            &opts,
        )
        .unwrap_err()
    };
    let pair = |o, r| SequencePair {
        name: "s",
        original: o,
        reconstruction: r,
    };
    assert!(matches!(
        case(pair(&a, &b), 1, 4),
        PlotError::LengthMismatch { .. }
    ));
    assert!(matches!(case(pair(&a, &a), 2, 4), PlotError::Invalid(_)));
    assert!(matches!(case(pair(&a, &a), 0, 4), PlotError::Invalid(_)));
    assert!(matches!(case(pair(&a, &a), 1, 0), PlotError::Invalid(_)));
    assert!(matches!(
        case(pair(&a, &inf), 1, 4),
        PlotError::NonFinite { .. }
    ));
    assert!(matches!(
        case(pair(&[], &[]), 1, 4),
        PlotError::Empty { .. }
    ));
    let many = vec![pair(&a, &a); MAX_RECONSTRUCTIONS + 1];
    let err = reconstructions(
        &p,
        &Reconstructions {
            sequences: &many,
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::TooMany { .. }), "{err}");
    assert!(!p.exists());
}

// ----- cluster prototypes ------------------------------------------------------------------

#[test]
fn cluster_prototypes_png_and_svg() {
    let dir = tmp();
    for channels in [1usize, 2] {
        let protos: Vec<Prototype> = (0..4)
            .map(|c| {
                let members: Vec<Vec<f32>> = (0..10)
                    .map(|m| wave(30, channels, c as f32 * 1.5 + m as f32 * 0.05))
                    .collect();
                let refs: Vec<&[f32]> = members.iter().map(Vec::as_slice).collect();
                Prototype::from_members(c, &refs, channels).unwrap()
            })
            .collect();
        let data = ClusterPrototypes {
            prototypes: &protos,
            channels,
            max_channels: 4,
        };
        for path in both(dir.path(), &format!("proto-{channels}")) {
            cluster_prototypes(&path, &data, &ChartOptions::default()).unwrap();
            check_file(&path);
        }
    }
}

#[test]
fn cluster_prototypes_degenerate_inputs() {
    let dir = tmp();
    let protos = vec![
        Prototype {
            cluster: 0,
            size: 1,
            mean: vec![1.0; 10],
            std: vec![0.0; 10],
        },
        Prototype {
            cluster: 1,
            size: 0,
            mean: vec![f32::NAN; 10],
            std: vec![f32::NAN; 10],
        },
        Prototype {
            cluster: 9,
            size: 3,
            mean: vec![0.5, f32::NAN, 0.7, 0.8],
            std: vec![0.1, f32::NAN, f32::NAN, 0.2],
        },
    ];
    let data = ClusterPrototypes {
        prototypes: &protos,
        ..Default::default()
    };
    for path in both(dir.path(), "proto-degenerate") {
        cluster_prototypes(&path, &data, &ChartOptions::default()).unwrap();
        check_file(&path);
    }
    // Every panel empty: still a chart, with notes.
    let empty = vec![protos[1].clone()];
    let data = ClusterPrototypes {
        prototypes: &empty,
        ..Default::default()
    };
    let p = dir.path().join("proto-empty.png");
    cluster_prototypes(&p, &data, &ChartOptions::default()).unwrap();
    check_file(&p);
}

#[test]
fn cluster_prototypes_errors() {
    let dir = tmp();
    let p = dir.path().join("p.png");
    let opts = ChartOptions::default();
    let err = cluster_prototypes(&p, &ClusterPrototypes::default(), &opts).unwrap_err();
    assert!(matches!(err, PlotError::Empty { .. }), "{err}");
    let run = |proto: Prototype| {
        let protos = [proto];
        cluster_prototypes(
            &p,
            &ClusterPrototypes {
                prototypes: &protos,
                ..Default::default()
            },
            &opts,
        )
        .unwrap_err()
    };
    let proto = |mean: Vec<f32>, std: Vec<f32>| Prototype {
        cluster: 0,
        size: 1,
        mean,
        std,
    };
    assert!(matches!(
        run(proto(vec![1.0, 2.0], vec![0.0])),
        PlotError::LengthMismatch { .. }
    ));
    assert!(matches!(
        run(proto(vec![1.0], vec![-1.0])),
        PlotError::Invalid(_)
    ));
    assert!(matches!(
        run(proto(vec![f32::NEG_INFINITY], vec![0.0])),
        PlotError::NonFinite { .. }
    ));
    let many = vec![proto(vec![1.0], vec![0.0]); MAX_PROTOTYPES + 1];
    let err = cluster_prototypes(
        &p,
        &ClusterPrototypes {
            prototypes: &many,
            ..Default::default()
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::TooMany { .. }), "{err}");
    assert!(!p.exists());
}

// ----- explained variance ------------------------------------------------------------------

#[test]
fn explained_variance_png_and_svg() {
    let dir = tmp();
    let few = [0.45f32, 0.25, 0.12, 0.08, 0.05, 0.03, 0.02];
    let many: Vec<f32> = (0..64).map(|i| 0.5f32.powi(i + 1)).collect();
    for (name, ratios) in [("few", &few[..]), ("many", &many[..]), ("one", &[1.0][..])] {
        let data = ExplainedVariance { ratios };
        for path in both(dir.path(), &format!("scree-{name}")) {
            explained_variance(&path, &data, &ChartOptions::default()).unwrap();
            check_file(&path);
        }
    }
    // All zero: still drawable.
    let zeros = [0.0f32; 3];
    let p = dir.path().join("scree-zero.png");
    explained_variance(
        &p,
        &ExplainedVariance { ratios: &zeros },
        &ChartOptions::default(),
    )
    .unwrap();
    check_file(&p);
}

#[test]
fn explained_variance_errors() {
    let dir = tmp();
    let p = dir.path().join("v.png");
    let opts = ChartOptions::default();
    let err = explained_variance(&p, &ExplainedVariance::default(), &opts).unwrap_err();
    assert!(matches!(err, PlotError::Empty { .. }), "{err}");
    let err = explained_variance(
        &p,
        &ExplainedVariance {
            ratios: &[0.5, f32::NAN],
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::NonFinite { .. }), "{err}");
    let err = explained_variance(
        &p,
        &ExplainedVariance {
            ratios: &[0.5, -0.1],
        },
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::Invalid(_)), "{err}");
    assert!(!p.exists());
}

// ----- silhouette --------------------------------------------------------------------------

#[test]
fn silhouette_curve_png_and_svg() {
    let dir = tmp();
    let ks = [2usize, 3, 4, 5, 6, 7, 8];
    let scores = [0.41f32, 0.58, 0.62, 0.55, 0.47, 0.44, 0.39];
    let data = SilhouetteCurve {
        ks: &ks,
        scores: &scores,
        chosen_k: Some(4),
    };
    for path in both(dir.path(), "silhouette") {
        silhouette_curve(&path, &data, &ChartOptions::default()).unwrap();
        check_file(&path);
    }
    // One k, unsorted ks, negative scores, no chosen k.
    let p = dir.path().join("silhouette-one.png");
    silhouette_curve(
        &p,
        &SilhouetteCurve {
            ks: &[3],
            scores: &[0.2],
            chosen_k: Some(3),
        },
        &ChartOptions::default(),
    )
    .unwrap();
    check_file(&p);
    let p = dir.path().join("silhouette-unsorted.svg");
    silhouette_curve(
        &p,
        &SilhouetteCurve {
            ks: &[10, 2, 50],
            scores: &[-0.1, -0.3, -0.2],
            chosen_k: None,
        },
        &ChartOptions::default(),
    )
    .unwrap();
    check_file(&p);
}

#[test]
fn silhouette_curve_errors() {
    let dir = tmp();
    let p = dir.path().join("s.png");
    let opts = ChartOptions::default();
    let run = |ks: &[usize], scores: &[f32], chosen_k| {
        silhouette_curve(
            &p,
            &SilhouetteCurve {
                ks,
                scores,
                chosen_k,
            },
            &opts,
        )
        .unwrap_err()
    };
    assert!(matches!(run(&[], &[], None), PlotError::Empty { .. }));
    assert!(matches!(
        run(&[2, 3], &[0.1], None),
        PlotError::LengthMismatch { .. }
    ));
    assert!(matches!(
        run(&[2, 3], &[0.1, f32::NAN], None),
        PlotError::NonFinite { .. }
    ));
    assert!(matches!(
        run(&[2, 2], &[0.1, 0.2], None),
        PlotError::Invalid(_)
    ));
    assert!(matches!(
        run(&[2, 3], &[0.1, 0.2], Some(7)),
        PlotError::Invalid(_)
    ));
    assert!(matches!(
        run(&[usize::MAX], &[0.1], None),
        PlotError::Invalid(_)
    ));
    assert!(!p.exists());
}

#[test]
fn custom_size_and_title() {
    let dir = tmp();
    let p = dir.path().join("big.svg");
    let opts = ChartOptions::titled("My run").with_size(1600, 1000);
    explained_variance(
        &p,
        &ExplainedVariance {
            ratios: &[0.7, 0.3],
        },
        &opts,
    )
    .unwrap();
    let svg = std::fs::read_to_string(&p).unwrap();
    assert!(svg.contains("My run"));
    assert!(svg.contains("width=\"1600\""));
    let p = dir.path().join("small.png");
    let opts = ChartOptions::default().with_size(MIN_SIZE.0, MIN_SIZE.1);
    let protos = [Prototype::from_members(0, &[&[1.0, 2.0, 3.0]], 1).unwrap()];
    cluster_prototypes(
        &p,
        &ClusterPrototypes {
            prototypes: &protos,
            ..Default::default()
        },
        &opts,
    )
    .unwrap();
    assert!(std::fs::read(&p).unwrap().starts_with(PNG_SIGNATURE));
}

/// Every chart at the smallest accepted size and at very wide and very tall shapes: no panic,
/// a valid file.
#[test]
fn every_chart_survives_extreme_sizes() {
    let dir = tmp();
    let (points, clusters, labels) = scatter_points(50);
    let seq = wave(30, 3, 0.0);
    let names: Vec<String> = (0..MAX_RECONSTRUCTIONS).map(|i| format!("s{i}")).collect();
    let pairs: Vec<SequencePair> = names
        .iter()
        .map(|n| SequencePair {
            name: n,
            original: &seq,
            reconstruction: &seq,
        })
        .collect();
    let protos: Vec<Prototype> = (0..MAX_PROTOTYPES)
        .map(|c| Prototype::from_members(c, &[&seq, &seq], 3).unwrap())
        .collect();
    let loss: Vec<f32> = (0..30).map(|e| 1.0 / (1.0 + e as f32)).collect();
    let ratios = [0.5f32, 0.3, 0.2];
    let sizes = [
        MIN_SIZE,
        (4000, MIN_SIZE.1),
        (MIN_SIZE.0, 4000),
        (MIN_SIZE.0, 300),
    ];
    for (w, h) in sizes {
        for ext in ["png", "svg"] {
            let opts = ChartOptions::default().with_size(w, h);
            let p = |name: &str| dir.path().join(format!("{name}-{w}x{h}.{ext}"));
            let check = |path: PathBuf| {
                let bytes = std::fs::read(&path).unwrap();
                assert!(bytes.len() > 100, "{}", path.display());
                if ext == "png" {
                    assert!(bytes.starts_with(PNG_SIGNATURE));
                }
            };
            let scatter = LatentScatter {
                points: &points,
                clusters: Some(&clusters),
                labels: Some(&labels),
                explained_variance_ratio: Some([0.5, 0.2]),
            };
            latent_scatter(p("scatter"), &scatter, &opts).unwrap();
            check(p("scatter"));
            let curve = LossCurve {
                train: &loss,
                validation: Some(&loss),
                y_scale: YScale::Log,
            };
            loss_curve(p("loss"), &curve, &opts).unwrap();
            check(p("loss"));
            let recon = Reconstructions {
                sequences: &pairs,
                channels: 3,
                max_channels: 2,
            };
            reconstructions(p("recon"), &recon, &opts).unwrap();
            check(p("recon"));
            let proto = ClusterPrototypes {
                prototypes: &protos,
                channels: 3,
                max_channels: 3,
            };
            cluster_prototypes(p("proto"), &proto, &opts).unwrap();
            check(p("proto"));
            explained_variance(p("scree"), &ExplainedVariance { ratios: &ratios }, &opts).unwrap();
            check(p("scree"));
            let sil = SilhouetteCurve {
                ks: &[2, 3, 4],
                scores: &[0.1, 0.5, 0.2],
                chosen_k: Some(3),
            };
            silhouette_curve(p("sil"), &sil, &opts).unwrap();
            check(p("sil"));
        }
    }
}

#[test]
fn odd_text_is_drawn_and_escaped() {
    let dir = tmp();
    let points = [[0.0f32, 0.0], [1.0, 1.0], [2.0, 0.5]];
    let labels: Vec<String> = ["<a & b>", "日本語 ü", "tab\tand\nnewline"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let data = LatentScatter {
        points: &points,
        clusters: Some(&[0, usize::MAX, 7]),
        labels: Some(&labels),
        explained_variance_ratio: None,
    };
    let long_title = "a very long title ".repeat(40);
    for path in both(dir.path(), "odd") {
        latent_scatter(&path, &data, &ChartOptions::titled(long_title.clone())).unwrap();
        check_file(&path);
    }
    let svg = std::fs::read_to_string(dir.path().join("odd.svg")).unwrap();
    assert!(
        svg.contains("&lt;a &amp; b&gt;"),
        "labels are escaped in SVG"
    );
    assert!(!svg.contains("<a & b>"));
}
