//! Reconstructions.

use super::*;

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
