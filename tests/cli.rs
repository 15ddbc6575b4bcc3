//! End-to-end tests: the real `seqae` binary on the shipped datasets, every command, and the
//! bad-input cases (exit code 2, one line, no panic, nothing left behind).
mod common;

use common::{bad, dataset, ok, s, tiny_model};
use std::path::Path;

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert!(
        bytes.len() > 10_000,
        "{} is only {} bytes",
        path.display(),
        bytes.len()
    );
}

/// Rows and columns of a CSV with a header.
fn csv_shape(path: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<&str> = lines.collect();
    for r in &rows {
        assert_eq!(
            r.split(',').count(),
            header.len(),
            "ragged row in {}",
            path.display()
        );
    }
    (rows.len(), header)
}

#[test]
fn info_describes_every_shipped_dataset() {
    for (name, n, c, min, max, k) in [
        ("GunPoint", 200, 1, 150, 150, 2),
        ("ArrowHead", 211, 1, 251, 251, 3),
        ("ItalyPowerDemand", 1096, 1, 24, 24, 2),
        ("Chinatown20", 42, 1, 24, 24, 2),
        ("BasicMotions", 80, 6, 100, 100, 4),
        ("JapaneseVowels", 640, 12, 7, 29, 9),
    ] {
        let v: serde_json::Value =
            serde_json::from_str(&ok(&["info", &dataset(name), "--json"])).unwrap();
        assert_eq!(v["n"], n, "{name}");
        assert_eq!(v["channels"], c, "{name}");
        assert_eq!(v["min_len"], min, "{name}");
        assert_eq!(v["max_len"], max, "{name}");
        assert_eq!(v["labels"], k, "{name}");
        assert_eq!(v["missing"], 0, "{name}");
    }
    let text = ok(&["info", &dataset("JapaneseVowels")]);
    assert!(
        text.contains("sequences   640") && text.contains("min 7"),
        "{text}"
    );
}

#[test]
fn train_embed_cluster_reduce_reconstruct() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    for f in ["config.json", "weights.bpk", "history.json"] {
        assert!(model.join(f).is_file(), "model lacks {f}");
    }
    assert_png(&model.join("loss.png"));
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("history.json")).unwrap())
            .unwrap();
    assert_eq!(history["train_loss"].as_array().unwrap().len(), 3);

    let data = dataset("Chinatown20");
    let emb = dir.path().join("emb.csv");
    ok(&["embed", s(&model), &data, "--out", s(&emb)]);
    let (rows, header) = csv_shape(&emb);
    assert_eq!(rows, 42);
    assert_eq!(header, ["id", "label", "z0", "z1", "z2", "z3"]);
    for ext in ["npy", "json"] {
        let p = dir.path().join(format!("emb.{ext}"));
        ok(&["embed", s(&model), &data, "--out", s(&p)]);
        assert!(std::fs::metadata(&p).unwrap().len() > 100);
    }
    let npy = std::fs::read(dir.path().join("emb.npy")).unwrap();
    assert_eq!(&npy[..6], b"\x93NUMPY");

    let clusters = dir.path().join("clusters.csv");
    let out = ok(&["cluster", s(&emb), "--k", "2", "--out", s(&clusters)]);
    assert!(
        out.contains("inertia") && out.contains("silhouette") && out.contains("NMI"),
        "{out}"
    );
    let (rows, header) = csv_shape(&clusters);
    assert_eq!(
        (rows, header),
        (42, vec!["id".to_string(), "label".into(), "cluster".into()])
    );
    let text = std::fs::read_to_string(&clusters).unwrap();
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.ends_with(",0") || l.ends_with(",1")),
        "{text}"
    );

    let auto = dir.path().join("auto.json");
    let out = ok(&[
        "cluster",
        "--model",
        s(&model),
        &data,
        "--k",
        "auto",
        "--out",
        s(&auto),
    ]);
    assert!(out.contains("k =   2") && out.contains("k =  10"), "{out}");

    let pca = dir.path().join("pca.csv");
    let out = ok(&["reduce", s(&emb), "--components", "3", "--out", s(&pca)]);
    assert!(out.contains("pc1") && out.contains("cumulative"), "{out}");
    let (rows, header) = csv_shape(&pca);
    assert_eq!(
        (rows, &header[2..]),
        (42, &["pc1".to_string(), "pc2".into(), "pc3".into()][..])
    );

    let rec = dir.path().join("rec.csv");
    ok(&["reconstruct", s(&model), &data, "--out", s(&rec)]);
    let (rows, header) = csv_shape(&rec);
    assert_eq!((rows, header.len()), (42, 4 + 24));
    let text = std::fs::read_to_string(&rec).unwrap();
    let errors: Vec<f32> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert!(
        errors.windows(2).all(|w| w[0] >= w[1]),
        "not worst first: {errors:?}"
    );
}

