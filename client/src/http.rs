//! [`HttpTransport`]: the [`Transport`] over HTTPS with a blocking reqwest client.
//!
//! Blocking on purpose: the store is synchronous SQLite, a CLI has nothing else to do while it
//! waits, and a phone app calls the crate from a background thread. Do not call it from inside
//! an async runtime's worker thread (use `spawn_blocking` or a plain thread).

use std::time::Duration;

use anju_shared::protocol::{
    PROTOCOL_VERSION, PullAnswer, PullResponse, PushRequest, PushResponse, ResetRequired,
};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::{StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::transport::{DeviceRegistration, LoginRequest, Session, Transport, TransportError};

/// Speaks the sync API of `docs/api-sync.md` to one server. One request per call, no retries
/// (the sync loop retries).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    base: Url,
    client: Client,
}

impl HttpTransport {
    /// A transport for the server at `base_url` (e.g. `https://anju.example.gov.cn`). Fails on a
    /// URL that is not http(s).
    pub fn new(base_url: &str) -> Result<HttpTransport, TransportError> {
        let mut base = Url::parse(base_url).map_err(|e| {
            TransportError::Network(format!("invalid server URL {base_url:?}: {e}"))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(TransportError::Network(format!(
                "server URL must start with http:// or https://: {base_url:?}"
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("anju-device/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Network(format!("cannot start HTTP client: {e}")))?;
        Ok(HttpTransport { base, client })
    }

    fn url(&self, path: &str) -> Result<Url, TransportError> {
        self.base
            .join(path)
            .map_err(|e| TransportError::Network(format!("bad URL path {path}: {e}")))
    }

    fn post_json<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<R, TransportError> {
        let mut req = self.client.post(self.url(path)?).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read_json(send(req, false)?)
    }
}

/// Sends and sorts the answer: 2xx (and, for a pull, 410 reset-required) is returned, any other
/// status becomes [`TransportError::Status`].
fn send(req: RequestBuilder, gone_is_an_answer: bool) -> Result<Response, TransportError> {
    let resp = req
        .header("X-Anju-Protocol", PROTOCOL_VERSION.to_string())
        .send()
        .map_err(|e| TransportError::Network(error_chain(&e)))?;
    if resp.status().is_success() || (gone_is_an_answer && resp.status() == StatusCode::GONE) {
        return Ok(resp);
    }
    Err(status_error(resp))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn status_error(resp: Response) -> TransportError {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = resp.text().unwrap_or_default();
    let body: Option<Value> = serde_json::from_str(&text).ok();
    let field = |name: &str| {
        body.as_ref()
            .and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let code = field("code");
    let message = field("message_en")
        .or_else(|| field("detail"))
        .or_else(|| field("title"))
        .unwrap_or_else(|| text.chars().take(300).collect());
    TransportError::Status {
        status,
        code,
        message,
        retry_after,
        body,
    }
}

fn read_json<R: DeserializeOwned>(resp: Response) -> Result<R, TransportError> {
    let bytes = resp
        .bytes()
        .map_err(|e| TransportError::Network(error_chain(&e)))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let head: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        TransportError::Garbage(format!("{e} (answer began {head:?})"))
    })
}

impl Transport for HttpTransport {
    fn login(&self, req: &LoginRequest) -> Result<Session, TransportError> {
        self.post_json("api/v1/auth/login", None, req)
    }

    fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        self.post_json(
            "api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": refresh_token }),
        )
    }

    fn register_device(
        &self,
        access_token: &str,
        name: &str,
        platform: &str,
    ) -> Result<DeviceRegistration, TransportError> {
        self.post_json(
            "api/v1/devices",
            Some(access_token),
            &json!({ "name": name, "platform": platform }),
        )
    }

    fn push(&self, access_token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        self.post_json("api/v1/sync/push", Some(access_token), req)
    }

    fn pull(
        &self,
        access_token: &str,
        device_id: Uuid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullAnswer, TransportError> {
        let mut url = self.url("api/v1/sync/pull")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("device_id", &device_id.to_string());
            if let Some(c) = cursor {
                q.append_pair("cursor", c);
            }
            q.append_pair("limit", &limit.to_string());
        }
        let resp = send(self.client.get(url).bearer_auth(access_token), true)?;
        if resp.status() == StatusCode::GONE {
            let reset: ResetRequired = read_json(resp).unwrap_or_default();
            return Ok(PullAnswer::ResetRequired(reset));
        }
        let page: PullResponse = read_json(resp)?;
        Ok(PullAnswer::Page(page))
    }

    fn missing_attachments(
        &self,
        access_token: &str,
        hashes: &[String],
    ) -> Result<Vec<String>, TransportError> {
        #[derive(serde::Deserialize)]
        struct Missing {
            missing: Vec<String>,
        }
        let m: Missing = self.post_json(
            "api/v1/attachments/missing",
            Some(access_token),
            &json!({ "hashes": hashes }),
        )?;
        Ok(m.missing)
    }

    fn directory(
        &self,
        access_token: &str,
        kind: &str,
    ) -> Result<serde_json::Value, TransportError> {
        if !matches!(kind, "areas" | "units") {
            return Err(TransportError::Network(format!("no directory {kind}")));
        }
        let req = self
            .client
            .get(self.url(&format!("api/v1/{kind}"))?)
            .bearer_auth(access_token);
        read_json(send(req, false)?)
    }

    fn put_attachment(
        &self,
        access_token: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TransportError> {
        let req = self
            .client
            .put(self.url(&format!("api/v1/attachments/{sha256}"))?)
            .bearer_auth(access_token)
            .header(reqwest::header::CONTENT_TYPE, sniff_image_type(&bytes))
            .body(bytes);
        send(req, false).map(|_| ())
    }
}

/// The content type of a photo from its first bytes (the server accepts JPEG, PNG and WebP;
/// anything else is `application/octet-stream`).
pub fn sniff_image_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}
