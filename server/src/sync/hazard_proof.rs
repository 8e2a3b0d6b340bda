//! Photo proof of a hazard's rectification (整改照片核验), judged as a ticket's resolution photos
//! are ([`crate::tickets::proof`]): each rectification photo of a `rectify` action must carry an
//! EXIF time on or after the order's issue date (`order_issued_on`, from the start of that day
//! in the city's zone) and an EXIF position within `ANJU_PROOF_MAX_DISTANCE_M` of the hazard's
//! position. The hazard's position is its own `location` when that is a coordinate pair
//! ("纬度,经度"), else the GPS of its source inspection (`inspection_id`), else the GPS of the
//! latest inspection of its building; without one the photo is 未核验 with the reason "no
//! position for the hazard". The verdicts go to `proof_checks` (rows naming the hazard; the
//! position and time read from the photo are staff-only evidence), and the public summary (no
//! position) onto the hazard's own `rectification_proof` field in the same server mutation, so
//! devices receive it with the hazard.

use anju_shared::merge::StoredRecord;
use anju_shared::records::INSPECTION;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::schema::sync_records;
use super::store::RecordRow;
use crate::db::DbConnection;
use crate::tickets::proof::{PhotoFacts, judge, read};
use crate::tickets::schema::proof_checks;

/// The configuration of the check: the city's zone (EXIF times without an offset, the issue
/// date's start) and the largest distance of a verified photo.
#[derive(Debug, Clone)]
pub struct ProofRules {
    /// The city's time zone.
    pub tz: jiff::tz::TimeZone,
    /// `ANJU_PROOF_MAX_DISTANCE_M`.
    pub max_distance_m: f64,
}

fn number(r: &StoredRecord, name: &str) -> Option<f64> {
    r.fields
        .get(name)
        .and_then(|f| f.value.as_f64())
        .filter(|x| x.is_finite())
}

fn text<'a>(r: &'a StoredRecord, name: &str) -> Option<&'a str> {
    r.fields
        .get(name)
        .and_then(|f| f.value.as_str())
        .filter(|s| !s.trim().is_empty())
}