#[test]
fn every_plot_kind_writes_a_picture() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let data = dataset("Chinatown20");
    let emb = dir.path().join("emb.csv");
    ok(&["embed", s(&model), &data, "--out", s(&emb)]);
    let clusters = dir.path().join("c.csv");
    ok(&["cluster", s(&emb), "--k", "2", "--out", s(&clusters)]);
    let p = |n: &str| dir.path().join(n);
    ok(&[
        "plot",
        "latent",
        s(&emb),
        "--clusters",
        s(&clusters),
        "--out",
        s(&p("latent.png")),
    ]);
    ok(&["plot", "loss", s(&model), "--out", s(&p("loss.png"))]);
    ok(&[
        "plot",
        "reconstructions",
        s(&model),
        &data,
        "--out",
        s(&p("rec.png")),
    ]);
    ok(&[
        "plot",
        "prototypes",
        &data,
        "--clusters",
        s(&clusters),
        "--out",
        s(&p("proto.png")),
    ]);
    ok(&["plot", "scree", s(&emb), "--out", s(&p("scree.png"))]);
    ok(&["plot", "silhouette", s(&emb), "--out", s(&p("sil.png"))]);
    for f in [
        "latent.png",
        "loss.png",
        "rec.png",
        "proto.png",
        "scree.png",
        "sil.png",
    ] {
        assert_png(&p(f));
    }
    ok(&[
        "plot",
        "latent",
        s(&emb),
        "--k",
        "3",
        "--out",
        s(&p("latent.svg")),
    ]);
    assert!(
        std::fs::read_to_string(p("latent.svg"))
            .unwrap()
            .contains("<svg")
    );
}

#[test]
fn evaluate_reports_nmi_and_ari_per_seed() {
    let out = ok(&[
        "evaluate",
        &dataset("Chinatown20"),
        "--seeds",
        "2",
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["per_seed"].as_array().unwrap().len(), 2);
    for key in ["nmi_mean", "ari_mean"] {
        let x = v[key].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&x), "{key} = {x}");
    }
    assert_eq!(v["k"], 2);
    // length 24: the automatic patch is one step; an explicit --epochs is kept as given
    assert_eq!(v["model"]["patch"], serde_json::json!({"size": 1}));
    assert_eq!(v["epochs"], 2);
    // The default clusters by the best-scored view and says which.
    assert_eq!(v["method"], "auto");
    let views = ["latent", "euclidean", "shape", "warping"];
    for seed in v["per_seed"].as_array().unwrap() {
        assert!(views.contains(&seed["view"].as_str().unwrap()), "{seed}");
    }
    assert_eq!(v["baseline"], serde_json::json!([]));
}

