//! Legends: entries with their swatches, laid out in centred rows or in a column.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::error::Result;
use super::fonts::{bold, font};
use super::markers::{MarkerShape, marker};

/// What a legend entry shows beside its text.
#[derive(Clone, Debug)]
pub(crate) enum Swatch {
    /// A marker.
    Marker(MarkerShape, RGBColor),
    /// A line, solid or dashed.
    Line { color: RGBColor, dashed: bool },
    /// A line over a shaded band.
    Band(RGBColor),
    /// A filled box.
    Bar(RGBColor),
    /// A line with a point marker on it.
    LinePoint(RGBColor),
    /// An open circle.
    Ring(RGBColor),
    /// No mark: a heading or note.
    None,
}

/// One legend entry.
#[derive(Clone, Debug)]
pub(crate) struct LegendEntry {
    pub swatch: Swatch,
    pub text: String,
}

impl LegendEntry {
    pub(crate) fn new(swatch: Swatch, text: impl Into<String>) -> Self {
        Self {
            swatch,
            text: text.into(),
        }
    }
}

const SWATCH_W: i32 = 26;

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: &Swatch,
    (x, y): (i32, i32),
    scale: f64,
) -> Result<()> {
    let w = (SWATCH_W as f64 * scale) as i32;
    let r = (5.0 * scale).round() as i32;
    match swatch {
        Swatch::Marker(shape, color) => {
            area.draw(&marker((x + w / 2, y), *shape, r, color.mix(0.9).filled()))?;
        }
        Swatch::Line { color, dashed } => {
            let style = color.stroke_width(2);
            if *dashed {
                let seg = w / 3;
                area.draw(&PathElement::new(vec![(x, y), (x + seg, y)], style))?;
                area.draw(&PathElement::new(vec![(x + w - seg, y), (x + w, y)], style))?;
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + w, y)], style))?;
            }
        }
        Swatch::Band(color) => {
            let h = (6.0 * scale) as i32;
            area.draw(&Rectangle::new(
                [(x, y - h), (x + w, y + h)],
                color.mix(0.25).filled(),
            ))?;
            area.draw(&PathElement::new(
                vec![(x, y), (x + w, y)],
                color.stroke_width(2),
            ))?;
        }
        Swatch::Bar(color) => {
            let h = (6.0 * scale) as i32;
            area.draw(&Rectangle::new(
                [(x + 3, y - h), (x + w - 3, y + h)],
                color.mix(0.85).filled(),
            ))?;
        }
        Swatch::LinePoint(color) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + w, y)],
                color.stroke_width(2),
            ))?;
            area.draw(&Circle::new((x + w / 2, y), r - 1, color.filled()))?;
        }
        Swatch::Ring(color) => {
            let r = (7.0 * scale).round() as i32;
            area.draw(&Circle::new((x + w / 2, y), r, color.stroke_width(2)))?;
        }
        Swatch::None => {}
    }
    Ok(())
}

/// Height in pixels of one legend row at `scale`.
pub(crate) fn legend_row_height(scale: f64) -> i32 {
    (22.0 * scale).round() as i32
}

/// A legend row: (entry index, x offset) of each entry, and the row's width.
type LegendRow = (Vec<(usize, i32)>, i32);

/// Lays `entries` out left to right in rows, centred, wrapping when a row is full; returns the
/// rows as lists of (entry index, x offset) and the width of each row.
fn flow_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    scale: f64,
) -> Result<Vec<LegendRow>> {
    let (width, _) = area.dim_in_pixel();
    let width = width as i32;
    let style = font(14.0 * scale);
    let gap = (22.0 * scale) as i32;
    let sw = (SWATCH_W as f64 * scale) as i32 + (6.0 * scale) as i32;
    let mut rows: Vec<LegendRow> = vec![(Vec::new(), 0)];
    for (i, e) in entries.iter().enumerate() {
        let (tw, _) = area.estimate_text_size(&e.text, &style)?;
        let ew = match e.swatch {
            Swatch::None => tw as i32,
            _ => sw + tw as i32,
        };
        let row = rows.last_mut().expect("rows is never empty");
        let start = if row.0.is_empty() { 0 } else { row.1 + gap };
        if !row.0.is_empty() && start + ew > width - 10 {
            rows.push((vec![(i, 0)], ew));
        } else {
            row.0.push((i, start));
            row.1 = start + ew;
        }
    }
    Ok(rows)
}

/// Number of rows that [`draw_legend_rows`] needs for `entries` in `area`.
pub(crate) fn legend_rows_needed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    scale: f64,
) -> Result<usize> {
    if entries.is_empty() {
        return Ok(0);
    }
    Ok(flow_rows(area, entries, scale)?.len())
}

/// Draws `entries` as centred horizontal rows at the top of `area`.
pub(crate) fn draw_legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    scale: f64,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (width, _) = area.dim_in_pixel();
    let style = font(14.0 * scale).pos(Pos::new(HPos::Left, VPos::Center));
    let sw = (SWATCH_W as f64 * scale) as i32 + (6.0 * scale) as i32;
    let row_h = legend_row_height(scale);
    for (r, (row, row_w)) in flow_rows(area, entries, scale)?.into_iter().enumerate() {
        let x0 = ((width as i32 - row_w) / 2).max(0);
        let y = r as i32 * row_h + row_h / 2;
        for (i, dx) in row {
            let e = &entries[i];
            let x = x0 + dx;
            draw_swatch(area, &e.swatch, (x, y), scale)?;
            let tx = if matches!(e.swatch, Swatch::None) {
                x
            } else {
                x + sw
            };
            area.draw_text(&e.text, &style, (tx, y))?;
        }
    }
    Ok(())
}

/// Draws `entries` as a column at the top left of `area`; entries that do not fit are replaced
/// by a final "... and N more" line.
pub(crate) fn draw_legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    scale: f64,
) -> Result<()> {
    let (_, height) = area.dim_in_pixel();
    let row_h = legend_row_height(scale);
    let fit = ((height as i32 - 4) / row_h).max(1) as usize;
    let shown = if entries.len() > fit {
        fit - 1
    } else {
        entries.len()
    };
    let style = font(14.0 * scale).pos(Pos::new(HPos::Left, VPos::Center));
    let heading = bold(14.0 * scale).pos(Pos::new(HPos::Left, VPos::Center));
    let sw = (SWATCH_W as f64 * scale) as i32 + (6.0 * scale) as i32;
    for (r, e) in entries.iter().take(shown).enumerate() {
        let y = r as i32 * row_h + row_h / 2;
        if matches!(e.swatch, Swatch::None) {
            area.draw_text(&e.text, &heading, (4, y))?;
        } else {
            draw_swatch(area, &e.swatch, (4, y), scale)?;
            area.draw_text(&e.text, &style, (4 + sw, y))?;
        }
    }
    if shown < entries.len() {
        let y = shown as i32 * row_h + row_h / 2;
        let more = format!("... and {} more", entries.len() - shown);
        area.draw_text(&more, &style, (4, y))?;
    }
    Ok(())
}

/// Splits a legend strip off the top of `area` (as many rows as the entries need) and draws the
/// legend in it; returns the area below.
pub(crate) fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    scale: f64,
) -> Result<DrawingArea<DB, Shift>> {
    let rows = legend_rows_needed(area, entries, scale)?;
    if rows == 0 {
        return Ok(area.clone());
    }
    let h = rows as i32 * legend_row_height(scale) + (4.0 * scale) as i32;
    let (strip, rest) = area.split_vertically(h);
    draw_legend_rows(&strip, entries, scale)?;
    Ok(rest)
}
