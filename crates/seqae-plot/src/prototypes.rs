//! Cluster prototypes: per cluster the mean sequence with a mean ± std band.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::common::{
    Chart, ChartOptions, LegendEntry, MarkerShape, PlotError, Result, Swatch, build_panel,
    check_output, draw_title, finite_bounds, finite_runs, grid_shape, legend_strip, marker,
    note_in_plot, padded_range, palette_color, reject_infinite, render, steps_of, time_range,
};

/// Most clusters one prototype chart shows.
pub const MAX_PROTOTYPES: usize = 25;

/// Mean and standard deviation over time of the sequences of one cluster, time-major: the value
/// of channel `c` at step `t` is at index `t * channels + c`. NaN marks a step with no value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prototype {
    /// Cluster id (also picks the colour, as in the latent scatter).
    pub cluster: usize,
    /// Number of sequences in the cluster, shown in the panel title.
    pub size: usize,
    /// Mean value per step and channel.
    pub mean: Vec<f32>,
    /// Standard deviation per step and channel (same length as `mean`, never negative).
    pub std: Vec<f32>,
}

impl Prototype {
    /// Computes the prototype of `members`, time-major sequences of `channels` channels that
    /// may differ in length: at each step and channel, the mean and the population standard
    /// deviation of the members that have a finite value there (NaN where none has). Errors on
    /// an empty member list or a member that is not whole time steps.
    pub fn from_members(cluster: usize, members: &[&[f32]], channels: usize) -> Result<Self> {
        if members.is_empty() {
            return Err(PlotError::Empty {
                what: format!("members of cluster {cluster}"),
            });
        }
        let mut steps = 0;
        for (i, m) in members.iter().enumerate() {
            steps = steps.max(steps_of(
                &format!("cluster {cluster} member {i}"),
                m,
                channels,
            )?);
        }
        let len = steps * channels;
        let mut count = vec![0u32; len];
        let mut sum = vec![0f64; len];
        for m in members {
            for (k, v) in m.iter().enumerate() {
                if v.is_finite() {
                    count[k] += 1;
                    sum[k] += *v as f64;
                }
            }
        }
        let mean: Vec<f64> = sum
            .iter()
            .zip(&count)
            .map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
            .collect();
        let mut sq = vec![0f64; len];
        for m in members {
            for (k, v) in m.iter().enumerate() {
                if v.is_finite() {
                    let d = *v as f64 - mean[k];
                    sq[k] += d * d;
                }
            }
        }
        let std = sq
            .iter()
            .zip(&count)
            .map(|(s, &c)| {
                if c > 0 {
                    (s / c as f64).sqrt() as f32
                } else {
                    f32::NAN
                }
            })
            .collect();
        Ok(Self {
            cluster,
            size: members.len(),
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }
}

/// Input of [`cluster_prototypes`].
///
/// NaN in `mean` or `std` leaves a gap (a step without data); infinite values and negative
/// standard deviations are errors.
#[derive(Clone, Copy, Debug)]
pub struct ClusterPrototypes<'a> {
    /// One prototype per cluster, at most [`MAX_PROTOTYPES`]; each gets a panel.
    pub prototypes: &'a [Prototype],
    /// Channels per time step (1 for univariate series).
    pub channels: usize,
    /// How many channels to draw, the first ones; the legend says when some are left out.
    pub max_channels: usize,
}

impl Default for ClusterPrototypes<'_> {
    fn default() -> Self {
        Self {
            prototypes: &[],
            channels: 1,
            max_channels: crate::reconstruction::DEFAULT_MAX_CHANNELS,
        }
    }
}

/// Draws each cluster's mean sequence with a mean ± std band, one panel per cluster with the
/// cluster size in its title and a y axis shared by all panels, to `path` (`.png` or `.svg`).
pub fn cluster_prototypes(
    path: impl AsRef<Path>,
    data: &ClusterPrototypes<'_>,
    opts: &ChartOptions,
) -> Result<()> {
    let path = path.as_ref();
    let format = check_output(path, opts)?;
    let chart = Prepared::new(data, opts.title_or("Cluster prototypes"))?;
    render(path, format, opts, &chart)
}

