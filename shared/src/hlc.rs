//! Hybrid logical clock (混合逻辑时钟): per-field change stamps that order edits from devices
//! whose wall clocks disagree.
//!
//! A stamp is `(wall_ms, counter, node)`, compared in that order. Its string form has a
//! fixed-width prefix, so comparing the strings byte by byte gives the same order as comparing
//! the stamps (it can be stored in a text column and sorted by the database).

use std::cmp::Ordering;
use std::fmt;

/// The default for [`HlcClock::max_drift_ms`]: a remote clock more than five minutes ahead of
/// ours is refused.
pub const DEFAULT_MAX_DRIFT_MS: u64 = 5 * 60 * 1000;

/// One hybrid-logical-clock stamp. Totally ordered by `(wall_ms, counter, node)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch, as the issuing node believed.
    pub wall_ms: u64,
    /// Tie-breaker for events within the same millisecond.
    pub counter: u32,
    /// The issuing node (device or server id); makes stamps from different nodes distinct.
    pub node: String,
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, self.node.as_str()).cmp(&(
            other.wall_ms,
            other.counter,
            other.node.as_str(),
        ))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Why a stamp string could not be read, or a remote stamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    /// The text is not `WWWWWWWWWWWWWWWW-CCCCCCCC-node` (16 and 8 lowercase hex digits).
    #[error("malformed hybrid clock stamp: {0:?}")]
    Malformed(String),
    /// The remote wall time is further ahead of our wall time than the allowed drift.
    #[error("remote clock is {ahead_ms} ms ahead, more than the allowed {max_drift_ms} ms")]
    TooFarAhead {
        /// How far the remote stamp is ahead of our wall clock.
        ahead_ms: u64,
        /// The configured limit.
        max_drift_ms: u64,
    },
    /// The counter would overflow within one millisecond (more than 2^32 events).
    #[error("hybrid clock counter overflow")]
    CounterOverflow,
}

impl Hlc {
    /// Parses the string form written by [`Hlc`]'s `Display`; `parse(format(x)) == x`.
    pub fn parse(s: &str) -> Result<Hlc, StampError> {
        let bad = || StampError::Malformed(s.to_owned());
        let bytes = s.as_bytes();
        if bytes.len() < 27 || bytes[16] != b'-' || bytes[25] != b'-' {
            return Err(bad());
        }
        let is_hex = |part: &str| part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let (wall, counter, node) = (&s[..16], &s[17..25], &s[26..]);
        if !is_hex(wall) || !is_hex(counter) || node.is_empty() {
            return Err(bad());
        }
        Ok(Hlc {
            wall_ms: u64::from_str_radix(wall, 16).map_err(|_| bad())?,
            counter: u32::from_str_radix(counter, 16).map_err(|_| bad())?,
            node: node.to_owned(),
        })
    }
}

impl fmt::Display for Hlc {
    /// `{wall_ms:016x}-{counter:08x}-{node}`: sorts as the stamps do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:016x}-{:08x}-{}",
            self.wall_ms, self.counter, self.node
        )
    }
}

impl std::str::FromStr for Hlc {
    type Err = StampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hlc::parse(s)
    }
}

/// A node's clock. Every stamp it hands out is greater than every stamp it handed out or
/// observed before. Wall time is passed in, so the clock does no system calls.
#[derive(Debug, Clone)]
pub struct HlcClock {
    node: String,
    wall_ms: u64,
    counter: u32,
    max_drift_ms: u64,
}

impl HlcClock {
    /// A fresh clock for `node` that refuses remote stamps more than `max_drift_ms` ahead.
    pub fn new(node: impl Into<String>, max_drift_ms: u64) -> HlcClock {
        HlcClock {
            node: node.into(),
            wall_ms: 0,
            counter: 0,
            max_drift_ms,
        }
    }

    /// Resumes a clock from the last stamp it issued (e.g. stored on a device), so stamps keep
    /// increasing across restarts.
    pub fn resume(last: &Hlc, max_drift_ms: u64) -> HlcClock {
        HlcClock {
            node: last.node.clone(),
            wall_ms: last.wall_ms,
            counter: last.counter,
            max_drift_ms,
        }
    }

    /// The configured maximum drift in milliseconds.
    pub fn max_drift_ms(&self) -> u64 {
        self.max_drift_ms
    }

