//! From the areas' GeoJSON polygons (rings of `[lon, lat]`) to SVG coordinates: an
//! equirectangular projection scaled by the cosine of the middle latitude (true enough over a
//! city), fitted into a box [`WIDTH`] wide with a margin, y growing southwards. Computed per
//! request from the polygons of the areas drawn; nothing is kept between requests.

use serde_json::Value;

/// Width of the SVG view box; the height follows the areas' shape.
pub const WIDTH: f64 = 1000.0;
/// Margin around the drawing, in view-box units.
pub const MARGIN: f64 = 10.0;

/// One polygon as rings of `(lon, lat)`; the first ring is the outline, the others holes.
pub type Rings = Vec<Vec<(f64, f64)>>;

/// The rings of a GeoJSON `Polygon` or `MultiPolygon` (all parts flattened), or `None` when
/// the value is neither or a ring has fewer than three points or a non-finite coordinate.
pub fn rings(geometry: &Value) -> Option<Rings> {
    let ring = |r: &Value| -> Option<Vec<(f64, f64)>> {
        let pts: Option<Vec<(f64, f64)>> = r
            .as_array()?
            .iter()
            .map(|p| {
                let lon = p.get(0)?.as_f64()?;
                let lat = p.get(1)?.as_f64()?;
                (lon.is_finite() && lat.is_finite()).then_some((lon, lat))
            })
            .collect();
        pts.filter(|p| p.len() >= 3)
    };
    let polygon = |p: &Value| -> Option<Rings> { p.as_array()?.iter().map(ring).collect() };
    let coords = geometry.get("coordinates")?;
    let out: Rings = match geometry.get("type")?.as_str()? {
        "Polygon" => polygon(coords)?,
        "MultiPolygon" => coords
            .as_array()?
            .iter()
            .map(polygon)
            .collect::<Option<Vec<Rings>>>()?
            .into_iter()
            .flatten()
            .collect(),
        _ => return None,
    };
    (!out.is_empty()).then_some(out)
}

/// The fitted projection of a set of polygons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    min_lon: f64,
    max_lat: f64,
    kx: f64,
    scale: f64,
    /// Height of the view box.
    pub height: f64,
}

impl Projection {
    /// The projection that fits every ring of `shapes` into the view box, or `None` when there
    /// is no point or the points have no extent.
    pub fn fit<'a>(shapes: impl IntoIterator<Item = &'a Rings>) -> Option<Projection> {
        let (mut min_lon, mut max_lon) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut min_lat, mut max_lat) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(lon, lat) in shapes.into_iter().flatten().flatten() {
            min_lon = min_lon.min(lon);
            max_lon = max_lon.max(lon);
            min_lat = min_lat.min(lat);
            max_lat = max_lat.max(lat);
        }
        if !min_lon.is_finite() {
            return None;
        }
        let kx = ((min_lat + max_lat) / 2.0)
            .to_radians()
            .cos()
            .abs()
            .max(0.01);
        let w = (max_lon - min_lon) * kx;
        let h = max_lat - min_lat;
        if w <= 0.0 || h <= 0.0 {
            return None;
        }
        let scale = (WIDTH - 2.0 * MARGIN) / w;
        Some(Projection {
            min_lon,
            max_lat,
            kx,
            scale,
            height: (h * scale + 2.0 * MARGIN).round(),
        })
    }

    /// The view-box point of `(lon, lat)`.
    pub fn point(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        (
            MARGIN + (lon - self.min_lon) * self.kx * self.scale,
            MARGIN + (self.max_lat - lat) * self.scale,
        )
    }

    /// The SVG path data of `rings` (`M x y L … Z` per ring, one decimal).
    pub fn path(&self, rings: &Rings) -> String {
        let mut d = String::new();
        for ring in rings {
            for (i, p) in ring.iter().enumerate() {
                let (x, y) = self.point(*p);
                if !d.is_empty() {
                    d.push(' ');
                }
                d.push_str(&format!(
                    "{}{:.1} {:.1}",
                    if i == 0 { "M" } else { "L" },
                    x,
                    y
                ));
            }
            d.push_str(" Z");
        }
        d
    }

    /// Where to put the area's label: the centroid of its outline (the first ring), falling
    /// back to the mean of its points for a degenerate ring.
    pub fn label(&self, rings: &Rings) -> (f64, f64) {
        let pts: Vec<(f64, f64)> = rings[0].iter().map(|p| self.point(*p)).collect();
        let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for i in 0..pts.len() {
            let (x0, y0) = pts[i];
            let (x1, y1) = pts[(i + 1) % pts.len()];
            let c = x0 * y1 - x1 * y0;
            a += c;
            cx += (x0 + x1) * c;
            cy += (y0 + y1) * c;
        }
        let round = |v: f64| (v * 10.0).round() / 10.0;
        if a.abs() < 1e-9 {
            let n = pts.len() as f64;
            let (sx, sy) = pts
                .iter()
                .fold((0.0, 0.0), |(sx, sy), p| (sx + p.0, sy + p.1));
            return (round(sx / n), round(sy / n));
        }
        (round(cx / (3.0 * a)), round(cy / (3.0 * a)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square(lon: f64, lat: f64, d: f64) -> Value {
        json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]})
    }

    #[test]
    fn fits_the_width_and_keeps_north_up() {
        let a = rings(&square(125.0, 43.0, 0.1)).unwrap();
        let b = rings(&square(125.1, 43.0, 0.1)).unwrap();
        let p = Projection::fit([&a, &b]).unwrap();
        let (x0, y_south) = p.point((125.0, 43.0));
        let (x1, y_north) = p.point((125.2, 43.1));
        assert!((x0 - MARGIN).abs() < 1e-9);
        assert!((x1 - (WIDTH - MARGIN)).abs() < 1e-9);
        assert!(y_north < y_south, "north is up");
        // Two squares side by side, shrunk east-west by cos(43°): taller than half the width.
        let inner_h = p.height - 2.0 * MARGIN;
        let expected = (WIDTH - 2.0 * MARGIN) / 2.0 / 43.05f64.to_radians().cos();
        assert!((inner_h - expected).abs() < 1.0, "{inner_h} vs {expected}");
    }

    #[test]
    fn path_and_label() {
        let a = rings(&square(125.0, 43.0, 0.1)).unwrap();
        let p = Projection::fit([&a]).unwrap();
        let d = p.path(&a);
        assert!(d.starts_with("M10.0 "), "{d}");
        assert!(d.ends_with(" Z"));
        assert_eq!(d.matches('L').count(), 4);
        let (x, y) = p.label(&a);
        assert!((x - WIDTH / 2.0).abs() < 0.2, "{x}");
        assert!((y - p.height / 2.0).abs() < 0.6, "{y}");
    }

    #[test]
    fn refuses_what_is_not_a_polygon() {
        assert!(rings(&json!({"type": "Point", "coordinates": [1, 2]})).is_none());
        assert!(rings(&json!({"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]})).is_none());
        assert!(
            rings(&json!({"type": "Polygon", "coordinates": [[[1, 2], [3, "x"], [5, 6]]]}))
                .is_none()
        );
        assert!(Projection::fit(std::iter::empty::<&Rings>()).is_none());
        let multi = json!({"type": "MultiPolygon", "coordinates": [square(1.0, 1.0, 1.0)["coordinates"], square(3.0, 1.0, 1.0)["coordinates"]]});
        assert_eq!(rings(&multi).unwrap().len(), 2);
    }
}