struct Prepared<'a> {
    data: &'a ClusterPrototypes<'a>,
    title: &'a str,
    shown: usize,
    steps: Vec<usize>,
    /// Which panels have something to draw.
    has_data: Vec<bool>,
    x: (f64, f64),
    y: (f64, f64),
}

impl<'a> Prepared<'a> {
    fn new(data: &'a ClusterPrototypes<'a>, title: &'a str) -> Result<Self> {
        let n = data.prototypes.len();
        if n == 0 {
            return Err(PlotError::Empty {
                what: "cluster prototypes".into(),
            });
        }
        if n > MAX_PROTOTYPES {
            return Err(PlotError::TooMany {
                what: "cluster prototypes".into(),
                given: n,
                max: MAX_PROTOTYPES,
            });
        }
        if data.max_channels == 0 {
            return Err(PlotError::Invalid("max_channels must be at least 1".into()));
        }
        let channels = data.channels;
        let shown = channels.min(data.max_channels);
        let mut steps = Vec::with_capacity(n);
        let mut has_data = Vec::with_capacity(n);
        let mut bounds: Option<(f64, f64)> = None;
        for p in data.prototypes {
            let what = format!("prototype of cluster {} mean", p.cluster);
            steps.push(steps_of(&what, &p.mean, channels)?);
            if p.std.len() != p.mean.len() {
                return Err(PlotError::LengthMismatch {
                    what: format!("prototype of cluster {} std", p.cluster),
                    expected: p.mean.len(),
                    actual: p.std.len(),
                });
            }
            reject_infinite(&what, &p.mean)?;
            reject_infinite(&format!("prototype of cluster {} std", p.cluster), &p.std)?;
            if let Some(i) = p.std.iter().position(|s| *s < 0.0) {
                return Err(PlotError::Invalid(format!(
                    "prototype of cluster {} std[{i}] is {}; a standard deviation cannot be negative",
                    p.cluster, p.std[i]
                )));
            }
            let lo_hi = p
                .mean
                .iter()
                .zip(&p.std)
                .enumerate()
                .filter(|(k, _)| k % channels < shown)
                .flat_map(|(_, (m, s))| {
                    let s = if s.is_finite() { *s } else { 0.0 };
                    [m - s, m + s]
                });
            let b = finite_bounds(lo_hi);
            has_data.push(b.is_some());
            bounds = crate::common::join_bounds(bounds, b);
        }
        let max_steps = steps.iter().copied().max().unwrap_or(1);
        let y = match bounds {
            Some((lo, hi)) => padded_range(lo, hi, 0.05),
            None => padded_range(0.0, 0.0, 0.0),
        };
        Ok(Self {
            data,
            title,
            shown,
            steps,
            has_data,
            x: time_range(max_steps),
            y,
        })
    }

