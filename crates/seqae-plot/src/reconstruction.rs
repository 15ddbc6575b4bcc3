//! Reconstructions: original against reconstructed sequences, one panel per sequence.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::common::{
    Chart, ChartOptions, LegendEntry, MarkerShape, PlotError, Result, Swatch, build_panel,
    check_output, draw_title, finite_bounds, finite_runs, join_bounds, legend_strip, marker,
    note_in_plot, padded_range, palette_color, reject_infinite, render, steps_of, time_range,
};

/// Most sequences one reconstruction chart shows.
pub const MAX_RECONSTRUCTIONS: usize = 16;

/// Channels drawn per panel by default ([`Reconstructions::max_channels`]).
pub const DEFAULT_MAX_CHANNELS: usize = 4;

/// One sequence and its reconstruction, both time-major: the value of channel `c` at step `t`
/// is at index `t * channels + c`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SequencePair<'a> {
    /// Panel title, e.g. the sequence id.
    pub name: &'a str,
    /// The input sequence; NaN marks a missing value.
    pub original: &'a [f32],
    /// The model's reconstruction, same length as `original`.
    pub reconstruction: &'a [f32],
}

/// Input of [`reconstructions`].
///
/// NaN values are missing values (as in seqae-data) and leave a gap in the line; an infinite
/// value is a [`PlotError::NonFinite`]. A panel whose values are all NaN is drawn empty with a
/// note.
#[derive(Clone, Copy, Debug)]
pub struct Reconstructions<'a> {
    /// The sequences, at most [`MAX_RECONSTRUCTIONS`]; each gets a panel.
    pub sequences: &'a [SequencePair<'a>],
    /// Channels per time step (1 for univariate series).
    pub channels: usize,
    /// How many channels to draw, the first ones; the legend says when some are left out.
    pub max_channels: usize,
}

impl Default for Reconstructions<'_> {
    fn default() -> Self {
        Self {
            sequences: &[],
            channels: 1,
            max_channels: DEFAULT_MAX_CHANNELS,
        }
    }
}

/// Draws original and reconstruction over time for each sequence, one panel per sequence, to
/// `path` (`.png` or `.svg`).
pub fn reconstructions(
    path: impl AsRef<Path>,
    data: &Reconstructions<'_>,
    opts: &ChartOptions,
) -> Result<()> {
    let path = path.as_ref();
    let format = check_output(path, opts)?;
    let chart = Prepared::new(data, opts.title_or("Reconstructions"))?;
    render(path, format, opts, &chart)
}

struct Prepared<'a> {
    data: &'a Reconstructions<'a>,
    title: &'a str,
    shown: usize,
    /// Steps and y range of each panel (`None`: nothing finite).
    panels: Vec<(usize, Option<(f64, f64)>)>,
}

