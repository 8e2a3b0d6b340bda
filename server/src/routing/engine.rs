//! The routing engine: an area index for point lookups and a router for `(category, area) →
//! unit` decisions, both precomputed so that a decision is a few hash lookups.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::geo::{BBox, Polygon};

/// Level of an area in the tree (行政区划层级): city → district (区) → street (街道) → community
/// (社区/小区).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// The city (市).
    City,
    /// A district (区).
    District,
    /// A street office's area (街道).
    Street,
    /// A community or residential compound (社区/小区).
    Community,
}

/// One area as the engine needs it.
#[derive(Debug, Clone)]
pub struct AreaInput {
    /// Stable id (database id or import code).
    pub id: String,
    /// Parent area id; `None` only for the root(s).
    pub parent_id: Option<String>,
    /// Level in the tree.
    pub kind: AreaKind,
    /// Outline, if known.
    pub polygon: Option<Polygon>,
}

/// One routing rule (派单规则): complaints of `category` (any category when `None`) in `area_id`
/// or any area below it go to `unit_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    /// Stable id, stored with each decision so anyone can see why a ticket went where it went.
    pub id: String,
    /// Category code, or `None` for every category.
    pub category: Option<String>,
    /// The area the rule is attached to.
    pub area_id: String,
    /// The responsible unit (责任单位).
    pub unit_id: String,
    /// Higher wins among rules of the same specificity at the same area.
    pub priority: i32,
}

/// The outcome of routing: the rule that decided, its unit and the area it is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision<'a> {
    /// The deciding rule's id.
    pub rule_id: &'a str,
    /// The unit the complaint goes to.
    pub unit_id: &'a str,
    /// The area the deciding rule is attached to (the complaint's area or an ancestor).
    pub matched_area_id: &'a str,
}

/// Why areas or rules cannot be indexed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// Two areas share an id.
    #[error("duplicate area id {0}")]
    DuplicateArea(String),
    /// An area's parent id is not an area.
    #[error("area {area} has unknown parent {parent}")]
    UnknownParent {
        /// The child.
        area: String,
        /// The missing parent.
        parent: String,
    },
    /// The parent links loop.
    #[error("area {0} is part of a parent cycle")]
    Cycle(String),
    /// A rule names an area that is not in the index.
    #[error("rule {rule} names unknown area {area}")]
    UnknownRuleArea {
        /// The rule.
        rule: String,
        /// The missing area.
        area: String,
    },
}

#[derive(Debug)]
struct AreaNode {
    id: String,
    parent: Option<u32>,
    kind: AreaKind,
    depth: u32,
}

/// Areas with a uniform grid over their polygons' bounding boxes, for fast point lookup
/// (坐标定位到社区). Guarantees: ids unique, every parent exists, no cycles.
#[derive(Debug)]
pub struct AreaIndex {
    nodes: Vec<AreaNode>,
    by_id: HashMap<String, u32>,
    polygons: Vec<(u32, Polygon)>,
    grid: Grid,
}

#[derive(Debug)]
struct Grid {
    bbox: BBox,
    cols: usize,
    rows: usize,
    /// `cells[row * cols + col]`: indexes into `polygons`, deepest areas first.
    cells: Vec<Vec<u32>>,
}

impl Grid {
    fn cell_of(&self, lon: f64, lat: f64) -> Option<usize> {
        if !self.bbox.contains(lon, lat) {
            return None;
        }
        let w = self.bbox.max_lon - self.bbox.min_lon;
        let h = self.bbox.max_lat - self.bbox.min_lat;
        let col = if w > 0.0 {
            (((lon - self.bbox.min_lon) / w) * self.cols as f64) as usize
        } else {
            0
        };
        let row = if h > 0.0 {
            (((lat - self.bbox.min_lat) / h) * self.rows as f64) as usize
        } else {
            0
        };
        Some(row.min(self.rows - 1) * self.cols + col.min(self.cols - 1))
    }
}

