//! HTTP handlers of sync: push, pull, schemas, conflicts, rejections.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use anju_shared::protocol::{MutationOutcome, PushRequest, PushResponse, check_protocol};
use anju_shared::records::RECORD_TYPES;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::SyncContext;
use super::pull::{PullError, PullOutcome, Puller, pull};
use super::push::{PushContext, PushError, apply_push};
use super::resolve::{Choice, Pick, ResolveError, Resolver, resolve};
use super::schema::{sync_conflicts, sync_rejections};
use crate::auth::scope::{Scope, scope_of};
use crate::auth::{Authed, Principal, policy};
use crate::db::DbConnection;
use crate::db::schema::devices;
use crate::error::{ApiError, ErrorCode};
use crate::http::read_body;
use crate::tickets::device_api::TicketActor;

/// The largest push body (8 MB).
pub const PUSH_LIMIT: usize = 8 * 1024 * 1024;
/// The most mutations in one push.
pub const MAX_MUTATIONS: usize = 1000;
/// The most changes in one pull page.
pub const MAX_PULL: i64 = 1000;
/// The pull page size when none is asked for.
pub const DEFAULT_PULL: i64 = 500;

/// Mounts push, pull, schemas, conflicts and rejections.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/sync/push", web::post().to(push_handler))
        .route("/api/v1/sync/pull", web::get().to(pull_handler))
        .route("/api/v1/sync/schemas", web::get().to(schemas))
        .route("/api/v1/sync/conflicts", web::get().to(list_conflicts))
        .route("/api/v1/sync/conflicts/{id}", web::get().to(get_conflict))
        .route(
            "/api/v1/sync/conflicts/{id}/resolve",
            web::post().to(resolve_conflict),
        )
        .route("/api/v1/sync/rejections", web::get().to(list_rejections));
}

fn protocol_error(requested: u32) -> Option<ApiError> {
    let mismatch = check_protocol(requested).err()?;
    Some(
        ApiError::new(
            ErrorCode::ProtocolVersionUnsupported,
            mismatch.message_zh,
            mismatch.message_en,
        )
        .with("requested", json!(mismatch.requested))
        .with("supported", json!(mismatch.supported)),
    )
}

/// 403 unless `device_id` is a registered, unrevoked device of `principal`; marks it seen.
pub fn check_device(
    conn: &mut DbConnection,
    principal: &Principal,
    device_id: &str,
    now_ms: i64,
) -> Result<(), ApiError> {
    let row: Option<(String, Option<i64>, Option<i64>)> = devices::table
        .find(device_id)
        .select((devices::user_id, devices::revoked_at, devices::last_seen_at))
        .first(conn)
        .optional()?;
    match row {
        None => Err(ApiError::new(
            ErrorCode::DeviceNotRegistered,
            "此设备尚未注册",
            "This device is not registered",
        )),
        Some((owner, _, _)) if owner != principal.user_id => Err(ApiError::new(
            ErrorCode::DeviceNotYours,
            "此设备不属于当前账号",
            "This device is not registered to this account",
        )),
        Some((_, Some(_), _)) => Err(crate::auth::principal::device_revoked()),
        Some((_, None, seen)) => {
            // At most once a minute: a write per pull would cost a commit flush each time.
            if seen.is_none_or(|s| now_ms - s >= 60_000) {
                diesel::update(devices::table.find(device_id))
                    .set(devices::last_seen_at.eq(Some(now_ms)))
                    .execute(conn)?;
            }
            Ok(())
        }
    }
}

