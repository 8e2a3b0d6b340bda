//! Who may see a photo (attachment) by its hash: the people who uploaded its bytes, and the
//! people who see a live record that references it. Nobody else learns even whether it exists.
//! The same rule decides whether a device may put a stored photo into a record: only one it
//! may see, so a known hash cannot be turned into access by referencing it from one's own
//! record.

use std::collections::{BTreeSet, HashSet};

use anju_shared::protocol::{Mutation, SetDelta};
use anju_shared::records::{FieldKind, RecordSchema};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{sync_photo_refs, sync_records};
use crate::attachments::access::PhotoAccess;
use crate::attachments::schema::{attachment_uploaders, attachments};
use crate::auth::scope::Scope;
use crate::db::DbConnection;

/// Sync's side of the photo access rule, which attachments serves by (registered by `startup` as
/// `web::Data<Arc<dyn PhotoAccess>>`):
/// [`visible`].
pub struct RecordPhotos;

impl PhotoAccess for RecordPhotos {
    fn visible(
        &self,
        conn: &mut DbConnection,
        user_id: &str,
        scope: &Scope,
        hashes: &[String],
    ) -> QueryResult<HashSet<String>> {
        visible(conn, user_id, scope, hashes)
    }
}

/// Of `hashes`, the stored photos that the user `user_id` with `scope` may see.
pub fn visible(
    conn: &mut DbConnection,
    user_id: &str,
    scope: &Scope,
    hashes: &[String],
) -> QueryResult<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in hashes.chunks(500) {
        let stored: HashSet<String> = attachments::table
            .filter(attachments::sha256.eq_any(chunk))
            .select(attachments::sha256)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        if stored.is_empty() {
            continue;
        }
        let stored: Vec<String> = stored.into_iter().collect();
        let uploaded: Vec<String> = attachment_uploaders::table
            .filter(attachment_uploaders::user_id.eq(user_id))
            .filter(attachment_uploaders::sha256.eq_any(&stored))
            .select(attachment_uploaders::sha256)
            .load(conn)?;
        out.extend(uploaded);
        let rest: Vec<&String> = stored.iter().filter(|h| !out.contains(*h)).collect();
        if rest.is_empty() {
            continue;
        }
        let refs: Vec<(String, String)> = sync_photo_refs::table
            .filter(sync_photo_refs::sha256.eq_any(rest))
            .select((sync_photo_refs::sha256, sync_photo_refs::record_id))
            .load(conn)?;
        let ids: BTreeSet<&String> = refs.iter().map(|(_, id)| id).collect();
        let ids: Vec<&String> = ids.into_iter().collect();
        let mut seen = HashSet::new();
        for ids in ids.chunks(500) {
            let mut q = sync_records::table
                .filter(sync_records::id.eq_any(ids.to_vec()))
                .filter(sync_records::deleted.eq(false))
                .select(sync_records::id)
                .into_boxed();
            if let Scope::Limited { units, areas } = scope {
                let units: Vec<String> = units.iter().map(Uuid::to_string).collect();
                let areas: Vec<String> = areas.iter().map(Uuid::to_string).collect();
                q = q.filter(
                    sync_records::unit_id
                        .eq_any(units)
                        .or(sync_records::area_id.eq_any(areas)),
                );
            }
            seen.extend(q.load::<String>(conn)?);
        }
        out.extend(
            refs.into_iter()
                .filter(|(_, id)| seen.contains(id))
                .map(|(h, _)| h),
        );
    }
    Ok(out)
}

/// The photo hashes `mutation` adds to the SHA-256 set fields of a `schema` record.
pub fn added(schema: &RecordSchema, mutation: &Mutation) -> Vec<String> {
    let mut out: Vec<String> = mutation
        .fields
        .iter()
        .filter(|(name, _)| {
            schema
                .field(name)
                .is_some_and(|f| matches!(f.kind, FieldKind::StringSet { sha256: true, .. }))
        })
        .flat_map(|(_, v)| {
            serde_json::from_value::<SetDelta>(v.clone())
                .map(|d| d.add)
                .unwrap_or_default()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Of the photos `mutation` adds, those that are stored but that the user may not see: a
/// mutation naming one is refused. A photo not stored yet may be named (the device uploads
/// it after; whoever sends its bytes has it anyway).
pub fn refused_additions(
    conn: &mut DbConnection,
    user_id: &str,
    scope: &Scope,
    schema: &RecordSchema,
    mutation: &Mutation,
) -> QueryResult<Vec<String>> {
    let hashes = added(schema, mutation);
    if hashes.is_empty() {
        return Ok(hashes);
    }
    let stored: HashSet<String> = attachments::table
        .filter(attachments::sha256.eq_any(&hashes))
        .select(attachments::sha256)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let stored: Vec<String> = hashes.into_iter().filter(|h| stored.contains(h)).collect();
    let ok = visible(conn, user_id, scope, &stored)?;
    Ok(stored.into_iter().filter(|h| !ok.contains(h)).collect())
}
