//! How a device talks to the server: the [`Transport`] trait, the request and answer types of
//! the endpoints in `docs/api-sync.md`, and [`FaultyTransport`] for injecting failures in tests.
//!
//! The sync loop only sees this trait, so it runs unchanged over HTTP ([`crate::http`]), over
//! the in-memory server of [`crate::memory`], or over either wrapped in failures.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anju_shared::protocol::{PullAnswer, PushRequest, PushResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// `POST /api/v1/auth/login` body. The password lives only in memory for the call.
#[derive(Clone, Serialize)]
pub struct LoginRequest {
    /// The user's login name.
    pub username: String,
    /// The password, never stored or logged.
    pub password: String,
    /// Binds the refresh token to this device, so revoking the device kills it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Uuid>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// The user a session belongs to, as the server describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// User id (as the server writes it; a UUID in practice).
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown to people.
    #[serde(default)]
    pub display_name: String,
    /// Role code (e.g. `inspector`).
    #[serde(default)]
    pub role: String,
    /// The user's unit (责任单位), if any.
    #[serde(default)]
    pub unit_id: Option<String>,
}

/// The answer of login and refresh: a fresh token pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Short-lived bearer token for API calls.
    pub access_token: String,
    /// Long-lived token that buys a new pair once; the old one is spent by using it.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    #[serde(default)]
    pub expires_in: u64,
    /// Who is logged in.
    pub user: UserInfo,
}

/// `POST /api/v1/devices` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRegistration {
    /// The id the server issued; every push and pull names it.
    pub device_id: Uuid,
    /// The name the device registered under.
    #[serde(default)]
    pub name: String,
    /// When the server registered it (the server's own representation, e.g. epoch ms).
    #[serde(default)]
    pub registered_at: Value,
}

/// Why a call did not produce an answer the sync loop can use.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// No answer at all (connection refused, cut, timed out). Retried with backoff.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with an error status. 5xx and 429 are retried; 401 triggers a
    /// token refresh; the rest are reported.
    #[error("server answered {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status {
        /// HTTP status.
        status: u16,
        /// The problem+json `code`, when the body had one.
        code: Option<String>,
        /// The problem's `detail` or `title`, or the raw body.
        message: String,
        /// The `Retry-After` delay the server asked for.
        retry_after: Option<Duration>,
        /// The whole error body when it was JSON (e.g. a `ProtocolMismatch`).
        body: Option<Value>,
    },
    /// The server answered 2xx with a body this device cannot read.
    #[error("the server answered something this device cannot read: {0}")]
    Garbage(String),
}

impl TransportError {
    /// An error status with a problem code and no body, as test transports answer.
    pub fn status(status: u16, code: &str, message: impl Into<String>) -> TransportError {
        TransportError::Status {
            status,
            code: Some(code.to_owned()),
            message: message.into(),
            retry_after: None,
            body: None,
        }
    }

    /// Worth trying again after a pause: no answer, a 5xx, or a 429.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportError::Network(_) => true,
            TransportError::Status { status, .. } => *status >= 500 || *status == 429,
            TransportError::Garbage(_) => false,
        }
    }

    /// The problem code, if the server gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            TransportError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, if the server answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            TransportError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The server endpoints a device uses. Implementations do one request per call and no retries:
