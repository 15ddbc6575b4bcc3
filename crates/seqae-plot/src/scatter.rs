//! Latent scatter: 2-D embeddings coloured by cluster, shaped by true label.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::common::{
    Chart, ChartOptions, GRID, LegendEntry, MarkerShape, NEUTRAL, PlotError, Result, Swatch, bold,
    check_output, draw_legend_column, draw_title, font, format_tick, marker, padded_range,
    palette_color, render, tick_counts,
};

/// Input of [`latent_scatter`].
///
/// Every value must be finite: a NaN or infinite coordinate is a [`PlotError::NonFinite`].
#[derive(Clone, Copy, Debug, Default)]
pub struct LatentScatter<'a> {
    /// One (x, y) point per sequence, e.g. the first two principal components.
    pub points: &'a [[f32; 2]],
    /// Cluster id of each point (colour); `None` draws every point in one colour.
    pub clusters: Option<&'a [usize]>,
    /// True label of each point (marker shape); `None` draws circles only.
    pub labels: Option<&'a [String]>,
    /// Explained variance ratio of the two axes, shown in the axis labels ("PC1 (43.2%)").
    pub explained_variance_ratio: Option<[f32; 2]>,
}

/// Draws a scatter of 2-D latent points to `path` (`.png` or `.svg`), coloured by cluster and
/// shaped by true label, with a legend of clusters (and labels) beside the plot.
pub fn latent_scatter(
    path: impl AsRef<Path>,
    data: &LatentScatter<'_>,
    opts: &ChartOptions,
) -> Result<()> {
    let path = path.as_ref();
    let format = check_output(path, opts)?;
    let chart = Prepared::new(data, opts.title_or("Latent space"))?;
    render(path, format, opts, &chart)
}

struct Prepared<'a> {
    data: &'a LatentScatter<'a>,
    title: &'a str,
    /// Distinct cluster ids with their sizes, in order.
    clusters: BTreeMap<usize, usize>,
    /// Distinct labels in display order, and each point's label index.
    labels: Vec<&'a str>,
    label_of: Vec<usize>,
    x: (f64, f64),
    y: (f64, f64),
}

impl<'a> Prepared<'a> {
    fn new(data: &'a LatentScatter<'a>, title: &'a str) -> Result<Self> {
        let n = data.points.len();
        if n == 0 {
            return Err(PlotError::Empty {
                what: "latent scatter points".into(),
            });
        }
        for (i, p) in data.points.iter().enumerate() {
            for (j, v) in p.iter().enumerate() {
                if !v.is_finite() {
                    return Err(PlotError::NonFinite {
                        what: format!("latent scatter points[{i}][{j}]"),
                        value: *v,
                    });
                }
            }
        }
        let mut clusters = BTreeMap::new();
        if let Some(c) = data.clusters {
            if c.len() != n {
                return Err(PlotError::LengthMismatch {
                    what: "latent scatter cluster ids (one per point)".into(),
                    expected: n,
                    actual: c.len(),
                });
            }
            for &id in c {
                *clusters.entry(id).or_insert(0) += 1;
            }
        }
        let (labels, label_of) = match data.labels {
            None => (Vec::new(), Vec::new()),
            Some(l) => {
                if l.len() != n {
                    return Err(PlotError::LengthMismatch {
                        what: "latent scatter labels (one per point)".into(),
                        expected: n,
                        actual: l.len(),
                    });
                }
                label_order(l)
            }
        };
        if let Some(r) = data.explained_variance_ratio {
            for (j, v) in r.iter().enumerate() {
                if !v.is_finite() || *v < 0.0 || *v > 1.0 {
                    return Err(PlotError::Invalid(format!(
                        "explained variance ratio of PC{} is {v}; expected a value in [0, 1]",
                        j + 1
                    )));
                }
            }
        }
        let bounds = |j: usize| {
            let (lo, hi) = data
                .points
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), p| {
                    (lo.min(p[j] as f64), hi.max(p[j] as f64))
                });
            padded_range(lo, hi, 0.05)
        };
        Ok(Self {
            data,
            title,
            clusters,
            labels,
            label_of,
            x: bounds(0),
            y: bounds(1),
        })
    }

    fn legend(&self) -> Vec<LegendEntry> {
        let mut entries = Vec::new();
        if !self.clusters.is_empty() {
            entries.push(LegendEntry::new(Swatch::None, "Cluster"));
            for (&id, &size) in &self.clusters {
                entries.push(LegendEntry::new(
                    Swatch::Marker(MarkerShape::Circle, palette_color(id)),
                    format!("{id}  (n = {size})"),
                ));
            }
        }
        if !self.labels.is_empty() {
            entries.push(LegendEntry::new(Swatch::None, "True label"));
            for (i, l) in self.labels.iter().enumerate() {
                entries.push(LegendEntry::new(
                    Swatch::Marker(MarkerShape::nth(i), NEUTRAL),
                    truncate(l, 24),
                ));
            }
        }
        entries
    }

    fn axis_name(&self, j: usize) -> String {
        match self.data.explained_variance_ratio {
            Some(r) => format!("PC{} ({:.1}%)", j + 1, r[j] * 100.0),
            None => format!("PC{}", j + 1),
        }
    }
}

