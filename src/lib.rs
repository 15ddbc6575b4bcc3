//! seqae: sequence autoencoders for unsupervised learning on time series.
//!
//! This crate re-exports the pipeline's crates under short names:
//! [`data`] (read, normalise, batch) -> [`model`] (recurrent autoencoder) ->
//! [`latent`] (k-means, PCA, metrics) -> [`plot`] (charts). The `seqae` binary's command line
//! lives in the private crate seqae-cli.
pub use seqae_data as data;
pub use seqae_latent as latent;
pub use seqae_model as model;
pub use seqae_plot as plot;
