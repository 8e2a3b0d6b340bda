//! A map without tiles: the areas' polygons projected to SVG paths, each coloured by a figure
//! counted on the server (open and overdue complaints, open hazards, C/D buildings, progress
//! against plan by district). The staff map counts in the caller's scope; the public map shows
//! districts only, with public figures. The browser draws it with `web/assets/map.js`.
//! See `docs/map.md`.

pub mod handlers;
pub mod projection;
pub mod queries;

use actix_web::web;

/// Mounts `GET /api/v1/map` and `GET /api/v1/public/map`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/map", web::get().to(handlers::staff_map))
        .route("/api/v1/public/map", web::get().to(handlers::public_map));
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::staff_map, handlers::public_map))]
pub struct ApiDoc;
