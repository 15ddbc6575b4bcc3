//! Shared pieces of every chart, one job per module; re-exported here for the chart modules.

mod error;
mod fonts;
mod layout;
mod legend;
mod markers;
mod options;
mod palette;
mod render;
mod values;

pub use error::{PlotError, Result};
pub(crate) use fonts::{bold, font};
pub(crate) use layout::{
    build_panel, draw_title, grid_shape, note_in_plot, tick_counts, time_range,
};
pub(crate) use legend::{LegendEntry, Swatch, draw_legend_column, legend_strip};
pub(crate) use markers::{MarkerShape, marker};
pub use options::{ChartOptions, ImageFormat, MAX_SIDE, MIN_SIZE};
pub(crate) use palette::{GRID, NEUTRAL};
pub use palette::{PALETTE, palette_color};
pub(crate) use render::{Chart, check_output, render};
pub(crate) use values::{
    finite_bounds, finite_runs, format_tick, join_bounds, padded_range, reject_infinite,
    require_finite, steps_of,
};
