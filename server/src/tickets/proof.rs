//! Photo proof that is checked (办结照片核验): each proof photo of a resolution is judged from
//! its EXIF time and position: taken after the ticket was accepted, and within a configured
//! distance (`ANJU_PROOF_MAX_DISTANCE_M`, default 200 m, haversine) of the complaint's location.
//! The verdict and its reason are public (the console, the resident's tracking page, the unit's
//! devices, the board's share); the position and time read from the photo are staff-only
//! evidence kept in `proof_checks`.

use std::io::Cursor;

use diesel::prelude::*;
use exif::{In, Reader, Tag, Value as ExifValue};
use serde::Serialize;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::tickets::schema::proof_checks;

/// What a proof photo says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoFacts {
    /// The photo's reference (attachment SHA-256, or upload id).
    pub photo: String,
    /// When it was taken (EXIF `DateTimeOriginal`, in the offset it names or the city's zone).
    pub taken_at: Option<i64>,
    /// Where (EXIF GPS latitude, longitude in degrees).
    pub position: Option<(f64, f64)>,
    /// The server never saw the original (a console upload, stripped on arrival).
    pub metadata_not_kept: bool,
}

/// Reads the time and position from a photo's EXIF (JPEG, PNG, WebP). Nothing readable gives
/// `None`s, never an error.
pub fn read(photo: &str, bytes: &[u8], tz: &jiff::tz::TimeZone) -> PhotoFacts {
    let mut facts = PhotoFacts {
        photo: photo.to_owned(),
        ..PhotoFacts::default()
    };
    let Ok(exif) = Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return facts;
    };
    let ascii = |tag: Tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(ExifValue::Ascii(v)) => v.first().cloned(),
        _ => None,
    };
    if let Some(text) = ascii(Tag::DateTimeOriginal).or_else(|| ascii(Tag::DateTime))
        && let Ok(mut dt) = exif::DateTime::from_ascii(&text)
    {
        if let Some(off) = ascii(Tag::OffsetTimeOriginal) {
            let _ = dt.parse_offset(&off);
        }
        facts.taken_at = instant(&dt, tz);
    }
    let coord = |value: Tag, sign: Tag, negative: u8| -> Option<f64> {
        let ExifValue::Rational(parts) = &exif.get_field(value, In::PRIMARY)?.value else {
            return None;
        };
        let [d, m, s] = parts.as_slice() else {
            return None;
        };
        let deg = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let neg = ascii(sign).is_some_and(|r| r.first() == Some(&negative));
        deg.is_finite().then_some(if neg { -deg } else { deg })
    };
    if let (Some(lat), Some(lon)) = (
        coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S'),
        coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W'),
    ) && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
    {
        facts.position = Some((lat, lon));
    }
    facts
}

fn instant(dt: &exif::DateTime, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let civil = jiff::civil::DateTime::new(
        i16::try_from(dt.year).ok()?,
        i8::try_from(dt.month).ok()?,
        i8::try_from(dt.day).ok()?,
        i8::try_from(dt.hour).ok()?,
        i8::try_from(dt.minute).ok()?,
        i8::try_from(dt.second).ok()?,
        0,
    )
    .ok()?;
    let ts = match dt.offset {
        Some(minutes) => {
            let off = jiff::tz::Offset::from_seconds(i32::from(minutes) * 60).ok()?;
            off.to_timestamp(civil).ok()?
        }
        None => tz.to_ambiguous_timestamp(civil).compatible().ok()?,
    };
    Some(ts.as_millisecond())
}

/// Great-circle distance in metres between two (latitude, longitude) points (haversine).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_000.0;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// The verdict on one photo: verified, or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether the photo proves the work.
    pub verified: bool,
    /// `verified`, `no_time`, `no_position`, `before_acceptance`, `too_far`, `no_site`,
    /// `not_accepted` or `metadata_not_kept`.
    pub reason: &'static str,
    /// Distance from the complaint's location, when both are known.
    pub distance_m: Option<f64>,
}

