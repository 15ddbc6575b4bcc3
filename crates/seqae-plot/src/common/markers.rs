//! Point markers: the shapes used for true labels and the filled, outlined marker element.

use plotters::element::ComposedElement;
use plotters::prelude::*;

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
