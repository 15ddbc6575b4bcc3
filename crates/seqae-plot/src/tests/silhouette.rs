//! Silhouette curve.

use super::*;

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
