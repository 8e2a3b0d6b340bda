//! The resident channel (接诉即办): intake with routing and deadlines, photo uploads, tracking
//! with the secret code, similar complaints and "me too".

pub mod code;
pub mod image;
pub mod intake;
pub mod phone;
pub mod ratelimit;
pub mod schema;
pub mod similar;
pub mod track;
pub mod track_answer;
pub mod uploads;

use actix_web::web;

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
