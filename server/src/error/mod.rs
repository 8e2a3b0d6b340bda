//! The one error type a client can see: an HTTP status, a stable snake_case `code`, and a message
//! in zh-CN and en. Rendered as RFC 9457 `application/problem+json`; the language follows
//! `Accept-Language` (see [`crate::http::problem`]). Unexpected errors keep their cause chain in
//! the log and never in the response.
//!
//! Every code comes from the one table in [`codes`] ([`ErrorCode`]), which `docs/errors.md`
//! documents; field errors are [`FieldError`]s.

pub mod codes;

pub use codes::{ErrorCode, FieldCode};

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

/// The language of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header: the first of zh/en by quality,
    /// zh-CN when neither is named.
    pub fn from_accept_language(value: Option<&str>) -> Lang {
        let Some(value) = value else {
            return Lang::Zh;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag.starts_with("zh") {
                Lang::Zh
            } else if tag.starts_with("en") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Zh, |(_, l)| l)
    }

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// An error answer. Build one with [`ApiError::new`] or a shorthand; add field errors or other
/// members with [`ApiError::with`].
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

/// One field's refusal inside a 422 `validation_failed` answer: the field's name as the request
/// spells it, a stable [`FieldCode`] and both messages. Becomes an answer through
/// [`ApiError::with_fields`] (or `?`/`into()` for a single one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, e.g. `phone` or `resolution_due`.
    pub field: Cow<'static, str>,
    /// Its stable code.
    pub code: FieldCode,
    /// Message in Chinese.
    pub zh: Cow<'static, str>,
    /// Message in English.
    pub en: Cow<'static, str>,
    /// Further members of this field's entry (e.g. `valid`, the accepted values).
    pub extra: Map<String, Value>,
}

impl FieldError {
    /// A refusal of `field` with `code` and both messages.
    pub fn new(
        field: impl Into<Cow<'static, str>>,
        code: FieldCode,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> FieldError {
        FieldError {
            field: field.into(),
            code,
            zh: zh.into(),
            en: en.into(),
            extra: Map::new(),
        }
    }

    /// Adds a member to this field's entry.
    pub fn with(mut self, key: &str, value: Value) -> FieldError {
        self.extra.insert(key.to_string(), value);
        self
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> ApiError {
        ApiError::with_fields([e])
    }
}

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    code: Cow<'static, str>,
    zh: Cow<'static, str>,
    en: Cow<'static, str>,
    extra: Map<String, Value>,
    retry_after: Option<u64>,
    source: Option<anyhow::Error>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.0.status.as_u16(),
            self.0.code,
            self.0.en
        )?;
        if let Some(source) = &self.0.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl ApiError {
    /// An error with its stable code (which carries its status) and both messages.
    pub fn new(
        code: ErrorCode,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        ApiError::build(
            code.status(),
            Cow::Borrowed(code.as_str()),
            zh.into(),
            en.into(),
        )
    }

    /// A sync rejection answered over HTTP (a register edit or a field action through the web
    /// form): its code is one the sync rules decided (the rejection vocabulary of
    /// `docs/api-sync.md`), so it is relayed as is, not taken from [`ErrorCode`].
    pub fn relay(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        ApiError::build(status, code.into(), zh.into(), en.into())
    }

    fn build(
        status: StatusCode,
        code: Cow<'static, str>,
        zh: Cow<'static, str>,
        en: Cow<'static, str>,
    ) -> ApiError {
        ApiError(Box::new(Inner {
            status,
            code,
            zh,
            en,
            extra: Map::new(),
            retry_after: None,
            source: None,
        }))
    }

    /// Adds a member to the problem body (e.g. `errors`, `valid_codes`, `expected`).
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        self.0.extra.insert(key.to_string(), value);
        self
    }

