//! The opaque pull cursor. Its text is `1.<seq>.<scope fingerprint>` in the normal phase and
//! `1r.<seq>.<old fingerprint>.<new fingerprint>.<after id>` while a scope change is being
//! caught up (see `docs/sync.md`). Devices never look inside it.

use uuid::Uuid;

/// Where a device stands in the change stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Every visible change with a sequence number up to `seq` under scope `scope` was sent.
    Stream {
        /// Last change sequence number covered.
        seq: i64,
        /// Fingerprint of the scope the changes were filtered by.
        scope: String,
    },
    /// A scope change from `old` to `new` is being caught up; records up to `seq` were sent
    /// under `old`, and records with ids up to `after` were already re-examined.
    Rescope {
        /// The stream position before the scope changed.
        seq: i64,
        /// Fingerprint of the scope before.
        old: String,
        /// Fingerprint of the scope being caught up to.
        new: String,
        /// Last record id re-examined (`None` = start).
        after: Option<String>,
    },
}

fn fingerprint_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Cursor {
    /// Reads a cursor a device sent back; `None` when it is not one we issued.
    pub fn parse(s: &str) -> Option<Cursor> {
        let parts: Vec<&str> = s.split('.').collect();
        match parts.as_slice() {
            ["1", seq, scope] => {
                let seq: i64 = seq.parse().ok()?;
                (seq >= 0 && fingerprint_ok(scope)).then(|| Cursor::Stream {
                    seq,
                    scope: (*scope).to_owned(),
                })
            }
            ["1r", seq, old, new, after] => {
                let seq: i64 = seq.parse().ok()?;
                let after = match *after {
                    "" => None,
                    a => Some(Uuid::try_parse(a).ok()?.to_string()),
                };
                (seq >= 0 && fingerprint_ok(old) && fingerprint_ok(new)).then(|| Cursor::Rescope {
                    seq,
                    old: (*old).to_owned(),
                    new: (*new).to_owned(),
                    after,
                })
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cursor::Stream { seq, scope } => write!(f, "1.{seq}.{scope}"),
            Cursor::Rescope {
                seq,
                old,
                new,
                after,
            } => write!(f, "1r.{seq}.{old}.{new}.{}", after.as_deref().unwrap_or("")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        for c in [
            Cursor::Stream {
                seq: 42,
                scope: "all".into(),
            },
            Cursor::Rescope {
                seq: 7,
                old: "abc".into(),
                new: "all".into(),
                after: Some(Uuid::nil().to_string()),
            },
            Cursor::Rescope {
                seq: 0,
                old: "abc".into(),
                new: "def".into(),
                after: None,
            },
        ] {
            assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        }
        for bad in [
            "",
            "1",
            "1.-1.all",
            "1.x.all",
            "2.1.all",
            "1.1.a/b",
            "1r.1.a.b.nope",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
