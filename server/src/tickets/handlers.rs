//! The staff API over tickets: queues, the ticket view with the actions this user may take now,
//! and one handler per action. Each action: auth → load with a row lock → state machine →
//! event + new state + outbox in one transaction → the fresh ticket view.

// Row tuples mirror the columns each query selects; naming every one would hide that.
#![allow(clippy::type_complexity)]

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::auth::{Authed, policy};
use crate::clock::format_local;
use crate::complaints::catalog::{self, Catalog};
use crate::complaints::intake::summary;
use crate::complaints::schema::{extension_requests, tickets, uploads};
use crate::complaints::track::refusal_error;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::import_format::Role;
use crate::state::AppState;

use super::state::{Action, Actor, TicketStatus, allowed_actions, check};
use super::store::{self, NewEvent, TicketRow};

fn ticket_not_found() -> ApiError {
    ApiError::not_found("ticket_not_found", "没有这个工单", "No such ticket")
}

/// The state-machine actor for a principal and a ticket.
pub fn actor_for(conn: &mut DbConnection, p: &Principal, t: &TicketRow) -> Result<Actor, ApiError> {
    let same_unit = match t.unit_id.as_deref() {
        Some(u) => p.can_access_unit(conn, u)?,
        None => false,
    };
    Ok(Actor::Staff {
        role: p.role,
        same_unit,
    })
}

/// Whether `p` may see `t` at all (city-wide roles: every ticket; others: their unit's).
fn can_see(conn: &mut DbConnection, p: &Principal, t: &TicketRow) -> Result<bool, ApiError> {
    if p.role.is_citywide() {
        return Ok(true);
    }
    match t.unit_id.as_deref() {
        Some(u) => p.can_access_unit(conn, u),
        None => Ok(false),
    }
}

fn category_json(catalog: &Catalog, code: &str) -> Value {
    match catalog.categories.get(code) {
        Some(c) => {
            json!({"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "needs_photo_proof": c.needs_photo_proof})
        }
        None => json!({"code": code}),
    }
}

fn area_json(catalog: &Catalog, area_id: Option<&str>) -> Value {
    area_id
        .and_then(|a| catalog.areas.get(a))
        .map(|a| json!({"id": a.id, "name_zh": a.name_zh, "name_en": a.name_en}))
        .unwrap_or(Value::Null)
}

/// The staff view of a ticket (as `GET /api/v1/tickets/{id}` answers).
pub fn ticket_view(
    conn: &mut DbConnection,
    catalog: &Catalog,
    p: &Principal,
    t: &TicketRow,
    tz: &jiff::tz::TimeZone,
) -> Result<Value, ApiError> {
    let actor = actor_for(conn, p, t)?;
    let actions = allowed_actions(&actor, &t.facts());
    let events: Vec<Value> = store::events(conn, &t.id)?
        .into_iter()
        .map(|e| {
            json!({
                "id": e.id,
                "at": format_local(e.at, tz),
                "kind": e.kind,
                "actor": match e.actor_kind.as_str() {
                    "staff" => json!({"kind": "staff", "name": e.actor_name}),
                    other => json!({"kind": other}),
                },
                "unit": store::unit_json(catalog, e.unit_id.as_deref(), true),
                "text": e.body,
                "public": e.public,
                "photos": store::photo_urls(&e.photos),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "reason": e.reason,
                "rating": e.rating,
                "new_due": e.resolution_due.map(|d| format_local(d, tz)),
                "data": e.data.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
            })
        })
        .collect();
    let pending: Option<(String, String, i64)> = extension_requests::table
        .filter(extension_requests::ticket_id.eq(&t.id))
        .filter(extension_requests::status.eq("pending"))
        .select((
            extension_requests::id,
            extension_requests::reason,
            extension_requests::requested_due,
        ))
        .first(conn)
        .optional()?;
    let reporter = if t.reporter_name.is_some() || t.reporter_phone.is_some() {
        json!({"name": t.reporter_name, "phone": t.reporter_phone})
    } else {
        Value::Null
    };
    Ok(json!({
        "id": t.id,
        "ticket_no": t.ticket_no,
        "status": t.status,
        "source": t.source,
        "category": category_json(catalog, &t.category_code),
        "description": t.description,
        "address": t.address,
        "area": area_json(catalog, t.area_id.as_deref()),
        "lat": t.lat,
        "lon": t.lon,
        "unit": store::unit_json(catalog, t.unit_id.as_deref(), true),
        "route": serde_json::from_str::<Value>(&t.route_note).unwrap_or(Value::Null),
        "reporter": reporter,
        "photos": store::photo_urls(&t.photos),
        "created_at": format_local(t.created_at, tz),
        "response_due": format_local(t.response_due, tz),
        "resolution_due": format_local(t.resolution_due, tz),
        "supporters": t.supporters,
        "disputes": t.disputes,
        "pending_extension": pending.map(|(id, reason, due)| json!({"id": id, "reason": reason, "requested_due": format_local(due, tz)})),
        "events": events,
        "actions": actions,
    }))
}

/// Query of the ticket list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `unit` (default for unit roles), `dispatch` (waiting for a dispatcher) or `all`.
    #[serde(default)]
    pub queue: Option<String>,
    /// Status filter.
    #[serde(default)]
    pub status: Option<String>,
    /// Category filter.
    #[serde(default)]
    pub category: Option<String>,
    /// Only tickets past their resolution deadline and not resolved.
    #[serde(default)]
    pub overdue: Option<bool>,
    /// Search in ticket number and description.
    #[serde(default)]
    pub q: Option<String>,
    /// Page size (≤ 1000, default 100).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
}

fn units_of(catalog: &Catalog, own: &str, include_below: bool) -> Vec<String> {
    let mut out = vec![own.to_string()];
    if include_below {
        // Breadth-first over the unit tree.
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for u in catalog.units.values() {
                if u.parent_id.as_deref() == Some(cur.as_str()) && !out.contains(&u.id) {
                    out.push(u.id.clone());
                }
            }
            i += 1;
        }
    }
    out
}

