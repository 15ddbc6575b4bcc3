//! Checks and ranges of the plotted values: finiteness, bounds, padded axes, tick labels.

use super::error::{PlotError, Result};

/// `[min, max]` widened by `frac` of its span on both sides; a zero-width (or numerically
/// negligible) range is widened around its centre so that the axis is never degenerate.
pub(crate) fn padded_range(min: f64, max: f64, frac: f64) -> (f64, f64) {
    let span = max - min;
    let mag = min.abs().max(max.abs());
    let negligible = span.partial_cmp(&(mag * 1e-9)) != Some(std::cmp::Ordering::Greater);
    if negligible || !span.is_finite() {
        let c = 0.5 * (min + max);
        let c = if c.is_finite() { c } else { 0.0 };
        let pad = if c.abs() > 0.0 { c.abs() * 0.1 } else { 1.0 };
        return (c - pad, c + pad);
    }
    (min - span * frac, max + span * frac)
}

/// Minimum and maximum of the finite values of `values`, or `None` when there are none.
pub(crate) fn finite_bounds(values: impl IntoIterator<Item = f32>) -> Option<(f64, f64)> {
    let mut bounds: Option<(f64, f64)> = None;
    for v in values {
        if v.is_finite() {
            let v = v as f64;
            bounds = Some(match bounds {
                None => (v, v),
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
            });
        }
    }
    bounds
}

/// Joins two optional bounds.
pub(crate) fn join_bounds(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<(f64, f64)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Errors on the first NaN or infinite value of `values`.
pub(crate) fn require_finite(what: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(PlotError::NonFinite {
            what: format!("{what}[{i}]"),
            value: values[i],
        }),
        None => Ok(()),
    }
}

/// Errors on the first infinite value of `values` (NaN is allowed: a missing value).
pub(crate) fn reject_infinite(what: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| v.is_infinite()) {
        Some(i) => Err(PlotError::NonFinite {
            what: format!("{what}[{i}]"),
            value: values[i],
        }),
        None => Ok(()),
    }
}

/// Splits a sequence of points into runs of consecutive points whose `y` is finite.
pub(crate) fn finite_runs<X: Copy>(
    points: impl IntoIterator<Item = (X, f64)>,
) -> Vec<Vec<(X, f64)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for (x, y) in points {
        if y.is_finite() {
            cur.push((x, y));
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Formats an axis value compactly: plain decimals for ordinary magnitudes, scientific
/// notation for very small or very large ones.
pub(crate) fn format_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".to_string();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        // "1.0e-4" -> "1e-4"
        return s.replace(".0e", "e");
    }
    let decimals = if a >= 100.0 {
        0
    } else if a >= 1.0 {
        2
    } else {
        (-(a.log10().floor()) as usize + 2).min(6)
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Checks that `values` holds whole time steps of `channels` channels; returns the step count.
pub(crate) fn steps_of(what: &str, values: &[f32], channels: usize) -> Result<usize> {
    if channels == 0 {
        return Err(PlotError::Invalid("channels must be at least 1".into()));
    }
    if values.is_empty() {
        return Err(PlotError::Empty {
            what: what.to_string(),
        });
    }
    if !values.len().is_multiple_of(channels) {
        return Err(PlotError::Invalid(format!(
            "{what}: {} values is not a whole number of time steps of {channels} channels",
            values.len()
        )));
    }
    Ok(values.len() / channels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_range_is_never_degenerate() {
        assert_eq!(padded_range(0.0, 0.0, 0.05), (-1.0, 1.0));
        let (lo, hi) = padded_range(5.0, 5.0, 0.05);
        assert!(lo < 5.0 && hi > 5.0);
        let (lo, hi) = padded_range(-3.0, -3.0, 0.05);
        assert!(lo < -3.0 && hi > -3.0);
        let (lo, hi) = padded_range(0.0, 10.0, 0.1);
        assert_eq!((lo, hi), (-1.0, 11.0));
        let (lo, hi) = padded_range(f32::MAX as f64, f32::MAX as f64, 0.05);
        assert!(lo < hi && lo.is_finite() && hi.is_finite());
    }

    #[test]
    fn ticks_are_compact() {
        assert_eq!(format_tick(0.0), "0");
        assert_eq!(format_tick(0.5), "0.5");
        assert_eq!(format_tick(0.25), "0.25");
        assert_eq!(format_tick(2.0), "2");
        assert_eq!(format_tick(150.0), "150");
        assert_eq!(format_tick(1e-4), "1e-4");
        assert_eq!(format_tick(0.0012), "0.0012");
    }

    #[test]
    fn finite_runs_split_on_nan() {
        let runs = finite_runs([(0, 1.0), (1, f64::NAN), (2, 2.0), (3, 3.0)]);
        assert_eq!(runs, vec![vec![(0, 1.0)], vec![(2, 2.0), (3, 3.0)]]);
    }
}