/// `POST /api/v1/sync/push`: a batch of one device's mutations (`PushRequest`) → one result per
/// mutation (`PushResponse`). The whole batch is refused on an unsupported protocol (400), a
/// sequence gap (409 `sequence_gap` with `expected`), or a device that is not the caller's or
/// is revoked (403).
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync", request_body(content = super::bodies::PushBody, description = "PushRequest (anju_shared::protocol), ≤ 1000 mutations, ≤ 8 MB", content_type = "application/json"), responses((status = 200, description = "PushResponse: one MutationResult per mutation", body = super::answers::PushAnswer), (status = 400, description = "protocol_version_unsupported / malformed_batch"), (status = 403, description = "device_revoked / device_not_yours / device_not_registered"), (status = 409, description = "sequence_gap, with expected")), security(("bearer" = [])))]
pub async fn push_handler(
    state: web::Data<SyncContext>,
    sync: web::Data<super::SyncState>,
    principal: Principal,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload, PUSH_LIMIT).await?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedBatch,
            format!("同步批次不是有效的 JSON：{e}"),
            format!("the batch is not valid JSON: {e}"),
        )
    })?;
    if let Some(p) = value.get("protocol").and_then(Value::as_u64) {
        let p = u32::try_from(p).unwrap_or(u32::MAX);
        if let Some(e) = protocol_error(p) {
            return Err(e);
        }
    }
    let request: PushRequest = serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedBatch,
            format!("同步批次格式错误：{e}"),
            format!("the batch is malformed: {e}"),
        )
    })?;
    if request.mutations.len() > MAX_MUTATIONS {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!("每批最多 {MAX_MUTATIONS} 条修改"),
            format!("at most {MAX_MUTATIONS} mutations per batch"),
        ));
    }
    if let Some(own) = &principal.device_id
        && *own != request.device_id.to_string()
    {
        return Err(ApiError::new(
            ErrorCode::DeviceNotYours,
            "登录所绑定的设备与提交的设备不一致",
            "the session is bound to another device",
        ));
    }
    let now = state.clock.now_ms();
    let sync = sync.into_inner();
    let proof = super::hazard_proof::ProofRules {
        tz: state.config.timezone.clone(),
        max_distance_m: f64::from(state.config.proof_max_distance_m),
    };
    // Every signed-in principal has its parsed id (see `Principal::user`).
    let user = principal.user.ok_or_else(ApiError::unauthorized)?;
    let results = state
        .db
        .write(move |conn| {
            let device = request.device_id.to_string();
            check_device(conn, &principal, &device, now)?;
            let scope = scope_of(conn, &principal)?;
            let ctx = PushContext {
                device_id: request.device_id,
                actor: TicketActor {
                    user: Some(user),
                    role: principal.role.as_str().to_owned(),
                    unit_id: principal
                        .unit_id
                        .as_deref()
                        .and_then(|u| Uuid::try_parse(u).ok()),
                    device_id: request.device_id,
                },
                user_id: &principal.user_id,
                scope: &scope,
                may_overrule: super::may_overrule(principal.role),
                tickets: sync.tickets.as_ref(),
                clock: &sync.clock,
                now_ms: now,
                proof: Some(&proof),
                records: sync.records.as_ref(),
            };
            apply_push(conn, &ctx, &request.mutations)
                .map_err(|e| match e {
                    PushError::SequenceGap { expected } => ApiError::new(
                        ErrorCode::SequenceGap,
                        format!("缺少序号 {expected} 的修改，整批未处理"),
                        format!("mutation {expected} is missing; the batch was not applied"),
                    )
                    .with("expected", json!(expected)),
                    PushError::Db(e) => e.into(),
                    PushError::Corrupt(e) => ApiError::internal(e),
                })
                .map(|r| (r, sync))
        })
        .await?;
    let (results, sync) = results;
    let server_hlc = {
        let mut clock = sync.clock.lock().unwrap_or_else(|p| p.into_inner());
        clock.tick(u64::try_from(now).unwrap_or(0)).to_string()
    };
    let rejected = results
        .iter()
        .filter(|r| matches!(r.outcome, MutationOutcome::Rejected { .. }))
        .count();
    if rejected > 0 {
        tracing::info!(rejected, "push with rejected mutations");
    }
    Ok(HttpResponse::Ok().json(PushResponse {
        results,
        server_hlc,
    }))
}

