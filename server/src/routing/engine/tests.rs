use super::*;

fn sq(x0: f64, y0: f64, x1: f64, y1: f64) -> Option<Polygon> {
    Some(Polygon::from_rings(vec![vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]]).unwrap())
}

fn area(id: &str, parent: Option<&str>, kind: AreaKind, polygon: Option<Polygon>) -> AreaInput {
    AreaInput {
        id: id.into(),
        parent_id: parent.map(Into::into),
        kind,
        polygon,
    }
}

/// city (0..10) → district D (0..10 × 0..5) → street S (0..5 × 0..5) → communities A (0..2) and
/// B (3..5), both 0..2 in latitude; community C has no polygon.
fn small_city() -> AreaIndex {
    AreaIndex::new(vec![
        area("city", None, AreaKind::City, sq(0.0, 0.0, 10.0, 10.0)),
        area(
            "D",
            Some("city"),
            AreaKind::District,
            sq(0.0, 0.0, 10.0, 5.0),
        ),
        area("S", Some("D"), AreaKind::Street, sq(0.0, 0.0, 5.0, 5.0)),
        area("A", Some("S"), AreaKind::Community, sq(0.0, 0.0, 2.0, 2.0)),
        area("B", Some("S"), AreaKind::Community, sq(3.0, 0.0, 5.0, 2.0)),
        area("C", Some("S"), AreaKind::Community, None),
    ])
    .unwrap()
}

fn rule(id: &str, category: Option<&str>, area: &str, unit: &str, priority: i32) -> RoutingRule {
    RoutingRule {
        id: id.into(),
        category: category.map(Into::into),
        area_id: area.into(),
        unit_id: unit.into(),
        priority,
    }
}

fn unit<'a>(r: &'a Router, category: &str, area: &str) -> Option<&'a str> {
    r.route(category, area).map(|d| d.unit_id)
}

#[test]
fn locate_finds_the_community_and_the_city_edge() {
    let idx = small_city();
    assert_eq!(idx.locate(1.0, 1.0), Some("A"));
    assert_eq!(idx.locate(1.0, 4.0), Some("B"));
    assert_eq!(
        idx.locate(1.0, 2.5),
        None,
        "between communities: street only"
    );
    assert_eq!(idx.locate_deepest(1.0, 2.5), Some("S"));
    assert_eq!(idx.locate_deepest(1.0, 7.0), Some("D"));
    assert_eq!(idx.locate_deepest(7.0, 7.0), Some("city"));
    assert!(idx.is_inside_city(7.0, 7.0));
    assert!(!idx.is_inside_city(11.0, 1.0));
    assert!(!idx.is_inside_city(-1.0, 1.0));
    assert_eq!(
        idx.ancestors("A").collect::<Vec<_>>(),
        ["A", "S", "D", "city"]
    );
}

#[test]
fn index_rejects_bad_trees() {
    let dup = AreaIndex::new(vec![
        area("x", None, AreaKind::City, None),
        area("x", None, AreaKind::City, None),
    ]);
    assert_eq!(dup.unwrap_err(), RoutingError::DuplicateArea("x".into()));
    let orphan = AreaIndex::new(vec![area("x", Some("nope"), AreaKind::Street, None)]);
    assert!(matches!(
        orphan.unwrap_err(),
        RoutingError::UnknownParent { .. }
    ));
    let cycle = AreaIndex::new(vec![
        area("a", Some("b"), AreaKind::Street, None),
        area("b", Some("a"), AreaKind::Street, None),
    ]);
    assert!(matches!(cycle.unwrap_err(), RoutingError::Cycle(_)));
}

#[test]
fn ancestor_rule_applies_below_it() {
    let idx = small_city();
    let r = Router::new(
        &idx,
        vec![rule("r1", Some("water_cut"), "city", "water", 0)],
    )
    .unwrap();
    let d = r.route("water_cut", "A").unwrap();
    assert_eq!(
        d,
        RouteDecision {
            rule_id: "r1",
            unit_id: "water",
            matched_area_id: "city"
        }
    );
    assert_eq!(unit(&r, "water_cut", "C"), Some("water"));
    assert_eq!(unit(&r, "dust", "A"), None, "no rule: dispatch center");
    assert_eq!(r.route("water_cut", "no-such-area"), None);
}

#[test]
fn deeper_area_beats_ancestor_even_with_lower_priority() {
    let idx = small_city();
    let r = Router::new(
        &idx,
        vec![
            rule("r1", Some("dust"), "D", "district", 100),
            rule("r2", Some("dust"), "S", "street", -100),
        ],
    )
    .unwrap();
    assert_eq!(unit(&r, "dust", "A"), Some("street"));
    assert_eq!(unit(&r, "dust", "S"), Some("street"));
    assert_eq!(unit(&r, "dust", "D"), Some("district"));
}

#[test]
fn deeper_any_category_rule_beats_ancestor_category_rule() {
    let idx = small_city();
    let r = Router::new(
        &idx,
        vec![
            rule("r1", Some("dust"), "city", "env", 0),
            rule("r2", None, "B", "pm", 0),
        ],
    )
    .unwrap();
    assert_eq!(unit(&r, "dust", "B"), Some("pm"));
    assert_eq!(unit(&r, "dust", "A"), Some("env"));
    assert_eq!(unit(&r, "anything", "B"), Some("pm"));
}

#[test]
fn same_area_category_specific_then_priority_then_lowest_id() {
    let idx = small_city();
    let r = Router::new(
        &idx,
        vec![
            rule("r9", None, "S", "any-high", 50),
            rule("r5", Some("noise"), "S", "noise-low", 1),
            rule("r4", Some("noise"), "S", "noise-high", 2),
            rule("r3", Some("dust"), "S", "dust-b", 7),
            rule("r2", Some("dust"), "S", "dust-a", 7),
        ],
    )
    .unwrap();
    assert_eq!(
        unit(&r, "noise", "A"),
        Some("noise-high"),
        "specific beats any, then priority"
    );
    assert_eq!(
        unit(&r, "dust", "A"),
        Some("dust-a"),
        "tie broken by lowest rule id"
    );
    assert_eq!(unit(&r, "gas_cut", "A"), Some("any-high"));
    assert_eq!(
        unit(&r, "gas_cut", "city"),
        None,
        "rules do not apply upwards"
    );
}

#[test]
fn unknown_rule_area_is_an_error() {
    let idx = small_city();
    let err = Router::new(&idx, vec![rule("r1", None, "nowhere", "u", 0)]).unwrap_err();
    assert!(matches!(err, RoutingError::UnknownRuleArea { .. }));
}