    /// A new stamp for a local event at wall time `now_ms`; strictly greater than any before.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        if now_ms > self.wall_ms {
            self.wall_ms = now_ms;
            self.counter = 0;
        } else if self.counter == u32::MAX {
            // Borrow the next millisecond rather than fail: order is what matters.
            self.wall_ms += 1;
            self.counter = 0;
        } else {
            self.counter += 1;
        }
        self.current()
    }

    /// Merges a stamp received from another node and returns a new local stamp greater than
    /// both; refuses a remote stamp more than `max_drift_ms` ahead of `now_ms` (the clock is
    /// left unchanged then).
    pub fn observe(&mut self, remote: &Hlc, now_ms: u64) -> Result<Hlc, StampError> {
        if remote.wall_ms > now_ms.saturating_add(self.max_drift_ms) {
            return Err(StampError::TooFarAhead {
                ahead_ms: remote.wall_ms - now_ms,
                max_drift_ms: self.max_drift_ms,
            });
        }
        let wall = now_ms.max(self.wall_ms).max(remote.wall_ms);
        let counter = if wall == self.wall_ms && wall == remote.wall_ms {
            self.counter.max(remote.counter).checked_add(1)
        } else if wall == self.wall_ms {
            self.counter.checked_add(1)
        } else if wall == remote.wall_ms {
            remote.counter.checked_add(1)
        } else {
            Some(0)
        };
        let counter = counter.ok_or(StampError::CounterOverflow)?;
        self.wall_ms = wall;
        self.counter = counter;
        Ok(self.current())
    }

    fn current(&self) -> Hlc {
        Hlc {
            wall_ms: self.wall_ms,
            counter: self.counter,
            node: self.node.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(wall_ms: u64, counter: u32, node: &str) -> Hlc {
        Hlc {
            wall_ms,
            counter,
            node: node.into(),
        }
    }

    #[test]
    fn orders_by_wall_then_counter_then_node() {
        assert!(h(1, 9, "z") < h(2, 0, "a"));
        assert!(h(2, 0, "z") < h(2, 1, "a"));
        assert!(h(2, 1, "a") < h(2, 1, "b"));
        assert_eq!(h(2, 1, "a").cmp(&h(2, 1, "a")), Ordering::Equal);
    }

    #[test]
    fn string_form_round_trips_and_sorts_like_stamps() {
        let mut stamps = vec![
            h(1_700_000_000_000, 0, "dev-b"),
            h(1_700_000_000_000, 10, "dev-a"),
            h(1_700_000_000_000, 2, "dev-a"),
            h(999, u32::MAX, "srv"),
            h(u64::MAX, 0, "a"),
            h(1_700_000_000_001, 0, "a-b-c"),
            h(1_700_000_000_000, 2, "dev-a-long"),
        ];
        for s in &stamps {
            assert_eq!(Hlc::parse(&s.to_string()).as_ref(), Ok(s));
        }
        let mut strings: Vec<String> = stamps.iter().map(Hlc::to_string).collect();
        stamps.sort();
        strings.sort();
        let sorted: Vec<String> = stamps.iter().map(Hlc::to_string).collect();
        assert_eq!(strings, sorted);
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            "",
            "0000018c1a2b3c4d-00000000-",
            "0000018c1a2b3c4d-00000000",
            "0000018C1A2B3C4D-00000000-n",
            "18c1a2b3c4d-00000000-n",
            "0000018c1a2b3c4d_00000000-n",
            "0000018c1a2b3c4d-0000000g-n",
        ] {
            assert!(Hlc::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn tick_is_strictly_increasing_even_when_wall_clock_goes_back() {
        let mut c = HlcClock::new("d1", DEFAULT_MAX_DRIFT_MS);
        let a = c.tick(1000);
        let b = c.tick(1000);
        let d = c.tick(500);
        let e = c.tick(2000);
        assert!(a < b && b < d && d < e);
        assert_eq!(d.wall_ms, 1000);
        assert_eq!(e, h(2000, 0, "d1"));
    }

    #[test]
    fn tick_borrows_next_millisecond_on_counter_overflow() {
        let mut c = HlcClock::resume(&h(10, u32::MAX, "d"), DEFAULT_MAX_DRIFT_MS);
        assert_eq!(c.tick(5), h(11, 0, "d"));
    }

    #[test]
    fn observe_moves_past_remote_and_local() {
        let mut c = HlcClock::new("srv", DEFAULT_MAX_DRIFT_MS);
        c.tick(1000);
        let remote = h(5000, 7, "dev");
        let after = c.observe(&remote, 1200).unwrap();
        assert_eq!(after, h(5000, 8, "srv"));
        assert!(after > remote);
        assert!(c.tick(1300) > after);
        // Our wall clock is ahead: counter resets.
        assert_eq!(
            c.observe(&h(10, 3, "dev"), 9000).unwrap(),
            h(9000, 0, "srv")
        );
    }

    #[test]
    fn observe_rejects_remote_too_far_ahead_and_stays_unchanged() {
        let mut c = HlcClock::new("srv", 60_000);
        let before = c.tick(1_000_000);
        let err = c.observe(&h(1_000_000 + 60_001, 0, "dev"), 1_000_000);
        assert_eq!(
            err,
            Err(StampError::TooFarAhead {
                ahead_ms: 60_001,
                max_drift_ms: 60_000
            })
        );
        assert!(
            c.observe(&h(1_000_000 + 60_000, 0, "dev"), 1_000_000)
                .is_ok()
        );
        let mut fresh = HlcClock::new("srv", 60_000);
        fresh.tick(1_000_000);
        let _ = fresh.observe(&h(u64::MAX, 0, "dev"), 1_000_000);
        assert_eq!(fresh.tick(1_000_000), h(1_000_000, 1, "srv"));
        assert!(before.wall_ms == 1_000_000);
    }
}
