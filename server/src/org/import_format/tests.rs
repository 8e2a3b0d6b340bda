use jiff::civil::date;
use jiff::tz::TimeZone;

use super::*;
use crate::calendar::china::{holidays_2025_2026, makeup_workdays_2025_2026};
use crate::routing::{AreaIndex, Router};

const SAMPLE: &str = include_str!("../../../sample/city.json");

fn sample() -> ImportFile {
    ImportFile::from_json(SAMPLE).unwrap()
}

fn errors_of(f: &ImportFile) -> Vec<String> {
    validate(f).unwrap_err()
}

fn centroid(a: &AreaSpec) -> (f64, f64) {
    let p = Polygon::from_geojson(a.polygon.as_ref().unwrap()).unwrap();
    let ring = &p.rings()[0][..p.rings()[0].len() - 1];
    let n = ring.len() as f64;
    (
        ring.iter().map(|v| v.1).sum::<f64>() / n,
        ring.iter().map(|v| v.0).sum::<f64>() / n,
    )
}

#[test]
fn sample_city_validates_and_has_the_promised_shape() {
    let f = sample();
    validate(&f).unwrap();
    let count = |k: AreaKind| f.areas.iter().filter(|a| a.kind == k).count();
    assert_eq!(
        (
            count(AreaKind::City),
            count(AreaKind::District),
            count(AreaKind::Street),
            count(AreaKind::Community)
        ),
        (1, 2, 6, 24)
    );
    let units = |k: UnitKind| f.units.iter().filter(|u| u.kind == k).count();
    assert_eq!(units(UnitKind::DispatchCenter), 1);
    assert_eq!(units(UnitKind::HousingBureau), 1);
    assert_eq!(units(UnitKind::DistrictGovernment), 2);
    assert_eq!(units(UnitKind::StreetOffice), 6);
    assert_eq!(units(UnitKind::Utility), 4);
    assert_eq!(units(UnitKind::PropertyManager), 3);
    assert_eq!(units(UnitKind::Contractor), 2);
    assert_eq!(f.categories.len(), 13);
}

#[test]
fn sample_city_routes_end_to_end() {
    let f = sample();
    let idx = AreaIndex::new(f.area_inputs().unwrap()).unwrap();
    let router = Router::new(&idx, f.rule_inputs()).unwrap();

    let d = router.route("water_cut", "hedong-xinhua-2").unwrap();
    assert_eq!((d.unit_id, d.matched_area_id), ("water", "qinghe"));
    let d = router.route("dust", "hexi-heping-3").unwrap();
    assert_eq!(
        (d.unit_id, d.matched_area_id),
        ("hexi_heping_office", "hexi-heping")
    );
    // A community with a property manager vs one without (老旧小区无物业: the street office).
    assert_eq!(
        router
            .route("property_management", "hexi-jianshe-1")
            .unwrap()
            .unit_id,
        "pm_hengan"
    );
    assert_eq!(
        router
            .route("property_management", "hexi-jianshe-2")
            .unwrap()
            .unit_id,
        "hexi_jianshe_office"
    );
    assert_eq!(
        router
            .route("safety_hazard", "hedong-shengli-4")
            .unwrap()
            .unit_id,
        "hedong_gov"
    );
    assert_eq!(
        router.route("relocation", "hexi-hongqi-3").unwrap().unit_id,
        "housing_bureau"
    );
    assert_eq!(
        router.route("heating_cut", "hexi").unwrap().unit_id,
        "heating"
    );
    assert_eq!(
        router.route("other", "hedong-guangming-1"),
        None,
        "other → dispatch center"
    );
    assert_eq!(
        router.route("dust", "qinghe"),
        None,
        "street rules do not apply city-wide"
    );

    // Every community's centre locates to it; the river between the districts is in the city
    // but in no community; the countryside is outside.
    for a in f.areas.iter().filter(|a| a.kind == AreaKind::Community) {
        let (lat, lon) = centroid(a);
        assert_eq!(idx.locate(lat, lon), Some(a.code.as_str()));
    }
    assert_eq!(idx.locate(43.85, 125.30), None);
    assert_eq!(idx.locate_deepest(43.85, 125.30), Some("qinghe"));
    assert!(idx.is_inside_city(43.85, 125.30));
    assert!(!idx.is_inside_city(43.85, 125.00));
    // A point → community → unit.
    let (lat, lon) = centroid(
        f.areas
            .iter()
            .find(|a| a.code == "hedong-guangming-2")
            .unwrap(),
    );
    let community = idx.locate(lat, lon).unwrap();
    assert_eq!(
        router
            .route("property_management", community)
            .unwrap()
            .unit_id,
        "pm_jiahe"
    );
}

#[test]
fn sample_calendar_and_tiers() {
    let f = sample();
    let cal = f
        .calendar
        .as_ref()
        .unwrap()
        .to_calendar(&TimeZone::UTC)
        .unwrap();
    assert_eq!(cal.time_zone().iana_name(), Some("Asia/Shanghai"));
    let reference = crate::calendar::WorkingCalendar::new(
        TimeZone::UTC,
        holidays_2025_2026(),
        makeup_workdays_2025_2026(),
    );
    let mut d = date(2025, 1, 1);
    while d <= date(2026, 12, 31) {
        assert_eq!(cal.is_working_day(d), reference.is_working_day(d), "{d}");
        d = d.tomorrow().unwrap();
    }
    let tier = |c: &str| f.tiers.iter().find(|t| t.code == c).unwrap().to_tier();
    assert_eq!(tier("emergency").response, DeadlineRule::Hours(2));
    assert_eq!(tier("utility_cut").resolution, DeadlineRule::Hours(24));
    assert_eq!(tier("general").resolution, DeadlineRule::WorkingDays(7));
    assert_eq!(tier("complex").resolution, DeadlineRule::WorkingDays(15));
}

