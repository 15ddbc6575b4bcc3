//! Fitting, embedding, reconstruction, model files and failure modes, on both backends.
use seqae_data::synthetic::{Family, Synthetic};
use seqae_data::{Normalization, SequenceSet, SequenceSetBuilder};
use seqae_model::{
    Backend, Cell, DecoderInput, Fitted, ModelConfig, ModelError, Patch, Plateau, SeqAe,
    TrainConfig, Trainer,
};

/// The architecture these tests' thresholds were measured with: a one-way LSTM reading one
/// time step per recurrent step (the library's defaults differ; see `defaults_are_documented`).
fn classic() -> ModelConfig {
    ModelConfig {
        cell: Cell::Lstm,
        hidden: 64,
        latent: 16,
        layers: 1,
        bidirectional: false,
        dropout: 0.0,
        decoder_input: DecoderInput::Unconditioned,
        reverse_target: true,
        patch: Patch::Size(1),
        pooling: seqae_model::Pooling::Last,
    }
}

/// The training these tests were measured with: exactly `epochs` epochs, z-score per sequence.
fn classic_train() -> TrainConfig {
    TrainConfig {
        epochs: 50,
        min_updates: None,
        normalization: Normalization::Zscore,
        ..TrainConfig::default()
    }
}

/// Fits `model` with `train` on `backend` (a divergence fails the test).
fn fit(set: &SequenceSet, model: &ModelConfig, train: &TrainConfig, backend: Backend) -> Fitted {
    let fitted = Trainer::new(model.clone(), train.clone())
        .backend(backend)
        .fit(set)
        .unwrap();
    assert!(fitted.diverged.is_none(), "{:?}", fitted.diverged);
    fitted
}

fn two_families(n: usize, seed: u64) -> SequenceSet {
    Synthetic {
        n,
        len: 40,
        min_len: Some(24),
        channels: 1,
        families: vec![Family::Sine, Family::Square],
        noise: 0.05,
        seed,
    }
    .generate()
    .unwrap()
}

/// Lloyd's 2-means from the two mutually farthest points of a sample; returns cluster ids.
fn two_means(z: &[f32], dim: usize) -> Vec<usize> {
    let n = z.len() / dim;
    let row = |i: usize| &z[i * dim..(i + 1) * dim];
    let dist = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>();
    let a = (0..n)
        .max_by(|&i, &j| dist(row(i), row(0)).total_cmp(&dist(row(j), row(0))))
        .unwrap();
    let b = (0..n)
        .max_by(|&i, &j| dist(row(i), row(a)).total_cmp(&dist(row(j), row(a))))
        .unwrap();
    let mut centres = [row(a).to_vec(), row(b).to_vec()];
    let mut assign = vec![0; n];
    for _ in 0..50 {
        for (i, slot) in assign.iter_mut().enumerate() {
            *slot = (dist(row(i), &centres[1]) < dist(row(i), &centres[0])) as usize;
        }
        for (k, centre) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&i| assign[i] == k).collect();
            if members.is_empty() {
                continue;
            }
            for (d, value) in centre.iter_mut().enumerate() {
                *value = members.iter().map(|&i| row(i)[d]).sum::<f32>() / members.len() as f32;
            }
        }
    }
    assign
}

fn accuracy(assign: &[usize], labels: &[usize]) -> f64 {
    let same =
        assign.iter().zip(labels).filter(|(a, l)| a == l).count() as f64 / labels.len() as f64;
    same.max(1.0 - same)
}

fn small(cell: Cell) -> ModelConfig {
    ModelConfig {
        cell,
        hidden: 16,
        latent: 4,
        ..classic()
    }
}

fn quick(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 16,
        lr: 5e-3,
        ..classic_train()
    }
}

