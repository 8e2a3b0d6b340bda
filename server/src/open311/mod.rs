//! Open311 GeoReport v2 at `/open311/v2/` (discovery, services, service definitions, requests,
//! tokens), each as `.json` and `.xml`, so existing 311 clients can file and follow complaints.
//!
//! Mapping: a service is a complaint category (`service_code` = category code); a service
//! request is a ticket (`service_request_id` = its public ticket number; `token` = its internal
//! id). `agency_responsible` is the routed unit and `expected_datetime` the resolution deadline.
//! Posting needs an `api_key` made with `anju apikey create`. Reading requests without a key
//! gives the public fields only (see [`requests`]): no description, no reply, no photo; the
//! address is the community's name and points are rounded to about 100 m.

pub mod doc;
pub mod requests;
pub mod xml;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::complaints::intake::{self, Source, SubmitBody};
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::routing::AreaKind;
use crate::state::AppState;
use crate::tickets::schema::tickets;

use requests::{MAX_PAGE_SIZE, Reader, RequestFilter};

/// Answer format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.xml`
    Xml,
}

/// An Open311 error: the HTTP status and the spec's `{code, description}` list.
#[derive(Debug)]
pub struct Open311Error {
    status: StatusCode,
    description: String,
}

impl Open311Error {
    fn new(status: StatusCode, description: impl Into<String>) -> Open311Error {
        Open311Error {
            status,
            description: description.into(),
        }
    }
}

impl From<ApiError> for Open311Error {
    fn from(e: ApiError) -> Open311Error {
        let status = e.status();
        let description = if status.is_server_error() {
            "service temporarily unavailable".to_string()
        } else {
            format!("{}: {}", e.code(), e.message(crate::error::Lang::En))
        };
        Open311Error::new(status, description)
    }
}

fn render(format: Format, root: &str, value: &Value, status: StatusCode) -> HttpResponse {
    match format {
        Format::Json => HttpResponse::build(status)
            .content_type("application/json; charset=utf-8")
            .body(value.to_string()),
        Format::Xml => HttpResponse::build(status)
            .content_type("text/xml; charset=utf-8")
            .body(xml::to_xml(root, value, &xml::georeport_item)),
    }
}

fn render_error(format: Format, e: Open311Error) -> HttpResponse {
    let body = json!([{"code": e.status.as_u16(), "description": e.description}]);
    render(format, "errors", &body, e.status)
}

/// Split `name.json` / `name.xml`.
fn split_format(path: &str) -> Option<(&str, Format)> {
    if let Some(p) = path.strip_suffix(".json") {
        Some((p, Format::Json))
    } else {
        path.strip_suffix(".xml").map(|p| (p, Format::Xml))
    }
}

fn query_map(req: &HttpRequest) -> Vec<(String, String)> {
    form_pairs(req.query_string().as_bytes())
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes).unwrap_or_default()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn check_jurisdiction(catalog: &Catalog, pairs: &[(String, String)]) -> Result<(), Open311Error> {
    match param(pairs, "jurisdiction_id") {
        None => Ok(()),
        Some(j) if jurisdiction_id(catalog).as_deref() == Some(j) => Ok(()),
        Some(_) => Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            "jurisdiction_id not found",
        )),
    }
}

/// The default jurisdiction: the code of the root (city) area.
fn jurisdiction_id(catalog: &Catalog) -> Option<String> {
    let mut cities: Vec<&String> = catalog
        .areas
        .values()
        .filter(|a| a.kind == AreaKind::City)
        .map(|a| &a.code)
        .collect();
    cities.sort();
    cities.first().map(|c| c.to_string())
}

fn services(catalog: &Catalog) -> Value {
    Value::Array(
        catalog
            .category_order
            .iter()
            .filter_map(|c| catalog.categories.get(c))
            .map(|c| {
                json!({
                    "service_code": c.code,
                    "service_name": c.name_zh,
                    "description": c.name_en,
                    "metadata": true,
                    "type": "realtime",
                    "keywords": c.code.replace('_', ","),
                    "group": c.tier.name_zh,
                })
            })
            .collect(),
    )
}