impl Chart for Prepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, scale: f64) -> Result<()> {
        let body = draw_title(root, self.title, scale)?;
        let legend = self.legend();
        let (w, _) = body.dim_in_pixel();
        let plot = if legend.is_empty() {
            body
        } else {
            let style = font(14.0 * scale);
            let heading = bold(14.0 * scale);
            let mut text_w = 0;
            for e in &legend {
                let s = if matches!(e.swatch, Swatch::None) {
                    &heading
                } else {
                    &style
                };
                text_w = text_w.max(body.estimate_text_size(&e.text, s)?.0);
            }
            let legend_w = (text_w as f64 + 50.0 * scale) as u32;
            let legend_w = legend_w.max((110.0 * scale) as u32).min(w * 35 / 100);
            let (plot, side) = body.split_horizontally(w - legend_w);
            let side = side.margin((14.0 * scale) as u32, 0, 0, 0);
            draw_legend_column(&side, &legend, scale)?;
            plot
        };
        let ticks = tick_counts(&plot, scale);
        let mut chart = ChartBuilder::on(&plot)
            .margin((12.0 * scale) as u32)
            .x_label_area_size((50.0 * scale) as u32)
            .y_label_area_size((62.0 * scale) as u32)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)?;
        chart
            .configure_mesh()
            .x_desc(self.axis_name(0))
            .y_desc(self.axis_name(1))
            .axis_desc_style(font(16.0 * scale))
            .label_style(font(13.0 * scale))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(ticks.0)
            .y_labels(ticks.1)
            .x_label_formatter(&|v| format_tick(*v))
            .y_label_formatter(&|v| format_tick(*v))
            .draw()?;

        let n = self.data.points.len();
        let r = if n <= 300 {
            5.0
        } else if n <= 3000 {
            4.0
        } else {
            3.0
        };
        let r = (r * scale).round() as i32;
        let alpha = if n <= 300 { 0.85 } else { 0.7 };
        chart.draw_series(self.data.points.iter().enumerate().map(|(i, p)| {
            let color = match self.data.clusters {
                Some(c) => palette_color(c[i]),
                None => palette_color(0),
            };
            let shape = if self.label_of.is_empty() {
                MarkerShape::Circle
            } else {
                MarkerShape::nth(self.label_of[i])
            };
            marker(
                (p[0] as f64, p[1] as f64),
                shape,
                r,
                color.mix(alpha).filled(),
            )
        }))?;
        Ok(())
    }
}

/// Distinct labels in display order (numeric when all labels are numbers, else text order)
/// and each point's index into them.
fn label_order(labels: &[String]) -> (Vec<&str>, Vec<usize>) {
    let mut distinct: Vec<&str> = labels.iter().map(String::as_str).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let numeric: Option<Vec<f64>> = distinct.iter().map(|s| s.trim().parse().ok()).collect();
    if let Some(nums) = numeric {
        let mut pairs: Vec<(f64, &str)> = nums.into_iter().zip(distinct).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        distinct = pairs.into_iter().map(|p| p.1).collect();
    }
    let index: BTreeMap<&str, usize> = distinct.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let of = labels.iter().map(|l| index[l.as_str()]).collect();
    (distinct, of)
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sort_numerically_when_numeric() {
        let l: Vec<String> = ["10", "2", "1", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (d, of) = label_order(&l);
        assert_eq!(d, vec!["1", "2", "10"]);
        assert_eq!(of, vec![2, 1, 0, 1]);
        let l: Vec<String> = ["b", "a", "b"].iter().map(|s| s.to_string()).collect();
        let (d, of) = label_order(&l);
        assert_eq!(d, vec!["a", "b"]);
        assert_eq!(of, vec![1, 0, 1]);
    }

    #[test]
    fn truncate_long_labels() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdefgh", 5), "abcd…");
    }
}
