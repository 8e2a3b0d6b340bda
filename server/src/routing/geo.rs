//! GeoJSON `Polygon` parsing and point-in-polygon tests, written for this crate.

use serde_json::Value;

/// A polygon from a GeoJSON `Polygon` geometry: an exterior ring and optional holes, each a
/// closed ring of `(lon, lat)` positions. Guarantees: at least one ring, every ring closed with
/// at least 4 positions, all coordinates finite and within WGS 84 ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    rings: Vec<Vec<(f64, f64)>>,
    bbox: BBox,
}

/// An axis-aligned box in degrees: `min_lon..=max_lon` × `min_lat..=max_lat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// West edge.
    pub min_lon: f64,
    /// South edge.
    pub min_lat: f64,
    /// East edge.
    pub max_lon: f64,
    /// North edge.
    pub max_lat: f64,
}

impl BBox {
    /// Whether the point lies in the box (edges included).
    #[inline]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }
}

/// Why a GeoJSON value is not a usable polygon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolygonError {
    /// Not an object with `"type": "Polygon"`.
    #[error("geometry must be a GeoJSON object with \"type\": \"Polygon\"")]
    NotAPolygon,
    /// `coordinates` missing or not an array of rings.
    #[error("\"coordinates\" must be an array of rings")]
    BadCoordinates,
    /// A position is not `[lon, lat]` with finite numbers in range.
    #[error(
        "ring {ring}, position {position}: expected [lon, lat] with -180 <= lon <= 180 and -90 <= lat <= 90"
    )]
    BadPosition {
        /// Ring index (0 = exterior).
        ring: usize,
        /// Position index within the ring.
        position: usize,
    },
    /// A ring has fewer than 4 positions or its last position differs from its first.
    #[error("ring {ring} must be closed (first position repeated last) with at least 4 positions")]
    OpenRing {
        /// Ring index (0 = exterior).
        ring: usize,
    },
}

impl Polygon {
    /// Parse a GeoJSON `Polygon` geometry (`{"type":"Polygon","coordinates":[[[lon,lat],…],…]}`).
    pub fn from_geojson(value: &Value) -> Result<Polygon, PolygonError> {
        let obj = value.as_object().ok_or(PolygonError::NotAPolygon)?;
        if obj.get("type").and_then(Value::as_str) != Some("Polygon") {
            return Err(PolygonError::NotAPolygon);
        }
        let rings_json = obj
            .get("coordinates")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
            .ok_or(PolygonError::BadCoordinates)?;
        let mut rings = Vec::with_capacity(rings_json.len());
        for (ri, ring_json) in rings_json.iter().enumerate() {
            let positions = ring_json.as_array().ok_or(PolygonError::BadCoordinates)?;
            let mut ring = Vec::with_capacity(positions.len());
            for (pi, pos) in positions.iter().enumerate() {
                let bad = PolygonError::BadPosition {
                    ring: ri,
                    position: pi,
                };
                let pair = pos.as_array().filter(|p| p.len() >= 2).ok_or(bad.clone())?;
                let lon = pair[0].as_f64().ok_or(bad.clone())?;
                let lat = pair[1].as_f64().ok_or(bad.clone())?;
                if !(lon.is_finite()
                    && lat.is_finite()
                    && (-180.0..=180.0).contains(&lon)
                    && (-90.0..=90.0).contains(&lat))
                {
                    return Err(bad);
                }
                ring.push((lon, lat));
            }
            rings.push(ring);
        }
        Polygon::from_rings(rings)
    }

    /// A polygon from closed rings of `(lon, lat)`; the first ring is the exterior.
    pub fn from_rings(rings: Vec<Vec<(f64, f64)>>) -> Result<Polygon, PolygonError> {
        if rings.is_empty() {
            return Err(PolygonError::BadCoordinates);
        }
        for (ri, ring) in rings.iter().enumerate() {
            if ring.len() < 4 || ring.first() != ring.last() {
                return Err(PolygonError::OpenRing { ring: ri });
            }
            for (pi, &(lon, lat)) in ring.iter().enumerate() {
                if !(lon.is_finite() && lat.is_finite()) {
                    return Err(PolygonError::BadPosition {
                        ring: ri,
                        position: pi,
                    });
                }
            }
        }
        let mut bbox = BBox {
            min_lon: f64::INFINITY,
            min_lat: f64::INFINITY,
            max_lon: f64::NEG_INFINITY,
            max_lat: f64::NEG_INFINITY,
        };
        for &(lon, lat) in &rings[0] {
            bbox.min_lon = bbox.min_lon.min(lon);
            bbox.max_lon = bbox.max_lon.max(lon);
            bbox.min_lat = bbox.min_lat.min(lat);
            bbox.max_lat = bbox.max_lat.max(lat);
        }
        Ok(Polygon { rings, bbox })
    }