impl<'a> Prepared<'a> {
    fn new(data: &'a Reconstructions<'a>, title: &'a str) -> Result<Self> {
        let n = data.sequences.len();
        if n == 0 {
            return Err(PlotError::Empty {
                what: "reconstruction sequences".into(),
            });
        }
        if n > MAX_RECONSTRUCTIONS {
            return Err(PlotError::TooMany {
                what: "reconstruction sequences".into(),
                given: n,
                max: MAX_RECONSTRUCTIONS,
            });
        }
        if data.max_channels == 0 {
            return Err(PlotError::Invalid("max_channels must be at least 1".into()));
        }
        let channels = data.channels;
        let shown = channels.min(data.max_channels);
        let mut panels = Vec::with_capacity(n);
        for (i, s) in data.sequences.iter().enumerate() {
            let what = format!("sequence {i} ({}) original", s.name);
            let steps = steps_of(&what, s.original, channels)?;
            if s.reconstruction.len() != s.original.len() {
                return Err(PlotError::LengthMismatch {
                    what: format!("sequence {i} ({}) reconstruction", s.name),
                    expected: s.original.len(),
                    actual: s.reconstruction.len(),
                });
            }
            reject_infinite(&what, s.original)?;
            reject_infinite(
                &format!("sequence {i} ({}) reconstruction", s.name),
                s.reconstruction,
            )?;
            let values = |v: &'a [f32]| {
                v.iter()
                    .enumerate()
                    .filter(move |(k, _)| k % channels < shown)
                    .map(|(_, x)| *x)
            };
            let bounds = join_bounds(
                finite_bounds(values(s.original)),
                finite_bounds(values(s.reconstruction)),
            );
            panels.push((steps, bounds));
        }
        Ok(Self {
            data,
            title,
            shown,
            panels,
        })
    }

    fn legend(&self) -> Vec<LegendEntry> {
        let mut entries = Vec::new();
        if self.data.channels == 1 {
            entries.push(LegendEntry::new(
                Swatch::Line {
                    color: ORIGINAL,
                    dashed: false,
                },
                "original",
            ));
            entries.push(LegendEntry::new(
                Swatch::Line {
                    color: RECONSTRUCTED,
                    dashed: true,
                },
                "reconstruction",
            ));
        } else {
            let grey = RGBColor(60, 60, 60);
            entries.push(LegendEntry::new(
                Swatch::Line {
                    color: grey,
                    dashed: false,
                },
                "original",
            ));
            entries.push(LegendEntry::new(
                Swatch::Line {
                    color: grey,
                    dashed: true,
                },
                "reconstruction",
            ));
            for c in 0..self.shown {
                entries.push(LegendEntry::new(
                    Swatch::Bar(palette_color(c)),
                    format!("channel {}", c + 1),
                ));
            }
            if self.shown < self.data.channels {
                entries.push(LegendEntry::new(
                    Swatch::None,
                    format!("(first {} of {} channels)", self.shown, self.data.channels),
                ));
            }
        }
        entries
    }
}

/// Colour of the original series of a univariate panel.
const ORIGINAL: RGBColor = RGBColor(0, 114, 178);
/// Colour of the reconstruction of a univariate panel.
const RECONSTRUCTED: RGBColor = RGBColor(213, 94, 0);

impl Chart for Prepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, scale: f64) -> Result<()> {
        let body = draw_title(root, self.title, scale)?;
        let area = legend_strip(&body, &self.legend(), scale)?;
        let (rows, cols) = crate::common::grid_shape(self.data.sequences.len());
        let cells = area.split_evenly((rows, cols));
        let channels = self.data.channels;
        for (i, (s, cell)) in self.data.sequences.iter().zip(&cells).enumerate() {
            let (steps, bounds) = self.panels[i];
            let y = match bounds {
                Some((lo, hi)) => padded_range(lo, hi, 0.08),
                None => padded_range(0.0, 0.0, 0.0),
            };
            let bottom = i + cols >= self.data.sequences.len();
            let left = i % cols == 0;
            let mut chart = build_panel(
                cell,
                s.name,
                time_range(steps),
                y,
                bottom.then_some("time step"),
                left.then_some("value"),
                scale,
            )?;
            if bounds.is_none() {
                note_in_plot(&chart, "(all values missing)", scale)?;
                continue;
            }
            let r = (3.0 * scale).round() as i32;
            for c in 0..self.shown {
                let (orig_color, rec_color) = if channels == 1 {
                    (ORIGINAL, RECONSTRUCTED)
                } else {
                    (palette_color(c), palette_color(c))
                };
                let series = |v: &[f32]| {
                    finite_runs((0..steps).map(|t| (t as f64, v[t * channels + c] as f64)))
                };
                for run in series(s.original) {
                    if run.len() == 1 {
                        chart
                            .draw_series(run.iter().map(|p| {
                                marker(*p, MarkerShape::Circle, r, orig_color.filled())
                            }))?;
                    } else {
                        chart.draw_series(LineSeries::new(run, orig_color.stroke_width(2)))?;
                    }
                }
                for run in series(s.reconstruction) {
                    if run.len() == 1 {
                        chart
                            .draw_series(run.iter().map(|p| {
                                marker(*p, MarkerShape::Diamond, r, rec_color.filled())
                            }))?;
                    } else {
                        let dash = (6.0 * scale).round() as i32;
                        let gap = (4.0 * scale).round() as i32;
                        chart.draw_series(DashedLineSeries::new(
                            run,
                            dash,
                            gap,
                            rec_color.stroke_width(2),
                        ))?;
                    }
                }
            }
        }
        Ok(())
    }
}