impl AreaIndex {
    /// Index `areas`; fails on duplicate ids, unknown parents or parent cycles.
    pub fn new(areas: Vec<AreaInput>) -> Result<AreaIndex, RoutingError> {
        let mut by_id = HashMap::with_capacity(areas.len());
        for (i, a) in areas.iter().enumerate() {
            if by_id.insert(a.id.clone(), i as u32).is_some() {
                return Err(RoutingError::DuplicateArea(a.id.clone()));
            }
        }
        let mut parents = Vec::with_capacity(areas.len());
        for a in &areas {
            let parent = match &a.parent_id {
                None => None,
                Some(p) => Some(*by_id.get(p).ok_or_else(|| RoutingError::UnknownParent {
                    area: a.id.clone(),
                    parent: p.clone(),
                })?),
            };
            parents.push(parent);
        }
        let mut depths = Vec::with_capacity(areas.len());
        for (i, a) in areas.iter().enumerate() {
            let mut depth = 0u32;
            let mut cur = parents[i];
            while let Some(p) = cur {
                depth += 1;
                if depth as usize > areas.len() {
                    return Err(RoutingError::Cycle(a.id.clone()));
                }
                cur = parents[p as usize];
            }
            depths.push(depth);
        }
        let mut nodes = Vec::with_capacity(areas.len());
        let mut polygons = Vec::new();
        for (i, a) in areas.into_iter().enumerate() {
            if let Some(poly) = a.polygon {
                polygons.push((i as u32, poly));
            }
            nodes.push(AreaNode {
                id: a.id,
                parent: parents[i],
                kind: a.kind,
                depth: depths[i],
            });
        }
        // Deepest first, so the first hit in a cell is the most specific area.
        polygons.sort_by_key(|(i, _)| {
            let n = &nodes[*i as usize];
            (std::cmp::Reverse(n.kind), std::cmp::Reverse(n.depth), *i)
        });
        let grid = build_grid(&polygons);
        Ok(AreaIndex {
            nodes,
            by_id,
            polygons,
            grid,
        })
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the index has no areas.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The kind of area `id`, if known.
    pub fn kind_of(&self, id: &str) -> Option<AreaKind> {
        self.by_id.get(id).map(|&i| self.nodes[i as usize].kind)
    }

    /// `id` and its ancestors, nearest first (empty for an unknown id).
    pub fn ancestors<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a str> + 'a {
        let mut cur = self.by_id.get(id).copied();
        std::iter::from_fn(move || {
            let i = cur?;
            let n = &self.nodes[i as usize];
            cur = n.parent;
            Some(n.id.as_str())
        })
    }

    /// The most specific area whose polygon contains the point (a community when one does,
    /// else a street, district or the city). `None` when no polygon contains it. When polygons
    /// of the same level overlap, the one listed first in the input wins.
    pub fn locate_deepest(&self, lat: f64, lon: f64) -> Option<&str> {
        let cell = self.grid.cell_of(lon, lat)?;
        for &pi in &self.grid.cells[cell] {
            let (node, poly) = &self.polygons[pi as usize];
            if poly.contains(lon, lat) {
                return Some(self.nodes[*node as usize].id.as_str());
            }
        }
        None
    }

    /// The community (社区/小区) whose polygon contains the point, if any.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<&str> {
        let id = self.locate_deepest(lat, lon)?;
        (self.kind_of(id) == Some(AreaKind::Community)).then_some(id)
    }

    /// Whether the point lies inside any area polygon; outside every one the caller answers
    /// `outside_jurisdiction`.
    pub fn is_inside_city(&self, lat: f64, lon: f64) -> bool {
        self.locate_deepest(lat, lon).is_some()
    }

    fn index_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }
}

fn build_grid(polygons: &[(u32, Polygon)]) -> Grid {
    let mut bbox = BBox {
        min_lon: 0.0,
        min_lat: 0.0,
        max_lon: 0.0,
        max_lat: 0.0,
    };
    for (k, (_, p)) in polygons.iter().enumerate() {
        let b = p.bbox();
        if k == 0 {
            bbox = b;
        } else {
            bbox.min_lon = bbox.min_lon.min(b.min_lon);
            bbox.min_lat = bbox.min_lat.min(b.min_lat);
            bbox.max_lon = bbox.max_lon.max(b.max_lon);
            bbox.max_lat = bbox.max_lat.max(b.max_lat);
        }
    }
    if polygons.is_empty() {
        // An empty box that contains nothing but (0, 0): cells are empty, so no hit.
        return Grid {
            bbox,
            cols: 1,
            rows: 1,
            cells: vec![Vec::new()],
        };
    }
    // About two cells per polygon: each cell then holds a handful of candidates.
    let side = ((polygons.len() as f64 * 2.0).sqrt().ceil() as usize).clamp(1, 512);
    let (cols, rows) = (side, side);
    let mut cells = vec![Vec::new(); cols * rows];
    let w = bbox.max_lon - bbox.min_lon;
    let h = bbox.max_lat - bbox.min_lat;
    let col_of = |lon: f64| {
        if w > 0.0 {
            ((((lon - bbox.min_lon) / w) * cols as f64) as usize).min(cols - 1)
        } else {
            0
        }
    };
    let row_of = |lat: f64| {
        if h > 0.0 {
            ((((lat - bbox.min_lat) / h) * rows as f64) as usize).min(rows - 1)
        } else {
            0
        }
    };
    for (k, (_, p)) in polygons.iter().enumerate() {
        let b = p.bbox();
        for row in row_of(b.min_lat)..=row_of(b.max_lat) {
            for col in col_of(b.min_lon)..=col_of(b.max_lon) {
                cells[row * cols + col].push(k as u32);
            }
        }
    }
    Grid {
        bbox,
        cols,
        rows,
        cells,
    }
}