    fn legend(&self) -> Vec<LegendEntry> {
        let grey = RGBColor(90, 90, 90);
        let mut entries = Vec::new();
        if self.data.channels == 1 {
            entries.push(LegendEntry::new(
                Swatch::Line {
                    color: grey,
                    dashed: false,
                },
                "cluster mean",
            ));
            entries.push(LegendEntry::new(Swatch::Band(grey), "mean ± 1 std"));
        } else {
            entries.push(LegendEntry::new(
                Swatch::None,
                "lines: cluster mean, bands: mean ± 1 std;",
            ));
            for c in 0..self.shown {
                entries.push(LegendEntry::new(
                    Swatch::Band(palette_color(c)),
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

impl Chart for Prepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, scale: f64) -> Result<()> {
        let body = draw_title(root, self.title, scale)?;
        let area = legend_strip(&body, &self.legend(), scale)?;
        let n = self.data.prototypes.len();
        let (rows, cols) = grid_shape(n);
        let cells = area.split_evenly((rows, cols));
        let channels = self.data.channels;
        for (i, (p, cell)) in self.data.prototypes.iter().zip(&cells).enumerate() {
            let bottom = i + cols >= n;
            let left = i % cols == 0;
            let caption = format!("Cluster {}  (n = {})", p.cluster, p.size);
            let mut chart = build_panel(
                cell,
                &caption,
                self.x,
                self.y,
                bottom.then_some("time step"),
                left.then_some("value"),
                scale,
            )?;
            if !self.has_data[i] {
                note_in_plot(&chart, "(no data)", scale)?;
                continue;
            }
            let steps = self.steps[i];
            for c in 0..self.shown {
                let color = if channels == 1 {
                    palette_color(p.cluster)
                } else {
                    palette_color(c)
                };
                let at = |t: usize| {
                    let k = t * channels + c;
                    let (m, s) = (p.mean[k] as f64, p.std[k] as f64);
                    let s = if s.is_finite() { s } else { f64::NAN };
                    (m, s)
                };
                // Band where both mean and std are known.
                let band_runs = finite_runs((0..steps).map(|t| {
                    let (m, s) = at(t);
                    (t, m + s)
                }));
                for run in band_runs {
                    let upper: Vec<(f64, f64)> = run
                        .iter()
                        .map(|&(t, _)| {
                            let (m, s) = at(t);
                            (t as f64, m + s)
                        })
                        .collect();
                    let lower = run.iter().rev().map(|&(t, _)| {
                        let (m, s) = at(t);
                        (t as f64, m - s)
                    });
                    if run.len() == 1 {
                        let (t, _) = run[0];
                        let (m, s) = at(t);
                        chart.draw_series(std::iter::once(PathElement::new(
                            vec![(t as f64, m - s), (t as f64, m + s)],
                            color.mix(0.5).stroke_width(3),
                        )))?;
                        continue;
                    }
                    let polygon: Vec<(f64, f64)> = upper.into_iter().chain(lower).collect();
                    chart.draw_series(std::iter::once(Polygon::new(
                        polygon,
                        color.mix(0.22).filled(),
                    )))?;
                }
                let mean_runs = finite_runs((0..steps).map(|t| (t as f64, at(t).0)));
                for run in mean_runs {
                    if run.len() == 1 {
                        let r = (3.0 * scale).round() as i32;
                        chart.draw_series(
                            run.iter()
                                .map(|p| marker(*p, MarkerShape::Circle, r, color.filled())),
                        )?;
                    } else {
                        chart.draw_series(LineSeries::new(run, color.stroke_width(2)))?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prototype_from_ragged_members() {
        let a = [1.0, 10.0, 3.0, 30.0];
        let b = [3.0, 20.0];
        let c = [f32::NAN, 0.0, 5.0, f32::NAN];
        let p = Prototype::from_members(2, &[&a, &b, &c], 2).unwrap();
        assert_eq!(p.cluster, 2);
        assert_eq!(p.size, 3);
        assert_eq!(p.mean.len(), 4);
        assert!((p.mean[0] - 2.0).abs() < 1e-6);
        assert!((p.std[0] - 1.0).abs() < 1e-6);
        assert!((p.mean[1] - 10.0).abs() < 1e-6);
        assert!((p.mean[2] - 4.0).abs() < 1e-6);
        assert!((p.mean[3] - 30.0).abs() < 1e-6);
        assert_eq!(p.std[3], 0.0);
    }

    #[test]
    fn prototype_errors() {
        assert!(matches!(
            Prototype::from_members(0, &[], 1),
            Err(PlotError::Empty { .. })
        ));
        let a = [1.0, 2.0, 3.0];
        assert!(matches!(
            Prototype::from_members(0, &[&a], 2),
            Err(PlotError::Invalid(_))
        ));
        assert!(matches!(
            Prototype::from_members(0, &[&a], 0),
            Err(PlotError::Invalid(_))
        ));
    }

    #[test]
    fn all_missing_step_is_nan() {
        let a = [f32::NAN, 1.0];
        let p = Prototype::from_members(0, &[&a], 1).unwrap();
        assert!(p.mean[0].is_nan() && p.std[0].is_nan());
    }
}
