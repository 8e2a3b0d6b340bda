//! The HTTP side of bulletins: drafts are made, recomputed, deleted and issued by supervisors
//! and administrators; every staff member reads issued bulletins (drafts stay with
//! supervision: to others they do not exist).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::compute::{BulletinData, compute};
use super::period::{Kind, Period};
use super::store::{self, Actor, Filter};
use crate::auth::{Authed, Role, policy};
use crate::error::{ApiError, ErrorCode};
use crate::http::ids::BulletinId;
use crate::state::AppState;

/// Body of `POST /api/v1/bulletins`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBulletin {
    /// `weekly` (the period starts on a Monday) or `monthly` (on the 1st).
    pub kind: String,
    /// First day of the period, YYYY-MM-DD.
    pub period_start: String,
    /// Title (default: “三改”工作周通报 / 月通报).
    #[serde(default)]
    pub title: Option<String>,
    /// Remarks printed under the tables.
    #[serde(default)]
    pub remarks: Option<String>,
}

/// Longest title (characters).
pub const MAX_TITLE: usize = 100;
/// Longest remarks (characters).
pub const MAX_REMARKS: usize = 4000;

fn too_long(field: &str, max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::TextTooLong,
        format!("{field} 最多 {max} 个字"),
        format!("{field} may have at most {max} characters"),
    )
}

fn today(st: &AppState, now: i64) -> jiff::civil::Date {
    st.config
        .timezone
        .to_datetime(crate::clock::from_ms(now))
        .date()
}

fn period_of(row: &store::BulletinRow, st: &AppState, now: i64) -> Result<Period, ApiError> {
    let kind = Kind::parse(&row.kind)?;
    Period::parse(kind, &row.period_start, today(st, now))
}

/// `POST /api/v1/bulletins`: a draft for the period, with its figures computed now.
#[utoipa::path(post, path = "/api/v1/bulletins", tag = "bulletins", request_body = NewBulletin, responses((status = 201, description = "The draft", body = store::BulletinView), (status = 403, description = "role_not_allowed (supervisors and administrators only)"), (status = 422, description = "invalid_kind, invalid_date, period_not_monday, period_not_first_of_month, period_in_future, text_too_long")), security(("bearer" = [])))]
pub async fn create_bulletin(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    body: web::Json<NewBulletin>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let now = state.clock.now_ms();
    let st = state.into_inner();
    let kind = Kind::parse(&b.kind)?;
    let period = Period::parse(kind, &b.period_start, today(&st, now))?;
    let title = b
        .title
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| kind.default_title().to_owned());
    let remarks = b.remarks.unwrap_or_default().trim().to_owned();
    if title.chars().count() > MAX_TITLE {
        return Err(too_long("title", MAX_TITLE));
    }
    if remarks.chars().count() > MAX_REMARKS {
        return Err(too_long("remarks", MAX_REMARKS));
    }
    let s = st.clone();
    let data = st
        .db
        .run(move |conn| compute(conn, &s, period, now))
        .await?;
    let who = auth.0;
    let tz = st.config.timezone.clone();
    let row = st
        .db
        .write(move |conn| {
            let actor = Actor {
                id: &who.user_id,
                name: &who.display_name,
            };
            store::insert_draft(conn, &period, &title, &remarks, &data, &actor, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(store::view(&row, &tz)))
}

/// `POST /api/v1/bulletins/{id}/recompute`: the draft's figures computed again now.
#[utoipa::path(post, path = "/api/v1/bulletins/{id}/recompute", tag = "bulletins", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The draft with new figures", body = store::BulletinView), (status = 403, description = "role_not_allowed"), (status = 404, description = "bulletin_not_found"), (status = 409, description = "bulletin_issued: an issued bulletin never changes")), security(("bearer" = [])))]
pub async fn recompute_bulletin(
    state: web::Data<AppState>,
    _auth: Authed<policy::Supervision>,
    path: web::Path<BulletinId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    let now = state.clock.now_ms();
    let st = state.into_inner();
    let s = st.clone();
    let key = id.clone();
    let data = st
        .db
        .run(move |conn| {
            let row = store::draft(conn, &key)?;
            let period = period_of(&row, &s, now)?;
            compute(conn, &s, period, now)
        })
        .await?;
    let tz = st.config.timezone.clone();
    let row = st
        .db
        .write(move |conn| {
            store::replace_figures(conn, &id, &data)?;
            store::get(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(store::view(&row, &tz)))
}

/// `POST /api/v1/bulletins/{id}/issue`: numbers and freezes the draft with the figures it
/// shows, and queues its summary to the units named and commended and to the bureau, in one
/// transaction.
#[utoipa::path(post, path = "/api/v1/bulletins/{id}/issue", tag = "bulletins", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The issued bulletin, with `number` and what was sent", body = store::IssuedView), (status = 403, description = "role_not_allowed"), (status = 404, description = "bulletin_not_found"), (status = 409, description = "bulletin_issued, period_already_issued")), security(("bearer" = [])))]
pub async fn issue_bulletin(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    path: web::Path<BulletinId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    let now = state.clock.now_ms();
    let st = state.into_inner();
    let who = auth.0;
    let s = st.clone();
    let (row, told, queued) = st
        .db
        .write(move |conn| {
            let actor = Actor {
                id: &who.user_id,
                name: &who.display_name,
            };
            let year = i32::from(today(&s, now).year());
            let row = store::issue(conn, &id, year, &actor, now)?;
            let data: BulletinData = serde_json::from_str(&row.data)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("bulletin data: {e}")))?;
            let catalog = s.catalog.get(conn, &s.config.timezone)?;
            let issued = super::notice::Issued {
                number: row.number.as_deref().unwrap_or(""),
                title: &row.title,
                issued_at: crate::clock::format_local(now, &s.config.timezone),
                url: format!(
                    "{}/bulletins/{}",
                    s.config.public_url.trim_end_matches('/'),
                    row.id
                ),
            };
            let (told, queued) = super::notice::enqueue(conn, &catalog, &data, &issued, now)?;
            Ok((row, told, queued))
        })
        .await?;
    Ok(HttpResponse::Ok().json(store::IssuedView {
        bulletin: store::view(&row, &st.config.timezone),
        notified: store::Notified {
            units: told,
            messages: queued,
        },
    }))
}

/// `DELETE /api/v1/bulletins/{id}`: discards a draft.
#[utoipa::path(delete, path = "/api/v1/bulletins/{id}", tag = "bulletins", params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "bulletin_not_found"), (status = 409, description = "bulletin_issued")), security(("bearer" = [])))]
pub async fn discard_bulletin(
    state: web::Data<AppState>,
    _auth: Authed<policy::Supervision>,
    path: web::Path<BulletinId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    state
        .db
        .write(move |conn| store::delete_draft(conn, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Query of `GET /api/v1/bulletins`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `weekly` or `monthly`.
    #[serde(default)]
    pub kind: Option<String>,
    /// `draft` or `issued` (drafts: supervision only).
    #[serde(default)]
    pub status: Option<String>,
    /// The period's year.
    #[serde(default)]
    pub year: Option<i32>,
    /// At most this many (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<i64>,
}

fn supervises(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor)
}

/// `GET /api/v1/bulletins`: newest first; supervision sees drafts too, other staff the issued.
#[utoipa::path(get, path = "/api/v1/bulletins", tag = "bulletins", params(ListQuery), responses((status = 200, body = store::BulletinList), (status = 422, description = "invalid_kind, invalid_status")), security(("bearer" = [])))]
pub async fn list_bulletins(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let kind = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(Kind::parse)
        .transpose()?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s @ ("draft" | "issued")) => Some(s.to_owned()),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidStatus,
                format!("status 应为 draft 或 issued，不是 {other:?}"),
                format!("status must be draft or issued, not {other:?}"),
            ));
        }
    };
    let f = Filter {
        kind,
        status,
        year: q.year,
        issued_only: !supervises(auth.role),
        limit: q.limit.unwrap_or(100).clamp(1, 500),
    };
    let items = state.db.run(move |conn| store::list(conn, &f)).await?;
    Ok(HttpResponse::Ok().json(store::BulletinList { items }))
}