    /// Sets `Retry-After` (seconds).
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.0.retry_after = Some(seconds.max(1));
        self
    }

    /// 422 `validation_failed` with per-field errors, answered as
    /// `errors: {field: {code, message_zh, message_en}}`. A later error for the same field
    /// replaces an earlier one.
    pub fn with_fields(errors: impl IntoIterator<Item = FieldError>) -> ApiError {
        let mut map = Map::new();
        for e in errors {
            let mut entry = Map::new();
            entry.insert("code".into(), json!(e.code.as_str()));
            entry.insert("message_zh".into(), json!(e.zh));
            entry.insert("message_en".into(), json!(e.en));
            entry.extend(e.extra);
            map.insert(e.field.into_owned(), Value::Object(entry));
        }
        ApiError::new(
            ErrorCode::ValidationFailed,
            "提交的内容有误，请检查标出的项目",
            "Some fields are not valid; see the listed errors",
        )
        .with("errors", Value::Object(map))
    }

    /// 401: no valid access token.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            ErrorCode::Unauthorized,
            "请先登录，或登录已过期",
            "Log in first, or your login has expired",
        )
    }

    /// 429 `too_many_requests` with `Retry-After`.
    pub fn too_many(seconds: u64) -> ApiError {
        ApiError::new(
            ErrorCode::TooManyRequests,
            "操作过于频繁，请稍后再试",
            "Too many requests; please try again later",
        )
        .retry_after(seconds)
    }

    /// 503 `server_busy` with `Retry-After: 1`: the database is busy (a request did not get
    /// SQLite's write turn in time, or another process held the lock past the busy timeout).
    /// Retrying soon succeeds; nothing was changed.
    pub fn busy(cause: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(
            ErrorCode::ServerBusy,
            "服务器繁忙，请稍后重试",
            "The server is busy; please try again shortly",
        )
        .retry_after(1);
        e.0.source = Some(anyhow::anyhow!(cause.into()));
        e
    }

    /// 503: a dependency (the database) is not available right now.
    pub fn unavailable(cause: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(
            ErrorCode::ServiceUnavailable,
            "服务暂时不可用，请稍后再试",
            "The service is temporarily unavailable; please try again",
        )
        .retry_after(5);
        e.0.source = Some(anyhow::anyhow!(cause.into()));
        e
    }

    /// 500: a bug or an unexpected failure. The cause goes to the log only.
    pub fn internal(cause: impl Into<anyhow::Error>) -> ApiError {
        let mut e = ApiError::new(
            ErrorCode::InternalError,
            "服务器内部错误，我们会尽快处理",
            "Internal server error; it has been logged",
        );
        e.0.source = Some(cause.into());
        e
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.0.zh,
            Lang::En => &self.0.en,
        }
    }

    /// The problem+json body in `lang`, with `instance` set to the request id when known.
    pub fn body(&self, lang: Lang, request_id: Option<&str>) -> Value {
        let mut body = json!({
            "type": format!("/problems/{}", self.0.code),
            "title": self.message(lang),
            "status": self.0.status.as_u16(),
            "code": self.0.code,
            "detail": self.message(lang),
            "message_zh": self.0.zh,
            "message_en": self.0.en,
        });
        if let (Some(obj), Some(id)) = (body.as_object_mut(), request_id) {
            obj.insert(
                "instance".into(),
                Value::String(format!("urn:request:{id}")),
            );
        }
        if let Some(obj) = body.as_object_mut() {
            for (k, v) in &self.0.extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        body
    }

    /// The full response in `lang`.
    pub fn render(&self, lang: Lang, request_id: Option<&str>) -> HttpResponse {
        let mut res = HttpResponse::build(self.0.status);
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        res.insert_header((header::CONTENT_LANGUAGE, lang.tag()));
        if let Some(s) = self.0.retry_after {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(s)));
        }
        res.body(self.body(lang, request_id).to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        // The language and request id are applied by the problem middleware; this default is
        // what a response looks like without it.
        self.render(Lang::Zh, None)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> ApiError {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ApiError::new(
                ErrorCode::AlreadyExists,
                "该记录已存在",
                "A record with this key already exists",
            ),
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => ApiError::new(
                ErrorCode::ReferenceNotFound,
                "引用的记录不存在或仍被使用",
                "A referenced record does not exist, or the record is still in use",
            ),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::unavailable(e.to_string())
            }
            Error::NotFound => ApiError::new(ErrorCode::NotFound, "找不到该记录", "No such record"),
            // SQLite's lock held elsewhere past the busy timeout (another process, or a write
            // outside the writer queue): the database is busy, not broken; retry soon.
            Error::DatabaseError(_, info)
                if info.message().contains("database is locked")
                    || info.message().contains("database is busy") =>
            {
                ApiError::busy(e.to_string())
            }
            _ => ApiError::internal(e),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> ApiError {
        ApiError::unavailable(format!("database pool: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("fr, en;q=0.5, zh;q=0.8")),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::Zh);
    }

    #[test]
    fn body_carries_code_and_extra_members() {
        let e = ApiError::with_fields([
            FieldError::new("phone", FieldCode::TooLong, "x", "x"),
            FieldError::new("name", FieldCode::TooLong, "最多 50 个字", "At most 50"),
            FieldError::new(
                "phone",
                FieldCode::InvalidPhone,
                "手机号无效",
                "Not a mobile number",
            ),
        ]);
        let b = e.body(Lang::En, Some("r1"));
        assert_eq!(
            b["errors"],
            json!({
                "phone": {"code": "invalid_phone", "message_zh": "手机号无效", "message_en": "Not a mobile number"},
                "name": {"code": "too_long", "message_zh": "最多 50 个字", "message_en": "At most 50"},
            })
        );
        assert_eq!(b["code"], "validation_failed");
        assert_eq!(b["status"], 422);
        assert_eq!(b["errors"]["phone"]["code"], "invalid_phone");
        assert_eq!(b["instance"], "urn:request:r1");
        assert!(b["title"].as_str().unwrap().starts_with("Some fields"));
    }

    #[test]
    fn internal_cause_is_never_in_the_body() {
        let e = ApiError::internal(anyhow::anyhow!("secret table missing"));
        assert!(!e.body(Lang::En, None).to_string().contains("secret table"));
    }
}
