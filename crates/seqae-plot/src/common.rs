//! Shared pieces of every chart: errors, options, output format, font registration, palette,
//! markers, legends, axis ranges and atomic file writing.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::ComposedElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// Smallest accepted chart width and height, in pixels.
pub const MIN_SIZE: (u32, u32) = (200, 150);
/// Largest accepted chart width or height, in pixels.
pub const MAX_SIDE: u32 = 16_384;

/// Errors of the chart functions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The output path does not end in `.png` or `.svg`.
    #[error("{}: unsupported chart format; use a file name ending in .png or .svg", path.display())]
    UnsupportedFormat {
        /// The path that was given.
        path: PathBuf,
    },
    /// There is nothing to plot.
    #[error("{what}: no data to plot")]
    Empty {
        /// Which input was empty.
        what: String,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("{what} is {value}; only finite values can be plotted here")]
    NonFinite {
        /// Which value, with its position.
        what: String,
        /// The offending value.
        value: f32,
    },
    /// Two inputs that must have matching lengths do not.
    #[error("{what}: expected {expected} values, got {actual}")]
    LengthMismatch {
        /// Which input.
        what: String,
        /// The length it should have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },
    /// More items than one chart can show legibly.
    #[error("{what}: {given} given, at most {max} fit in one chart")]
    TooMany {
        /// Which input.
        what: String,
        /// How many were given.
        given: usize,
        /// The most one chart accepts.
        max: usize,
    },
    /// Any other input that cannot be drawn.
    #[error("invalid chart input: {0}")]
    Invalid(String),
    /// The requested image size is outside the accepted range.
    #[error(
        "chart size {width}x{height} is out of range: at least {}x{}, at most {MAX_SIDE} per side",
        MIN_SIZE.0,
        MIN_SIZE.1
    )]
    InvalidSize {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// Writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// plotters reported an error while drawing.
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    /// The embedded font could not be registered with plotters.
    #[error("the embedded DejaVu Sans font could not be loaded")]
    Font,
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Draw(e.to_string())
    }
}

/// Result type of this crate.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;

/// Image format of a chart, chosen by the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// Raster PNG (`.png`).
    Png,
    /// Vector SVG (`.svg`).
    Svg,
}

impl ImageFormat {
    /// The format for `path`'s extension (case-insensitive), or
    /// [`PlotError::UnsupportedFormat`].
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let has_name = path.file_stem().is_some_and(|s| !s.is_empty());
        match ext.as_deref() {
            Some("png") if has_name => Ok(Self::Png),
            Some("svg") if has_name => Ok(Self::Svg),
            _ => Err(PlotError::UnsupportedFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Title and size of a chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartOptions {
    /// Title drawn at the top; `None` uses the chart's default title.
    pub title: Option<String>,
    /// Width in pixels (PNG) or user units (SVG).
    pub width: u32,
    /// Height in pixels (PNG) or user units (SVG).
    pub height: u32,
}

impl Default for ChartOptions {
    /// 900 x 600 with the chart's default title.
    fn default() -> Self {
        Self {
            title: None,
            width: 900,
            height: 600,
        }
    }
}

impl ChartOptions {
    /// Options with a title and the default size.
    pub fn titled(title: impl Into<String>) -> Self {
        Self {
            title: Some(title.into()),
            ..Self::default()
        }
    }

    /// The same options with another size.
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    pub(crate) fn check(&self) -> Result<()> {
        let (w, h) = (self.width, self.height);
        if w < MIN_SIZE.0 || h < MIN_SIZE.1 || w > MAX_SIDE || h > MAX_SIDE {
            return Err(PlotError::InvalidSize {
                width: w,
                height: h,
            });
        }
        Ok(())
    }

    pub(crate) fn title_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.title.as_deref().unwrap_or(default)
    }
}

// ---------------------------------------------------------------------------------------------
// Fonts

/// The family name under which the embedded font is registered.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (regular and bold, from the `dejavu` crate) with plotters, once.
pub(crate) fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FONT_FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FONT_FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// Regular text of `size` pixels.
pub(crate) fn font(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal).into()
}

/// Bold text of `size` pixels.
pub(crate) fn bold(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Bold).into()
}

/// Font sizes scaled to the chart: 1.0 at 900 x 600, never below 0.75.
pub(crate) fn text_scale(width: u32, height: u32) -> f64 {
    let s = (width as f64 / 900.0).min(height as f64 / 600.0);
    s.clamp(0.75, 2.5)
}