/// Judges `facts` against the acceptance instant and the complaint's location.
pub fn judge(
    facts: &PhotoFacts,
    accepted_at: Option<i64>,
    site: Option<(f64, f64)>,
    max_m: f64,
) -> Verdict {
    let distance = facts
        .position
        .zip(site)
        .map(|(p, s)| (distance_m(p, s) * 10.0).round() / 10.0);
    let no = |reason| Verdict {
        verified: false,
        reason,
        distance_m: distance,
    };
    if facts.metadata_not_kept {
        return no("metadata_not_kept");
    }
    let Some(taken) = facts.taken_at else {
        return no("no_time");
    };
    let Some(accepted) = accepted_at else {
        return no("not_accepted");
    };
    if taken < accepted {
        return no("before_acceptance");
    }
    if facts.position.is_none() {
        return no("no_position");
    }
    let Some(d) = distance else {
        return no("no_site");
    };
    if d > max_m {
        return no("too_far");
    }
    Verdict {
        verified: true,
        reason: "verified",
        distance_m: distance,
    }
}

fn distance_text(m: f64) -> (String, String) {
    if m < 1000.0 {
        (format!("{m:.0} 米"), format!("{m:.0} m"))
    } else {
        (
            format!("{:.1} 公里", m / 1000.0),
            format!("{:.1} km", m / 1000.0),
        )
    }
}

/// The reason in Chinese and English, as people read it ("1.4 km away").
pub fn reason_text(reason: &str, distance_m: Option<f64>) -> (String, String) {
    let (zh, en) = match reason {
        "verified" => (
            "已核验：签收后在现场拍摄",
            "verified: taken on site after acceptance",
        ),
        "no_time" => ("照片中没有拍摄时间", "no time in the photo"),
        "no_position" => ("照片中没有拍摄位置", "no position in the photo"),
        "before_acceptance" => ("拍摄于签收之前", "taken before the ticket was accepted"),
        "not_accepted" => ("工单未签收，无法比较时间", "the ticket was never accepted"),
        "no_site" => (
            "诉求未标注位置，无法比较距离",
            "the complaint has no position to compare",
        ),
        "metadata_not_kept" => (
            "照片经网页上传，拍摄信息已去除，无法核验",
            "uploaded through the web, which removes the photo's metadata: cannot be checked",
        ),
        "too_far" => {
            let (z, e) = distance_text(distance_m.unwrap_or_default());
            return (
                format!("距诉求地点 {z}"),
                format!("{e} away from the complaint"),
            );
        }
        _ => ("未核验", "not verified"),
    };
    (zh.to_owned(), en.to_owned())
}

