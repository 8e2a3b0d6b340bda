//! Ticket actions from field devices (sync's `ticket_action` records): the tickets side of
//! [`super::device_api::TicketActions`].
//!
//! A device action goes through the same transition function as the console's
//! accept/reply/resolve ([`transition::apply`]): the same role, unit and state checks, the same
//! event in the append-only history, deadlines and outbox messages. It runs inside the push
//! transaction (sync wraps it in a savepoint), so a refusal leaves nothing behind and comes back
//! to the device as a rejection with a stable code and reasons in Chinese and English.
//!
//! Photos: a device references its proof photos by SHA-256 (attachments it uploaded before
//! pushing). The attachment keeps the original bytes (with EXIF location, evidence for staff);
//! for the resident's tracking page each photo is copied, with its metadata stripped, into an
//! upload, and the event references the upload ids as console resolutions do.

use std::sync::Arc;

use anju_shared::merge::Rejection;
use anju_shared::rejection::RejectionCode;
use diesel::prelude::*;
use serde_json::json;

use super::aggregates::TicketAggregates;
use super::copies::TicketCopies;
use super::device_api::{TicketAction, TicketActions, TicketActor};
use crate::attachments::schema::attachments;
use crate::auth::Principal;
use crate::clock::TimeSource;
use crate::config::Config;
use crate::db::DbConnection;
use crate::error::{ApiError, Lang};
use crate::org::catalog::CatalogCache;
use crate::tickets::schema::ticket_events;

use super::state::Action;
use super::transition::{self, Change, Env, Mover};

/// Applies device ticket actions to the ticket state machine.
#[derive(Clone)]
pub struct DeviceActions {
    config: Arc<Config>,
    clock: TimeSource,
    catalog: Arc<CatalogCache>,
    copies: Arc<dyn TicketCopies>,
    aggregates: Arc<dyn TicketAggregates>,
}

impl DeviceActions {
    /// Device actions on the database `config` names, at the times `clock` gives, with the
    /// app's catalog, rewriting the tickets' synced copies through `copies` and adding to the
    /// per-day aggregates through `aggregates`.
    pub fn new(
        config: Arc<Config>,
        clock: TimeSource,
        catalog: Arc<CatalogCache>,
        copies: Arc<dyn TicketCopies>,
        aggregates: Arc<dyn TicketAggregates>,
    ) -> DeviceActions {
        DeviceActions {
            config,
            clock,
            catalog,
            copies,
            aggregates,
        }
    }
}

fn rejection(code: RejectionCode, zh: &str, en: &str) -> Rejection {
    Rejection::new(code, zh, en)
}

/// A console error as a device rejection: the same code and messages.
fn from_api(e: &ApiError) -> Rejection {
    if e.status().is_server_error() {
        tracing::error!(error = %e, "device ticket action failed");
        return rejection(
            RejectionCode::TicketActionFailed,
            "服务器处理该工单操作时出错，操作未生效",
            "the server failed to apply this ticket action; it was not applied",
        );
    }
    Rejection {
        code: e.code().to_string(),
        message_zh: e.message(Lang::Zh).to_string(),
        message_en: e.message(Lang::En).to_string(),
    }
}

fn db(e: diesel::result::Error) -> Rejection {
    from_api(&ApiError::from(e))
}

