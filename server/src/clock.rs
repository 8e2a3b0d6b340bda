//! The server's time source ([`TimeSource`]). Production reads the system time; tests move it
//! forward to reach deadlines without waiting. Every instant the server stores comes from here.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;

/// The server's time source: wall-clock time plus an offset that only tests change. Cheap to
/// clone; clones share the offset.
#[derive(Clone, Default)]
pub struct TimeSource {
    offset_ms: Arc<AtomicI64>,
}

impl TimeSource {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        let ms = self.now_ms();
        Timestamp::from_millisecond(ms).unwrap_or_else(|_| Timestamp::now())
    }

    /// The current time in milliseconds since the Unix epoch (how instants are stored).
    pub fn now_ms(&self) -> i64 {
        Timestamp::now().as_millisecond() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone) forward by `ms`. For tests and simulations.
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// Milliseconds since the epoch as a timestamp; out-of-range values clamp to the epoch.
pub fn from_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// An instant as RFC 3339 with the city's offset, e.g. `2026-11-26T09:30:00+08:00`.
pub fn format_local(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    from_ms(ms)
        .to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let a = TimeSource::default();
        let b = a.clone();
        let before = b.now_ms();
        a.advance_ms(86_400_000);
        assert!(b.now_ms() - before >= 86_400_000);
    }

    #[test]
    fn local_format_has_the_offset() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        assert_eq!(format_local(0, &tz), "1970-01-01T08:00:00+08:00");
    }
}
