//! HTTP plumbing below every capability: request ids, one log line per request, metrics,
//! problem+json in the caller's language, extractor error mapping, health and readiness.

pub mod client_ip;
pub mod ids;
pub mod metrics;
pub mod ratelimit;

pub use client_ip::{ClientIp, client_ip};

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

use crate::error::{ApiError, ErrorCode, Lang};
use crate::state::AppState;

/// The request id of a request: taken from `X-Request-Id` when the caller sent a sane one,
/// otherwise generated. Stored in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The largest JSON body any endpoint accepts unless it configures its own.
pub const JSON_LIMIT: usize = 256 * 1024;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The language a request asked for.
pub fn lang_of(req: &HttpRequest) -> Lang {
    Lang::from_accept_language(
        req.headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Middleware: assigns the request id, renders any [`ApiError`] as problem+json in the asked
/// language, records metrics and writes one structured log line per request.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let lang = lang_of(req.request());
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let client = match &state {
        Some(s) => client_ip::decide(req.request(), &s.config.trusted_proxies),
        None => client_ip::decide(req.request(), &client_ip::TrustedProxies::default()),
    };
    req.extensions_mut().insert(ClientIp(client));
    let client = client.map_or_else(|| "-".to_string(), |ip| ip.to_string());

    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        // Handlers' and extractors' errors arrive as responses; this is an inner middleware's.
        Err(e) => return Err(e),
    };

    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_string());
    let mut res = rerender_problem(res, lang, &request_id);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let status = res.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(state) = state {
        state.metrics.record(&method, &route, status, elapsed);
    }
    if status >= 500 {
        let cause = res
            .response()
            .error()
            .map(|e| e.to_string())
            .unwrap_or_default();
        tracing::error!(request_id = %request_id, %method, %route, status, ms = elapsed * 1000.0, %client, %cause, "request failed");
    } else {
        tracing::info!(request_id = %request_id, %method, %route, status, ms = elapsed * 1000.0, %client, "request");
    }
    Ok(res)
}

fn rerender_problem(
    res: ServiceResponse<BoxBody>,
    lang: Lang,
    request_id: &str,
) -> ServiceResponse<BoxBody> {
    let rendered = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .map(|api| api.render(lang, Some(request_id)));
    match rendered {
        Some(new) => res.into_response(new),
        None => res,
    }
}

/// `JsonConfig` whose errors are problem+json: 413 for too large, 415 for a wrong content
/// type, 400 `malformed_json` otherwise.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(err).into())
}

/// Maps a JSON extractor error to its problem.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => payload_too_large(),
        E::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "请以 application/json 格式提交",
            "Send the body as application/json",
        ),
        E::Deserialize(e) => ApiError::new(
            ErrorCode::MalformedJson,
            format!("请求内容格式错误：{e}"),
            format!("The request body is not valid: {e}"),
        ),
        other => ApiError::new(
            ErrorCode::MalformedJson,
            "请求内容无法读取",
            format!("The request body could not be read: {other}"),
        ),
    }
}

/// 413 `payload_too_large`.
pub fn payload_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        "提交的内容过大",
        "The request body is too large",
    )
}

/// Reads a request body up to `limit` bytes; 413 problem beyond.
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                ErrorCode::MalformedBody,
                "请求内容无法读取",
                format!("the request body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(payload_too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `QueryConfig` whose errors are 400 `invalid_query`.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("查询参数有误：{err}"),
            format!("Invalid query parameters: {err}"),
        )
        .into()
    })
}

/// `PathConfig` whose errors are 404: a malformed id names nothing, so an id newtype's refusal
/// is its kind's own not-found answer ([`ids::rejection`]) and any other is `not_found`.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let actix_web::error::PathError::Deserialize(e) = &err else {
            return not_found().into();
        };
        ids::rejection(&e.to_string())
            .unwrap_or_else(not_found)
            .into()
    })
}

/// `PayloadConfig` (raw bodies) with the given limit; too large is 413.
pub fn payload_config(limit: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit)
}

/// 404 for paths no route serves.
pub fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "找不到该地址或记录",
        "No such address or record",
    )
}

/// The default service: 404 problem (or 405 when the path exists with another method, which
/// actix answers itself).
pub async fn fallback() -> Result<HttpResponse, ApiError> {
    Err(not_found())
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers a query.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .db
        .run(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .map_err(|e| ApiError::unavailable(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(state.db.pool_state()))
}