/// the sync loop owns retries, backoff and token refresh. A 410 reset-required answer to a pull
/// is `Ok(PullAnswer::ResetRequired)`, not an error.
pub trait Transport: Send + Sync {
    /// `POST /api/v1/auth/login`.
    fn login(&self, req: &LoginRequest) -> Result<Session, TransportError>;
    /// `POST /api/v1/auth/refresh`; spends `refresh_token`.
    fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError>;
    /// `POST /api/v1/devices`.
    fn register_device(
        &self,
        access_token: &str,
        name: &str,
        platform: &str,
    ) -> Result<DeviceRegistration, TransportError>;
    /// `POST /api/v1/sync/push`.
    fn push(&self, access_token: &str, req: &PushRequest) -> Result<PushResponse, TransportError>;
    /// `GET /api/v1/sync/pull`.
    fn pull(
        &self,
        access_token: &str,
        device_id: Uuid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullAnswer, TransportError>;
    /// `POST /api/v1/attachments/missing`: which of `hashes` the server lacks.
    fn missing_attachments(
        &self,
        access_token: &str,
        hashes: &[String],
    ) -> Result<Vec<String>, TransportError>;
    /// `PUT /api/v1/attachments/{sha256}`.
    fn put_attachment(
        &self,
        access_token: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TransportError>;
    /// `GET /api/v1/areas` or `GET /api/v1/units` (`kind` = `areas` / `units`): the
    /// organisation directory, to name areas and units by code or name. A transport without a
    /// directory says so.
    fn directory(&self, access_token: &str, kind: &str) -> Result<Value, TransportError> {
        let _ = access_token;
        Err(TransportError::Network(format!(
            "this connection cannot look up {kind}"
        )))
    }
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn login(&self, req: &LoginRequest) -> Result<Session, TransportError> {
        (**self).login(req)
    }
    fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        (**self).refresh(refresh_token)
    }
    fn register_device(
        &self,
        access_token: &str,
        name: &str,
        platform: &str,
    ) -> Result<DeviceRegistration, TransportError> {
        (**self).register_device(access_token, name, platform)
    }
    fn push(&self, access_token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        (**self).push(access_token, req)
    }
    fn pull(
        &self,
        access_token: &str,
        device_id: Uuid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullAnswer, TransportError> {
        (**self).pull(access_token, device_id, cursor, limit)
    }
    fn missing_attachments(
        &self,
        access_token: &str,
        hashes: &[String],
    ) -> Result<Vec<String>, TransportError> {
        (**self).missing_attachments(access_token, hashes)
    }
    fn put_attachment(
        &self,
        access_token: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TransportError> {
        (**self).put_attachment(access_token, sha256, bytes)
    }
    fn directory(&self, access_token: &str, kind: &str) -> Result<Value, TransportError> {
        (**self).directory(access_token, kind)
    }
}

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Login.
    Login,
    /// Token refresh.
    Refresh,
    /// Device registration.
    Register,
    /// Push.
    Push,
    /// Pull.
    Pull,
    /// Missing-attachments query.
    Missing,
    /// Attachment upload.
    PutAttachment,
}

/// A failure to inject into the next call of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the server: a network error, no effect.
    CutBeforeSend,
    /// The server processes the request, then the connection drops before the answer arrives.
    CutAfterSend,
    /// The request reaches the server twice (a proxy retried it); the second answer is returned.
    Duplicate,
    /// The server answers this status without doing anything (e.g. 503, 429).
    Status(u16),
}

/// Wraps a transport and fails chosen calls, for tests of crash and retry safety. Faults are
/// queued per endpoint and each is used by exactly one call, in order.
pub struct FaultyTransport<T> {
    inner: T,
    faults: Mutex<HashMap<Endpoint, VecDeque<Fault>>>,
}

impl<T: Transport> FaultyTransport<T> {
    /// No faults queued yet: behaves exactly like `inner`.
    pub fn new(inner: T) -> FaultyTransport<T> {
        FaultyTransport {
            inner,
            faults: Mutex::new(HashMap::new()),
        }
    }

    /// Makes the next not-yet-faulted call to `endpoint` fail with `fault`.
    pub fn inject(&self, endpoint: Endpoint, fault: Fault) {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        faults.entry(endpoint).or_default().push_back(fault);
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn run<R>(
        &self,
        endpoint: Endpoint,
        call: impl Fn() -> Result<R, TransportError>,
    ) -> Result<R, TransportError> {
        let fault = {
            let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
            faults.get_mut(&endpoint).and_then(VecDeque::pop_front)
        };
        match fault {
            None => call(),
            Some(Fault::CutBeforeSend) => Err(TransportError::Network(
                "injected: connection refused".into(),
            )),
            Some(Fault::CutAfterSend) => {
                let _ = call();
                Err(TransportError::Network(
                    "injected: connection reset after the request was sent".into(),
                ))
            }
            Some(Fault::Duplicate) => {
                let _ = call();
                call()
            }
            Some(Fault::Status(status)) => Err(TransportError::Status {
                status,
                code: None,
                message: format!("injected status {status}"),
                retry_after: Some(Duration::ZERO),
                body: None,
            }),
        }
    }
}

impl<T: Transport> Transport for FaultyTransport<T> {
    fn login(&self, req: &LoginRequest) -> Result<Session, TransportError> {
        self.run(Endpoint::Login, || self.inner.login(req))
    }
    fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        self.run(Endpoint::Refresh, || self.inner.refresh(refresh_token))
    }
    fn register_device(
        &self,
        access_token: &str,
        name: &str,
        platform: &str,
    ) -> Result<DeviceRegistration, TransportError> {
        self.run(Endpoint::Register, || {
            self.inner.register_device(access_token, name, platform)
        })
    }
    fn push(&self, access_token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        self.run(Endpoint::Push, || self.inner.push(access_token, req))
    }
    fn pull(
        &self,
        access_token: &str,
        device_id: Uuid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullAnswer, TransportError> {
        self.run(Endpoint::Pull, || {
            self.inner.pull(access_token, device_id, cursor, limit)
        })
    }
    fn missing_attachments(
        &self,
        access_token: &str,
        hashes: &[String],
    ) -> Result<Vec<String>, TransportError> {
        self.run(Endpoint::Missing, || {
            self.inner.missing_attachments(access_token, hashes)
        })
    }
    fn put_attachment(
        &self,
        access_token: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TransportError> {
        self.run(Endpoint::PutAttachment, || {
            self.inner
                .put_attachment(access_token, sha256, bytes.clone())
        })
    }
}
