//! Per-client limits of the public endpoints (intake `ANJU_INTAKE_PER_MINUTE`, uploads, tracking
//! look-ups `ANJU_TRACK_PER_MINUTE`): a sliding one-minute window per client address, the
//! address decided by [`crate::http::client_ip`]. Kept in this process's memory (one limiter
//! per server, in [`AppState`]): with several processes behind a balancer each enforces the
//! limit on what it sees, which bounds a flood just as well and needs no shared state.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use actix_web::HttpRequest;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::ApiError;
use crate::state::AppState;

/// The limiter shared by every worker thread of one server. Windows are kept per
/// `(scope, address)`; the scope names the limit.
#[derive(Debug, Default)]
pub struct IntakeLimiter {
    windows: Mutex<HashMap<(String, IpAddr), Window>>,
}

/// Two fixed one-minute windows of one client under one limit.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Start of the current minute (ms).
    minute: i64,
    /// Requests counted in the minute before it.
    previous: u32,
    /// Requests counted in this minute.
    current: u32,
}

/// Counts one request of `req`'s client under `scope`; 429 `too_many_requests` with
/// `Retry-After` past `per_minute`. A request with no known address is not limited.
pub fn check_client(
    state: &AppState,
    req: &HttpRequest,
    scope: &str,
    per_minute: u32,
) -> Result<(), ApiError> {
    match crate::http::client_ip(req) {
        Some(ip) => state
            .limiter
            .check(scope, ip, per_minute, state.clock.now_ms()),
        None => Ok(()),
    }
}

/// Middleware for the tracking look-ups (`/api/v1/track/{code}`, `/t/{code}`): each client
/// address gets `ANJU_TRACK_PER_MINUTE` of them, so tracking codes cannot be guessed at speed.
pub async fn tracking_lookups(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refused = req.app_data::<web::Data<AppState>>().and_then(|state| {
        check_client(state, req.request(), "track", state.config.track_per_minute).err()
    });
    if let Some(e) = refused {
        // As a response, so the outer middleware renders it in the caller's language.
        return Ok(req.error_response(e));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

impl IntakeLimiter {
    /// Count one submission from `ip` at `now_ms`; 429 `too_many_requests` with `Retry-After`
    /// when `per_minute` were already accepted in the last minute (two fixed windows weighted:
    /// a cheap sliding-window estimate). `per_minute = 0` disables the limit.
    pub fn check(
        &self,
        scope: &str,
        ip: IpAddr,
        per_minute: u32,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        if per_minute == 0 {
            return Ok(());
        }
        let Ok(mut map) = self.windows.lock() else {
            return Ok(());
        };
        if map.len() > 100_000 {
            // Bound memory under a spray of addresses: forget windows older than a minute.
            map.retain(|_, w| now_ms - w.minute < 120_000);
        }
        let minute = now_ms.div_euclid(60_000) * 60_000;
        let entry = map.entry((scope.to_string(), ip)).or_insert(Window {
            minute,
            previous: 0,
            current: 0,
        });
        if entry.minute != minute {
            let previous = if minute - entry.minute == 60_000 {
                entry.current
            } else {
                0
            };
            *entry = Window {
                minute,
                previous,
                current: 0,
            };
        }
        let elapsed = (now_ms - minute) as f64 / 60_000.0;
        let estimate = f64::from(entry.previous) * (1.0 - elapsed) + f64::from(entry.current);
        if estimate >= f64::from(per_minute) {
            let wait = ((minute + 60_000 - now_ms) / 1000).max(1) as u64;
            return Err(ApiError::too_many(wait));
        }
        entry.current += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address() {
        let l = IntakeLimiter::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t = 1_800_000_000_000;
        for _ in 0..3 {
            assert!(l.check("s", a, 3, t).is_ok());
        }
        let e = l.check("s", a, 3, t + 10).unwrap_err();
        assert_eq!(e.code(), "too_many_requests");
        assert!(l.check("s", b, 3, t).is_ok());
        // Two minutes later the window is empty again.
        assert!(l.check("s", a, 3, t + 120_000).is_ok());
        assert!(l.check("s", a, 0, t).is_ok());
    }
}
