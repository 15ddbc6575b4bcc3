//! Chart options (title, size) and the output format chosen by the file extension.

use std::path::Path;

use super::error::{PlotError, Result};

/// Smallest accepted chart width and height, in pixels.
pub const MIN_SIZE: (u32, u32) = (200, 150);
/// Largest accepted chart width or height, in pixels.
pub const MAX_SIDE: u32 = 16_384;

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
}
