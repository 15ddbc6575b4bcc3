//! Charts for seqae, drawn with plotters: plain data in, one `.png` or `.svg` file out.
//!
//! | function | chart |
//! | --- | --- |
//! | [`latent_scatter`] | 2-D latent points coloured by cluster, shaped by true label |
//! | [`loss_curve`] | training and validation loss per epoch, linear or log axis |
//! | [`reconstructions`] | original against reconstruction over time, a panel per sequence |
//! | [`cluster_prototypes`] | per cluster the mean sequence with a mean ± std band |
//! | [`explained_variance`] | scree: explained variance ratio per component and cumulative |
//! | [`silhouette_curve`] | silhouette score against k with the chosen k marked |
//!
//! Every function takes the output path, a small input struct and [`ChartOptions`] (title and
//! size, 900 x 600 by default). The format follows the extension (`.png` or `.svg`, any case);
//! anything else is [`PlotError::UnsupportedFormat`]. Files are written atomically: the chart is
//! rendered to a temporary file in the same directory, which is then renamed over the target,
//! so a failed call never leaves a partial chart behind.
//!
//! Sequences are time-major: the value of channel `c` at step `t` is at `t * channels + c`.
//! Non-finite values: in sequences (reconstructions, prototypes) NaN is a missing value and
//! leaves a gap; NaN/infinite losses are skipped (and counted in the legend); everywhere else a
//! non-finite value is a [`PlotError::NonFinite`]. Empty input is [`PlotError::Empty`].
//!
//! Text uses DejaVu Sans (regular and bold) from the `dejavu` crate on crates.io, which ships
//! the DejaVu 2.37 TTF files (free Bitstream Vera / DejaVu font licence); the bytes are
//! registered with plotters once, so no system font library is needed. Colours follow the colour-blind-safe Okabe-Ito palette
//! ([`palette_color`]), cycling through darker and lighter shades past eight.

mod common;
mod loss;
mod prototypes;
mod reconstruction;
mod scatter;
mod silhouette;
mod variance;

pub use common::{
    ChartOptions, ImageFormat, MAX_SIDE, MIN_SIZE, PALETTE, PlotError, Result, palette_color,
};
pub use loss::{LossCurve, YScale, loss_curve};
pub use prototypes::{ClusterPrototypes, MAX_PROTOTYPES, Prototype, cluster_prototypes};
pub use reconstruction::{
    DEFAULT_MAX_CHANNELS, MAX_RECONSTRUCTIONS, Reconstructions, SequencePair, reconstructions,
};
pub use scatter::{LatentScatter, latent_scatter};
pub use silhouette::{MAX_K, SilhouetteCurve, silhouette_curve};
pub use variance::{ExplainedVariance, explained_variance};

#[cfg(test)]
mod tests;