/// Query of a pull.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    /// The pulling device.
    pub device_id: Uuid,
    /// The cursor of the last page (none: from the start).
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size, 1..=1000 (default 500).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// `GET /api/v1/sync/pull?device_id=&cursor=&limit=`: the next page of changes in the device's
/// scope, or 410 `reset_required`.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", params(("device_id" = String, Query, description = "the pulling device"), ("cursor" = Option<String>, Query, description = "opaque cursor signed for this device; none = from the start"), ("limit" = Option<i64>, Query, description = "1..=1000, default 500")), responses((status = 200, description = "PullResponse", body = super::answers::PullAnswer), (status = 410, description = "reset_required: cursor behind retention, or an older server's unsigned cursor"), (status = 400, description = "invalid_cursor (not signed by this server for this device) / invalid_limit / protocol_version_unsupported")), security(("bearer" = [])))]
pub async fn pull_handler(
    req: HttpRequest,
    state: web::Data<SyncContext>,
    principal: Principal,
    query: web::Query<PullQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(v) = req.headers().get("x-anju-protocol") {
        let requested = v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(0);
        if let Some(e) = protocol_error(requested) {
            return Err(e);
        }
    }
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_PULL);
    if !(1..=MAX_PULL).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidLimit,
            format!("limit 应在 1 到 {MAX_PULL} 之间"),
            format!("limit must be between 1 and {MAX_PULL}"),
        ));
    }
    if let Some(own) = &principal.device_id
        && *own != query.device_id.to_string()
    {
        return Err(ApiError::new(
            ErrorCode::DeviceNotYours,
            "登录所绑定的设备与请求的设备不一致",
            "the session is bound to another device",
        ));
    }
    let now = state.clock.now_ms();
    let sync = state.sync.clone();
    let phone_reader = principal.clone();
    let outcome = state
        .db
        .run(move |conn| {
            check_device(conn, &principal, &query.device_id.to_string(), now)?;
            let scope = scope_of(conn, &principal)?;
            let puller = Puller {
                device_id: query.device_id,
                key: sync.cursor_key(conn)?,
                known_scopes: &sync.known_scopes,
            };
            let cursor = query.cursor.as_deref();
            pull(conn, &puller, &scope, cursor, limit, now).map_err(|e| match e {
                PullError::InvalidCursor => {
                    tracing::warn!(device = %query.device_id, "pull with a cursor this server did not sign");
                    ApiError::new(
                        ErrorCode::InvalidCursor,
                        "同步位置无效（不是服务器为本设备签发的），请不带同步位置重新同步",
                        "the cursor is not one this server signed for this device; pull without a cursor",
                    )
                }
                PullError::Db(e) => e.into(),
                PullError::Corrupt(e) => ApiError::internal(e),
            })
        })
        .await?;
    match outcome {
        PullOutcome::Page(mut page) => {
            super::ticket_record::redact_for(&phone_reader, &mut page.changes);
            state
                .sync
                .pull_filter
                .withhold(&phone_reader, &mut page.changes);
            Ok(HttpResponse::Ok().json(page))
        }
        PullOutcome::ResetRequired => {
            let r = anju_shared::protocol::ResetRequired::default();
            Err(ApiError::new(
                ErrorCode::ResetRequired,
                r.message_zh,
                r.message_en,
            ))
        }
    }
}

/// `GET /api/v1/sync/schemas`: the record schemas the server enforces.
#[utoipa::path(get, path = "/api/v1/sync/schemas", tag = "sync", responses((status = 200, description = "the record schemas (anju_shared::records::RECORD_TYPES)", body = Vec<super::answers::RecordSchemaBody>)), security(("bearer" = [])))]
pub async fn schemas(_who: Principal) -> HttpResponse {
    HttpResponse::Ok().json(RECORD_TYPES)
}

/// A conflict record as the review API shows it.
#[derive(Debug, Serialize, Queryable, utoipa::ToSchema)]
pub struct ConflictView {
    /// Conflict id.
    pub id: String,
    /// Record type.
    pub record_type: String,
    /// Record id.
    pub record_id: String,
    /// The contested field.
    pub field: String,
    /// The version the device had seen.
    #[schema(required = true)]
    pub base_version: Option<i64>,
    /// The server's value before the device's change.
    #[serde(serialize_with = "as_json")]
    #[schema(value_type = Value)]
    pub server_value: String,
    /// The device's value (a set delta for sets; null for a delete).
    #[serde(serialize_with = "as_json")]
    #[schema(value_type = Value)]
    pub device_value: String,
    /// `server` or `device`: whose value is current.
    #[schema(value_type = super::answers::WinnerBody)]
    pub winner: String,
    /// Who wrote the server value.
    #[schema(required = true)]
    pub server_author: Option<String>,
    /// Who made the device's change.
    pub device_author: String,
    /// The server value's clock stamp.
    #[schema(required = true)]
    pub server_hlc: Option<String>,
    /// The device change's clock stamp.
    pub device_hlc: String,
    /// When the conflict was recorded (ms since the epoch).
    pub created_at: i64,
    /// `open` or `resolved`.
    pub status: String,
    /// The value a person chose (null while open).
    #[serde(serialize_with = "as_json_opt")]
    #[schema(value_type = Value, required = true)]
    pub resolution: Option<String>,
    /// Who resolved it.
    #[schema(required = true)]
    pub resolved_by: Option<String>,
    /// When (ms since the epoch).
    #[schema(required = true)]
    pub resolved_at: Option<i64>,
}

