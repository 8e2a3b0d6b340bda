//! How a device syncs: batch sizes, page sizes and the retry policy. Below both the device
//! ([`crate::device`]) and the sync loop ([`crate::sync`]), which each read it, so neither needs
//! the other's module for its settings.

use std::time::Duration;

use rand::Rng;

use crate::error::Result;
use crate::transport::TransportError;

/// The most mutations one push carries (the server takes up to 1000).
pub const MAX_BATCH: usize = 500;

/// How failed calls are retried: exponential backoff with jitter, honouring `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (at least 1).
    pub max_attempts: u32,
    /// The pause before the second attempt; doubled after each failure.
    pub base_delay: Duration,
    /// No pause is longer than this (a `Retry-After` is capped by it too).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No pauses and `max_attempts` tries: for tests.
    pub fn immediate(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// The pause after failed attempt number `attempt` (0-based): half to all of
    /// `base * 2^attempt`, capped; or the server's `Retry-After`, capped.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_delay);
        }
        let exp = self
            .base_delay
            .saturating_mul(2_u32.saturating_pow(attempt.min(20)))
            .min(self.max_delay);
        let ms = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::rng().random_range(ms / 2..=ms))
    }

    /// Calls `f` until it succeeds, fails with an error that is not worth retrying, or the
    /// attempts are used up; pauses between attempts.
    pub fn run<R>(
        &self,
        mut f: impl FnMut() -> Result<R, TransportError>,
    ) -> Result<R, TransportError> {
        let mut attempt = 0;
        loop {
            match f() {
                Err(e) if e.is_retryable() && attempt + 1 < self.max_attempts.max(1) => {
                    let retry_after = match &e {
                        TransportError::Status { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    std::thread::sleep(self.delay(attempt, retry_after));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Knobs of the sync loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Mutations per push (1..=[`MAX_BATCH`]).
    pub batch_size: usize,
    /// Changes per pull page (1..=1000).
    pub pull_limit: u32,
    /// Retries of each call.
    pub retry: RetryPolicy,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            batch_size: MAX_BATCH,
            pull_limit: 1000,
            retry: RetryPolicy::default(),
        }
    }
}
