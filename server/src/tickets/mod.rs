//! The ticket lifecycle (工单流转): the state machine, the append-only event history, and the
//! staff API (queues, ticket view, accept/reply/note/resolve/return/extension/dispatch, and
//! extension decisions).

pub mod device;
pub mod handlers;
pub mod state;
pub mod store;

use actix_web::web;

/// Mounts the staff ticket endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/tickets", web::get().to(handlers::list))
        .route("/api/v1/tickets/{id}", web::get().to(handlers::get))
        .route(
            "/api/v1/tickets/{id}/accept",
            web::post().to(handlers::accept),
        )
        .route(
            "/api/v1/tickets/{id}/reply",
            web::post().to(handlers::reply),
        )
        .route("/api/v1/tickets/{id}/note", web::post().to(handlers::note))
        .route(
            "/api/v1/tickets/{id}/resolve",
            web::post().to(handlers::resolve),
        )
        .route(
            "/api/v1/tickets/{id}/return",
            web::post().to(handlers::return_ticket),
        )
        .route(
            "/api/v1/tickets/{id}/extension",
            web::post().to(handlers::request_extension),
        )
        .route(
            "/api/v1/tickets/{id}/dispatch",
            web::post().to(handlers::dispatch),
        )
        .route(
            "/api/v1/extensions",
            web::get().to(handlers::list_extensions),
        )
        .route(
            "/api/v1/extensions/{id}/approve",
            web::post().to(handlers::approve_extension),
        )
        .route(
            "/api/v1/extensions/{id}/refuse",
            web::post().to(handlers::refuse_extension),
        );
}
