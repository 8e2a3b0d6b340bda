//! Per-IP intake limit (`ANJU_INTAKE_PER_MINUTE`): a sliding one-minute window per address.
//! Kept in the app's memory: with several processes behind a balancer each enforces the
//! limit on what it sees, which bounds a flood just as well and needs no shared state.

// Row tuples mirror the columns each query selects; naming every one would hide that.
#![allow(clippy::type_complexity)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::ApiError;

/// The limiter shared by every worker thread of one app (it lives in the app's state, so
/// several servers in one process, as in tests, never share counts). Windows are kept per
/// `(scope, address)`; the scope names the limit (`intake`, `uploads`).
#[derive(Debug, Default)]
pub struct IntakeLimiter {
    windows: Mutex<HashMap<(String, IpAddr), (i64, u32, u32)>>,
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
            map.retain(|_, (start, _, _)| now_ms - *start < 120_000);
        }
        let minute = now_ms.div_euclid(60_000) * 60_000;
        let entry = map.entry((scope.to_string(), ip)).or_insert((minute, 0, 0));
        if entry.0 != minute {
            let previous = if minute - entry.0 == 60_000 {
                entry.2
            } else {
                0
            };
            *entry = (minute, previous, 0);
        }
        let elapsed = (now_ms - minute) as f64 / 60_000.0;
        let estimate = f64::from(entry.1) * (1.0 - elapsed) + f64::from(entry.2);
        if estimate >= f64::from(per_minute) {
            let wait = ((minute + 60_000 - now_ms) / 1000).max(1) as u64;
            return Err(ApiError::too_many(wait));
        }
        entry.2 += 1;
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