impl TicketActions for DeviceActions {
    fn apply(
        &self,
        conn: &mut DbConnection,
        actor: &TicketActor,
        action: &TicketAction,
    ) -> Result<(), Rejection> {
        let kind = match action.action.as_str() {
            "accept" => Action::Accept,
            "reply" => Action::Reply,
            "resolve" => Action::Resolve,
            other => {
                return Err(rejection(
                    RejectionCode::UnknownTicketAction,
                    &format!("未知的工单操作：{other}"),
                    &format!("unknown ticket action: {other}"),
                ));
            }
        };
        let action_id = action.action_id.to_string();
        // Idempotent by action id: an action already in the history is not applied again.
        let pattern = format!("%\"device_action_id\":\"{action_id}\"%");
        let seen: i64 = ticket_events::table
            .filter(ticket_events::data.like(pattern))
            .count()
            .get_result(conn)
            .map_err(db)?;
        if seen > 0 {
            return Ok(());
        }
        let Some(role) = crate::auth::Role::parse(&actor.role) else {
            return Err(rejection(
                RejectionCode::RoleNotAllowed,
                "您的角色无权执行此操作",
                "Your role may not do this",
            ));
        };
        let no_user = || rejection(RejectionCode::UserNotFound, "没有这个用户", "No such user");
        let user = actor.user.ok_or_else(no_user)?;
        let user_id = user.to_string();
        let account = crate::users::get(conn, &user_id)
            .map_err(|e| from_api(&e))?
            .ok_or_else(no_user)?;
        let principal = Principal {
            user_id,
            user: Some(user),
            username: account.username,
            display_name: account.display_name,
            role,
            unit_id: actor.unit_id.map(|u| u.to_string()),
            device_id: Some(actor.device_id.to_string()),
        };
        let ticket_id = action.ticket_id.to_string();
        let ticket = super::store::find(conn, &ticket_id)
            .map_err(|e| from_api(&e))?
            .ok_or_else(|| {
                rejection(
                    RejectionCode::TicketNotFound,
                    "没有这个工单",
                    "No such ticket",
                )
            })?;
        // The record's unit is the unit the person acted for; the ticket must still be there.
        if ticket.unit_id.as_deref() != Some(action.unit_id.to_string().as_str()) {
            return Err(rejection(
                RejectionCode::NotYourUnit,
                "这不是您所在单位的事项（工单可能已转派或退回）",
                "This belongs to another unit (the ticket may have been reassigned or returned)",
            ));
        }
        let text = action
            .message
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .to_string();
        if matches!(kind, Action::Reply | Action::Resolve) && text.is_empty() {
            return Err(rejection(
                RejectionCode::MessageRequired,
                "答复或办结须填写内容",
                "A reply or resolution needs its text",
            ));
        }
        if text.chars().count() > 2000 {
            return Err(rejection(
                RejectionCode::MessageTooLong,
                "内容最多 2000 个字",
                "At most 2000 characters",
            ));
        }
        let now = self.clock.now_ms();
        let mut upload_ids = Vec::new();
        let mut proof = Vec::new();
        if kind == Action::Resolve {
            if action.photos.len() > 6 {
                return Err(rejection(
                    RejectionCode::TooManyPhotos,
                    "最多 6 张照片",
                    "At most 6 photos",
                ));
            }
            for sha in &action.photos {
                let (id, facts) = public_copy(conn, sha, now, &self.config.timezone)?;
                upload_ids.push(id);
                proof.push(facts);
            }
        }
        let tz = self.config.timezone.clone();
        let catalog = self.catalog.get(conn, &tz).map_err(|e| from_api(&e))?;
        if kind == Action::Resolve
            && upload_ids.is_empty()
            && catalog
                .categories
                .get(&ticket.category_code)
                .is_some_and(|c| c.needs_photo_proof)
        {
            return Err(rejection(
                RejectionCode::PhotosRequired,
                "该类别办结时须上传整改后照片",
                "This category needs after-photos to resolve",
            ));
        }
        let env = Env {
            catalog: &catalog,
            tz: &tz,
            public_url: &self.config.public_url,
            now,
            deferred: None,
            copies: &*self.copies,
            aggregates: &*self.aggregates,
        };
        let data = json!({
            "device_action_id": action_id,
            "device_id": actor.device_id.to_string(),
            "acted_at": action.acted_at,
            "photo_sha256": if kind == Action::Resolve { json!(action.photos) } else { json!(null) },
        });
        let change = match kind {
            Action::Accept => Change::Accept,
            Action::Reply => Change::Reply { text },
            _ => Change::Resolve {
                result: text,
                photos: upload_ids,
                proof,
                max_distance_m: f64::from(self.config.proof_max_distance_m),
            },
        };
        transition::apply(
            conn,
            &env,
            Mover::Staff(&principal),
            &ticket_id,
            change,
            Some(data),
        )
        .map(|_| ())
        .map_err(|e| from_api(&e))
    }
}

/// Copies attachment `sha` into an upload without its metadata (EXIF location and the like),
/// so the public tracking page can show it; returns the upload id and what the original's EXIF
/// says (time, position) for the proof check. The original stays, staff-only, as the attachment.
fn public_copy(
    conn: &mut DbConnection,
    sha: &str,
    now: i64,
    tz: &jiff::tz::TimeZone,
) -> Result<(String, super::proof::PhotoFacts), Rejection> {
    let bytes: Option<Vec<u8>> = if crate::attachments::is_sha256(sha) {
        attachments::table
            .find(sha)
            .select(attachments::bytes)
            .first(conn)
            .optional()
            .map_err(db)?
    } else {
        None
    };
    let Some(bytes) = bytes else {
        return Err(rejection(
            RejectionCode::PhotoNotUploaded,
            &format!("办结照片尚未上传到服务器：{sha}"),
            &format!("a resolution photo was not uploaded to the server: {sha}"),
        ));
    };
    // The allow-listed public copy, cut at the end of the image (phones append previews).
    let facts = super::proof::read(sha, &bytes, tz);
    crate::attachments::uploads::store_public_copy(conn, &bytes, now)
        .map(|id| (id, facts))
        .map_err(|e| match e {
            crate::attachments::uploads::CopyError::Image(_) => rejection(
                RejectionCode::PhotoUnreadable,
                "办结照片无法读取（仅支持 JPEG、PNG、WebP）",
                "a resolution photo could not be read (JPEG, PNG or WebP only)",
            ),
            crate::attachments::uploads::CopyError::Db(e) => from_api(&e),
        })
}
