//! The resident channel (接诉即办): intake with routing and deadlines, tracking with the secret
//! code, similar complaints and "me too". The photo uploads it mounts are attachments'
//! (`attachments::uploads`), its per-client limits http's (`http::ratelimit`).

pub mod code;
pub mod intake;
pub mod phone;
pub mod schema;
pub mod similar;
pub mod track;
pub mod track_answer;

use actix_web::web;

use crate::attachments::uploads;
use crate::http::ratelimit;

/// Mounts the public complaint endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/uploads")
            .app_data(crate::http::payload_config(uploads::MAX_UPLOAD_BYTES))
            .route(web::post().to(uploads::create)),
    )
    .route("/api/v1/uploads/{id}", web::get().to(uploads::get))
    .route(
        "/api/v1/complaints/similar",
        web::get().to(similar::similar),
    )
    .route(
        "/api/v1/complaints/{ticket_no}/support",
        web::post().to(similar::support),
    )
    .route("/api/v1/complaints", web::post().to(intake::submit))
    .service(
        // Every answer here says whether a code exists: limited per client address.
        web::scope("/api/v1/track")
            .wrap(actix_web::middleware::from_fn(ratelimit::tracking_lookups))
            .route("/{code}", web::get().to(track::get))
            .route("/{code}/confirm", web::post().to(track::confirm))
            .route("/{code}/dispute", web::post().to(track::dispute)),
    );
}
