//! Loss curve: training (and validation) loss per epoch.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::common::{
    Chart, ChartOptions, GRID, LegendEntry, MarkerShape, PlotError, Result, Swatch, check_output,
    draw_title, finite_bounds, finite_runs, font, format_tick, join_bounds, legend_strip, marker,
    padded_range, palette_color, render, tick_counts,
};

/// Scale of the loss axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum YScale {
    /// Logarithmic when every drawn loss is positive and they span at least two decades
    /// (max / min >= 100), linear otherwise.
    #[default]
    Auto,
    /// Linear axis.
    Linear,
    /// Logarithmic axis; every finite loss must then be positive.
    Log,
}

/// Input of [`loss_curve`].
///
/// Epoch `i` (1-based) is element `i - 1`. NaN and infinite losses (a diverged epoch) are not
/// drawn: the line breaks there and the legend says how many epochs were left out; a curve
/// with no finite value at all is a [`PlotError::NonFinite`].
#[derive(Clone, Copy, Debug, Default)]
pub struct LossCurve<'a> {
    /// Training loss of each epoch.
    pub train: &'a [f32],
    /// Validation loss of each epoch, if any (`Some(&[])` is the same as `None`).
    pub validation: Option<&'a [f32]>,
    /// Scale of the loss axis.
    pub y_scale: YScale,
}

/// Draws training (and validation) loss against epoch to `path` (`.png` or `.svg`), marking
/// the epoch of the lowest validation loss.
pub fn loss_curve(path: impl AsRef<Path>, data: &LossCurve<'_>, opts: &ChartOptions) -> Result<()> {
    let path = path.as_ref();
    let format = check_output(path, opts)?;
    let chart = Prepared::new(data, opts.title_or("Training loss"))?;
    render(path, format, opts, &chart)
}

struct Prepared<'a> {
    train: &'a [f32],
    validation: Option<&'a [f32]>,
    title: &'a str,
    log: bool,
    x: (f64, f64),
    y: (f64, f64),
    /// Epoch (1-based) and value of the lowest validation loss.
    best: Option<(usize, f64)>,
    skipped: usize,
}

impl<'a> Prepared<'a> {
    fn new(data: &'a LossCurve<'a>, title: &'a str) -> Result<Self> {
        let train = data.train;
        if train.is_empty() {
            return Err(PlotError::Empty {
                what: "training loss".into(),
            });
        }
        let validation = data.validation.filter(|v| !v.is_empty());
        let all = || {
            train
                .iter()
                .chain(validation.unwrap_or(&[]).iter())
                .copied()
        };
        let Some((lo, hi)) = join_bounds(
            finite_bounds(train.iter().copied()),
            finite_bounds(validation.unwrap_or(&[]).iter().copied()),
        ) else {
            return Err(PlotError::NonFinite {
                what: "training loss (every epoch)".into(),
                value: train[0],
            });
        };
        let skipped = all().filter(|v| !v.is_finite()).count();
        let log = match data.y_scale {
            YScale::Linear => false,
            YScale::Log => {
                let bad = |name: &str, vals: &[f32]| {
                    vals.iter()
                        .position(|v| v.is_finite() && *v <= 0.0)
                        .map(|i| {
                            PlotError::Invalid(format!(
                                "a log-scale loss axis needs positive losses; {name} loss of epoch {} is {}",
                                i + 1,
                                vals[i]
                            ))
                        })
                };
                if let Some(e) = bad("training", train) {
                    return Err(e);
                }
                if let Some(e) = validation.and_then(|v| bad("validation", v)) {
                    return Err(e);
                }
                true
            }
            YScale::Auto => lo > 0.0 && hi / lo >= 100.0,
        };
        let y = if log {
            // Whole decades, so that the axis always has labelled powers of ten.
            // Slightly wider than the decades, so that rounding never drops their labels.
            let lo = 10f64.powf(lo.log10().floor());
            let hi = 10f64.powf(hi.log10().ceil());
            let hi = if hi > lo { hi } else { lo * 10.0 };
            (lo * 0.98, hi * 1.02)
        } else {
            padded_range(lo, hi, 0.05)
        };
        let epochs = train.len().max(validation.map_or(0, <[f32]>::len));
        let x = padded_range(1.0, epochs as f64, 0.03);
        let best = validation.and_then(|v| {
            v.iter()
                .enumerate()
                .filter(|(_, x)| x.is_finite())
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, x)| (i + 1, *x as f64))
        });
        Ok(Self {
            train,
            validation,
            title,
            log,
            x,
            y,
            best,
            skipped,
        })
    }

    fn plot<DB: DrawingBackend, Y>(
        &self,
        area: &DrawingArea<DB, Shift>,
        y: Y,
        scale: f64,
    ) -> Result<()>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let epochs = self
            .train
            .len()
            .max(self.validation.map_or(0, <[f32]>::len));
        let ticks = tick_counts(area, scale);
        let mut chart = ChartBuilder::on(area)
            .margin((12.0 * scale) as u32)
            .x_label_area_size((50.0 * scale) as u32)
            .y_label_area_size((64.0 * scale) as u32)
            .build_cartesian_2d(self.x.0..self.x.1, y)?;
        let x_fmt = |v: &f64| {
            if (v - v.round()).abs() < 1e-9 && *v >= 0.0 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        };
        let y_desc = if self.log { "loss (log scale)" } else { "loss" };
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_desc)
            .axis_desc_style(font(16.0 * scale))
            .label_style(font(13.0 * scale))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(epochs.max(2).min(ticks.0))
            .y_labels(ticks.1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|v| format_tick(*v))
            .draw()?;

        let r = (4.0 * scale).round() as i32;
        let show_points = epochs <= 40;
        let series = [
            (Some(self.train), palette_color(0)),
            (self.validation, palette_color(3)),
        ];
        for (values, color) in series {
            let Some(values) = values else { continue };
            let runs = finite_runs(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v as f64)),
            );
            for run in runs {
                if run.len() > 1 {
                    chart
                        .draw_series(LineSeries::new(run.iter().copied(), color.stroke_width(2)))?;
                }
                if show_points || run.len() == 1 {
                    chart.draw_series(
                        run.iter()
                            .map(|p| marker(*p, MarkerShape::Circle, r, color.filled())),
                    )?;
                }
            }
        }
        if let Some((epoch, v)) = self.best {
            let ring = (8.0 * scale).round() as i32;
            chart.draw_series(std::iter::once(Circle::new(
                (epoch as f64, v),
                ring,
                BLACK.stroke_width(2),
            )))?;
        }
        Ok(())
    }
}

