//! Loss curve.

use super::*;

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