#[test]
fn evaluate_baseline_scores_kmeans_and_kshape_on_the_same_seeds() {
    let out = ok(&[
        "evaluate",
        &dataset("Chinatown20"),
        "--seeds",
        "2",
        "--seed",
        "3",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--baseline",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let base = v["baseline"].as_array().unwrap();
    assert_eq!(base.len(), 2, "{v}");
    assert!(
        base[0]["method"]
            .as_str()
            .unwrap()
            .starts_with("k-means on raw values")
    );
    assert!(base[1]["method"].as_str().unwrap().starts_with("k-Shape"));
    for b in base {
        assert_eq!(b["nmi"].as_array().unwrap().len(), 2, "{b}");
        let m = b["nmi_mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&m), "{b}");
    }
    // The table form prints both beside the model.
    let text = ok(&[
        "evaluate",
        &dataset("Chinatown20"),
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--baseline",
        "-q",
    ]);
    assert!(
        text.contains("k-means on raw values") && text.contains("k-Shape on raw values: NMI"),
        "{text}"
    );
}

#[test]
fn cluster_kshape_reads_the_sequences_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let out_csv = dir.path().join("kshape.csv");
    let data = dataset("Chinatown20");
    let out = ok(&[
        "cluster",
        &data,
        "--method",
        "kshape",
        "--k",
        "2",
        "--out",
        s(&out_csv),
    ]);
    assert!(
        out.contains("method      kshape") && out.contains("NMI"),
        "{out}"
    );
    let (rows, header) = csv_shape(&out_csv);
    assert_eq!(
        (rows, header),
        (42, vec!["id".to_string(), "label".into(), "cluster".into()])
    );
    // k auto compares k on the raw values; an unknown method names the choices.
    let auto = ok(&[
        "cluster",
        &data,
        "--method",
        "kshape",
        "--out",
        s(&dir.path().join("a.csv")),
    ]);
    assert!(auto.contains("k =   2"), "{auto}");
    bad(
        &["cluster", &data, "--method", "dbscan", "--out", "x.csv"],
        "auto, spectral, kmeans, kshape",
    );
}

#[test]
fn demo_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    ok(&[
        "demo",
        "--out",
        s(&out),
        "--data",
        &dataset("Chinatown20"),
        "--epochs",
        "2",
        "--hidden",
        "8",
        "-q",
    ]);
    for f in [
        "latent.png",
        "loss.png",
        "reconstructions.png",
        "prototypes.png",
        "scree.png",
        "silhouette.png",
    ] {
        assert_png(&out.join(f));
    }
    let (rows, _) = csv_shape(&out.join("embeddings.csv"));
    assert_eq!(rows, 42);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in ["nmi", "ari", "silhouette", "k", "loss_first", "loss_last"] {
        assert!(!summary[key].is_null(), "summary lacks {key}");
    }
    assert!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .contains("![latent space](latent.png)")
    );
    // an existing report is not replaced without --force
    bad(
        &[
            "demo",
            "--out",
            s(&out),
            "--data",
            &dataset("Chinatown20"),
            "--epochs",
            "1",
        ],
        "--force",
    );
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let emb = dir.path().join("emb.csv");
    ok(&[
        "embed",
        s(&model),
        &dataset("Chinatown20"),
        "--out",
        s(&emb),
    ]);
    bad(&["info", "no/such/file.ts"], "no/such/file.ts");
    let junk = dir.path().join("junk.ts");
    std::fs::write(&junk, "@data\n1,2,x\n").unwrap();
    bad(&["info", s(&junk)], "junk.ts:2: dimension 1, value 3");
    bad(&["info", s(&dir.path().join("x.xlsx"))], "x.xlsx");
    bad(
        &[
            "train",
            &dataset("Chinatown20"),
            "--out",
            s(&dir.path().join("m")),
            "--cell",
            "transformer",
        ],
        "transformer",
    );
    bad(
        &[
            "train",
            &dataset("Chinatown20"),
            "--out",
            s(&dir.path().join("m")),
            "--hidden",
            "-3",
        ],
        "hidden",
    );
    bad(
        &[
            "train",
            &dataset("Chinatown20"),
            "--out",
            s(&dir.path().join("m")),
            "--hidden",
            "0",
        ],
        "hidden",
    );
    bad(
        &[
            "train",
            &dataset("Chinatown20"),
            "--out",
            s(&dir.path().join("m")),
            "--patch",
            "half",
        ],
        "patch must be auto or a whole number",
    );
    assert!(
        !dir.path().join("m").exists(),
        "a failed train left a model behind"
    );
    bad(
        &[
            "embed",
            s(&model),
            &dataset("BasicMotions"),
            "--out",
            s(&dir.path().join("e.csv")),
        ],
        "channels",
    );
    assert!(!dir.path().join("e.csv").exists());
    bad(
        &[
            "embed",
            s(&dir.path().join("nomodel")),
            &dataset("Chinatown20"),
            "--out",
            s(&dir.path().join("e.csv")),
        ],
        "nomodel",
    );
    bad(
        &[
            "cluster",
            s(&emb),
            "--k",
            "50",
            "--out",
            s(&dir.path().join("c.csv")),
        ],
        "50",
    );
    bad(
        &[
            "cluster",
            s(&emb),
            "--k",
            "zero",
            "--out",
            s(&dir.path().join("c.csv")),
        ],
        "zero",
    );
    bad(
        &[
            "reduce",
            s(&emb),
            "--components",
            "9",
            "--out",
            s(&dir.path().join("r.csv")),
        ],
        "9",
    );
    bad(
        &[
            "train",
            &dataset("Chinatown20"),
            "--out",
            s(&model),
            "--epochs",
            "1",
        ],
        "--force",
    );
    let before = std::fs::read(&emb).unwrap();
    bad(
        &[
            "embed",
            s(&model),
            &dataset("Chinatown20"),
            "--out",
            s(&emb),
        ],
        "--force",
    );
    assert_eq!(
        std::fs::read(&emb).unwrap(),
        before,
        "an existing output was changed"
    );
    let unlabelled = dir.path().join("plain.csv");
    std::fs::write(&unlabelled, "1,2,3\n4,5,6\n").unwrap();
    bad(&["evaluate", s(&unlabelled)], "no labels");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        // Every temporary file or folder seqae makes is hidden (its name starts with a dot).
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
}