fn as_json<S: serde::Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    serde_json::from_str::<Value>(s)
        .unwrap_or(Value::Null)
        .serialize(ser)
}

fn as_json_opt<S: serde::Serializer>(s: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    s.as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .serialize(ser)
}

type ConflictColumns = (
    sync_conflicts::id,
    sync_conflicts::record_type,
    sync_conflicts::record_id,
    sync_conflicts::field,
    sync_conflicts::base_version,
    sync_conflicts::server_value,
    sync_conflicts::device_value,
    sync_conflicts::winner,
    sync_conflicts::server_author,
    sync_conflicts::device_author,
    sync_conflicts::server_hlc,
    sync_conflicts::device_hlc,
    sync_conflicts::created_at,
    sync_conflicts::status,
    sync_conflicts::resolution,
    sync_conflicts::resolved_by,
    sync_conflicts::resolved_at,
);

const CONFLICT_COLUMNS: ConflictColumns = (
    sync_conflicts::id,
    sync_conflicts::record_type,
    sync_conflicts::record_id,
    sync_conflicts::field,
    sync_conflicts::base_version,
    sync_conflicts::server_value,
    sync_conflicts::device_value,
    sync_conflicts::winner,
    sync_conflicts::server_author,
    sync_conflicts::device_author,
    sync_conflicts::server_hlc,
    sync_conflicts::device_hlc,
    sync_conflicts::created_at,
    sync_conflicts::status,
    sync_conflicts::resolution,
    sync_conflicts::resolved_by,
    sync_conflicts::resolved_at,
);

/// Query of the conflict list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictQuery {
    /// `open` (default), `resolved` or `all`.
    #[serde(default)]
    pub status: Option<String>,
    /// Only this record type.
    #[serde(default)]
    pub record_type: Option<String>,
    /// Only this record.
    #[serde(default)]
    pub record_id: Option<Uuid>,
    /// At most this many (1..=1000, default 200), newest first.
    #[serde(default)]
    pub limit: Option<i64>,
}

fn scope_filter<'a>(
    mut q: sync_conflicts::BoxedQuery<'a, crate::db::MultiBackend>,
    scope: &Scope,
) -> sync_conflicts::BoxedQuery<'a, crate::db::MultiBackend> {
    if let Scope::Limited { units, areas } = scope {
        let units: Vec<String> = units.iter().map(Uuid::to_string).collect();
        let areas: Vec<String> = areas.iter().map(Uuid::to_string).collect();
        q = q.filter(
            sync_conflicts::unit_id
                .eq_any(units)
                .or(sync_conflicts::area_id.eq_any(areas)),
        );
    }
    q
}

/// `GET /api/v1/sync/conflicts`: conflict records in the caller's scope (supervisors: all).
#[utoipa::path(get, path = "/api/v1/sync/conflicts", tag = "sync", params(("status" = Option<String>, Query, description = "open (default), resolved, all"), ("record_type" = Option<String>, Query), ("record_id" = Option<String>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "conflict records in the caller's scope, newest first", body = Vec<ConflictView>)), security(("bearer" = [])))]
pub async fn list_conflicts(
    state: web::Data<SyncContext>,
    principal: Authed<policy::Staff>,
    query: web::Query<ConflictQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidLimit,
            "limit 应在 1 到 1000 之间",
            "limit must be between 1 and 1000",
        ));
    }
    let status = query.status.unwrap_or_else(|| "open".into());
    if !matches!(status.as_str(), "open" | "resolved" | "all") {
        return Err(ApiError::new(
            ErrorCode::InvalidStatusQuery,
            "status 应为 open、resolved 或 all",
            "status must be open, resolved or all",
        ));
    }
    let principal = principal.0;
    let list = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let mut q = sync_conflicts::table.into_boxed();
            q = scope_filter(q, &scope);
            if status != "all" {
                q = q.filter(sync_conflicts::status.eq(status));
            }
            if let Some(t) = query.record_type {
                q = q.filter(sync_conflicts::record_type.eq(t));
            }
            if let Some(id) = query.record_id {
                q = q.filter(sync_conflicts::record_id.eq(id.to_string()));
            }
            Ok(q.order(sync_conflicts::id.desc())
                .limit(limit)
                .select(CONFLICT_COLUMNS)
                .load::<ConflictView>(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

fn conflict_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::ConflictNotFound,
        "找不到该冲突记录",
        "No such conflict record",
    )
}