/// Two families of noisy sines, one slow (1 cycle per 32 steps) and one fast (4 cycles), with
/// random phases and lengths 24..=40 (the constants are the ones the thresholds were measured
/// with).
#[allow(clippy::approx_constant)]
fn slow_fast(n: usize, seed: u64) -> SequenceSet {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut b = SequenceSetBuilder::new(1).with_class_names(vec!["slow".into(), "fast".into()]);
    for i in 0..n {
        let fast = i % 2 == 1;
        let len = rng.random_range(24..=40);
        let phase = rng.random_range(0.0..6.28f32);
        let cycles = if fast { 4.0 } else { 1.0 };
        let v: Vec<f32> = (0..len)
            .map(|t| {
                (6.2832 * cycles * t as f32 / 32.0 + phase).sin()
                    + 0.1 * rng.random_range(-1.0..1.0f32)
            })
            .collect();
        b.push(&v, Some(if fast { "fast" } else { "slow" }.into()), None)
            .unwrap();
    }
    b.finish().unwrap()
}

fn fit_and_separate(backend: Backend) {
    let set = slow_fast(96, 1);
    let model = ModelConfig {
        decoder_input: DecoderInput::Unconditioned,
        ..small(Cell::Gru)
    };
    let train = TrainConfig {
        lr: 1e-2,
        ..quick(40)
    };
    let mut epochs = 0;
    let fitted = Trainer::new(model, train)
        .backend(backend)
        .on_epoch(|_| epochs += 1)
        .fit(&set)
        .unwrap();
    let h = &fitted.model.history();
    assert_eq!(epochs, 40);
    let (first, last) = (h.train_loss[0], *h.train_loss.last().unwrap());
    let z = fitted.model.embed(&set).unwrap();
    assert_eq!((z.rows(), z.cols()), (set.len(), 4));
    let acc = accuracy(&two_means(z.as_slice(), 4), &set.label_indices().unwrap());
    let err = fitted.model.reconstruction_error(&set).unwrap();
    let mean_err = err.iter().sum::<f32>() / err.len() as f32;
    eprintln!(
        "gru on {backend}: loss {first:.4} -> {last:.4} ({:.1}x lower), mean reconstruction error {mean_err:.4}, 2-means accuracy {acc:.3}",
        first / last
    );
    assert!(last * 10.0 < first, "loss only went from {first} to {last}");
    assert!(
        acc >= 0.8,
        "2-means on the latents recovers only {acc} of the labels"
    );
    assert!(err.iter().all(|e| e.is_finite() && *e >= 0.0) && mean_err < 0.2);
}

#[test]
fn gru_fit_lowers_loss_and_separates_families_on_flex() {
    fit_and_separate(Backend::Flex);
}

#[test]
fn gru_fit_lowers_loss_and_separates_families_on_ndarray() {
    fit_and_separate(Backend::Ndarray);
}

#[test]
fn lstm_and_rnn_fits_lower_the_loss_on_both_backends() {
    let set = two_families(48, 1);
    for backend in Backend::CPU {
        for cell in [Cell::Lstm, Cell::Rnn] {
            let train = TrainConfig {
                lr: 1e-2,
                ..quick(8)
            };
            let fitted = fit(&set, &small(cell), &train, backend);
            let h = &fitted.model.history().train_loss;
            eprintln!(
                "{cell} on {backend}: loss {:.4} -> {:.4}",
                h[0],
                h[h.len() - 1]
            );
            assert!(h[h.len() - 1] < h[0]);
        }
    }
}

#[test]
fn same_seed_gives_identical_losses() {
    let set = two_families(40, 2);
    let model = ModelConfig {
        layers: 2,
        dropout: 0.2,
        bidirectional: true,
        ..small(Cell::Lstm)
    };
    let train = TrainConfig {
        val_fraction: 0.25,
        ..quick(3)
    };
    let a = fit(&set, &model, &train, Backend::Flex);
    let b = fit(&set, &model, &train, Backend::Flex);
    assert_eq!(a.model.history(), b.model.history());
    assert_eq!(a.model.embed(&set).unwrap(), b.model.embed(&set).unwrap());
    let c = fit(
        &set,
        &model,
        &TrainConfig { seed: 9, ..train },
        Backend::Flex,
    );
    assert_ne!(a.model.history().train_loss, c.model.history().train_loss);
}

