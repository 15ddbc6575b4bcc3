//! Chart layout: title, tick counts, panel grids and the small panels of panel charts.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::error::Result;
use super::fonts::{bold, font};
use super::palette::GRID;
use super::values::format_tick;

/// Draws the title at the top of `root` and returns the area below it.
pub(crate) fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    scale: f64,
) -> Result<DrawingArea<DB, Shift>> {
    let top = (8.0 * scale) as u32;
    let area = root.margin(top, 0, 0, 0);
    Ok(area.titled(title, bold(22.0 * scale))?)
}

/// How many x and y tick labels fit in a chart drawn on `area` at `scale` (2 to 10 each).
pub(crate) fn tick_counts<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: f64,
) -> (usize, usize) {
    let (w, h) = area.dim_in_pixel();
    let x = (w as f64 / (85.0 * scale)) as usize;
    let y = (h as f64 / (40.0 * scale)) as usize;
    (x.clamp(2, 10), y.clamp(2, 10))
}

/// Rows and columns of a grid for `n` panels.
pub(crate) fn grid_shape(n: usize) -> (usize, usize) {
    let cols = match n {
        0..=3 => n.max(1),
        4 => 2,
        5..=9 => 3,
        10..=16 => 4,
        _ => 5,
    };
    (n.div_ceil(cols), cols)
}

/// Builds one small panel of a panel chart: caption, f64 axes, grid and tick labels; axis
/// descriptions only where given (bottom row and left column).
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    x: (f64, f64),
    y: (f64, f64),
    x_desc: Option<&str>,
    y_desc: Option<&str>,
    scale: f64,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let x_area = if x_desc.is_some() { 40.0 } else { 24.0 };
    let y_area = if y_desc.is_some() { 62.0 } else { 46.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, bold(14.0 * scale))
        .margin((6.0 * scale) as u32)
        .x_label_area_size((x_area * scale) as u32)
        .y_label_area_size((y_area * scale) as u32)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    let x_fmt = |v: &f64| {
        if (v - v.round()).abs() < 1e-9 {
            format!("{}", v.round() as i64)
        } else {
            String::new()
        }
    };
    // Panels are small: allow ticks a little closer than in full charts.
    let (w, h) = area.dim_in_pixel();
    let panel_ticks = (
        ((w as f64 / (55.0 * scale)) as usize).clamp(2, 8),
        ((h as f64 / (35.0 * scale)) as usize).clamp(2, 6),
    );
    let mut mesh = chart.configure_mesh();
    mesh.axis_desc_style(font(13.0 * scale))
        .label_style(font(11.0 * scale))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_labels(panel_ticks.0)
        .y_labels(panel_ticks.1)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&|v| format_tick(*v));
    if let Some(d) = x_desc {
        mesh.x_desc(d);
    }
    if let Some(d) = y_desc {
        mesh.y_desc(d);
    }
    mesh.draw()?;
    Ok(chart)
}

/// Writes a note in the middle of a panel that has nothing to draw.
pub(crate) fn note_in_plot<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    text: &str,
    scale: f64,
) -> Result<()> {
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let style = font(12.0 * scale).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(text, &style, (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}

/// The range of time steps `0..steps-1` as an x axis, widened when there is a single step.
pub(crate) fn time_range(steps: usize) -> (f64, f64) {
    if steps <= 1 {
        (-1.0, 1.0)
    } else {
        (0.0, (steps - 1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_shapes() {
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(3), (1, 3));
        assert_eq!(grid_shape(4), (2, 2));
        assert_eq!(grid_shape(6), (2, 3));
        assert_eq!(grid_shape(16), (4, 4));
    }
}
