//! Compares seqae-latent against scikit-learn on the committed fixtures
//! (`fixtures/make_fixtures.py` produced them).

use seqae_latent::{KMeans, Matrix, Pca, metrics};
use serde::Deserialize;

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Deserialize)]
struct KMeansCases {
    cases: Vec<KMeansCase>,
}

#[derive(Deserialize)]
struct KMeansCase {
    name: String,
    k: usize,
    x: Matrix,
    sklearn_inertia_n_init10: f64,
    sklearn_inertia_n_init100: f64,
}

#[test]
fn kmeans_inertia_within_one_percent_of_sklearn() {
    let f: KMeansCases = load("kmeans_blobs.json");
    for c in &f.cases {
        for seed in 0..5 {
            let model = KMeans::new(c.k)
                .with_n_init(10)
                .with_seed(seed)
                .fit(&c.x)
                .unwrap();
            let rel = (model.inertia() - c.sklearn_inertia_n_init10) / c.sklearn_inertia_n_init10;
            println!(
                "{} seed {seed}: seqae {:.4} sklearn(n_init=10) {:.4} sklearn(n_init=100) {:.4} rel {:+.5} n_iter {}",
                c.name,
                model.inertia(),
                c.sklearn_inertia_n_init10,
                c.sklearn_inertia_n_init100,
                rel,
                model.n_iter()
            );
            assert!(
                rel.abs() <= 0.01,
                "{}: inertia {} vs sklearn {} ({rel:+})",
                c.name,
                model.inertia(),
                c.sklearn_inertia_n_init10
            );
            let again = metrics::inertia(&c.x, model.centroids(), model.labels()).unwrap();
            assert!((again - model.inertia()).abs() <= 1e-6 * again);
        }
    }
}

#[derive(Deserialize)]
struct LabelPairs {
    pairs: Vec<LabelPair>,
}

#[derive(Deserialize)]
struct LabelPair {
    name: String,
    labels_true: Vec<i64>,
    labels_pred: Vec<i64>,
    nmi: f64,
    ari: f64,
    accuracy: f64,
    purity: f64,
}

#[test]
fn nmi_ari_accuracy_purity_match_sklearn() {
    let f: LabelPairs = load("metrics_labels.json");
    assert!(f.pairs.len() >= 8);
    let (mut worst_nmi, mut worst_ari) = (0.0f64, 0.0f64);
    for p in &f.pairs {
        let nmi = metrics::nmi(&p.labels_true, &p.labels_pred).unwrap();
        let ari = metrics::ari(&p.labels_true, &p.labels_pred).unwrap();
        let acc = metrics::accuracy_hungarian(&p.labels_true, &p.labels_pred).unwrap();
        let pur = metrics::purity(&p.labels_true, &p.labels_pred).unwrap();
        worst_nmi = worst_nmi.max((nmi - p.nmi).abs());
        worst_ari = worst_ari.max((ari - p.ari).abs());
        assert!(
            (nmi - p.nmi).abs() <= 1e-6,
            "{} nmi {nmi} vs {}",
            p.name,
            p.nmi
        );
        assert!(
            (ari - p.ari).abs() <= 1e-6,
            "{} ari {ari} vs {}",
            p.name,
            p.ari
        );
        assert!((acc - p.accuracy).abs() <= 1e-12, "{} accuracy", p.name);
        assert!((pur - p.purity).abs() <= 1e-12, "{} purity", p.name);
    }
    println!("max |NMI - sklearn| = {worst_nmi:.3e}, max |ARI - sklearn| = {worst_ari:.3e}");
}

#[derive(Deserialize)]
struct SilCases {
    cases: Vec<SilCase>,
}

#[derive(Deserialize)]
struct SilCase {
    name: String,
    x: Matrix,
    labels: Vec<i64>,
    silhouette: f64,
    samples: Vec<f64>,
}

#[test]
fn silhouette_matches_sklearn() {
    let f: SilCases = load("silhouette.json");
    for c in &f.cases {
        let s = metrics::silhouette(&c.x, &c.labels).unwrap();
        println!(
            "{}: silhouette {s:.12} sklearn {:.12} |diff| {:.3e}",
            c.name,
            c.silhouette,
            (s - c.silhouette).abs()
        );
        assert!(
            (s - c.silhouette).abs() <= 1e-6,
            "{}: {s} vs {}",
            c.name,
            c.silhouette
        );
        let samples = metrics::silhouette_samples(&c.x, &c.labels).unwrap();
        for (a, b) in samples.iter().zip(&c.samples) {
            assert!((a - b).abs() <= 1e-6, "{}: sample {a} vs {b}", c.name);
        }
    }
}