// ---------------------------------------------------------------------------------------------
// Palette

/// Okabe-Ito colours (colour-blind safe), in the order used for clusters and channels.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Colour of index `i`: the palette, then darker and lighter shades of it for indices past its
/// length, then the cycle repeats.
pub fn palette_color(i: usize) -> RGBColor {
    let base = PALETTE[i % PALETTE.len()];
    let shade = |c: u8, t: f64, to: f64| (c as f64 + (to - c as f64) * t).round() as u8;
    let cycle = (i / PALETTE.len()) % 3;
    if base == RGBColor(0, 0, 0) {
        // Black has no darker shade: use greys.
        return match cycle {
            0 => base,
            1 => RGBColor(105, 105, 105),
            _ => RGBColor(175, 175, 175),
        };
    }
    match cycle {
        0 => base,
        1 => RGBColor(
            shade(base.0, 0.45, 0.0),
            shade(base.1, 0.45, 0.0),
            shade(base.2, 0.45, 0.0),
        ),
        _ => RGBColor(
            shade(base.0, 0.5, 255.0),
            shade(base.1, 0.5, 255.0),
            shade(base.2, 0.5, 255.0),
        ),
    }
}

/// Grey used for grid lines.
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
/// Dark grey used for neutral legend marks.
pub(crate) const NEUTRAL: RGBColor = RGBColor(90, 90, 90);

// ---------------------------------------------------------------------------------------------
// Markers

/// Marker shapes, in the order used for true labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarkerShape {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
    Plus,
}

impl MarkerShape {
    pub(crate) const ALL: [MarkerShape; 7] = [
        MarkerShape::Circle,
        MarkerShape::Square,
        MarkerShape::TriangleUp,
        MarkerShape::Diamond,
        MarkerShape::TriangleDown,
        MarkerShape::Cross,
        MarkerShape::Plus,
    ];

    /// The shape for index `i`, cycling.
    pub(crate) fn nth(i: usize) -> Self {
        Self::ALL[i % Self::ALL.len()]
    }

    /// Polygon vertices around (0, 0), in pixels, for a marker of radius `r`.
    pub(crate) fn vertices(self, r: i32) -> Vec<(i32, i32)> {
        let r = r.max(2);
        let rf = r as f64;
        let round = |x: f64| x.round() as i32;
        match self {
            MarkerShape::Circle => (0..16)
                .map(|k| {
                    let a = k as f64 * std::f64::consts::TAU / 16.0;
                    (round(rf * a.cos()), round(rf * a.sin()))
                })
                .collect(),
            MarkerShape::Square => {
                let s = round(rf * 0.85);
                vec![(-s, -s), (s, -s), (s, s), (-s, s)]
            }
            MarkerShape::TriangleUp => {
                let h = round(rf * 1.1);
                vec![(0, -h), (h, round(rf * 0.8)), (-h, round(rf * 0.8))]
            }
            MarkerShape::TriangleDown => {
                let h = round(rf * 1.1);
                vec![(0, h), (h, -round(rf * 0.8)), (-h, -round(rf * 0.8))]
            }
            MarkerShape::Diamond => {
                let h = round(rf * 1.2);
                vec![(0, -h), (h, 0), (0, h), (-h, 0)]
            }
            MarkerShape::Plus => {
                let w = (r / 3).max(1);
                let h = round(rf * 1.1);
                vec![
                    (-w, -h),
                    (w, -h),
                    (w, -w),
                    (h, -w),
                    (h, w),
                    (w, w),
                    (w, h),
                    (-w, h),
                    (-w, w),
                    (-h, w),
                    (-h, -w),
                    (-w, -w),
                ]
            }
            MarkerShape::Cross => {
                // The plus shape rotated by 45 degrees.
                let (c, s) = (
                    std::f64::consts::FRAC_1_SQRT_2,
                    std::f64::consts::FRAC_1_SQRT_2,
                );
                MarkerShape::Plus
                    .vertices(r)
                    .into_iter()
                    .map(|(x, y)| {
                        let (x, y) = (x as f64, y as f64);
                        (round(x * c - y * s), round(x * s + y * c))
                    })
                    .collect()
            }
        }
    }
}

/// The element type of a marker: a filled polygon with an opaque outline, at a data point.
pub(crate) type Marker<C, DB> =
    ComposedElement<C, DB, Polygon<(i32, i32)>, PathElement<(i32, i32)>>;