/// `GET /api/v1/tickets`.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", responses((status = 200, description = "Queue (query: queue, status, category, overdue, q, limit, offset)")), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let q = q.into_inner();
    if let Some(s) = &q.status
        && TicketStatus::parse(s).is_none()
    {
        return Err(
            ApiError::bad_request("invalid_query", "没有这个状态", "Unknown status").with(
                "valid_statuses",
                json!(
                    TicketStatus::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                ),
            ),
        );
    }
    let queue = q.queue.clone().unwrap_or_else(|| {
        if p.role.is_citywide() {
            "all".into()
        } else {
            "unit".into()
        }
    });
    if !matches!(queue.as_str(), "unit" | "dispatch" | "all") {
        return Err(ApiError::bad_request(
            "invalid_query",
            "queue 应为 unit、dispatch 或 all",
            "queue is unit, dispatch or all",
        ));
    }
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = catalog::get(conn, &st.config.database_url, &tz)?;
            let mut query = tickets::table.into_boxed();
            let citywide = p.role.is_citywide();
            if !citywide || queue == "unit" {
                let Some(own) = p.unit_id.as_deref() else {
                    return Ok(json!([]));
                };
                let ids = units_of(&catalog, own, p.role == Role::UnitAdmin);
                query = query.filter(tickets::unit_id.eq_any(ids));
            }
            if queue == "dispatch" {
                query = query.filter(tickets::status.eq("dispatching"));
            }
            if let Some(s) = &q.status {
                query = query.filter(tickets::status.eq(s.clone()));
            }
            if let Some(c) = &q.category {
                query = query.filter(tickets::category_code.eq(c.clone()));
            }
            if q.overdue == Some(true) {
                query = query
                    .filter(tickets::resolution_due.lt(st.clock.now_ms()))
                    .filter(tickets::status.ne_all(["resolved", "closed"]));
            }
            if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                let pattern = format!("%{}%", text.replace(['\\', '%', '_'], ""));
                query = query.filter(
                    tickets::ticket_no
                        .like(pattern.clone())
                        .or(tickets::description.like(pattern)),
                );
            }
            let limit = q.limit.unwrap_or(100).clamp(1, 1000);
            let offset = q.offset.unwrap_or(0).max(0);
            let rows: Vec<TicketRow> = query
                .order((tickets::resolution_due.asc(), tickets::id.asc()))
                .limit(limit)
                .offset(offset)
                .select(TicketRow::as_select())
                .load(conn)?;
            let now = st.clock.now_ms();
            Ok(Value::Array(
                rows.iter()
                    .map(|t| {
                        json!({
                            "id": t.id,
                            "ticket_no": t.ticket_no,
                            "status": t.status,
                            "category": category_json(&catalog, &t.category_code),
                            "summary": summary(&t.description),
                            "area": area_json(&catalog, t.area_id.as_deref()),
                            "unit": store::unit_json(&catalog, t.unit_id.as_deref(), true),
                            "created_at": format_local(t.created_at, &tz),
                            "response_due": format_local(t.response_due, &tz),
                            "resolution_due": format_local(t.resolution_due, &tz),
                            "overdue": t.status().is_open() && t.resolution_due < now,
                            "supporters": t.supporters,
                        })
                    })
                    .collect(),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /api/v1/tickets/{id}`.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)), responses((status = 200, description = "The staff view with events and the actions this user may take")), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let id = path.into_inner();
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = catalog::get(conn, &st.config.database_url, &tz)?;
            let t = store::find(conn, &id)?.ok_or_else(ticket_not_found)?;
            if !can_see(conn, &p, &t)? {
                return Err(crate::auth::principal::not_your_unit());
            }
            ticket_view(conn, &catalog, &p, &t, &tz)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// What an action carries, after parsing.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    None,
    Text(String),
    Resolve {
        result: String,
        photos: Vec<String>,
    },
    Return {
        reason: String,
        suggested_unit_id: Option<String>,
    },
    Extension {
        reason: String,
        due: i64,
    },
    Dispatch {
        unit_id: String,
    },
}

fn text_field(v: Option<&str>, field: &str, max: usize) -> Result<String, ApiError> {
    let t = v.map(str::trim).unwrap_or("");
    if t.is_empty() {
        return Err(ApiError::validation(
            json!({field: {"code": "required", "message_zh": "此项必填", "message_en": "This field is required"}}),
        ));
    }
    if t.chars().count() > max {
        return Err(ApiError::validation(
            json!({field: {"code": "too_long", "message_zh": format!("最多 {max} 个字"), "message_en": format!("At most {max} characters")}}),
        ));
    }
    Ok(t.to_string())
}

/// Body of every action (fields as the action needs them).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ActionBody {
    /// Reply or note text.
    #[serde(default)]
    pub text: Option<String>,
    /// Resolution result (办结结果).
    #[serde(default)]
    pub result: Option<String>,
    /// After-photos (upload ids).
    #[serde(default)]
    pub photos: Option<Vec<String>>,
    /// Return or extension reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Suggested unit on a return.
    #[serde(default)]
    pub suggested_unit_id: Option<String>,
    /// Requested new resolution deadline (RFC 3339).
    #[serde(default)]
    pub resolution_due: Option<String>,
    /// Target unit of a dispatch.
    #[serde(default)]
    pub unit_id: Option<String>,
    /// Ignored (the contract's `public: true` on replies).
    #[serde(default)]
    pub public: Option<bool>,
}

fn parse_payload(action: Action, b: ActionBody) -> Result<Payload, ApiError> {
    Ok(match action {
        Action::Accept => Payload::None,
        Action::Reply | Action::Note => Payload::Text(text_field(b.text.as_deref(), "text", 2000)?),
        Action::Resolve => {
            let photos = b.photos.unwrap_or_default();
            if photos.len() > 6 {
                return Err(ApiError::validation(
                    json!({"photos": {"code": "too_many", "message_zh": "最多 6 张照片", "message_en": "At most 6 photos"}}),
                ));
            }
            Payload::Resolve {
                result: text_field(b.result.as_deref(), "result", 2000)?,
                photos,
            }
        }
        Action::Return => Payload::Return {
            reason: text_field(b.reason.as_deref(), "reason", 500)?,
            suggested_unit_id: b.suggested_unit_id.filter(|s| !s.trim().is_empty()),
        },
        Action::RequestExtension => {
            let reason = text_field(b.reason.as_deref(), "reason", 500)?;
            let due = b
                .resolution_due
                .as_deref()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                .ok_or_else(|| ApiError::validation(json!({"resolution_due": {"code": "invalid_datetime", "message_zh": "请填写新的办结时限（含时区的时间）", "message_en": "Give the new deadline as an RFC 3339 time"}})))?;
            Payload::Extension {
                reason,
                due: due.as_millisecond(),
            }
        }
        Action::Dispatch => Payload::Dispatch {
            unit_id: text_field(b.unit_id.as_deref(), "unit_id", 100)?,
        },
        _ => Payload::None,
    })
}

fn check_uploads(conn: &mut DbConnection, ids: &[String]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    let n: i64 = uploads::table
        .filter(uploads::id.eq_any(&distinct))
        .count()
        .get_result(conn)?;
    if n != distinct.len() as i64 {
        return Err(ApiError::validation(
            json!({"photos": {"code": "unknown_upload", "message_zh": "照片未上传或已失效", "message_en": "A photo id names no upload"}}),
        ));
    }
    Ok(())
}

/// Run `action` on ticket `id` for `p`; returns the fresh staff view.
fn act(
    conn: &mut DbConnection,
    st: &AppState,
    p: &Principal,
    id: &str,
    action: Action,
    payload: Payload,
) -> Result<Value, ApiError> {
    let tz = st.config.timezone.clone();
    let catalog = catalog::get(conn, &st.config.database_url, &tz)?;
    st.db.write_tx(conn, |conn| {
        let env = ActEnv {
            catalog: &catalog,
            tz: &tz,
            public_url: &st.config.public_url,
            now: st.clock.now_ms(),
            data: None,
        };
        let t = act_in_tx(conn, &env, p, id, action, payload)?;
        ticket_view(conn, &catalog, p, &t, &tz)
    })
}

/// What a transition needs besides the connection, the actor and the action.
pub(crate) struct ActEnv<'a> {
    /// The catalog (categories, units, targets, calendar).
    pub catalog: &'a Catalog,
    /// The city's time zone.
    pub tz: &'a jiff::tz::TimeZone,
    /// Base of the links in outbox messages.
    pub public_url: &'a str,
    /// The instant the transition happens at.
    pub now: i64,
    /// Extra JSON merged into the event's `data` (e.g. the device action it came from).
    pub data: Option<Value>,
}

/// Action payloads as the device path builds them.
pub(crate) fn device_payload(action: Action, text: String, photos: Vec<String>) -> Payload {
    match action {
        Action::Reply | Action::Note => Payload::Text(text),
        Action::Resolve => Payload::Resolve {
            result: text,
            photos,
        },
        _ => Payload::None,
    }
}

/// The one transition path of the staff actions (console and devices): inside the caller's
/// write transaction, lock the ticket, check role, unit and state, then append the event, set
/// the new state and queue the outbox messages. Returns the ticket after the action.
pub(crate) fn act_in_tx(
    conn: &mut DbConnection,
    env: &ActEnv<'_>,
    p: &Principal,
    id: &str,
    action: Action,
    payload: Payload,
) -> Result<TicketRow, ApiError> {
    let (catalog, tz, now) = (env.catalog, env.tz, env.now);
    {
        let t = store::find_for_update(conn, id)?.ok_or_else(ticket_not_found)?;
        if !can_see(conn, p, &t)? {
            return Err(crate::auth::principal::not_your_unit());
        }
        let actor = actor_for(conn, p, &t)?;
        let tr = check(action, &actor, &t.facts()).map_err(refusal_error)?;
        let mut ev = NewEvent {
            ticket_id: t.id.clone(),
            at: now,
            kind: tr.event.into(),
            actor_kind: "staff".into(),
            actor_user_id: Some(p.user_id.clone()),
            actor_name: Some(p.display_name.clone()),
            unit_id: t.unit_id.clone(),
            from_status: Some(t.status.clone()),
            to_status: tr.to.as_str().into(),
            ..NewEvent::default()
        };
        let public_url = env.public_url.to_string();
        let category = catalog.categories.get(&t.category_code);
        match payload {
            Payload::None => {
                if action == Action::Accept {
                    diesel::update(tickets::table.find(&t.id))
                        .set(tickets::accepted_at.eq(now))
                        .execute(conn)?;
                }
            }
            Payload::Text(text) => ev.body = Some(text),
            Payload::Resolve { result, photos } => {
                if category.is_some_and(|c| c.needs_photo_proof) && photos.is_empty() {
                    return Err(ApiError::validation(
                        json!({"photos": {"code": "photos_required", "message_zh": "该类别办结时须上传整改后照片", "message_en": "This category needs after-photos to resolve"}}),
                    ));
                }
                check_uploads(conn, &photos)?;
                ev.body = Some(result);
                ev.photos = serde_json::to_string(&photos).unwrap_or_else(|_| "[]".into());
                diesel::update(tickets::table.find(&t.id))
                    .set(tickets::resolved_at.eq(now))
                    .execute(conn)?;
            }
            Payload::Return {
                reason,
                suggested_unit_id,
            } => {
                if let Some(s) = &suggested_unit_id
                    && !catalog.units.contains_key(s)
                {
                    return Err(ApiError::validation(
                        json!({"suggested_unit_id": {"code": "unknown_unit", "message_zh": "没有这个单位", "message_en": "No such unit"}}),
                    ));
                }
                ev.reason = Some(reason.clone());
                ev.data = Some(json!({"suggested_unit_id": suggested_unit_id}).to_string());
                ev.unit_id = t.unit_id.clone();
                diesel::update(tickets::table.find(&t.id))
                    .set((
                        tickets::unit_id.eq(&catalog.dispatch_center),
                        tickets::accepted_at.eq(None::<i64>),
                    ))
                    .execute(conn)?;
                // A return withdraws any pending extension.
                diesel::update(
                    extension_requests::table
                        .filter(extension_requests::ticket_id.eq(&t.id))
                        .filter(extension_requests::status.eq("pending")),
                )
                .set(extension_requests::status.eq("withdrawn"))
                .execute(conn)?;
                diesel::update(tickets::table.find(&t.id))
                    .set(tickets::extension_pending.eq(false))
                    .execute(conn)?;
                let t2 = store::find(conn, &t.id)?.ok_or_else(ticket_not_found)?;
                store::notify(
                    conn,
                    catalog,
                    &t2,
                    &[catalog.dispatch_center.as_deref()],
                    "ticket_returned",
                    "工单被退回派单中心",
                    &reason,
                    tz,
                    &public_url,
                    now,
                )?;
            }
            Payload::Extension { reason, due } => {
                if now >= t.resolution_due {
                    return Err(ApiError::conflict(
                        "deadline_passed",
                        "办结时限已过，不能再申请延期",
                        "The resolution deadline has passed; an extension can no longer be asked for",
                    ));
                }
                if due <= t.resolution_due {
                    return Err(ApiError::validation(
                        json!({"resolution_due": {"code": "not_later", "message_zh": "新时限须晚于当前办结时限", "message_en": "The new deadline must be later than the current one"}}),
                    ));
                }
                let ext_id = uuid::Uuid::now_v7().to_string();
                diesel::insert_into(extension_requests::table)
                    .values((
                        extension_requests::id.eq(&ext_id),
                        extension_requests::ticket_id.eq(&t.id),
                        extension_requests::unit_id.eq(t.unit_id.clone().unwrap_or_default()),
                        extension_requests::requested_by.eq(&p.user_id),
                        extension_requests::reason.eq(&reason),
                        extension_requests::requested_due.eq(due),
                        extension_requests::previous_due.eq(t.resolution_due),
                        extension_requests::status.eq("pending"),
                        extension_requests::created_at.eq(now),
                    ))
                    .execute(conn)?;
                diesel::update(tickets::table.find(&t.id))
                    .set(tickets::extension_pending.eq(true))
                    .execute(conn)?;
                ev.reason = Some(reason.clone());
                ev.data = Some(json!({"extension_id": ext_id, "requested_due": due}).to_string());
                let supervising = t
                    .unit_id
                    .as_deref()
                    .and_then(|u| catalog.units.get(u))
                    .and_then(|u| u.supervising_unit_id.as_deref());
                store::notify(
                    conn,
                    catalog,
                    &t,
                    &[supervising],
                    "extension_requested",
                    "延期申请待审批",
                    &reason,
                    tz,
                    &public_url,
                    now,
                )?;
            }
            Payload::Dispatch { unit_id } => {
                if !catalog.units.contains_key(&unit_id) {
                    return Err(ApiError::validation(
                        json!({"unit_id": {"code": "unknown_unit", "message_zh": "没有这个单位", "message_en": "No such unit"}}),
                    ));
                }
                if t.unit_id.as_deref() == Some(unit_id.as_str())
                    && t.status() != TicketStatus::Dispatching
                {
                    return Err(ApiError::validation(
                        json!({"unit_id": {"code": "same_unit", "message_zh": "工单已在该单位", "message_en": "The ticket is already at this unit"}}),
                    ));
                }
                // A new unit gets fresh clocks from now (it could not act before it had the ticket).
                let tier = &category
                    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("category vanished")))?
                    .tier;
                let (resp, res) = tier
                    .deadlines(crate::clock::from_ms(now), &catalog.calendar)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("deadline: {e}")))?;
                let (resp, res) = (resp.as_millisecond(), res.as_millisecond());
                diesel::update(tickets::table.find(&t.id))
                    .set((
                        tickets::unit_id.eq(&unit_id),
                        tickets::clock_start.eq(now),
                        tickets::response_due.eq(resp),
                        tickets::resolution_due.eq(res),
                        tickets::accepted_at.eq(None::<i64>),
                        tickets::extension_pending.eq(false),
                    ))
                    .execute(conn)?;
                diesel::update(
                    extension_requests::table
                        .filter(extension_requests::ticket_id.eq(&t.id))
                        .filter(extension_requests::status.eq("pending")),
                )
                .set(extension_requests::status.eq("withdrawn"))
                .execute(conn)?;
                ev.unit_id = Some(unit_id.clone());
                ev.response_due = Some(resp);
                ev.resolution_due = Some(res);
                ev.data = Some(json!({"from_unit_id": t.unit_id}).to_string());
                let t2 = store::find(conn, &t.id)?.ok_or_else(ticket_not_found)?;
                store::notify(
                    conn,
                    catalog,
                    &t2,
                    &[Some(unit_id.as_str())],
                    "ticket_dispatched",
                    "新派工单",
                    &summary(&t.description),
                    tz,
                    &public_url,
                    now,
                )?;
            }
        }
        if let Some(extra) = &env.data {
            let mut data = ev
                .data
                .as_deref()
                .and_then(|d| serde_json::from_str::<serde_json::Map<String, Value>>(d).ok())
                .unwrap_or_default();
            if let Value::Object(m) = extra {
                data.extend(m.clone());
            }
            ev.data = Some(Value::Object(data).to_string());
        }
        store::append(conn, ev)?;
        store::set_status(conn, &t.id, tr.to, now)?;
        store::find(conn, &t.id)?.ok_or_else(ticket_not_found)
    }
}

async fn run_action(
    state: web::Data<AppState>,
    p: Principal,
    id: String,
    action: Action,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let payload = parse_payload(action, body.map(web::Json::into_inner).unwrap_or_default())?;
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| act(conn, &st, &p, &id, action, payload))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

macro_rules! action_handler {
    ($name:ident, $action:expr, $doc:literal) => {
        #[doc = $doc]
        pub async fn $name(
            state: web::Data<AppState>,
            auth: Authed<policy::Staff>,
            path: web::Path<String>,
            body: Option<web::Json<ActionBody>>,
        ) -> Result<HttpResponse, ApiError> {
            run_action(state, auth.0, path.into_inner(), $action, body).await
        }
    };
}

action_handler!(
    accept,
    Action::Accept,
    "`POST /api/v1/tickets/{id}/accept` (签收)."
);
action_handler!(
    reply,
    Action::Reply,
    "`POST /api/v1/tickets/{id}/reply`: a public reply."
);
action_handler!(
    note,
    Action::Note,
    "`POST /api/v1/tickets/{id}/note`: an internal note, never public."
);
action_handler!(
    resolve,
    Action::Resolve,
    "`POST /api/v1/tickets/{id}/resolve` (办结)."
);
action_handler!(
    return_ticket,
    Action::Return,
    "`POST /api/v1/tickets/{id}/return` (退单)."
);
action_handler!(
    request_extension,
    Action::RequestExtension,
    "`POST /api/v1/tickets/{id}/extension` (延期申请)."
);
action_handler!(
    dispatch,
    Action::Dispatch,
    "`POST /api/v1/tickets/{id}/dispatch` (派单/转派)."
);

/// Query of the extension list.
#[derive(Debug, Deserialize)]
pub struct ExtensionQuery {
    /// `pending` (default), `approved`, `refused`, `withdrawn` or `all`.
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/v1/extensions`.
#[utoipa::path(get, path = "/api/v1/extensions", tag = "tickets", responses((status = 200, description = "Extension requests (query: status)")), security(("bearer" = [])))]
pub async fn list_extensions(
    state: web::Data<AppState>,
    _auth: Authed<policy::Supervision>,
    q: web::Query<ExtensionQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = q.into_inner().status.unwrap_or_else(|| "pending".into());
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = catalog::get(conn, &st.config.database_url, &tz)?;
            let mut query = extension_requests::table
                .inner_join(tickets::table.on(tickets::id.eq(extension_requests::ticket_id)))
                .into_boxed();
            if status != "all" {
                query = query.filter(extension_requests::status.eq(status.clone()));
            }
            let rows: Vec<(
                String,
                String,
                String,
                String,
                String,
                i64,
                i64,
                String,
                Option<String>,
                i64,
            )> = query
                .order(extension_requests::created_at.asc())
                .limit(500)
                .select((
                    extension_requests::id,
                    extension_requests::ticket_id,
                    tickets::ticket_no,
                    extension_requests::unit_id,
                    extension_requests::reason,
                    extension_requests::previous_due,
                    extension_requests::requested_due,
                    extension_requests::status,
                    extension_requests::decision_reason,
                    extension_requests::created_at,
                ))
                .load(conn)?;
            Ok(Value::Array(
                rows.into_iter()
                    .map(
                        |(id, ticket_id, no, unit, reason, prev, req, status, dr, at)| {
                            json!({
                                "id": id, "ticket_id": ticket_id, "ticket_no": no,
                                "unit": store::unit_json(&catalog, Some(&unit), true),
                                "reason": reason, "current_due": format_local(prev, &tz),
                                "requested_due": format_local(req, &tz), "status": status,
                                "decision_reason": dr, "created_at": format_local(at, &tz),
                            })
                        },
                    )
                    .collect(),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Body of an extension decision.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// Why (shown to the resident on approval).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    p: Principal,
    ext_id: String,
    approve: bool,
    body: DecisionBody,
) -> Result<HttpResponse, ApiError> {
    let reason = body
        .reason
        .map(|r| r.trim().chars().take(500).collect::<String>())
        .filter(|r| !r.is_empty());
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = catalog::get(conn, &st.config.database_url, &tz)?;
            st.db.write_tx(conn, |conn| {
                let row: Option<(String, String, i64, String)> = extension_requests::table
                    .find(&ext_id)
                    .select((
                        extension_requests::ticket_id,
                        extension_requests::reason,
                        extension_requests::requested_due,
                        extension_requests::status,
                    ))
                    .first(conn)
                    .optional()?;
                let (ticket_id, ask_reason, due, status) = row.ok_or_else(|| {
                    ApiError::not_found(
                        "extension_not_found",
                        "没有这个延期申请",
                        "No such extension request",
                    )
                })?;
                let t = store::find_for_update(conn, &ticket_id)?.ok_or_else(ticket_not_found)?;
                if status != "pending" {
                    return Err(ApiError::conflict(
                        "extension_already_decided",
                        "该延期申请已处理",
                        "This extension request was already decided",
                    ));
                }
                let action = if approve {
                    Action::ApproveExtension
                } else {
                    Action::RefuseExtension
                };
                let actor = actor_for(conn, &p, &t)?;
                let tr = check(action, &actor, &t.facts()).map_err(refusal_error)?;
                let now = st.clock.now_ms();
                diesel::update(extension_requests::table.find(&ext_id))
                    .set((
                        extension_requests::status.eq(if approve { "approved" } else { "refused" }),
                        extension_requests::decided_by.eq(&p.user_id),
                        extension_requests::decided_at.eq(now),
                        extension_requests::decision_reason.eq(&reason),
                    ))
                    .execute(conn)?;
                if approve {
                    diesel::update(tickets::table.find(&t.id))
                        .set((
                            tickets::resolution_due.eq(due),
                            tickets::extension_pending.eq(false),
                            tickets::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                } else {
                    diesel::update(tickets::table.find(&t.id))
                        .set((
                            tickets::extension_pending.eq(false),
                            tickets::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                store::append(
                    conn,
                    NewEvent {
                        ticket_id: t.id.clone(),
                        at: now,
                        kind: tr.event.into(),
                        actor_kind: "staff".into(),
                        actor_user_id: Some(p.user_id.clone()),
                        actor_name: Some(p.display_name.clone()),
                        unit_id: t.unit_id.clone(),
                        // The resident sees the unit's reason for the new date.
                        reason: Some(if approve {
                            ask_reason.clone()
                        } else {
                            reason.clone().unwrap_or_default()
                        }),
                        body: reason.clone(),
                        from_status: Some(t.status.clone()),
                        to_status: tr.to.as_str().into(),
                        resolution_due: approve.then_some(due),
                        data: Some(json!({"extension_id": ext_id}).to_string()),
                        ..NewEvent::default()
                    },
                )?;
                let t = store::find(conn, &t.id)?.ok_or_else(ticket_not_found)?;
                store::notify(
                    conn,
                    &catalog,
                    &t,
                    &[t.unit_id.as_deref()],
                    if approve {
                        "extension_granted"
                    } else {
                        "extension_refused"
                    },
                    if approve {
                        "延期申请已批准"
                    } else {
                        "延期申请未批准"
                    },
                    &reason.clone().unwrap_or_default(),
                    &tz,
                    &st.config.public_url,
                    now,
                )?;
                ticket_view(conn, &catalog, &p, &t, &tz)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /api/v1/extensions/{id}/approve`.
#[utoipa::path(post, path = "/api/v1/extensions/{id}/approve", tag = "tickets", params(("id" = String, Path)), responses((status = 200, description = "Approve: the ticket view")), security(("bearer" = [])))]
pub async fn approve_extension(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    path: web::Path<String>,
    body: Option<web::Json<DecisionBody>>,
) -> Result<HttpResponse, ApiError> {
    decide(
        state,
        auth.0,
        path.into_inner(),
        true,
        body.map(web::Json::into_inner).unwrap_or_default(),
    )
    .await
}

/// `POST /api/v1/extensions/{id}/refuse`.
#[utoipa::path(post, path = "/api/v1/extensions/{id}/refuse", tag = "tickets", params(("id" = String, Path)), responses((status = 200, description = "Refuse: the ticket view")), security(("bearer" = [])))]
pub async fn refuse_extension(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    path: web::Path<String>,
    body: Option<web::Json<DecisionBody>>,
) -> Result<HttpResponse, ApiError> {
    decide(
        state,
        auth.0,
        path.into_inner(),
        false,
        body.map(web::Json::into_inner).unwrap_or_default(),
    )
    .await
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, get, list_extensions, approve_extension, refuse_extension))]
pub struct ApiDoc;