#[test]
fn toml_has_the_same_structure() {
    let text = r#"
[[areas]]
code = "c"
kind = "city"
name_zh = "青河市"
name_en = "Qinghe"
polygon = { type = "Polygon", coordinates = [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]] }

[[units]]
code = "dc"
kind = "dispatch_center"
name_zh = "派单中心"
name_en = "Dispatch"

[[tiers]]
code = "general"
name_zh = "一般"
name_en = "General"
response = { working_days = 1 }
resolution = { hours = 48 }
clock = "working"

[calendar]
holidays = [2026-10-01]
workdays = [2026-10-10]
"#;
    let f = ImportFile::from_toml(text).unwrap();
    validate(&f).unwrap();
    assert_eq!(
        f.tiers[0].to_tier().resolution,
        DeadlineRule::WorkingHours(48)
    );
    assert_eq!(f.calendar.unwrap().holidays, vec![date(2026, 10, 1)]);
}

#[test]
fn passwords_and_unknown_fields_are_refused() {
    let text =
        r#"{"users": [{"username": "a", "display_name": "A", "role": "admin", "password": "x"}]}"#;
    assert!(ImportFile::from_json(text).is_err());
    let text = r#"{"tiers": [{"code": "t", "name_zh": "t", "name_en": "t", "response": {"minutes": 5}, "resolution": {"hours": 1}}]}"#;
    assert!(ImportFile::from_json(text).is_err());
}

fn has(errs: &[String], needle: &str) -> bool {
    errs.iter().any(|e| e.contains(needle))
}

#[test]
fn validate_reports_each_broken_reference() {
    let mut f = sample();
    f.areas.push(f.areas[3].clone()); // duplicate code
    f.areas[4].parent = Some("nowhere".into());
    f.units[0].supervising_unit = Some("ghost".into());
    f.categories[0].tier = "urgent".into();
    f.routing_rules[0].unit = "nobody".into();
    f.routing_rules.push(RoutingRuleSpec {
        category: Some("dust".into()),
        area: "hexi-heping".into(),
        unit: "water".into(),
        priority: 0,
    });
    f.users[0].unit = Some("nope".into());
    f.users.push(UserSpec {
        username: "x".into(),
        display_name: "X".into(),
        role: Role::UnitStaff,
        unit: None,
    });
    f.calendar
        .as_mut()
        .unwrap()
        .workdays
        .push(date(2026, 11, 26)); // a Thursday
    let errs = errors_of(&f);
    for needle in [
        "is used twice",
        "parent \"nowhere\" is not an area",
        "supervising_unit \"ghost\"",
        "tier \"urgent\" is not a tier",
        "unit \"nobody\" is not a unit",
        "same category, area and priority",
        "user paidan01: unit \"nope\"",
        "role UnitStaff needs a unit",
        "2026-11-26 is a weekday",
    ] {
        assert!(has(&errs, needle), "missing {needle:?} in {errs:#?}");
    }
}

#[test]
fn validate_checks_tree_shape_and_polygon_nesting() {
    let mut f = sample();
    // A community that pokes out of its street.
    let c = f
        .areas
        .iter_mut()
        .find(|a| a.code == "hexi-jianshe-1")
        .unwrap();
    c.polygon = Some(
        serde_json::json!({"type": "Polygon", "coordinates": [[[125.18, 43.80], [125.50, 43.80], [125.50, 43.81], [125.18, 43.80]]]}),
    );
    // A street directly under the city's community level: wrong nesting.
    let s = f
        .areas
        .iter_mut()
        .find(|a| a.code == "hedong-xinhua")
        .unwrap();
    s.parent = Some("hedong-guangming-1".into());
    // Unit cycle.
    f.units
        .iter_mut()
        .find(|u| u.code == "housing_bureau")
        .unwrap()
        .parent = Some("dispatch_center".into());
    // Broken polygon.
    f.areas
        .iter_mut()
        .find(|a| a.code == "hexi-heping-2")
        .unwrap()
        .polygon = Some(serde_json::json!({"type": "Polygon", "coordinates": [[[1, 2]]]}));
    let errs = errors_of(&f);
    for needle in [
        "hexi-jianshe-1: 2 polygon vertices lie outside the polygon of its ancestor hexi-jianshe",
        "a Street cannot be under a Community",
        "unit housing_bureau: parent chain has a cycle",
        "area hexi-heping-2: polygon: ring 0 must be closed",
    ] {
        assert!(has(&errs, needle), "missing {needle:?} in {errs:#?}");
    }
}

#[test]
fn exactly_one_city_and_one_dispatch_center() {
    let f = ImportFile::from_json("{}").unwrap();
    let errs = errors_of(&f);
    assert!(has(&errs, "exactly one area of kind city"));
    assert!(has(&errs, "exactly one unit of kind dispatch_center"));
}