#[derive(Deserialize)]
struct PcaCases {
    cases: Vec<PcaCase>,
}

#[derive(Deserialize)]
struct PcaCase {
    name: String,
    x: Matrix,
    n_components: Option<usize>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    singular_values: Vec<f64>,
    components: Matrix,
    mean: Vec<f64>,
    transform_head: Matrix,
    whitened_transform_head: Matrix,
}

#[test]
fn pca_matches_sklearn() {
    let f: PcaCases = load("pca.json");
    for c in &f.cases {
        let pca = match c.n_components {
            Some(k) => Pca::new(k),
            None => Pca::all(),
        };
        let model = pca.fit(&c.x).unwrap();
        let k = c.explained_variance_ratio.len();
        assert_eq!(model.n_components(), k, "{}", c.name);
        let worst_ratio = (0..k)
            .map(|i| (model.explained_variance_ratio()[i] - c.explained_variance_ratio[i]).abs())
            .fold(0.0f64, f64::max);
        let worst_comp = model
            .components()
            .as_slice()
            .iter()
            .zip(c.components.as_slice())
            .map(|(a, b)| (*a as f64 - *b as f64).abs())
            .fold(0.0f64, f64::max);
        println!(
            "{}: max |ratio diff| {worst_ratio:.3e}, max |component diff| {worst_comp:.3e}",
            c.name
        );
        for i in 0..k {
            let (a, b) = (
                model.explained_variance_ratio()[i],
                c.explained_variance_ratio[i],
            );
            assert!((a - b).abs() <= 1e-5, "{} ratio {i}: {a} vs {b}", c.name);
            let (a, b) = (model.explained_variance()[i], c.explained_variance[i]);
            assert!(
                (a - b).abs() <= 1e-6 * b.max(1.0),
                "{} variance {i}",
                c.name
            );
            let (a, b) = (model.singular_values()[i], c.singular_values[i]);
            assert!(
                (a - b).abs() <= 1e-6 * b.max(1.0),
                "{} singular value {i}",
                c.name
            );
        }
        for (a, b) in model.mean().iter().zip(&c.mean) {
            assert!((a - b).abs() <= 1e-9, "{} mean", c.name);
        }
        // Components equal up to sign (and, with svd_flip, exactly in sign too).
        let mut signs = Vec::new();
        for (i, (ours, theirs)) in model
            .components()
            .iter_rows()
            .zip(c.components.iter_rows())
            .enumerate()
        {
            let dot: f64 = ours
                .iter()
                .zip(theirs)
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum();
            let sign = dot.signum();
            for (a, b) in ours.iter().zip(theirs) {
                assert!(
                    (*a as f64 - sign * *b as f64).abs() <= 1e-5,
                    "{} component {i}: {a} vs {b}",
                    c.name
                );
            }
            assert_eq!(sign, 1.0, "{} component {i}: svd_flip sign differs", c.name);
            signs.push(sign);
        }
        // transform / whitened transform of the first rows
        let head = Matrix::new(c.x.as_slice()[..5 * c.x.cols()].to_vec(), 5, c.x.cols()).unwrap();
        let t = model.transform(&head).unwrap();
        for (j, (a, b)) in t
            .as_slice()
            .iter()
            .zip(c.transform_head.as_slice())
            .enumerate()
        {
            let s = signs[j % k] as f32;
            assert!(
                (a - s * b).abs() <= 1e-4 * b.abs().max(1.0),
                "{} transform",
                c.name
            );
        }
        let pw = match c.n_components {
            Some(k) => Pca::new(k),
            None => Pca::all(),
        }
        .whiten(true)
        .fit(&c.x)
        .unwrap();
        let tw = pw.transform(&head).unwrap();
        for (j, (a, b)) in tw
            .as_slice()
            .iter()
            .zip(c.whitened_transform_head.as_slice())
            .enumerate()
        {
            let s = signs[j % k] as f32;
            assert!(
                (a - s * b).abs() <= 1e-4 * b.abs().max(1.0),
                "{} whitened",
                c.name
            );
        }
    }
}