fn load_conflict(
    conn: &mut DbConnection,
    scope: &Scope,
    id: &str,
) -> Result<ConflictView, ApiError> {
    scope_filter(sync_conflicts::table.into_boxed(), scope)
        .filter(sync_conflicts::id.eq(id.to_owned()))
        .select(CONFLICT_COLUMNS)
        .first::<ConflictView>(conn)
        .optional()?
        .ok_or_else(conflict_not_found)
}

/// `GET /api/v1/sync/conflicts/{id}`: one conflict record.
#[utoipa::path(get, path = "/api/v1/sync/conflicts/{id}", tag = "sync", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "one conflict record", body = ConflictView), (status = 404, description = "conflict_not_found")), security(("bearer" = [])))]
pub async fn get_conflict(
    state: web::Data<SyncContext>,
    principal: Authed<policy::Staff>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = principal.0;
    let id = id.into_inner().to_string();
    let view = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            load_conflict(conn, &scope, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of a resolution: `{"pick": "server" | "device"}`, or `{"value": v}` where `v` must be
/// one of the two contested values (an array for a set).
fn parse_choice(body: &Value) -> Result<Choice, ApiError> {
    let bad = || {
        ApiError::new(
            ErrorCode::InvalidResolution,
            "请求应为 {\"pick\": \"server\"} 或 {\"pick\": \"device\"}（或冲突双方之一的 value）",
            "the body must be {\"pick\": \"server\"} or {\"pick\": \"device\"} (or a value that is one of the two contested ones)",
        )
    };
    let obj = body.as_object().ok_or_else(bad)?;
    match (obj.len(), obj.get("pick"), obj.get("value")) {
        (1, Some(p), None) => serde_json::from_value::<Pick>(p.clone())
            .map(Choice::Pick)
            .map_err(|_| bad()),
        (1, None, Some(v)) => Ok(Choice::Value(v.clone())),
        _ => Err(bad()),
    }
}

/// `POST /api/v1/sync/conflicts/{id}/resolve`: keeps one of the two contested values, the
/// server's or the device's, written as an ordinary change (every device in scope pulls it),
/// and marks the conflict resolved. Server-authoritative fields and monotonic statuses are
/// resolved by supervisors and administrators only; other fields also by the record's
/// responsible unit. A choice that would move the record out of the resolver's scope is
/// refused. Every refusal changes nothing.
#[utoipa::path(post, path = "/api/v1/sync/conflicts/{id}/resolve", tag = "sync", params(("id" = uuid::Uuid, Path)), request_body(content = super::bodies::ResolveBody, description = "{\"pick\": \"server\"|\"device\"} or {\"value\": one of the two contested values}", content_type = "application/json"), responses((status = 200, description = "{conflict, version}", body = Resolved), (status = 400, description = "invalid_resolution"), (status = 403, description = "not_your_unit / resolution_needs_supervisor / resolution_leaves_scope"), (status = 404, description = "conflict_not_found"), (status = 409, description = "conflict_already_resolved"), (status = 422, description = "not_a_contested_value (with server_value, device_value) / the field's validation code")), security(("bearer" = [])))]
pub async fn resolve_conflict(
    state: web::Data<SyncContext>,
    sync: web::Data<super::SyncState>,
    principal: Authed<policy::Staff>,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let principal = principal.0;
    let id = id.into_inner().to_string();
    let choice = parse_choice(&body.into_inner())?;
    let now = state.clock.now_ms();
    let sync = sync.into_inner();
    let view = state
        .db
        .write(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let author = format!("user:{}", principal.user_id);
            let resolver = Resolver {
                author: &author,
                scope: &scope,
                may_overrule: super::may_overrule(principal.role),
            };
            let version = resolve(
                conn,
                &sync.clock,
                sync.records.as_ref(),
                &resolver,
                &id,
                &choice,
                now,
            )
            .map_err(resolve_error)?;
            let view = load_conflict(conn, &Scope::All, &id)?;
            Ok(Resolved {
                conflict: view,
                version,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// What resolving a conflict answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Resolved {
    /// The conflict record, now resolved.
    pub conflict: ConflictView,
    /// The record's version after the resolution.
    pub version: i64,
}

fn resolve_error(e: ResolveError) -> ApiError {
    match e {
        ResolveError::NotFound => conflict_not_found(),
        ResolveError::NotYourUnit => crate::auth::principal::not_your_unit(),
        ResolveError::NeedsSupervisor => ApiError::new(
            ErrorCode::ResolutionNeedsSupervisor,
            "责任单位、整改期限等由服务器管理的字段和状态的冲突，只能由督办人员或管理员处理",
            "conflicts of server-authoritative fields and statuses are resolved by a supervisor or an administrator",
        ),
        ResolveError::LeavesScope => ApiError::new(
            ErrorCode::ResolutionLeavesScope,
            "该处理会使记录移出您的管辖范围，未执行",
            "this choice would move the record out of your scope; nothing was changed",
        ),
        ResolveError::NotContested { server, device } => ApiError::new(
            ErrorCode::NotAContestedValue,
            "只能选择冲突双方之一的值（服务器的或设备的）",
            "only one of the two contested values (the server's or the device's) can be chosen",
        )
        .with("server_value", server)
        .with("device_value", device),
        ResolveError::AlreadyResolved => ApiError::new(
            ErrorCode::ConflictAlreadyResolved,
            "该冲突已处理",
            "This conflict has already been resolved",
        ),
        ResolveError::InvalidValue {
            code,
            message_zh,
            message_en,
        } => ApiError::relay(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message_zh,
            message_en,
        ),
        ResolveError::Db(e) => e.into(),
        ResolveError::Corrupt(e) => ApiError::internal(e),
    }
}

/// A rejected mutation as the review API shows it.
#[derive(Debug, Serialize, Queryable, utoipa::ToSchema)]
pub struct RejectionView {
    /// Rejection id.
    pub id: String,
    /// The device that sent it.
    pub device_id: String,
    /// Its sequence number.
    pub seq: i64,
    /// Record type.
    pub record_type: String,
    /// Record id.
    pub record_id: String,
    /// The whole mutation as sent.
    #[serde(serialize_with = "as_json")]
    #[schema(value_type = Value)]
    pub mutation: String,
    /// Stable reason code.
    pub code: String,
    /// Reason in Chinese.
    pub message_zh: String,
    /// Reason in English.
    pub message_en: String,
    /// When (ms since the epoch).
    pub created_at: i64,
}

/// `GET /api/v1/sync/rejections`: rejected mutations kept for review: supervisors and admins
/// see all, others those of their own devices. Newest first, at most 500.
#[utoipa::path(get, path = "/api/v1/sync/rejections", tag = "sync", responses((status = 200, description = "rejected mutations kept for review", body = Vec<RejectionView>)), security(("bearer" = [])))]
pub async fn list_rejections(
    state: web::Data<SyncContext>,
    principal: Authed<policy::Staff>,
) -> Result<HttpResponse, ApiError> {
    let principal = principal.0;
    let list = state
        .db
        .run(move |conn| {
            let mut q = sync_rejections::table.into_boxed();
            if !principal.role.is_citywide() {
                let own: Vec<String> = devices::table
                    .filter(devices::user_id.eq(&principal.user_id))
                    .select(devices::id)
                    .load(conn)?;
                q = q.filter(sync_rejections::device_id.eq_any(own));
            }
            Ok(q.order(sync_rejections::id.desc())
                .limit(500)
                .select((
                    sync_rejections::id,
                    sync_rejections::device_id,
                    sync_rejections::seq,
                    sync_rejections::record_type,
                    sync_rejections::record_id,
                    sync_rejections::mutation,
                    sync_rejections::code,
                    sync_rejections::message_zh,
                    sync_rejections::message_en,
                    sync_rejections::created_at,
                ))
                .load::<RejectionView>(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
