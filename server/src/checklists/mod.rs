//! Inspection checklists (检查表) served as data: one checklist per renovation programme (a
//! default dangerous-building checklist, 危房排查, is seeded by the migration `checklists`), read
//! by the field app to build the checklist of an inspection, changed by administrators (every
//! change recorded with who and when, the old items kept in `checklist_changes`).

pub mod checklist;
pub mod handlers;
pub mod schema;

pub use handlers::configure;

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(handlers::list_checklists, handlers::put_checklist),
    components(schemas(
        checklist::ChecklistItem,
        checklist::ChecklistBody,
        checklist::ChecklistView
    ))
)]
pub struct ApiDoc;