#[test]
fn save_load_gives_bit_identical_results_for_every_cell_and_backend() {
    let set = two_families(24, 3);
    let dir = tempfile::tempdir().unwrap();
    for backend in Backend::CPU {
        for cell in Cell::ALL {
            let model = ModelConfig {
                bidirectional: cell == Cell::Gru,
                // the GRU reads patches: ceil(40 / 32) = 2 steps at a time
                patch: if cell == Cell::Gru {
                    Patch::Auto
                } else {
                    Patch::Size(1)
                },
                ..small(cell)
            };
            let train = TrainConfig {
                normalization: Normalization::Global,
                ..quick(1)
            };
            let fitted = fit(&set, &model, &train, backend);
            let patch = if cell == Cell::Gru { 2 } else { 1 };
            assert_eq!(fitted.model.config().patch, Patch::Size(patch));
            let path = dir.path().join(format!("{cell}-{backend}"));
            fitted.model.save(&path).unwrap();
            // saving again replaces the model atomically
            fitted.model.save(&path).unwrap();
            assert!(path.join("config.json").is_file() && path.join("weights.bpk").is_file());
            let loaded = SeqAe::load(&path, backend).unwrap();
            assert_eq!(loaded.config(), fitted.model.config());
            assert_eq!(loaded.normalizer(), fitted.model.normalizer());
            assert_eq!(
                loaded.embed(&set).unwrap(),
                fitted.model.embed(&set).unwrap(),
                "{cell} {backend}"
            );
            assert_eq!(
                loaded.reconstruct(&set).unwrap(),
                fitted.model.reconstruct(&set).unwrap()
            );
            assert_eq!(
                loaded.reconstruction_error(&set).unwrap(),
                fitted.model.reconstruction_error(&set).unwrap()
            );
            // the other backend agrees to rounding
            let other = SeqAe::load(
                &path,
                if backend == Backend::Flex {
                    Backend::Ndarray
                } else {
                    Backend::Flex
                },
            )
            .unwrap();
            for (a, b) in other
                .embed(&set)
                .unwrap()
                .as_slice()
                .iter()
                .zip(loaded.embed(&set).unwrap().as_slice())
            {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
        }
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "temporary directories left: {names:?}"
    );
}

#[test]
fn loading_refuses_other_channels_versions_and_non_models() {
    let set = two_families(16, 4);
    let fitted = fit(&set, &small(Cell::Gru), &quick(1), Backend::Flex);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m");
    fitted.model.save(&path).unwrap();
    let wide = Synthetic {
        n: 4,
        channels: 3,
        ..Default::default()
    }
    .generate()
    .unwrap();
    let err = fitted.model.embed(&wide).unwrap_err();
    assert_eq!(
        err.to_string(),
        "model expects 1 channels but the data has 3"
    );
    assert!(matches!(
        SeqAe::load(&path, Backend::Flex)
            .unwrap()
            .reconstruct(&wide),
        Err(ModelError::Channels { .. })
    ));

    let config = path.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"format_version\": 1", "\"format_version\": 99"),
    )
    .unwrap();
    let err = SeqAe::load(&path, Backend::Flex).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::FormatVersion {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("model format version 99 is not supported (this build reads version 1)"),
        "{err}"
    );

    let err = SeqAe::load(dir.path().join("absent"), Backend::Flex).unwrap_err();
    assert!(err.to_string().contains("not a seqae model"), "{err}");
    // save refuses to replace a directory that holds something else
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep").unwrap();
    assert!(fitted.model.save(&other).is_err());
    assert!(other.join("notes.txt").is_file());
}

