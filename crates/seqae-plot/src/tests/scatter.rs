//! Latent scatter.

use super::*;

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