/// A coordinate pair written as text ("39.9042,116.4074", "39.9042, 116.4074", with a Chinese
/// comma too), latitude first; `None` for any other text (an address, "3号楼北侧").
pub fn coordinates(s: &str) -> Option<(f64, f64)> {
    let parts: Vec<&str> = s
        .split([',', '，', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    let [lat, lon] = parts.as_slice() else {
        return None;
    };
    let (lat, lon): (f64, f64) = (lat.parse().ok()?, lon.parse().ok()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

fn gps(inspection: &StoredRecord) -> Option<(f64, f64)> {
    number(inspection, "gps_lat").zip(number(inspection, "gps_lng"))
}

/// The hazard's position: its `location` as coordinates, else its inspection's GPS
/// (`inspection`, the record `inspection_id` names), else the GPS of the latest inspection of
/// its building.
pub fn site(
    conn: &mut DbConnection,
    hazard: &StoredRecord,
    inspection: Option<&StoredRecord>,
) -> QueryResult<Option<(f64, f64)>> {
    if let Some(p) = text(hazard, "location").and_then(coordinates) {
        return Ok(Some(p));
    }
    if let Some(p) = inspection.filter(|i| !i.deleted).and_then(gps) {
        return Ok(Some(p));
    }
    let Some(building) = text(hazard, "building_id") else {
        return Ok(None);
    };
    let mut found: Vec<(String, (f64, f64))> = inspections_of(conn, building)?
        .into_iter()
        .filter_map(|i| {
            let at = field_text(&i, "inspected_at").unwrap_or("").to_owned();
            gps(&i).map(|p| (at, p))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found.pop().map(|(_, p)| p))
}

/// A text field's value as stored (empty text too).
fn field_text<'a>(r: &'a StoredRecord, name: &str) -> Option<&'a str> {
    r.fields.get(name).and_then(|f| f.value.as_str())
}

/// The live inspections whose `building_id` is `building`, read from sync's own rows (an
/// unreadable row is logged and skipped, as the register lists skip it).
fn inspections_of(conn: &mut DbConnection, building: &str) -> QueryResult<Vec<StoredRecord>> {
    let rows: Vec<RecordRow> = sync_records::table
        .filter(sync_records::record_type.eq(INSPECTION.name))
        .filter(sync_records::deleted.eq(false))
        .select(RecordRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.to_record() {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(record = %row.id, error = %e, "unreadable sync record skipped");
                None
            }
        })
        .filter(|r| field_text(r, "building_id") == Some(building))
        .collect())
}

/// The start of the order's issue date in the city's zone (ms), if the hazard names one.
pub fn issued_at(hazard: &StoredRecord, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let date: jiff::civil::Date = text(hazard, "order_issued_on")?.parse().ok()?;
    let ts = tz
        .to_ambiguous_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .ok()?;
    Some(ts.as_millisecond())
}

/// The reason of a ticket's verdict in a hazard's terms (the issue date for the acceptance,
/// the hazard's position for the complaint's).
fn hazard_reason(reason: &'static str) -> &'static str {
    match reason {
        "before_acceptance" => "before_issue",
        "not_accepted" => "not_issued",
        "no_site" => "no_hazard_position",
        other => other,
    }
}

/// A hazard proof reason in Chinese and English ("1.4 km away from the hazard").
pub fn reason_text(reason: &str, distance_m: Option<f64>) -> (String, String) {
    let (zh, en) = match reason {
        "verified" => (
            "已核验：整改通知下发后在现场拍摄",
            "verified: taken on site after the order was issued",
        ),
        "before_issue" => (
            "拍摄于整改通知下发之前",
            "taken before the order was issued",
        ),
        "not_issued" => (
            "整改通知没有下发日期，无法比较时间",
            "the order has no issue date to compare",
        ),
        "no_hazard_position" => (
            "隐患没有位置（隐患位置、检查定位均无），无法比较距离",
            "no position for the hazard",
        ),
        "too_far" => {
            let m = distance_m.unwrap_or_default();
            let (z, e) = if m < 1000.0 {
                (format!("{m:.0} 米"), format!("{m:.0} m"))
            } else {
                (
                    format!("{:.1} 公里", m / 1000.0),
                    format!("{:.1} km", m / 1000.0),
                )
            };
            return (
                format!("距隐患地点 {z}"),
                format!("{e} away from the hazard"),
            );
        }
        other => return crate::tickets::proof::reason_text(other, distance_m),
    };
    (zh.to_owned(), en.to_owned())
}

/// Judges the rectification photos `photos` of hazard `hazard` rectified at `rectified_at`
/// (ms), stores one `proof_checks` row per photo in the caller's transaction, and returns the
/// public summary for the hazard's `rectification_proof` (`None` without photos). A photo
/// whose bytes are not stored counts as having no time.
pub fn check(
    conn: &mut DbConnection,
    rules: &ProofRules,
    hazard: &StoredRecord,
    inspection: Option<&StoredRecord>,
    photos: &[String],
    rectified_at: i64,
) -> QueryResult<Option<Value>> {
    use crate::attachments::schema::attachments;
    if photos.is_empty() {
        return Ok(None);
    }
    let site = site(conn, hazard, inspection)?;
    let issued = issued_at(hazard, &rules.tz);
    let unit = text(hazard, "unit_id").map(str::to_owned);
    let hazard_id = hazard.id.to_string();
    let mut out = Vec::new();
    for sha in photos {
        let bytes: Option<Vec<u8>> = attachments::table
            .find(sha)
            .select(attachments::bytes)
            .first(conn)
            .optional()?;
        let facts = bytes
            .map(|b| read(sha, &b, &rules.tz))
            .unwrap_or_else(|| PhotoFacts {
                photo: sha.clone(),
                ..PhotoFacts::default()
            });
        let v = judge(&facts, issued, site, rules.max_distance_m);
        let reason = hazard_reason(v.reason);
        diesel::insert_into(proof_checks::table)
            .values((
                proof_checks::id.eq(uuid::Uuid::now_v7().to_string()),
                proof_checks::hazard_id.eq(&hazard_id),
                proof_checks::unit_id.eq(unit.as_deref()),
                proof_checks::resolved_at.eq(rectified_at),
                proof_checks::photo.eq(sha),
                proof_checks::verified.eq(v.verified),
                proof_checks::reason.eq(reason),
                proof_checks::distance_m.eq(v.distance_m),
                proof_checks::taken_at.eq(facts.taken_at),
                proof_checks::lat.eq(facts.position.map(|p| p.0)),
                proof_checks::lon.eq(facts.position.map(|p| p.1)),
                proof_checks::checked_at.eq(rectified_at),
            ))
            .execute(conn)?;
        out.push((sha.clone(), v.verified, reason.to_owned(), v.distance_m));
    }
    Ok(Some(shape(&out, false)))
}

fn shape(rows: &[(String, bool, String, Option<f64>)], staff: bool) -> Value {
    let all = rows.iter().all(|r| r.1);
    let photos: Vec<Value> = rows
        .iter()
        .map(|(photo, verified, reason, distance)| {
            let (zh, en) = reason_text(reason, *distance);
            let mut p = json!({"verified": verified, "reason": reason,
                               "message_zh": zh, "message_en": en});
            if staff {
                p["photo"] = json!(photo);
                p["distance_m"] = json!(distance);
            }
            p
        })
        .collect();
    json!({
        "verified": all,
        "label_zh": if all { "已核验" } else { "未核验" },
        "label_en": if all { "verified" } else { "not verified" },
        "photos": photos,
    })
}

/// The verdict on the rectification at `rectified_at` of hazard `hazard_id` as stored, for
/// staff pages: as on the hazard, plus each photo's hash and distance in metres (never the
/// position); `None` when no photo of it was checked.
pub fn summary(
    conn: &mut DbConnection,
    hazard_id: &str,
    rectified_at: i64,
) -> QueryResult<Option<Value>> {
    let rows: Vec<(String, bool, String, Option<f64>)> = proof_checks::table
        .filter(proof_checks::hazard_id.eq(hazard_id))
        .filter(proof_checks::resolved_at.eq(rectified_at))
        .order(proof_checks::id.asc())
        .select((
            proof_checks::photo,
            proof_checks::verified,
            proof_checks::reason,
            proof_checks::distance_m,
        ))
        .load(conn)?;
    Ok((!rows.is_empty()).then(|| shape(&rows, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_a_position_only_when_it_is_a_coordinate_pair() {
        assert_eq!(coordinates("43.812,125.207"), Some((43.812, 125.207)));
        assert_eq!(coordinates("43.812， 125.207"), Some((43.812, 125.207)));
        assert_eq!(coordinates("3号楼北侧外墙"), None);
        assert_eq!(coordinates("95,10"), None);
        assert_eq!(coordinates("1,2,3"), None);
    }

    #[test]
    fn hazard_reasons_name_the_order_and_the_hazard() {
        assert_eq!(hazard_reason("before_acceptance"), "before_issue");
        assert_eq!(hazard_reason("no_site"), "no_hazard_position");
        assert_eq!(
            reason_text("no_hazard_position", None).1,
            "no position for the hazard"
        );
        assert_eq!(
            reason_text("too_far", Some(1400.0)),
            (
                "距隐患地点 1.4 公里".to_owned(),
                "1.4 km away from the hazard".to_owned()
            )
        );
        assert_eq!(reason_text("no_time", None).1, "no time in the photo");
    }
}
