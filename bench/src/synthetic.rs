//! A synthetic city for tests and the routing benchmark: a grid of community quadrilaterals
//! nested in streets and districts, random rules, and random queries. Deterministic per seed.

use anju_server::routing::Polygon;
use anju_server::routing::{AreaInput, AreaKind, RoutingRule};

/// Category codes the synthetic rules and queries use (the sample city's, for realism).
pub const CATEGORIES: [&str; 13] = [
    "night_noise",
    "dust",
    "construction_quality",
    "safety_hazard",
    "water_cut",
    "power_cut",
    "gas_cut",
    "heating_cut",
    "damaged_facility",
    "relocation",
    "property_management",
    "delay",
    "other",
];

/// SplitMix64: a tiny deterministic pseudo-random generator (not for secrets).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0.0..1.0`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`; returns 0 for `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }
}

/// A generated city: areas (1 city, 2 districts, 6 streets, `n_polygons` communities, all with
/// polygons) and rules over them.
#[derive(Debug, Clone)]
pub struct SyntheticCity {
    /// Areas, parents before children.
    pub areas: Vec<AreaInput>,
    /// Routing rules with ids `r00000`, `r00001`, ….
    pub rules: Vec<RoutingRule>,
    /// The city's bounding box `(min_lon, min_lat, max_lon, max_lat)`.
    pub bbox: (f64, f64, f64, f64),
}

/// One routing query: category code and a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Category code (occasionally one no rule names).
    pub category: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

