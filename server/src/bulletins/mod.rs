//! Bulletins (通报): weekly and monthly documents computed from the period's real data
//! (progress against plan by district, each unit's complaint rates and rectification on-time
//! rate with rank, overdue tickets and orders, property managers on their facility
//! complaints), naming the slow units (通报批评) and commending the good (通报表扬) by
//! configurable thresholds. A supervisor makes a draft, recomputes it, and issues it: it then
//! has a number (`2026年第12期`), keeps the figures it showed, never changes again, and its
//! summary goes to the units through the outbox. See `docs/bulletins.md`.

pub mod compute;
pub mod data;
pub mod handlers;
pub mod notice;
pub mod period;
pub mod rules;
pub mod schema;
pub mod store;
pub mod xlsx;

pub use handlers::configure;

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::create_bulletin,
        handlers::list_bulletins,
        handlers::get_bulletin,
        handlers::discard_bulletin,
        handlers::recompute_bulletin,
        handlers::issue_bulletin,
        handlers::bulletin_xlsx
    ),
    components(schemas(handlers::NewBulletin, period::Kind))
)]
pub struct ApiDoc;