/// Routing rules resolved for every area: `route` is two hash lookups and an array read.
///
/// Semantics (guaranteed): a rule on an area applies to all areas below it unless a deeper area
/// on the way has a rule that matches the category (an any-category rule matches every
/// category). Among rules attached to the same area, a category-specific rule beats an
/// any-category rule, then higher `priority` wins, then the lexicographically lowest rule id.
#[derive(Debug)]
pub struct Router {
    rules: Vec<RoutingRule>,
    area_by_id: HashMap<String, u32>,
    /// Category code → column (1-based; column 0 is "a category no rule names").
    category_col: HashMap<String, usize>,
    cols: usize,
    /// `resolved[area * cols + col]`: index into `rules`.
    resolved: Vec<Option<u32>>,
}

fn better(a: &RoutingRule, b: &RoutingRule) -> bool {
    // Is `a` preferred over `b` among rules at the same area?
    let spec = |r: &RoutingRule| r.category.is_some();
    (spec(a), a.priority, std::cmp::Reverse(&a.id))
        > (spec(b), b.priority, std::cmp::Reverse(&b.id))
}

impl Router {
    /// Precompute every area's decision for every category named in `rules`. Fails when a rule
    /// names an area not in `areas`.
    pub fn new(areas: &AreaIndex, rules: Vec<RoutingRule>) -> Result<Router, RoutingError> {
        let mut category_col = HashMap::new();
        for r in &rules {
            if let Some(c) = &r.category {
                let next = category_col.len() + 1;
                category_col.entry(c.clone()).or_insert(next);
            }
        }
        let cols = category_col.len() + 1;
        let n = areas.len();
        // Best own rule per (area, column); column 0 holds the best any-category rule.
        let mut own: Vec<Option<u32>> = vec![None; n * cols];
        for (ri, r) in rules.iter().enumerate() {
            let area = areas
                .index_of(&r.area_id)
                .ok_or_else(|| RoutingError::UnknownRuleArea {
                    rule: r.id.clone(),
                    area: r.area_id.clone(),
                })? as usize;
            let col = r
                .category
                .as_ref()
                .and_then(|c| category_col.get(c).copied())
                .unwrap_or(0);
            let slot = &mut own[area * cols + col];
            match slot {
                Some(cur) if !better(r, &rules[*cur as usize]) => {}
                _ => *slot = Some(ri as u32),
            }
        }
        // Parents before children.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| areas.nodes[i].depth);
        let mut resolved: Vec<Option<u32>> = vec![None; n * cols];
        for i in order {
            let parent = areas.nodes[i].parent.map(|p| p as usize);
            let any_here = own[i * cols];
            for col in 0..cols {
                let here = if col == 0 {
                    any_here
                } else {
                    own[i * cols + col].or(any_here)
                };
                resolved[i * cols + col] =
                    here.or_else(|| parent.and_then(|p| resolved[p * cols + col]));
            }
        }
        Ok(Router {
            rules,
            area_by_id: areas.by_id.clone(),
            category_col,
            cols,
            resolved,
        })
    }

    /// The unit for a complaint of `category` in `area_id`; `None` when no rule applies or the
    /// area is unknown (the caller sends the complaint to the dispatch center, 派单中心).
    pub fn route(&self, category: &str, area_id: &str) -> Option<RouteDecision<'_>> {
        let area = *self.area_by_id.get(area_id)? as usize;
        let col = self.category_col.get(category).copied().unwrap_or(0);
        let rule = &self.rules[self.resolved[area * self.cols + col]? as usize];
        Some(RouteDecision {
            rule_id: &rule.id,
            unit_id: &rule.unit_id,
            matched_area_id: &rule.area_id,
        })
    }

    /// The rules this router was built from.
    pub fn rules(&self) -> &[RoutingRule] {
        &self.rules
    }
}

#[cfg(test)]
mod tests;
