//! Cluster prototypes.

use super::*;

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