/// The bulletin the caller may read: issued, or any for supervision; 404 otherwise.
async fn readable(
    state: &AppState,
    role: Role,
    id: String,
) -> Result<store::BulletinRow, ApiError> {
    let row = state.db.run(move |conn| store::get(conn, &id)).await?;
    if row.status != "issued" && !supervises(role) {
        return Err(ApiError::new(
            ErrorCode::BulletinNotFound,
            "没有这期通报",
            "no such bulletin",
        ));
    }
    Ok(row)
}

/// `GET /api/v1/bulletins/{id}`: the bulletin with its figures.
#[utoipa::path(get, path = "/api/v1/bulletins/{id}", tag = "bulletins", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = store::BulletinView), (status = 404, description = "bulletin_not_found (also a draft, to staff outside supervision)")), security(("bearer" = [])))]
pub async fn get_bulletin(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<BulletinId>,
) -> Result<HttpResponse, ApiError> {
    let row = readable(&state, auth.role, path.into_inner().to_string()).await?;
    Ok(HttpResponse::Ok().json(store::view(&row, &state.config.timezone)))
}

/// `GET /api/v1/bulletins/{id}/xlsx`: the bulletin as a workbook, one sheet per section.
#[utoipa::path(get, path = "/api/v1/bulletins/{id}/xlsx", tag = "bulletins", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "XLSX workbook (Chinese headers; sheets 说明, 计划完成情况, 单位考核, 超期情况, 物业服务企业)", body = crate::registers::sheet::SheetFile, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, description = "bulletin_not_found")), security(("bearer" = [])))]
pub async fn bulletin_xlsx(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<BulletinId>,
) -> Result<HttpResponse, ApiError> {
    let row = readable(&state, auth.role, path.into_inner().to_string()).await?;
    let tz = state.config.timezone.clone();
    let name = format!(
        "bulletin-{}-{}.xlsx",
        row.kind,
        row.number_seq.map_or_else(
            || row.period_start.clone(),
            |s| format!("{}-{s}", row.number_year.unwrap_or(0))
        )
    );
    let bytes = web::block(move || super::xlsx::workbook(&row, &tz))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("xlsx task: {e}")))??;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

/// Mounts the bulletin endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/bulletins", web::get().to(list_bulletins))
        .route("/api/v1/bulletins", web::post().to(create_bulletin))
        .route("/api/v1/bulletins/{id}", web::get().to(get_bulletin))
        .route("/api/v1/bulletins/{id}", web::delete().to(discard_bulletin))
        .route("/api/v1/bulletins/{id}/xlsx", web::get().to(bulletin_xlsx))
        .route(
            "/api/v1/bulletins/{id}/recompute",
            web::post().to(recompute_bulletin),
        )
        .route(
            "/api/v1/bulletins/{id}/issue",
            web::post().to(issue_bulletin),
        );
}
