//! Silhouette score against the number of clusters k, with the chosen k marked.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::common::{
    Chart, ChartOptions, GRID, LegendEntry, MarkerShape, PlotError, Result, Swatch, check_output,
    draw_title, font, format_tick, legend_strip, marker, padded_range, palette_color, render,
    require_finite, tick_counts,
};

/// Largest k accepted.
pub const MAX_K: usize = 1 << 30;

/// Input of [`silhouette_curve`].
///
/// Every score must be finite (a NaN score is an error); `ks` must be distinct, in any order.
#[derive(Clone, Copy, Debug, Default)]
pub struct SilhouetteCurve<'a> {
    /// The numbers of clusters tried.
    pub ks: &'a [usize],
    /// Mean silhouette score for each k (same length as `ks`).
    pub scores: &'a [f32],
    /// The k that was chosen; must be one of `ks`.
    pub chosen_k: Option<usize>,
}

/// Draws the silhouette score against k as a line with points to `path` (`.png` or `.svg`),
/// marking the chosen k.
pub fn silhouette_curve(
    path: impl AsRef<Path>,
    data: &SilhouetteCurve<'_>,
    opts: &ChartOptions,
) -> Result<()> {
    let path = path.as_ref();
    let format = check_output(path, opts)?;
    let chart = Prepared::new(
        data,
        opts.title_or("Silhouette score by number of clusters"),
    )?;
    render(path, format, opts, &chart)
}

struct Prepared<'a> {
    /// (k, score) sorted by k.
    points: Vec<(f64, f64)>,
    chosen: Option<(f64, f64)>,
    title: &'a str,
    x: (f64, f64),
    y: (f64, f64),
}

impl<'a> Prepared<'a> {
    fn new(data: &SilhouetteCurve<'_>, title: &'a str) -> Result<Self> {
        if data.ks.is_empty() {
            return Err(PlotError::Empty {
                what: "silhouette scores".into(),
            });
        }
        if data.scores.len() != data.ks.len() {
            return Err(PlotError::LengthMismatch {
                what: "silhouette scores (one per k)".into(),
                expected: data.ks.len(),
                actual: data.scores.len(),
            });
        }
        require_finite("silhouette score", data.scores)?;
        if let Some(&k) = data.ks.iter().find(|k| **k > MAX_K) {
            return Err(PlotError::Invalid(format!("k = {k} is too large to plot")));
        }
        let mut points: Vec<(usize, f64)> = data
            .ks
            .iter()
            .zip(data.scores)
            .map(|(k, s)| (*k, *s as f64))
            .collect();
        points.sort_by_key(|p| p.0);
        if let Some(w) = points.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(PlotError::Invalid(format!(
                "k = {} appears more than once in the silhouette scores",
                w[0].0
            )));
        }
        let chosen = match data.chosen_k {
            None => None,
            Some(k) => match points.iter().find(|p| p.0 == k) {
                Some(p) => Some((p.0 as f64, p.1)),
                None => {
                    return Err(PlotError::Invalid(format!(
                        "chosen k = {k} is not one of the k values scored"
                    )));
                }
            },
        };
        let points: Vec<(f64, f64)> = points.into_iter().map(|(k, s)| (k as f64, s)).collect();
        let (k_lo, k_hi) = (points[0].0, points[points.len() - 1].0);
        let x = if k_hi > k_lo {
            let pad = ((k_hi - k_lo) * 0.05).max(0.5);
            (k_lo - pad, k_hi + pad)
        } else {
            (k_lo - 1.0, k_hi + 1.0)
        };
        let (s_lo, s_hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        Ok(Self {
            points,
            chosen,
            title,
            x,
            y: padded_range(s_lo, s_hi, 0.12),
        })
    }
}

impl Chart for Prepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, scale: f64) -> Result<()> {
        let body = draw_title(root, self.title, scale)?;
        let line = palette_color(0);
        let pick = palette_color(3);
        let mut legend = vec![LegendEntry::new(
            Swatch::LinePoint(line),
            "silhouette score",
        )];
        if let Some((k, s)) = self.chosen {
            legend.push(LegendEntry::new(
                Swatch::Marker(MarkerShape::Diamond, pick),
                format!("chosen k = {} (score {:.3})", k as u64, s),
            ));
        }
        let area = legend_strip(&body, &legend, scale)?;
        let ticks = tick_counts(&area, scale);
        let mut chart = ChartBuilder::on(&area)
            .margin((12.0 * scale) as u32)
            .x_label_area_size((50.0 * scale) as u32)
            .y_label_area_size((64.0 * scale) as u32)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)?;
        let x_fmt = |v: &f64| {
            if (v - v.round()).abs() < 1e-9 && *v >= 0.0 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        };
        let span = self.x.1 - self.x.0;
        chart
            .configure_mesh()
            .x_desc("number of clusters k")
            .y_desc("mean silhouette score")
            .axis_desc_style(font(16.0 * scale))
            .label_style(font(13.0 * scale))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels((span.round() as usize + 1).max(2).min(ticks.0))
            .y_labels(ticks.1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|v| format_tick(*v))
            .draw()?;
        if let Some((k, _)) = self.chosen {
            let dash = (6.0 * scale).round() as i32;
            chart.draw_series(DashedLineSeries::new(
                [(k, self.y.0), (k, self.y.1)],
                dash,
                dash,
                pick.mix(0.8).stroke_width(2),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            self.points.iter().copied(),
            line.stroke_width(2),
        ))?;
        let r = (4.0 * scale).round() as i32;
        chart.draw_series(
            self.points
                .iter()
                .map(|p| marker(*p, MarkerShape::Circle, r, line.filled())),
        )?;
        if let Some(p) = self.chosen {
            let r = (8.0 * scale).round() as i32;
            chart.draw_series(std::iter::once(marker(
                p,
                MarkerShape::Diamond,
                r,
                pick.filled(),
            )))?;
        }
        Ok(())
    }
}