fn communities(catalog: &Catalog) -> Vec<(&str, &str)> {
    let mut v: Vec<(&str, &str)> = catalog
        .areas
        .values()
        .filter(|a| a.kind == AreaKind::Community)
        .map(|a| (a.id.as_str(), a.name_zh.as_str()))
        .collect();
    v.sort_by(|a, b| a.1.cmp(b.1));
    v
}

fn definition(catalog: &Catalog, code: &str) -> Option<Value> {
    let c = catalog.categories.get(code).filter(|c| c.active)?;
    let values: Vec<Value> = communities(catalog)
        .into_iter()
        .map(|(id, name)| json!({"key": id, "name": name}))
        .collect();
    Some(json!({
        "service_code": c.code,
        "attributes": [{
            "variable": true,
            "code": "community",
            "datatype": "singlevaluelist",
            "required": false,
            "datatype_description": "The community (社区/小区) where it happens; or give lat/long",
            "order": 1,
            "description": "所在社区 Community",
            "values": values,
        }],
    }))
}

fn parse_dt(s: &str) -> Result<i64, Open311Error> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            Open311Error::new(
                StatusCode::BAD_REQUEST,
                "start_date and end_date must be W3C datetimes with an offset",
            )
        })
}

/// Who reads: the public without `api_key`, a partner with a valid one; 403 for a wrong key
/// (never silently the public answer, so a 311 app notices its key was revoked).
fn reader(
    conn: &mut crate::db::DbConnection,
    pairs: &[(String, String)],
) -> Result<Reader, Open311Error> {
    match param(pairs, "api_key") {
        None => Ok(Reader::Public),
        Some(key) => match crate::apikeys::verify(conn, key)? {
            Some(_) => Ok(Reader::Partner),
            None => Err(Open311Error::new(
                StatusCode::FORBIDDEN,
                "api_key not valid",
            )),
        },
    }
}

/// The list filter from the query: dates (default the last 90 days), ids, service codes,
/// status, `page` (from 1) or `after` (a keyset cursor: the last `service_request_id` of the
/// previous page) and `page_size` (1 to 1000, default 1000).
fn request_filter(pairs: &[(String, String)], now: i64) -> Result<RequestFilter, Open311Error> {
    let start = param(pairs, "start_date")
        .map(parse_dt)
        .transpose()?
        .unwrap_or(now - 90 * 86_400_000);
    let end = param(pairs, "end_date")
        .map(parse_dt)
        .transpose()?
        .unwrap_or(now + 1);
    let list = |name: &str| -> Option<Vec<String>> {
        param(pairs, name).map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
    };
    let open = match param(pairs, "status") {
        None => None,
        Some(status) => {
            let want: Vec<&str> = status.split(',').map(str::trim).collect();
            if want.iter().any(|s| !matches!(*s, "open" | "closed")) {
                return Err(Open311Error::new(
                    StatusCode::BAD_REQUEST,
                    "status must be open or closed",
                ));
            }
            match (want.contains(&"open"), want.contains(&"closed")) {
                (true, false) => Some(true),
                (false, true) => Some(false),
                _ => None,
            }
        }
    };
    let number = |name: &str, default: i64, max: i64| -> Result<i64, Open311Error> {
        match param(pairs, name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    Open311Error::new(
                        StatusCode::BAD_REQUEST,
                        format!("{name} must be a whole number from 1 to {max}"),
                    )
                }),
        }
    };
    let page = number("page", 1, 1_000_000)?;
    let after = param(pairs, "after")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);
    if after.is_some() && page > 1 {
        return Err(Open311Error::new(
            StatusCode::BAD_REQUEST,
            "use page or after, not both",
        ));
    }
    Ok(RequestFilter {
        ids: list("service_request_id"),
        after,
        start,
        end,
        codes: list("service_code"),
        open,
        page,
        page_size: number("page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)?,
    })
}

