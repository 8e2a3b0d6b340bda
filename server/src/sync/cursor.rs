//! The opaque pull cursor. Its body is `<seq>.<scope fingerprint>` in the normal phase and
//! `<seq>.<old fingerprint>.<new fingerprint>.<after id>` while a scope change is being caught
//! up (see `docs/sync.md`). The server hands it out signed for one device
//! (`2.<body>.<mac>` / `2r.<body>.<mac>`, HMAC-SHA256 with [`CursorKey`]), so a device cannot
//! make up a position or a scope; devices never look inside it. The unsigned cursors of older
//! servers (`1.` / `1r.`) are answered with a reset: the device downloads its scope again.

use base64::Engine;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::db::schema::app_settings;

/// Bytes of the MAC kept in a cursor (128 bits).
const MAC_BYTES: usize = 16;

/// The server key that signs pull cursors. Kept in `app_settings` (`sync_cursor_key`), created
/// by the first process that needs it, so every process of one database signs alike.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

/// Why a cursor a device sent back is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorError {
    /// An unsigned cursor of an older server: the device must download its scope again.
    Unsigned,
    /// Not a cursor this server signed for this device (forged, altered, or another's).
    Invalid,
}

impl CursorKey {
    /// A key from its 32 bytes.
    pub fn new(bytes: [u8; 32]) -> CursorKey {
        CursorKey(bytes)
    }

    /// The key stored in the database, created (by exactly one of several processes starting
    /// together) when there is none.
    pub fn load_or_create(conn: &mut DbConnection) -> QueryResult<CursorKey> {
        const KEY: &str = "sync_cursor_key";
        let read = |conn: &mut DbConnection| -> QueryResult<Option<CursorKey>> {
            let hex_key: Option<String> = app_settings::table
                .find(KEY)
                .select(app_settings::value)
                .first(conn)
                .optional()?;
            Ok(hex_key
                .and_then(|h| hex::decode(h).ok())
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(CursorKey))
        };
        if let Some(k) = read(conn)? {
            return Ok(k);
        }
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let inserted = diesel::insert_into(app_settings::table)
            .values((
                app_settings::key.eq(KEY),
                app_settings::value.eq(hex::encode(fresh)),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => Ok(CursorKey(fresh)),
            // Another process stored one first: use theirs.
            Err(_) => read(conn)?.ok_or(diesel::result::Error::NotFound),
        }
    }

    fn mac(&self, device: Uuid, body: &str) -> Hmac<Sha256> {
        // A 32-byte key is always a valid HMAC key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"anju-pull-cursor\0");
        mac.update(device.as_bytes());
        mac.update(body.as_bytes());
        mac
    }

    /// The cursor text handed to `device`.
    pub fn sign(&self, device: Uuid, cursor: &Cursor) -> String {
        let body = match cursor.to_string().split_once('.') {
            Some(("1", rest)) => format!("2.{rest}"),
            Some((_, rest)) => format!("2r.{rest}"),
            None => String::new(),
        };
        let tag = self.mac(device, &body).finalize().into_bytes();
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..MAC_BYTES]);
        format!("{body}.{tag}")
    }

    /// Reads a cursor `device` sent back: the position when this server signed it for this
    /// device, [`CursorError::Unsigned`] for an older server's unsigned cursor, else
    /// [`CursorError::Invalid`].
    pub fn verify(&self, device: Uuid, text: &str) -> Result<Cursor, CursorError> {
        if Cursor::parse(text).is_some() {
            return Err(CursorError::Unsigned);
        }
        let (body, tag) = text.rsplit_once('.').ok_or(CursorError::Invalid)?;
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CursorError::Invalid)?;
        if tag.len() != MAC_BYTES {
            return Err(CursorError::Invalid);
        }
        self.mac(device, body)
            .verify_truncated_left(&tag)
            .map_err(|_| CursorError::Invalid)?;
        let unsigned = match body.split_once('.') {
            Some(("2", rest)) => format!("1.{rest}"),
            Some(("2r", rest)) => format!("1r.{rest}"),
            _ => return Err(CursorError::Invalid),
        };
        Cursor::parse(&unsigned).ok_or(CursorError::Invalid)
    }
}

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
    /// Reads the unsigned text form (`1.` / `1r.`); `None` when it is not one. Only
    /// [`CursorKey::verify`] reads what a device sends.
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
    fn signed_cursors_verify_only_unaltered_and_for_their_device() {
        let key = CursorKey::new([7; 32]);
        let device = Uuid::now_v7();
        for c in [
            Cursor::Stream {
                seq: 42,
                scope: "abc".into(),
            },
            Cursor::Rescope {
                seq: 7,
                old: "abc".into(),
                new: "all".into(),
                after: None,
            },
        ] {
            let text = key.sign(device, &c);
            assert_eq!(key.verify(device, &text), Ok(c.clone()));
            assert_eq!(
                key.verify(Uuid::now_v7(), &text),
                Err(CursorError::Invalid),
                "another device's cursor"
            );
            assert_eq!(
                CursorKey::new([8; 32]).verify(device, &text),
                Err(CursorError::Invalid)
            );
            let forged = text.replacen("abc", "all", 1);
            assert_eq!(key.verify(device, &forged), Err(CursorError::Invalid));
            let seq = match &c {
                Cursor::Stream { seq, .. } | Cursor::Rescope { seq, .. } => *seq,
            };
            let moved = text.replacen(&format!(".{seq}."), ".0.", 1);
            assert_ne!(moved, text);
            assert_eq!(key.verify(device, &moved), Err(CursorError::Invalid));
            assert_eq!(
                key.verify(device, &c.to_string()),
                Err(CursorError::Unsigned)
            );
        }
        for junk in ["", "x", "2.1.all", "2.1.all.", "2.1.all.AAAA", "2.1.all.!!"] {
            assert_eq!(
                key.verify(device, junk),
                Err(CursorError::Invalid),
                "{junk}"
            );
        }
    }

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
