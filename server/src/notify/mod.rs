//! Notifications (通知) to units through a transactional outbox: the message formats (signed
//! webhook, WeCom and DingTalk robots), the delivery worker with backoff and dead letters
//! (sending under the rules of [`delivery`]: no redirects, bounded time and answer, no private
//! targets unless allowed, no secrets in errors), and the admin endpoints to list and retry
//! dead letters.

pub mod admin;
pub mod delivery;
pub mod format;
pub mod outbox;
pub mod schema;

use actix_web::web;

/// Mounts the outbox admin endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/outbox", web::get().to(admin::list))
        .route(
            "/api/v1/admin/outbox/run",
            web::post().to(admin::deliver_now),
        )
        .route(
            "/api/v1/admin/outbox/{id}/retry",
            web::post().to(admin::retry),
        );
}