    /// The polygon as a GeoJSON `Polygon` geometry.
    pub fn to_geojson(&self) -> Value {
        let coords: Vec<Value> = self
            .rings
            .iter()
            .map(|r| {
                Value::Array(
                    r.iter()
                        .map(|&(lon, lat)| serde_json::json!([lon, lat]))
                        .collect(),
                )
            })
            .collect();
        serde_json::json!({ "type": "Polygon", "coordinates": coords })
    }

    /// The exterior ring's bounding box.
    pub fn bbox(&self) -> BBox {
        self.bbox
    }

    /// The rings, exterior first.
    pub fn rings(&self) -> &[Vec<(f64, f64)>] {
        &self.rings
    }

    /// Whether the point is inside (even-odd rule over all rings, so holes are outside). A point
    /// exactly on an edge may be reported either way, but always the same way.
    #[inline]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        if !self.bbox.contains(lon, lat) {
            return false;
        }
        let mut inside = false;
        for ring in &self.rings {
            for w in ring.windows(2) {
                let (x1, y1) = w[0];
                let (x2, y2) = w[1];
                if (y1 > lat) != (y2 > lat) {
                    let x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1);
                    if lon < x_cross {
                        inside = !inside;
                    }
                }
            }
        }
        inside
    }

    /// Whether the point is inside or within `eps` degrees of an edge: used to check that a
    /// child area's vertices lie in its parent, where shared boundaries are normal.
    pub fn contains_or_touches(&self, lon: f64, lat: f64, eps: f64) -> bool {
        if self.contains(lon, lat) {
            return true;
        }
        self.rings.iter().any(|ring| {
            ring.windows(2)
                .any(|w| segment_distance(w[0], w[1], (lon, lat)) <= eps)
        })
    }
}

fn segment_distance(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn square_with_hole() {
        let p = Polygon::from_geojson(&json!({
            "type": "Polygon",
            "coordinates": [
                [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]],
                [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]
            ]
        }))
        .unwrap();
        assert!(p.contains(1.0, 1.0));
        assert!(!p.contains(5.0, 5.0), "inside the hole");
        assert!(!p.contains(11.0, 5.0));
        assert!(!p.contains(-0.5, 5.0));
        assert!(p.contains_or_touches(10.0, 5.0, 1e-9));
    }

    #[test]
    fn concave_polygon() {
        // A "U" shape: the notch between x 3..7 above y 3 is outside.
        let p = Polygon::from_rings(vec![vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (7.0, 10.0),
            (7.0, 3.0),
            (3.0, 3.0),
            (3.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ]])
        .unwrap();
        assert!(p.contains(1.0, 8.0));
        assert!(p.contains(9.0, 8.0));
        assert!(!p.contains(5.0, 8.0));
        assert!(p.contains(5.0, 1.0));
    }

    #[test]
    fn parse_errors_are_specific() {
        assert_eq!(
            Polygon::from_geojson(&json!({"type": "Point", "coordinates": [1, 2]})),
            Err(PolygonError::NotAPolygon)
        );
        assert_eq!(
            Polygon::from_geojson(&json!({"type": "Polygon"})),
            Err(PolygonError::BadCoordinates)
        );
        assert_eq!(
            Polygon::from_geojson(
                &json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})
            ),
            Err(PolygonError::OpenRing { ring: 0 })
        );
        assert_eq!(
            Polygon::from_geojson(
                &json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, "x"], [0, 0]]]})
            ),
            Err(PolygonError::BadPosition {
                ring: 0,
                position: 2
            })
        );
        assert_eq!(
            Polygon::from_geojson(
                &json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]]})
            ),
            Err(PolygonError::BadPosition {
                ring: 0,
                position: 2
            })
        );
    }

    #[test]
    fn geojson_round_trip() {
        let v = json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]});
        assert_eq!(Polygon::from_geojson(&v).unwrap().to_geojson(), v);
    }
}
