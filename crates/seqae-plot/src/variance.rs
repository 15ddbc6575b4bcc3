//! Explained variance (scree): a bar per principal component and the cumulative line.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::common::{
    Chart, ChartOptions, GRID, LegendEntry, MarkerShape, PlotError, Result, Swatch, check_output,
    draw_title, font, format_tick, legend_strip, marker, palette_color, render, require_finite,
    tick_counts,
};

/// Input of [`explained_variance`].
///
/// Every ratio must be finite and in `[0, 1]`; anything else is an error.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExplainedVariance<'a> {
    /// Explained variance ratio of each component, in component order.
    pub ratios: &'a [f32],
}

/// Draws the explained variance ratio of each component as bars, with the cumulative ratio as
/// a line, to `path` (`.png` or `.svg`).
pub fn explained_variance(
    path: impl AsRef<Path>,
    data: &ExplainedVariance<'_>,
    opts: &ChartOptions,
) -> Result<()> {
    let path = path.as_ref();
    let format = check_output(path, opts)?;
    let chart = Prepared::new(data, opts.title_or("Explained variance"))?;
    render(path, format, opts, &chart)
}

struct Prepared<'a> {
    ratios: &'a [f32],
    cumulative: Vec<f64>,
    title: &'a str,
    y_max: f64,
}

impl<'a> Prepared<'a> {
    fn new(data: &'a ExplainedVariance<'a>, title: &'a str) -> Result<Self> {
        let ratios = data.ratios;
        if ratios.is_empty() {
            return Err(PlotError::Empty {
                what: "explained variance ratios".into(),
            });
        }
        require_finite("explained variance ratio", ratios)?;
        if let Some(i) = ratios.iter().position(|r| !(0.0..=1.0).contains(r)) {
            return Err(PlotError::Invalid(format!(
                "explained variance ratio of component {} is {}; expected a value in [0, 1]",
                i + 1,
                ratios[i]
            )));
        }
        let cumulative: Vec<f64> = ratios
            .iter()
            .scan(0.0f64, |acc, r| {
                *acc += *r as f64;
                Some(*acc)
            })
            .collect();
        let top = cumulative.last().copied().unwrap_or(1.0).max(1.0);
        Ok(Self {
            ratios,
            cumulative,
            title,
            y_max: top * 1.08,
        })
    }
}

impl Chart for Prepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, scale: f64) -> Result<()> {
        let body = draw_title(root, self.title, scale)?;
        let bar = palette_color(0);
        let line = palette_color(3);
        let legend = [
            LegendEntry::new(Swatch::Bar(bar), "per component"),
            LegendEntry::new(Swatch::LinePoint(line), "cumulative"),
        ];
        let area = legend_strip(&body, &legend, scale)?;
        let n = self.ratios.len();
        let ticks = tick_counts(&area, scale);
        let mut chart = ChartBuilder::on(&area)
            .margin((12.0 * scale) as u32)
            .x_label_area_size((50.0 * scale) as u32)
            .y_label_area_size((64.0 * scale) as u32)
            .build_cartesian_2d(0.4..n as f64 + 0.6, 0.0..self.y_max)?;
        let x_fmt = |v: &f64| {
            if (v - v.round()).abs() < 1e-9 && *v >= 1.0 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("principal component")
            .y_desc("explained variance ratio")
            .axis_desc_style(font(16.0 * scale))
            .label_style(font(13.0 * scale))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .disable_x_mesh()
            .x_labels(n.max(2).min(ticks.0))
            .y_labels(ticks.1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|v| format_tick(*v))
            .draw()?;
        // Each bar takes 70% of its slot, at least one pixel wide.
        chart.draw_series(self.ratios.iter().enumerate().map(|(i, r)| {
            let x = (i + 1) as f64;
            Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, *r as f64)],
                bar.mix(0.85).filled(),
            )
        }))?;
        if n <= 15 {
            // Percentages inside the top of bars tall enough to hold them (clear of the
            // cumulative line's first point, which sits on the first bar's top), else above.
            let (_, plot_h) = chart.plotting_area().dim_in_pixel();
            let text_h = 12.0 * scale;
            let per_px = self.y_max / plot_h.max(1) as f64;
            let inside = font(12.0 * scale)
                .color(&WHITE)
                .pos(Pos::new(HPos::Center, VPos::Top));
            let above = font(12.0 * scale).pos(Pos::new(HPos::Center, VPos::Bottom));
            for (i, r) in self.ratios.iter().enumerate() {
                let (x, r) = ((i + 1) as f64, *r as f64);
                let label = format!("{:.1}%", r * 100.0);
                if r / per_px > text_h * 2.2 {
                    let y = r - per_px * 7.0 * scale;
                    chart.draw_series(std::iter::once(Text::new(label, (x, y), inside.clone())))?;
                } else {
                    let y = r + per_px * 3.0 * scale;
                    chart.draw_series(std::iter::once(Text::new(label, (x, y), above.clone())))?;
                }
            }
        }
        let points = self
            .cumulative
            .iter()
            .enumerate()
            .map(|(i, c)| ((i + 1) as f64, *c));
        chart.draw_series(LineSeries::new(points.clone(), line.stroke_width(2)))?;
        if n <= 40 {
            let r = (4.0 * scale).round() as i32;
            chart.draw_series(points.map(|p| marker(p, MarkerShape::Circle, r, line.filled())))?;
        }
        Ok(())
    }
}
