//! The ticket lifecycle (工单流转): the state machine, the append-only event history, and the
//! staff API (queues, ticket view, accept/reply/note/resolve/return/extension/dispatch, and
//! extension decisions).

pub mod actions;
pub mod aggregates;
pub mod copies;
pub mod device;
pub mod device_api;
pub mod extensions;
pub mod proof;
pub mod queue;
pub mod schema;
pub mod state;
pub mod store;
pub mod transition;
pub mod view;

use actix_web::web;

/// Mounts the staff ticket endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/tickets", web::get().to(queue::list))
        .route("/api/v1/tickets/{id}", web::get().to(view::get))
        .route(
            "/api/v1/tickets/{id}/accept",
            web::post().to(actions::accept),
        )
        .route("/api/v1/tickets/{id}/reply", web::post().to(actions::reply))
        .route("/api/v1/tickets/{id}/note", web::post().to(actions::note))
        .route(
            "/api/v1/tickets/{id}/resolve",
            web::post().to(actions::resolve),
        )
        .route(
            "/api/v1/tickets/{id}/return",
            web::post().to(actions::return_ticket),
        )
        .route(
            "/api/v1/tickets/{id}/extension",
            web::post().to(actions::request_extension),
        )
        .route(
            "/api/v1/tickets/{id}/dispatch",
            web::post().to(actions::dispatch),
        )
        .route(
            "/api/v1/extensions",
            web::get().to(extensions::list_extensions),
        )
        .route(
            "/api/v1/extensions/{id}/approve",
            web::post().to(extensions::approve_extension),
        )
        .route(
            "/api/v1/extensions/{id}/refuse",
            web::post().to(extensions::refuse_extension),
        );
}

/// OpenAPI paths of the staff ticket API.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        queue::list,
        view::get,
        actions::accept,
        actions::reply,
        actions::note,
        actions::resolve,
        actions::return_ticket,
        actions::request_extension,
        actions::dispatch,
        extensions::list_extensions,
        extensions::approve_extension,
        extensions::refuse_extension
    ),
    components(schemas(actions::ActionBody, extensions::DecisionBody))
)]
pub struct ApiDoc;