fn get_inner(
    state: &AppState,
    pairs: Vec<(String, String)>,
    path: &str,
) -> Result<(String, Value), Open311Error> {
    let st = state.clone();
    let path = path.to_string();
    let base = state.config.public_url.clone();
    let conn_result = state.db.get().map_err(Open311Error::from);
    let mut conn = conn_result?;
    let conn = &mut *conn;
    let tz = st.config.timezone.clone();
    let catalog = st.catalog.get(conn, &tz)?;
    check_jurisdiction(&catalog, &pairs)?;
    match path.as_str() {
        "discovery" => {
            let url = format!("{}/open311/v2/", base.trim_end_matches('/'));
            Ok((
                "discovery".into(),
                json!({
                    "changeset": "2026-11-26T00:00:00+08:00",
                    "contact": "住房和城乡建设局 / housing bureau",
                    "key_service": "anju apikey create",
                    "endpoints": [{
                        "specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": url,
                        "changeset": "2026-11-26T00:00:00+08:00",
                        "type": "production",
                        "formats": ["text/xml", "application/json"],
                    }],
                }),
            ))
        }
        "services" => Ok(("services".into(), services(&catalog))),
        "requests" => {
            let reader = reader(conn, &pairs)?;
            let filter = request_filter(&pairs, st.clock.now_ms())?;
            let list = requests::page(conn, &catalog, &filter, reader, &tz)?;
            Ok(("service_requests".into(), Value::Array(list)))
        }
        p => {
            if let Some(code) = p.strip_prefix("services/") {
                let d = definition(&catalog, code).ok_or_else(|| {
                    Open311Error::new(StatusCode::NOT_FOUND, "service_code not found")
                })?;
                return Ok(("service_definition".into(), d));
            }
            if let Some(no) = p.strip_prefix("requests/") {
                let reader = reader(conn, &pairs)?;
                let filter = RequestFilter {
                    ids: Some(vec![no.to_string()]),
                    page: 1,
                    page_size: 1,
                    ..RequestFilter::default()
                };
                let list = requests::page(conn, &catalog, &filter, reader, &tz)?;
                if list.is_empty() {
                    return Err(Open311Error::new(
                        StatusCode::NOT_FOUND,
                        "service_request_id not found",
                    ));
                }
                return Ok(("service_requests".into(), Value::Array(list)));
            }
            if let Some(token) = p.strip_prefix("tokens/") {
                let no: Option<String> = tickets::table
                    .find(token)
                    .select(tickets::ticket_no)
                    .first(conn)
                    .optional()
                    .map_err(ApiError::from)?;
                let no =
                    no.ok_or_else(|| Open311Error::new(StatusCode::NOT_FOUND, "token not found"))?;
                return Ok((
                    "service_requests".into(),
                    json!([{"service_request_id": no, "token": token}]),
                ));
            }
            Err(Open311Error::new(
                StatusCode::NOT_FOUND,
                "no such GeoReport v2 resource",
            ))
        }
    }
}

/// `GET /open311/v2/{resource}.{json|xml}`.
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let raw = path.into_inner();
    let Some((resource, format)) = split_format(&raw) else {
        return render_error(
            Format::Json,
            Open311Error::new(
                StatusCode::NOT_FOUND,
                "append .json or .xml to the resource",
            ),
        );
    };
    let resource = resource.to_string();
    let st = state.into_inner();
    let pairs = query_map(&req);
    let result = web::block(move || get_inner(&st, pairs, &resource)).await;
    match result {
        Ok(Ok((root, value))) => render(format, &root, &value, StatusCode::OK),
        Ok(Err(e)) => render_error(format, e),
        Err(_) => render_error(
            format,
            Open311Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service temporarily unavailable",
            ),
        ),
    }
}