#[test]
fn stored_normalisation_statistics_are_checked_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let model = ModelConfig {
        patch: Patch::Size(1),
        ..small(Cell::Gru)
    };
    for (shift, scale, needle) in [
        (vec![0.0], vec![-1.0], "channel 1: shift 0 and scale -1"),
        (
            vec![0.0, 1.0],
            vec![1.0, 1.0],
            "stores 2 shift values, expected 1",
        ),
    ] {
        let normalizer = seqae_data::Normalizer {
            kind: Normalization::Global,
            channels: 1,
            shift,
            scale,
        };
        let path = dir.path().join(needle.len().to_string());
        SeqAe::new(&model, 1, normalizer, Backend::Flex, 0)
            .unwrap()
            .save(&path)
            .unwrap();
        let err = SeqAe::load(&path, Backend::Flex).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn divergence_stops_with_an_error_and_keeps_the_last_good_weights() {
    let set = two_families(32, 5);
    let train = TrainConfig {
        lr: 1e30,
        clip_norm: None,
        ..quick(5)
    };
    let fitted = Trainer::new(small(Cell::Rnn), train).fit(&set).unwrap();
    let d = fitted
        .diverged
        .clone()
        .expect("a learning rate of 1e30 diverges");
    eprintln!("{d}");
    assert!(d.good_epoch < d.epoch);
    assert_eq!(fitted.model.history().train_loss.len(), d.epoch - 1);
    // The last good weights give finite embeddings (embed refuses non-finite ones).
    fitted.model.embed(&set).unwrap();
}

#[test]
fn validation_early_stopping_and_plateau_schedule() {
    let set = two_families(48, 6);
    let train = TrainConfig {
        val_fraction: 0.25,
        patience: Some(2),
        plateau: Some(Plateau {
            factor: 0.5,
            patience: 1,
            min_lr: 1e-4,
        }),
        lr: 0.05,
        ..quick(12)
    };
    let mut reports = Vec::new();
    let mut batches = 0;
    let fitted = Trainer::new(small(Cell::Gru), train)
        .on_epoch(|r| reports.push(r.clone()))
        .on_batch(|_| batches += 1)
        .fit(&set)
        .unwrap();
    let h = &fitted.model.history();
    let n = h.train_loss.len();
    assert_eq!((h.val_loss.len(), h.lr.len(), reports.len()), (n, n, n));
    assert_eq!((h.train_size, h.val_size), (36, 12));
    assert_eq!(batches, n * 3);
    assert!(h.val_loss.iter().all(|v| v.is_some_and(f64::is_finite)));
    assert!(h.lr.windows(2).all(|w| w[1] <= w[0]) && h.lr.iter().all(|&lr| lr >= 1e-4));
    assert!(h.best_epoch >= 1 && h.best_epoch <= n);
    assert_eq!(h.stopped_early, n < 12);
    let best = h.val_loss[h.best_epoch - 1].unwrap();
    assert!(
        h.val_loss
            .iter()
            .all(|v| v.unwrap() >= best * (1.0 - 1e-4) || v.unwrap() >= best)
    );
    eprintln!("epochs run {n}, best {}, lr {:?}", h.best_epoch, h.lr);
}

#[test]
fn ragged_sequences_with_missing_values_round_trip() {
    let mut b = SequenceSetBuilder::new(2);
    for i in 0..20 {
        let len = 3 + i % 7;
        let mut v: Vec<f32> = (0..len * 2).map(|k| ((k + i) as f32 * 0.3).sin()).collect();
        if i % 3 == 0 {
            v[1] = f32::NAN;
        }
        b.push(&v, None, None).unwrap();
    }
    let set = b.finish().unwrap();
    for input in [
        DecoderInput::FreeRunning,
        DecoderInput::Unconditioned,
        DecoderInput::Latent,
        DecoderInput::TeacherForcing { ratio: 0.5 },
    ] {
        let model = ModelConfig {
            layers: 2,
            bidirectional: true,
            dropout: 0.1,
            decoder_input: input,
            reverse_target: input != DecoderInput::FreeRunning,
            ..small(Cell::Lstm)
        };
        let fitted = fit(&set, &model, &quick(2), Backend::Flex);
        let rec = fitted.model.reconstruct(&set).unwrap();
        assert_eq!(rec.lengths(), set.lengths());
        assert!(rec.values().iter().all(|v| v.is_finite()));
        let err = fitted.model.reconstruction_error(&set).unwrap();
        assert!(err.iter().all(|e| e.is_finite()));
        // embedding a subset gives the same rows (batching does not matter)
        let all = fitted.model.embed(&set).unwrap();
        let some = fitted.model.embed(&set.subset(&[5, 2])).unwrap();
        for (k, &i) in [5usize, 2].iter().enumerate() {
            for d in 0..4 {
                assert!((all.row(i).unwrap()[d] - some.row(k).unwrap()[d]).abs() < 1e-5);
            }
        }
    }
}

/// With patches, every time step comes back in its own place: the error of `reconstruct`
/// against the data, step by step, is the error the loss layout (`reconstruction_error`) sees.
#[test]
fn patched_reconstructions_put_every_step_in_place() {
    let set = two_families(20, 5); // lengths 24..=40: most not multiples of the patch
    for (patch, reverse) in [(7, true), (5, false), (1, true)] {
        let model = ModelConfig {
            patch: Patch::Size(patch),
            reverse_target: reverse,
            bidirectional: true,
            ..small(Cell::Gru)
        };
        let train = TrainConfig {
            normalization: Normalization::None,
            ..quick(3)
        };
        let fitted = fit(&set, &model, &train, Backend::Flex);
        let rec = fitted.model.reconstruct(&set).unwrap();
        assert_eq!(rec.lengths(), set.lengths());
        let err = fitted.model.reconstruction_error(&set).unwrap();
        for (i, &e) in err.iter().enumerate() {
            let (x, y) = (set.sequence(i), rec.sequence(i));
            let mse = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f32>() / x.len() as f32;
            assert!(
                (mse - e).abs() <= 1e-4 * e.max(1e-3),
                "patch {patch}: {mse} vs {e}"
            );
        }
        assert_eq!(fitted.model.embed(&set).unwrap().rows(), 20);
    }
    let auto = ModelConfig {
        patch: Patch::Auto,
        ..small(Cell::Rnn)
    };
    let normalizer = seqae_data::Normalizer::fit(Normalization::None, &set).unwrap();
    assert!(SeqAe::new(&auto, 1, normalizer, Backend::Flex, 0).is_err());
}

#[test]
fn small_data_trains_more_epochs_to_reach_the_minimum_updates() {
    let set = two_families(24, 6); // batches of 16: 2 an epoch
    let train = TrainConfig {
        min_updates: Some(7),
        ..quick(2)
    };
    let mut reported = Vec::new();
    let fitted = Trainer::new(small(Cell::Rnn), train)
        .on_epoch(|r| reported.push((r.epoch, r.epochs)))
        .fit(&set)
        .unwrap();
    assert_eq!(fitted.model.history().train_loss.len(), 4);
    assert_eq!(reported.last(), Some(&(4, 4)));
}

#[test]
fn configs_validate_and_parse() {
    assert_eq!("GRU".parse::<Cell>().unwrap(), Cell::Gru);
    assert_eq!("vanilla".parse::<Cell>().unwrap(), Cell::Rnn);
    assert!(
        "transformer"
            .parse::<Cell>()
            .unwrap_err()
            .to_string()
            .contains("expected rnn, lstm or gru")
    );
    assert_eq!("ndarray".parse::<Backend>().unwrap(), Backend::Ndarray);
    assert!("cuda".parse::<Backend>().is_err());
    for cell in Cell::ALL {
        assert_eq!(cell.to_string().parse::<Cell>().unwrap(), cell);
    }
    assert!(
        ModelConfig {
            hidden: 0,
            ..classic()
        }
        .validate()
        .is_err()
    );
    assert!(
        ModelConfig {
            latent: 0,
            ..classic()
        }
        .validate()
        .is_err()
    );
    assert!(
        ModelConfig {
            dropout: 1.0,
            ..classic()
        }
        .validate()
        .is_err()
    );
    assert!(
        ModelConfig {
            decoder_input: DecoderInput::TeacherForcing { ratio: 2.0 },
            ..classic()
        }
        .validate()
        .is_err()
    );
    assert!(
        TrainConfig {
            batch_size: 0,
            ..classic_train()
        }
        .validate()
        .is_err()
    );
    assert!(
        TrainConfig {
            val_fraction: 1.0,
            ..classic_train()
        }
        .validate()
        .is_err()
    );
    assert_eq!("auto".parse::<Patch>().unwrap(), Patch::Auto);
    assert_eq!(" 8 ".parse::<Patch>().unwrap(), Patch::Size(8));
    assert!("0".parse::<Patch>().is_err() && "-2".parse::<Patch>().is_err());
    assert_eq!(Patch::Size(8).to_string(), "8");
    assert!(
        ModelConfig {
            patch: Patch::Size(0),
            ..classic()
        }
        .validate()
        .is_err()
    );
    assert_eq!(Patch::Auto.resolve(32), 1);
    assert_eq!(Patch::Auto.resolve(33), 2);
    assert_eq!(Patch::Auto.resolve(251), 8);
    assert_eq!(Patch::Size(4).resolve(251), 4);
    let small_data = TrainConfig {
        epochs: 100,
        min_updates: Some(2000),
        batch_size: 32,
        ..classic_train()
    };
    // 211 sequences: 7 batches an epoch, 286 epochs for 2,000 updates; 5,000: 157 batches
    assert_eq!(small_data.epochs_for(211), 286);
    assert_eq!(small_data.epochs_for(5000), 100);
    assert_eq!(
        TrainConfig {
            min_updates: None,
            ..small_data
        }
        .epochs_for(211),
        100
    );
    // model files written before patches existed read as one step per recurrent step
    let mut old: serde_json::Value = serde_json::to_value(ModelConfig {
        patch: Patch::Size(5),
        ..classic()
    })
    .unwrap();
    old.as_object_mut().unwrap().remove("patch");
    assert_eq!(
        serde_json::from_value::<ModelConfig>(old).unwrap().patch,
        Patch::Size(1)
    );
    let json = serde_json::to_string(&ModelConfig::default()).unwrap();
    assert_eq!(
        serde_json::from_str::<ModelConfig>(&json).unwrap(),
        ModelConfig::default()
    );
    assert_eq!(
        "free".parse::<DecoderInput>().unwrap(),
        DecoderInput::FreeRunning
    );
    for name in DecoderInput::NAMES {
        assert_eq!(name.parse::<DecoderInput>().unwrap().to_string(), name);
    }
    let empty = SequenceSetBuilder::new(1).finish().unwrap();
    assert!(SeqAe::fit(&empty).is_err());
}

/// The library's defaults are the ones the README and docs/QUALITY.md name (and the CLI
/// reads them from the library).
#[test]
fn defaults_are_documented() {
    let m = ModelConfig::default();
    assert_eq!(
        (
            m.cell,
            m.hidden,
            m.latent,
            m.layers,
            m.bidirectional,
            m.patch
        ),
        (Cell::Gru, 64, 32, 1, true, Patch::Auto)
    );
    assert_eq!(m.decoder_input, DecoderInput::Unconditioned);
    assert_eq!(m.pooling, seqae_model::Pooling::Mean);
    let t = TrainConfig::default();
    assert_eq!(
        (t.epochs, t.min_updates, t.normalization),
        (100, Some(2000), Normalization::Global)
    );
    assert_eq!(t.objective, seqae_model::Objective::Reconstruction);
}

#[test]
fn decoding_the_embeddings_gives_the_reconstructions() {
    // An unconditioned decoder sees only the latent vector, so decoding a sequence's embedding
    // for its length is its reconstruction.
    let set = two_families(24, 3);
    for cell in [Cell::Gru, Cell::Lstm] {
        let model = ModelConfig {
            patch: Patch::Size(3),
            decoder_input: DecoderInput::Unconditioned,
            ..small(cell)
        };
        let train = TrainConfig {
            normalization: Normalization::Global,
            ..quick(2)
        };
        let fitted = fit(&set, &model, &train, Backend::Flex);
        let z = fitted.model.embed(&set).unwrap();
        let rebuilt = fitted.model.reconstruct(&set).unwrap();
        for i in 0..set.len() {
            let decoded = fitted
                .model
                .decode(&z.select_rows(&[i]), set.length(i))
                .unwrap();
            assert_eq!(decoded.length(0), set.length(i));
            for (a, b) in decoded.sequence(0).iter().zip(rebuilt.sequence(i)) {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{cell:?} {i}: {a} vs {b}"
                );
            }
        }
        let wrong = seqae_data::Matrix::new(vec![0.0; 3], 1, 3).unwrap();
        assert!(fitted.model.decode(&wrong, 10).is_err());
    }
}
