//! Output handling: formats, sizes, paths, atomic replacement and odd text.

use super::*;

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