fn rect(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Polygon {
    quad([
        (min_lon, min_lat),
        (max_lon, min_lat),
        (max_lon, max_lat),
        (min_lon, max_lat),
    ])
}

fn quad(c: [(f64, f64); 4]) -> Polygon {
    match Polygon::from_rings(vec![vec![c[0], c[1], c[2], c[3], c[0]]]) {
        Ok(p) => p,
        // Finite corners always make a valid closed ring.
        Err(e) => unreachable!("synthetic polygon: {e}"),
    }
}

/// Build a city with `n_polygons` community polygons and `n_rules` rules from `seed`.
pub fn synthetic_city(n_polygons: usize, n_rules: usize, seed: u64) -> SyntheticCity {
    let mut rng = SplitMix64::new(seed);
    let (min_lon, min_lat, max_lon, max_lat) = (125.10, 43.70, 125.50, 44.00);
    let k = ((n_polygons as f64).sqrt().ceil() as usize).max(2);
    let cw = (max_lon - min_lon) / k as f64;
    let ch = (max_lat - min_lat) / k as f64;
    let split_col = k / 2; // district 0: columns < split_col
    let band_of = |row: usize| (row * 3 / k).min(2);
    let band_rows = |band: usize| {
        let rows: Vec<usize> = (0..k).filter(|&r| band_of(r) == band).collect();
        (
            rows.first().copied().unwrap_or(0),
            rows.last().copied().unwrap_or(0),
        )
    };
    let mut areas = vec![AreaInput {
        id: "city".into(),
        parent_id: None,
        kind: AreaKind::City,
        polygon: Some(rect(min_lon, min_lat, max_lon, max_lat)),
    }];
    for d in 0..2 {
        let (c0, c1) = if d == 0 {
            (0, split_col)
        } else {
            (split_col, k)
        };
        let (lo, hi) = (min_lon + c0 as f64 * cw, min_lon + c1 as f64 * cw);
        areas.push(AreaInput {
            id: format!("d{d}"),
            parent_id: Some("city".into()),
            kind: AreaKind::District,
            polygon: Some(rect(lo, min_lat, hi, max_lat)),
        });
        for band in 0..3 {
            let (r0, r1) = band_rows(band);
            areas.push(AreaInput {
                id: format!("d{d}-s{band}"),
                parent_id: Some(format!("d{d}")),
                kind: AreaKind::Street,
                polygon: Some(rect(
                    lo,
                    min_lat + r0 as f64 * ch,
                    hi,
                    min_lat + (r1 + 1) as f64 * ch,
                )),
            });
        }
    }
    for i in 0..n_polygons {
        let (row, col) = (i / k, i % k);
        let d = usize::from(col >= split_col);
        let (x0, y0) = (min_lon + col as f64 * cw, min_lat + row as f64 * ch);
        let mut j = |lo: f64, hi: f64| lo + (hi - lo) * rng.next_f64();
        // Each corner stays in its own quarter of the cell, so the quadrilateral is simple and
        // strictly inside the cell (no overlap with neighbours).
        let corners = [
            (x0 + cw * j(0.02, 0.3), y0 + ch * j(0.02, 0.3)),
            (x0 + cw * j(0.7, 0.98), y0 + ch * j(0.02, 0.3)),
            (x0 + cw * j(0.7, 0.98), y0 + ch * j(0.7, 0.98)),
            (x0 + cw * j(0.02, 0.3), y0 + ch * j(0.7, 0.98)),
        ];
        areas.push(AreaInput {
            id: format!("c{i:05}"),
            parent_id: Some(format!("d{d}-s{}", band_of(row))),
            kind: AreaKind::Community,
            polygon: Some(quad(corners)),
        });
    }
    let mut rules = Vec::with_capacity(n_rules);
    for r in 0..n_rules {
        // Mostly community rules, some street/district/city rules.
        let area = if rng.below(10) < 7 && n_polygons > 0 {
            &areas[9 + rng.below(n_polygons)]
        } else {
            &areas[rng.below(9)]
        };
        let category =
            (rng.below(10) < 8).then(|| CATEGORIES[rng.below(CATEGORIES.len())].to_string());
        rules.push(RoutingRule {
            id: format!("r{r:05}"),
            category,
            area_id: area.id.clone(),
            unit_id: format!("u{:03}", rng.below(200)),
            priority: rng.below(5) as i32 - 2,
        });
    }
    SyntheticCity {
        areas,
        rules,
        bbox: (min_lon, min_lat, max_lon, max_lat),
    }
}

impl SyntheticCity {
    /// `n` queries from `seed`: points uniform over a box 10 % larger than the city (so some fall
    /// outside), categories uniform over [`CATEGORIES`] plus an unknown one.
    pub fn queries(&self, n: usize, seed: u64) -> Vec<Query> {
        let mut rng = SplitMix64::new(seed);
        let (a, b, c, d) = self.bbox;
        let (mx, my) = ((c - a) * 0.05, (d - b) * 0.05);
        (0..n)
            .map(|_| {
                let k = rng.below(CATEGORIES.len() + 1);
                Query {
                    category: CATEGORIES
                        .get(k)
                        .copied()
                        .unwrap_or("unknown_category")
                        .to_string(),
                    lon: a - mx + (c - a + 2.0 * mx) * rng.next_f64(),
                    lat: b - my + (d - b + 2.0 * my) * rng.next_f64(),
                }
            })
            .collect()
    }
}

/// The synthetic city checked against the routing specification applied naively: the index and
/// the router give the answers a linear scan gives (moved here from the server's routing tests
/// with the generator).
#[cfg(test)]
mod tests {
    use super::*;
    use anju_server::routing::{AreaIndex, Router};

    /// The specification, applied naively: walk up from the area; at the first area with a matching
    /// rule, take the best one there.
    fn reference<'a>(
        idx: &AreaIndex,
        rules: &'a [RoutingRule],
        category: &str,
        area: &str,
    ) -> Option<&'a RoutingRule> {
        for a in idx.ancestors(area) {
            let mut here: Vec<&RoutingRule> = rules
                .iter()
                .filter(|r| r.area_id == a && r.category.as_deref().is_none_or(|c| c == category))
                .collect();
            here.sort_by(|x, y| {
                (y.category.is_some(), y.priority)
                    .cmp(&(x.category.is_some(), x.priority))
                    .then_with(|| x.id.cmp(&y.id))
            });
            if let Some(best) = here.first() {
                return Some(best);
            }
        }
        None
    }

    #[test]
    fn synthetic_city_500_polygons_1000_rules_matches_the_naive_answers() {
        let city = synthetic_city(500, 1000, 42);
        let idx = AreaIndex::new(city.areas.clone()).unwrap();
        let router = Router::new(&idx, city.rules.clone()).unwrap();
        assert_eq!(idx.len(), 509);

        // Point lookup against a linear scan of every community polygon.
        let mut located = 0;
        for q in city.queries(20_000, 7) {
            let naive = city
                .areas
                .iter()
                .find(|a| {
                    a.kind == AreaKind::Community
                        && a.polygon.as_ref().unwrap().contains(q.lon, q.lat)
                })
                .map(|a| a.id.as_str());
            assert_eq!(idx.locate(q.lat, q.lon), naive, "{q:?}");
            located += usize::from(naive.is_some());
            let (a, b, c, d) = city.bbox;
            let inside = q.lon >= a && q.lon <= c && q.lat >= b && q.lat <= d;
            assert_eq!(idx.is_inside_city(q.lat, q.lon), inside, "{q:?}");
        }
        assert!(
            located > 5_000,
            "most points fall in a community: {located}"
        );

        // Every area × every category (and one no rule names) against the reference.
        for a in &city.areas {
            for cat in CATEGORIES.iter().copied().chain(["unknown_category"]) {
                let want = reference(&idx, &city.rules, cat, &a.id).map(|r| r.id.as_str());
                assert_eq!(
                    router.route(cat, &a.id).map(|d| d.rule_id),
                    want,
                    "{cat} in {}",
                    a.id
                );
            }
        }
    }
}
