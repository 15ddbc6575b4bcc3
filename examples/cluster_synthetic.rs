//! Cluster synthetic sequences with the library, the way a user would:
//! generate two labelled families, train a GRU autoencoder without the labels, embed,
//! run k-means on the embeddings and compare the clusters with the hidden labels.
//!
//! `cargo run --release --example cluster_synthetic`
use seqae::data::synthetic::{Family, Synthetic};
use seqae::latent::{KMeans, metrics};
use seqae::model::{Cell, ModelConfig, TrainConfig, Trainer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let set = Synthetic {
        n: 200,
        len: 48,
        min_len: Some(32),
        families: vec![Family::Sine, Family::Sawtooth],
        ..Default::default()
    }
    .generate()?;
    let model = ModelConfig {
        cell: Cell::Gru,
        hidden: 32,
        latent: 8,
        ..Default::default()
    };
    let train = TrainConfig {
        epochs: 30,
        min_updates: None,
        ..Default::default()
    };
    let fitted = Trainer::new(model, train)
        .on_epoch(|r| {
            if r.epoch % 10 == 0 {
                println!("epoch {:>3}  loss {:.4}", r.epoch, r.train_loss);
            }
        })
        .fit(&set)?;
    let z = fitted.model.embed(&set)?;
    let clusters = KMeans::new(2).with_seed(0).fit(&z)?;
    let labels = set.label_indices().expect("synthetic data is labelled");
    println!(
        "NMI {:.3}  ARI {:.3}",
        metrics::nmi(&labels, clusters.labels())?,
        metrics::ari(&labels, clusters.labels())?
    );
    Ok(())
}