fn post_inner(
    state: &AppState,
    body: &[u8],
    peer: Option<std::net::IpAddr>,
) -> Result<Value, Open311Error> {
    let pairs = form_pairs(body);
    let mut conn = state.db.get()?;
    let conn = &mut *conn;
    let tz = state.config.timezone.clone();
    let key = param(&pairs, "api_key")
        .ok_or_else(|| Open311Error::new(StatusCode::FORBIDDEN, "api_key missing"))?;
    if crate::apikeys::verify(conn, key)?.is_none() {
        return Err(Open311Error::new(
            StatusCode::FORBIDDEN,
            "api_key not valid",
        ));
    }
    let catalog = state.catalog.get(conn, &tz)?;
    check_jurisdiction(&catalog, &pairs)?;
    let code = param(&pairs, "service_code")
        .ok_or_else(|| Open311Error::new(StatusCode::BAD_REQUEST, "service_code missing"))?;
    if !catalog.categories.get(code).is_some_and(|c| c.active) {
        return Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            "service_code not found",
        ));
    }
    let num = |name: &str| -> Result<Option<f64>, Open311Error> {
        param(&pairs, name)
            .map(|v| {
                v.trim().parse::<f64>().map_err(|_| {
                    Open311Error::new(StatusCode::BAD_REQUEST, format!("{name} is not a number"))
                })
            })
            .transpose()
    };
    let (lat, lon) = (num("lat")?, num("long")?);
    let area_id = param(&pairs, "attribute[community]")
        .or_else(|| param(&pairs, "address_id"))
        .map(String::from);
    let address = param(&pairs, "address_string").map(String::from);
    if lat.is_none() && lon.is_none() && area_id.is_none() && address.is_none() {
        return Err(Open311Error::new(
            StatusCode::BAD_REQUEST,
            "a location is required: lat and long, address_string, address_id or attribute[community]",
        ));
    }
    let name = match (param(&pairs, "first_name"), param(&pairs, "last_name")) {
        (None, None) => None,
        (f, l) => Some(format!("{}{}", l.unwrap_or(""), f.unwrap_or(""))),
    };
    let body = SubmitBody {
        category: code.to_string(),
        description: param(&pairs, "description").unwrap_or("").to_string(),
        area_id,
        lat,
        lon,
        address,
        photos: None,
        name,
        phone: param(&pairs, "phone").map(String::from),
    };
    if let Some(ip) = peer {
        state.limiter.check(
            "intake",
            ip,
            state.config.intake_per_minute,
            state.clock.now_ms(),
        )?;
    }
    let complaint = intake::parse(body, &catalog, Source::Open311, true).map_err(|e| {
        let detail = serde_json::to_value(e.body(crate::error::Lang::En, None))
            .ok()
            .and_then(|b| b.get("errors").map(|x| x.to_string()))
            .unwrap_or_default();
        let mut o = Open311Error::from(e);
        if !detail.is_empty() {
            o.description = format!("{} {detail}", o.description);
        }
        o
    })?;
    let now = state.clock.now_ms();
    let (t, code) = state.db.write_tx(conn, |conn| {
        intake::file(
            conn,
            &catalog,
            &complaint,
            now,
            &tz,
            &state.config.public_url,
            None,
            None,
            &*state.ticket_copies,
            &*state.ticket_aggregates,
        )
    })?;
    Ok(json!([{
        "service_request_id": t.ticket_no,
        "token": t.id,
        "service_notice": format!("查询码 Tracking code: {}", code.display()),
        "account_id": Value::Null,
    }]))
}

/// `POST /open311/v2/requests.{json|xml}` (form-encoded, with `api_key`).
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let raw = path.into_inner();
    let format = match split_format(&raw) {
        Some(("requests", f)) => f,
        Some((_, f)) => {
            return render_error(
                f,
                Open311Error::new(StatusCode::NOT_FOUND, "only requests can be posted"),
            );
        }
        None => {
            return render_error(
                Format::Json,
                Open311Error::new(
                    StatusCode::NOT_FOUND,
                    "append .json or .xml to the resource",
                ),
            );
        }
    };
    let st = state.into_inner();
    let peer = crate::http::client_ip(&req);
    match web::block(move || post_inner(&st, &body, peer)).await {
        Ok(Ok(v)) => render(format, "service_requests", &v, StatusCode::CREATED),
        Ok(Err(e)) => render_error(format, e),
        Err(_) => render_error(
            format,
            Open311Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service temporarily unavailable",
            ),
        ),
    }
}

/// Mounts `/open311/v2/…`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/open311/v2/{path:.*}", web::get().to(get))
        .route("/open311/v2/{path:.*}", web::post().to(post));
}
