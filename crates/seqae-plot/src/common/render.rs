//! Rendering a chart to a PNG or SVG file, written atomically.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use seqae_data::atomic::write_with;

use super::error::{PlotError, Result};
use super::fonts::{ensure_font, text_scale};
use super::options::{ChartOptions, ImageFormat};

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

/// Renders `chart` to `path` in `format`, atomically (see [`seqae_data::atomic::write_with`]):
/// the image goes to a temporary file in the same directory, renamed over `path` only when
/// complete.
pub(crate) fn render(
    path: &Path,
    format: ImageFormat,
    opts: &ChartOptions,
    chart: &impl Chart,
) -> Result<()> {
    ensure_font()?;
    let size = (opts.width, opts.height);
    let scale = text_scale(opts.width, opts.height);
    // A drawing error stops the write (as an io error) and is returned as itself.
    let mut draw_error = None;
    let draw = |file: &mut File, tmp_path: &Path| -> Result<()> {
        match format {
            ImageFormat::Svg => {
                let mut svg = String::new();
                {
                    let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                    root.fill(&WHITE)?;
                    chart.draw(&root, scale)?;
                    root.present()?;
                }
                file.write_all(svg.as_bytes())
                    .map_err(|e| io_error(path, e))
            }
            ImageFormat::Png => {
                // plotters opens the file by path and picks the encoder by its extension.
                let root = BitMapBackend::new(tmp_path, size).into_drawing_area();
                root.fill(&WHITE)?;
                chart.draw(&root, scale)?;
                root.present()?;
                Ok(())
            }
        }
    };
    let suffix = match format {
        ImageFormat::Png => ".png",
        ImageFormat::Svg => ".svg",
    };
    let written = write_with(path, suffix, |file, tmp_path| {
        draw(file, tmp_path).map_err(|e| {
            draw_error = Some(e);
            io::Error::other("drawing the chart failed")
        })
    });
    match (written, draw_error) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(io_error(path, e)),
        (Ok(()), None) => Ok(()),
    }
}

/// [`PlotError::Io`] for the target `path`.
fn io_error(path: &Path, source: io::Error) -> PlotError {
    PlotError::Io {
        path: path.to_path_buf(),
        source,
    }
}
