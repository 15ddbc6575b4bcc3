//! The embedded DejaVu Sans font: registration with plotters, text styles and their scale.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::error::{PlotError, Result};

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