impl Chart for Prepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, scale: f64) -> Result<()> {
        let body = draw_title(root, self.title, scale)?;
        let mut legend = vec![LegendEntry::new(
            Swatch::LinePoint(palette_color(0)),
            "training",
        )];
        if self.validation.is_some() {
            legend.push(LegendEntry::new(
                Swatch::LinePoint(palette_color(3)),
                "validation",
            ));
        }
        if let Some((epoch, v)) = self.best {
            legend.push(LegendEntry::new(
                Swatch::Ring(BLACK),
                format!("best validation: epoch {epoch} ({})", format_loss(v)),
            ));
        }
        if self.skipped > 0 {
            legend.push(LegendEntry::new(
                Swatch::None,
                format!("({} NaN/infinite losses not drawn)", self.skipped),
            ));
        }
        let area = legend_strip(&body, &legend, scale)?;
        if self.log {
            self.plot(&area, (self.y.0..self.y.1).log_scale(), scale)
        } else {
            self.plot(&area, self.y.0..self.y.1, scale)
        }
    }
}

/// A loss value with four significant digits.
fn format_loss(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e4).contains(&v.abs()) {
        format!("{v:.3e}")
    } else {
        let digits = if v.abs() >= 1.0 {
            (3 - v.abs().log10().floor() as i32).max(0) as usize
        } else if v == 0.0 {
            1
        } else {
            (3 - v.abs().log10().floor() as i32) as usize
        };
        format!("{v:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_scale_picks_log_for_wide_positive_ranges() {
        let wide = [10.0, 1.0, 0.01];
        let d = LossCurve {
            train: &wide,
            ..Default::default()
        };
        assert!(Prepared::new(&d, "t").unwrap().log);
        let narrow = [1.0, 0.5, 0.4];
        let d = LossCurve {
            train: &narrow,
            ..Default::default()
        };
        assert!(!Prepared::new(&d, "t").unwrap().log);
        let neg = [10.0, -1.0, 0.01];
        let d = LossCurve {
            train: &neg,
            ..Default::default()
        };
        assert!(!Prepared::new(&d, "t").unwrap().log);
    }

    #[test]
    fn log_range_covers_whole_decades() {
        let v = [0.5, 0.9];
        let d = LossCurve {
            train: &v,
            y_scale: YScale::Log,
            ..Default::default()
        };
        let p = Prepared::new(&d, "t").unwrap();
        assert!(
            (p.y.0 - 0.098).abs() < 1e-9 && (p.y.1 - 1.02).abs() < 1e-9,
            "{:?}",
            p.y
        );
        let v = [1.0, 1.0];
        let d = LossCurve {
            train: &v,
            y_scale: YScale::Log,
            ..Default::default()
        };
        let p = Prepared::new(&d, "t").unwrap();
        assert!(p.y.0 < 1.0 + 1e-12 && p.y.1 > 1.0);
    }

    #[test]
    fn best_validation_epoch() {
        let t = [3.0, 2.0, 1.0, 0.5];
        let v = [3.5, 2.5, 2.0, f32::NAN];
        let d = LossCurve {
            train: &t,
            validation: Some(&v),
            ..Default::default()
        };
        let p = Prepared::new(&d, "t").unwrap();
        assert_eq!(p.best, Some((3, 2.0)));
        assert_eq!(p.skipped, 1);
    }

    #[test]
    fn loss_formatting() {
        assert_eq!(format_loss(0.012346), "0.01235");
        assert_eq!(format_loss(1.5), "1.500");
        assert_eq!(format_loss(1234.4), "1234");
        assert_eq!(format_loss(1e-5), "1.000e-5");
    }
}