/// Judges and stores the proof photos of the resolution at `resolved_at` of ticket `ticket_id`
/// (held by `unit_id`), in the caller's transaction.
pub fn record(
    conn: &mut DbConnection,
    ticket: (&str, Option<&str>),
    resolved_at: i64,
    photos: &[PhotoFacts],
    accepted_at: Option<i64>,
    site: Option<(f64, f64)>,
    max_m: f64,
) -> Result<(), ApiError> {
    for facts in photos {
        let v = judge(facts, accepted_at, site, max_m);
        diesel::insert_into(proof_checks::table)
            .values((
                proof_checks::id.eq(uuid::Uuid::now_v7().to_string()),
                proof_checks::ticket_id.eq(ticket.0),
                proof_checks::unit_id.eq(ticket.1),
                proof_checks::resolved_at.eq(resolved_at),
                proof_checks::photo.eq(&facts.photo),
                proof_checks::verified.eq(v.verified),
                proof_checks::reason.eq(v.reason),
                proof_checks::distance_m.eq(v.distance_m),
                proof_checks::taken_at.eq(facts.taken_at),
                proof_checks::lat.eq(facts.position.map(|p| p.0)),
                proof_checks::lon.eq(facts.position.map(|p| p.1)),
                proof_checks::checked_at.eq(resolved_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The verdict on a resolution's proof photos, as every view of a resolved ticket shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProofSummary {
    /// True only when every proof photo is verified.
    pub verified: bool,
    /// `已核验` or `未核验`.
    pub label_zh: &'static str,
    /// `verified` or `not verified`.
    pub label_en: &'static str,
    /// One verdict per proof photo, in the order they were checked.
    pub photos: Vec<ProofPhoto>,
}

/// The verdict on one proof photo. `photo` and `distance_m` are present in staff views only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProofPhoto {
    /// Whether the photo passed the checks.
    pub verified: bool,
    /// The reason code (`verified`, `taken_before_accept`, `too_far`, …).
    pub reason: String,
    /// The reason in Chinese.
    pub message_zh: String,
    /// The reason in English.
    pub message_en: String,
    /// The photo's reference (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// Metres from the complaint's location, null when unknown (staff only; absent for others).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub distance_m: Option<Option<f64>>,
}

/// The verdict on the proof of the resolution at `resolved_at`, for everyone (never a position
/// or a time read from a photo), or `None` without proof photos. `staff` adds each photo's
/// reference and distance in metres.
pub fn summary(
    conn: &mut DbConnection,
    ticket_id: &str,
    resolved_at: i64,
    staff: bool,
) -> Result<Option<ProofSummary>, ApiError> {
    let rows: Vec<(String, bool, String, Option<f64>)> = proof_checks::table
        .filter(proof_checks::ticket_id.eq(ticket_id))
        .filter(proof_checks::resolved_at.eq(resolved_at))
        .order(proof_checks::id.asc())
        .select((
            proof_checks::photo,
            proof_checks::verified,
            proof_checks::reason,
            proof_checks::distance_m,
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let all = rows.iter().all(|r| r.1);
    let photos = rows
        .into_iter()
        .map(|(photo, verified, reason, distance)| {
            let (message_zh, message_en) = reason_text(&reason, distance);
            ProofPhoto {
                verified,
                reason,
                message_zh,
                message_en,
                photo: staff.then_some(photo),
                distance_m: staff.then_some(distance),
            }
        })
        .collect();
    Ok(Some(ProofSummary {
        verified: all,
        label_zh: if all { "已核验" } else { "未核验" },
        label_en: if all { "verified" } else { "not verified" },
        photos,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: (f64, f64) = (39.9042, 116.4074);

    fn facts(taken: Option<i64>, pos: Option<(f64, f64)>) -> PhotoFacts {
        PhotoFacts {
            photo: "p".into(),
            taken_at: taken,
            position: pos,
            metadata_not_kept: false,
        }
    }

    #[test]
    fn haversine_matches_known_distances() {
        // 0.01° of latitude is about 1.11 km.
        let d = distance_m(SITE, (SITE.0 + 0.01, SITE.1));
        assert!((d - 1112.0).abs() < 5.0, "{d}");
        assert!(distance_m(SITE, SITE) < 0.001);
    }

    #[test]
    fn each_reason_in_its_order() {
        let near = (SITE.0 + 0.001, SITE.1);
        let far = (SITE.0 + 0.0126, SITE.1);
        let j = |f: &PhotoFacts| judge(f, Some(1000), Some(SITE), 200.0);
        assert_eq!(j(&facts(Some(2000), Some(near))).reason, "verified");
        assert!(j(&facts(Some(2000), Some(near))).verified);
        assert_eq!(j(&facts(None, Some(near))).reason, "no_time");
        assert_eq!(j(&facts(Some(500), Some(near))).reason, "before_acceptance");
        assert_eq!(j(&facts(Some(2000), None)).reason, "no_position");
        let v = j(&facts(Some(2000), Some(far)));
        assert_eq!(v.reason, "too_far");
        let (zh, en) = reason_text(v.reason, v.distance_m);
        assert_eq!(
            (zh.as_str(), en.as_str()),
            ("距诉求地点 1.4 公里", "1.4 km away from the complaint")
        );
        let v = judge(&facts(Some(2000), Some(near)), Some(1000), None, 200.0);
        assert_eq!(v.reason, "no_site");
    }

    #[test]
    fn a_phone_photo_gives_its_time_and_position() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let bytes = crate::attachments::image::samples::jpeg_with_proof_exif(
            "2026:12:02 10:00:00",
            39.9042,
            -116.4074,
        );
        let f = read("x", &bytes, &tz);
        let want: jiff::Timestamp = "2026-12-02T02:00:00Z".parse().unwrap();
        assert_eq!(f.taken_at, Some(want.as_millisecond()));
        let (lat, lon) = f.position.expect("a position");
        assert!(
            (lat - 39.9042).abs() < 1e-6 && (lon + 116.4074).abs() < 1e-6,
            "{lat} {lon}"
        );
    }

    #[test]
    fn a_photo_without_exif_has_no_facts() {
        let f = read(
            "x",
            &crate::attachments::image::samples::png_with_text(),
            &jiff::tz::TimeZone::UTC,
        );
        assert_eq!((f.taken_at, f.position), (None, None));
    }
}
