//! A record's full history (every version: who, from which device or the office, when, each
//! field old → new) and its open conflicts. Read-only.

use std::collections::{BTreeMap, HashMap};

use anju_shared::merge::FieldState;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::schema::{register_office_devices, register_record_versions};
use crate::db::DbConnection;
use crate::db::schema::{devices, users};
use crate::sync::schema::sync_conflicts;

/// One changed field of one version.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    /// Field name.
    pub field: String,
    /// Its Chinese label.
    pub label_zh: String,
    /// Value before (null when the record was created or the field was empty).
    pub old: Value,
    /// Value after.
    pub new: Value,
}

/// Who made a change, as people read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Who {
    /// `device`, `office`, `system` or `review` (a conflict decided by a person).
    pub source: String,
    /// The person's display name, if known.
    pub user: Option<String>,
    /// The device's name (devices only).
    pub device: Option<String>,
    /// The raw author stamp of the sync store (`device:<id>`, `user:<id>`).
    pub author: String,
}

/// One version of a record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Version {
    /// Record version.
    pub version: i64,
    /// When, ms since the epoch.
    pub at: i64,
    /// Who made it (the author of its changed fields).
    pub who: Who,
    /// Whether the record was deleted by this version.
    pub deleted: bool,
    /// The fields it changed.
    pub changes: Vec<FieldChange>,
}

/// Resolves author stamps to people and devices, caching lookups.
#[derive(Default)]
pub struct Authors {
    cache: HashMap<String, Who>,
}

impl Authors {
    /// Who `author` (`device:<id>` or `user:<id>`) is.
    pub fn who(&mut self, conn: &mut DbConnection, author: &str) -> QueryResult<Who> {
        if let Some(w) = self.cache.get(author) {
            return Ok(w.clone());
        }
        let user_name = |conn: &mut DbConnection, id: &str| -> QueryResult<Option<String>> {
            users::table
                .find(id)
                .select(users::display_name)
                .first(conn)
                .optional()
        };
        let who = if let Some(id) = author.strip_prefix("device:") {
            let office: Option<(Option<String>, String)> = register_office_devices::table
                .find(id)
                .select((
                    register_office_devices::user_id,
                    register_office_devices::label,
                ))
                .first(conn)
                .optional()?;
            match office {
                Some((None, label)) => Who {
                    source: "system".into(),
                    user: Some(label),
                    device: None,
                    author: author.into(),
                },
                Some((Some(user), label)) => Who {
                    source: "office".into(),
                    user: Some(user_name(conn, &user)?.unwrap_or(label)),
                    device: None,
                    author: author.into(),
                },
                None => {
                    let dev: Option<(String, String)> = devices::table
                        .find(id)
                        .select((devices::name, devices::user_id))
                        .first(conn)
                        .optional()?;
                    let (device, user) = match dev {
                        Some((name, user)) => (Some(name), user_name(conn, &user)?),
                        None => (None, None),
                    };
                    Who {
                        source: "device".into(),
                        user,
                        device,
                        author: author.into(),
                    }
                }
            }
        } else if let Some(id) = author.strip_prefix("user:") {
            Who {
                source: "review".into(),
                user: user_name(conn, id)?,
                device: None,
                author: author.into(),
            }
        } else {
            Who {
                source: "system".into(),
                user: None,
                device: None,
                author: author.into(),
            }
        };
        self.cache.insert(author.to_owned(), who.clone());
        Ok(who)
    }
}

/// Every kept version of record `id`, oldest first, each with the fields it changed.
pub fn versions(
    conn: &mut DbConnection,
    record_type: &str,
    id: &str,
    authors: &mut Authors,
) -> QueryResult<Vec<Version>> {
    let rows: Vec<(i64, bool, String, i64)> = register_record_versions::table
        .filter(register_record_versions::record_id.eq(id))
        .order(register_record_versions::version.asc())
        .select((
            register_record_versions::version,
            register_record_versions::deleted,
            register_record_versions::state,
            register_record_versions::changed_at,
        ))
        .load(conn)?;
    let schema = anju_shared::records::schema_for(record_type);
    let label = |f: &str| {
        schema
            .and_then(|s| s.field(f))
            .map(|s| s.label_zh.to_owned())
            .unwrap_or_else(|| f.to_owned())
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut prev: BTreeMap<String, FieldState> = BTreeMap::new();
    let mut prev_deleted = false;
    for (version, deleted, state, at) in rows {
        let Ok(fields) = serde_json::from_str::<BTreeMap<String, FieldState>>(&state) else {
            continue;
        };
        let mut changes = Vec::new();
        let mut author = None;
        for (name, fs) in &fields {
            let old = prev.get(name).map(|p| p.value.clone());
            let changed = fs.version == version || old.as_ref() != Some(&fs.value);
            if !changed {
                continue;
            }
            if fs.version == version || author.is_none() {
                author = Some(fs.author.clone());
            }
            changes.push(FieldChange {
                field: name.clone(),
                label_zh: label(name),
                old: old.unwrap_or(Value::Null),
                new: fs.value.clone(),
            });
        }
        let stamp = author.unwrap_or_default();
        out.push(Version {
            version,
            at,
            who: authors.who(conn, &stamp)?,
            deleted: deleted && !prev_deleted,
            changes,
        });
        prev = fields;
        prev_deleted = deleted;
    }
    Ok(out)
}

/// An open conflict of a record, both values side by side.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenConflict {
    /// Conflict id (resolve with `POST /api/v1/sync/conflicts/{id}/resolve`).
    pub id: String,
    /// Field name.
    pub field: String,
    /// Its Chinese label.
    pub label_zh: String,
    /// The value the server had.
    pub server_value: Value,
    /// The value the device sent.
    pub device_value: Value,
    /// Which one the policy kept (`server` or `device`).
    pub winner: String,
    /// Who had written the server's value.
    pub server_who: Option<Who>,
    /// Who sent the other value.
    pub device_who: Who,
    /// When it was recorded, ms.
    pub created_at: i64,
}

type ConflictRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
);

/// The open conflicts of record `id`, oldest first.
pub fn open_conflicts(
    conn: &mut DbConnection,
    record_type: &str,
    id: &str,
    authors: &mut Authors,
) -> QueryResult<Vec<OpenConflict>> {
    let rows: Vec<ConflictRow> = sync_conflicts::table
        .filter(sync_conflicts::record_id.eq(id))
        .filter(sync_conflicts::status.eq("open"))
        .order(sync_conflicts::created_at.asc())
        .select((
            sync_conflicts::id,
            sync_conflicts::field,
            sync_conflicts::server_value,
            sync_conflicts::device_value,
            sync_conflicts::winner,
            sync_conflicts::server_author,
            sync_conflicts::device_author,
            sync_conflicts::created_at,
        ))
        .load(conn)?;
    let schema = anju_shared::records::schema_for(record_type);
    let json = |s: &str| serde_json::from_str(s).unwrap_or(Value::Null);
    let mut out = Vec::with_capacity(rows.len());
    for (cid, field, sv, dv, winner, sa, da, created_at) in rows {
        let server_who = match sa {
            Some(a) => Some(authors.who(conn, &a)?),
            None => None,
        };
        out.push(OpenConflict {
            id: cid,
            label_zh: schema
                .and_then(|s| s.field(&field))
                .map(|f| f.label_zh.to_owned())
                .unwrap_or_else(|| field.clone()),
            field,
            server_value: json(&sv),
            device_value: json(&dv),
            winner,
            server_who,
            device_who: authors.who(conn, &da)?,
            created_at,
        });
    }
    Ok(out)
}
