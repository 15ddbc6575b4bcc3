//! Explained variance.

use super::*;

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
