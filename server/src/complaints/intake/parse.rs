//! Intake's edge: the body residents send ([`SubmitBody`]) parsed and checked against the
//! catalog into a [`NewComplaint`], every field valid and the area resolved.

use serde::Deserialize;

use crate::error::{ApiError, FieldCode, FieldError};
use crate::org::catalog::{Catalog, outside_jurisdiction, unknown_category};

use crate::complaints::phone::MobilePhone;

/// Most photos one complaint may carry.
pub const MAX_PHOTOS: usize = 6;

/// The body residents send.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SubmitBody {
    /// Category code.
    pub category: String,
    /// What happened (5-2000 characters).
    pub description: String,
    /// A community (or other area) id from `GET /api/v1/areas`.
    #[serde(default)]
    pub area_id: Option<String>,
    /// Latitude (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude (WGS 84).
    #[serde(default)]
    pub lon: Option<f64>,
    /// Free address text.
    #[serde(default)]
    pub address: Option<String>,
    /// Upload ids (≤ 6).
    #[serde(default)]
    pub photos: Option<Vec<String>>,
    /// Name for callbacks.
    #[serde(default)]
    pub name: Option<String>,
    /// Mainland mobile number for callbacks.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Where a complaint was sent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The JSON API / web page.
    Web,
    /// Open311 GeoReport v2.
    Open311,
}

/// A complaint after parsing: every field valid, the area resolved.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    /// Known, active category code.
    pub category: String,
    /// 5-2000 characters, trimmed.
    pub description: String,
    /// Resolved area, if any (`None` only for Open311 requests with an address only).
    pub area_id: Option<String>,
    /// Point, if given.
    pub point: Option<(f64, f64)>,
    /// Address text (≤ 200 characters).
    pub address: Option<String>,
    /// Existing upload ids.
    pub photos: Vec<String>,
    /// Name (≤ 50 characters).
    pub name: Option<String>,
    /// Valid mobile number.
    pub phone: Option<MobilePhone>,
    /// Source channel.
    pub source: Source,
}

/// Parse and check a submission against the catalog. `allow_no_area` lets an Open311 request
/// with only an address through (it goes to the dispatch center).
pub fn parse(
    body: SubmitBody,
    catalog: &Catalog,
    source: Source,
    allow_no_area: bool,
) -> Result<NewComplaint, ApiError> {
    let category = body.category.trim().to_string();
    match catalog.categories.get(&category) {
        Some(c) if c.active => {}
        _ => return Err(unknown_category(catalog)),
    }
    let mut errors = Vec::new();
    let description = body.description.trim().to_string();
    let n = description.chars().count();
    if n < 5 {
        errors.push(FieldError::new(
            "description",
            FieldCode::TooShort,
            "请至少写 5 个字",
            "Write at least 5 characters",
        ));
    } else if n > 2000 {
        errors.push(FieldError::new(
            "description",
            FieldCode::TooLong,
            "最多 2000 个字",
            "At most 2000 characters",
        ));
    }
    let address = body
        .address
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    if address.as_ref().is_some_and(|a| a.chars().count() > 200) {
        errors.push(FieldError::new(
            "address",
            FieldCode::TooLong,
            "地址最多 200 个字",
            "At most 200 characters",
        ));
    }
    let name = body
        .name
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    if name.as_ref().is_some_and(|a| a.chars().count() > 50) {
        errors.push(FieldError::new(
            "name",
            FieldCode::TooLong,
            "姓名最多 50 个字",
            "At most 50 characters",
        ));
    }
    let phone = match body
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => match MobilePhone::parse(p) {
            Some(m) => Some(m),
            None => {
                errors.push(FieldError::new(
                    "phone",
                    FieldCode::InvalidPhone,
                    "请填写有效的手机号码",
                    "Enter a valid mainland mobile number",
                ));
                None
            }
        },
    };
    let photos = body.photos.unwrap_or_default();
    if photos.len() > MAX_PHOTOS {
        errors.push(FieldError::new(
            "photos",
            FieldCode::TooMany,
            "最多 6 张照片",
            "At most 6 photos",
        ));
    }
    let point = match (body.lat, body.lon) {
        (None, None) => None,
        (Some(lat), Some(lon))
            if lat.is_finite()
                && lon.is_finite()
                && (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        _ => {
            errors.push(FieldError::new(
                "location",
                FieldCode::InvalidPoint,
                "经纬度无效",
                "lat and lon must both be valid degrees",
            ));
            None
        }
    };
    let area_id = body
        .area_id
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    if let Some(a) = &area_id
        && !catalog.areas.contains_key(a)
    {
        errors.push(FieldError::new(
            "area_id",
            FieldCode::UnknownArea,
            "没有这个社区",
            "There is no such area",
        ));
    }
    if area_id.is_none()
        && point.is_none()
        && !errors.iter().any(|e| e.field == "location")
        && !(allow_no_area && address.is_some())
    {
        errors.push(FieldError::new(
            "location",
            FieldCode::LocationRequired,
            "请选择社区或使用当前位置",
            "Choose a community or give lat/lon",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::with_fields(errors));
    }
    let area_id = match (area_id, point) {
        (Some(a), _) => Some(a),
        (None, Some((lat, lon))) => match catalog.area_index.locate_deepest(lat, lon) {
            Some(a) => Some(a.to_string()),
            None => return Err(outside_jurisdiction()),
        },
        (None, None) => None,
    };
    Ok(NewComplaint {
        category,
        description,
        area_id,
        point,
        address,
        photos,
        name,
        phone,
        source,
    })
}
