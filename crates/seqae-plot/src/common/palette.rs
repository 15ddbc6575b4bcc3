//! Colours: the Okabe-Ito palette with shades past eight, and the neutral greys.

use plotters::prelude::RGBColor;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