/// `seqae bench` with both kernels on a tiny configuration: JSON with the documented keys;
/// a missing PyTorch script is bad input. (No timing is asserted.)
#[test]
fn bench_reports_throughput() {
    for kernel in ["fused", "reference"] {
        let out = ok(&[
            "bench",
            "--cell",
            "gru",
            "--n",
            "8",
            "--len",
            "6",
            "--hidden",
            "4",
            "--latent",
            "2",
            "--batch",
            "4",
            "--epochs",
            "1",
            "--threads",
            "1",
            "--runs",
            "2",
            "--kernel",
            kernel,
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["runs"], 2, "{out}");
        assert_eq!(
            v["train_seq_per_s_runs"].as_array().unwrap().len(),
            2,
            "{out}"
        );
        assert!(v["train_seq_per_s"].as_f64().unwrap() > 0.0, "{out}");
        assert!(v["encode_seq_per_s"].as_f64().unwrap() > 0.0, "{out}");
        assert_eq!(v["kernel"], kernel);
    }
    bad(
        &[
            "bench",
            "--n",
            "8",
            "--peer",
            "python3",
            "--peer-script",
            "no/such/script.py",
        ],
        "--peer-script",
    );
    bad(&["bench", "--kernel", "magic"], "kernel");
    bad(&["bench", "--runs", "0"], "--runs");
}

/// The library's defaults are the command line's: `SeqAe::fit` on the data `seqae train` reads
/// gives the same model, to the last bit of every embedding.
#[test]
fn library_defaults_train_what_seqae_train_trains() {
    use seqae::data::{ReadOptions, read_path};
    let dir = tempfile::tempdir().unwrap();
    let (model, emb) = (dir.path().join("m"), dir.path().join("e.csv"));
    let data = dataset("Chinatown20");
    ok(&["train", &data, "--out", s(&model), "--quiet"]);
    ok(&["embed", s(&model), &data, "--out", s(&emb)]);
    let set = read_path(Path::new(&data), &ReadOptions::default()).unwrap();
    let fitted = seqae::model::SeqAe::fit(&set).unwrap();
    let z = fitted.model.embed(&set).unwrap();
    let text = std::fs::read_to_string(&emb).unwrap();
    let rows: Vec<Vec<f32>> = text
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .filter_map(|f| f.parse::<f32>().ok())
                .rev()
                .take(z.cols())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), z.rows());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.as_slice(), z.row(i).unwrap(), "row {i}");
    }
}