/// A filled marker of `shape` and radius `r` pixels at `at`, in any coordinate system, with an
/// opaque outline a little darker than the fill (so light colours stay visible on white).
pub(crate) fn marker<C, DB: DrawingBackend>(
    at: C,
    shape: MarkerShape,
    r: i32,
    fill: ShapeStyle,
) -> Marker<C, DB> {
    let vertices = shape.vertices(r);
    let mut outline = vertices.clone();
    outline.push(vertices[0]);
    let c = fill.color;
    let darker = |v: u8| (v as f64 * 0.7).round() as u8;
    let stroke = ShapeStyle {
        color: RGBAColor(darker(c.0), darker(c.1), darker(c.2), 1.0),
        filled: false,
        stroke_width: 1,
    };
    EmptyElement::at(at) + Polygon::new(vertices, fill) + PathElement::new(outline, stroke)
}

// ---------------------------------------------------------------------------------------------
// Legends

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

// ---------------------------------------------------------------------------------------------
// Layout

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

// ---------------------------------------------------------------------------------------------
// Ranges and values

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

// ---------------------------------------------------------------------------------------------
// Rendering and atomic writing

/// A chart ready to draw on any plotters backend.
pub(crate) trait Chart {
    /// Draws the whole chart on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, scale: f64) -> Result<()>;
}

/// Checks the path and options before any data validation.
pub(crate) fn check_output(path: &Path, opts: &ChartOptions) -> Result<ImageFormat> {
    let format = ImageFormat::from_path(path)?;
    opts.check()?;
    Ok(format)
}

/// Renders `chart` to `path` in `format`, atomically: the image is written to a temporary file
/// in the same directory, which is renamed over `path` only when complete.
pub(crate) fn render(
    path: &Path,
    format: ImageFormat,
    opts: &ChartOptions,
    chart: &impl Chart,
) -> Result<()> {
    ensure_font()?;
    let size = (opts.width, opts.height);
    let scale = text_scale(opts.width, opts.height);
    let io_err = |source: io::Error| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // The temporary file keeps the image extension: plotters picks the encoder by it.
    let mut tmp = tempfile::Builder::new()
        .prefix(".seqae-plot-")
        .suffix(match format {
            ImageFormat::Png => ".png",
            ImageFormat::Svg => ".svg",
        })
        .tempfile_in(dir)
        .map_err(io_err)?;
    match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                root.fill(&WHITE)?;
                chart.draw(&root, scale)?;
                root.present()?;
            }
            tmp.write_all(svg.as_bytes()).map_err(io_err)?;
        }
        ImageFormat::Png => {
            let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
            root.fill(&WHITE)?;
            chart.draw(&root, scale)?;
            root.present()?;
        }
    }
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_by_extension() {
        assert_eq!(
            ImageFormat::from_path(Path::new("a/b.PNG")).unwrap(),
            ImageFormat::Png
        );
        assert_eq!(
            ImageFormat::from_path(Path::new("b.svg")).unwrap(),
            ImageFormat::Svg
        );
        for bad in ["b.jpg", "b", "", ".png", "dir/"] {
            assert!(
                matches!(
                    ImageFormat::from_path(Path::new(bad)),
                    Err(PlotError::UnsupportedFormat { .. })
                ),
                "{bad}"
            );
        }
    }

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
    fn palette_cycles_with_shades() {
        assert_eq!(palette_color(0), PALETTE[0]);
        assert_ne!(palette_color(8), palette_color(0));
        assert_ne!(palette_color(16), palette_color(8));
        assert_eq!(palette_color(24), palette_color(0));
        // Black's shades are greys, all distinct.
        let blacks = [palette_color(6), palette_color(14), palette_color(22)];
        assert!(blacks[0] != blacks[1] && blacks[1] != blacks[2] && blacks[0] != blacks[2]);
    }

    #[test]
    fn finite_runs_split_on_nan() {
        let runs = finite_runs([(0, 1.0), (1, f64::NAN), (2, 2.0), (3, 3.0)]);
        assert_eq!(runs, vec![vec![(0, 1.0)], vec![(2, 2.0), (3, 3.0)]]);
    }

    #[test]
    fn grid_shapes() {
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(3), (1, 3));
        assert_eq!(grid_shape(4), (2, 2));
        assert_eq!(grid_shape(6), (2, 3));
        assert_eq!(grid_shape(16), (4, 4));
    }
}
