//! The office side of the renovation programme (台账): the four registers (改造项目, 危旧房台账,
//! 排查/检查, 隐患/整改) read from the sync store with server-side filters, sorting and paging
//! in the caller's scope; a record page with every field, linked records, the full history and
//! the open conflicts; XLSX/CSV downloads; and office create/edit as mutations through sync's
//! push (no second write path). See `docs/registers.md`.

pub mod answers;
pub mod columns;
pub mod handlers;
pub mod history;
pub mod import;
mod import_cells;
pub mod list;
pub mod orders;
pub mod query;
pub mod sample;
pub mod schema;
pub mod sheet;
pub mod write;

/// Mounts the registers endpoints, the order endpoints first (their paths are more specific).
pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    orders::configure(cfg);
    handlers::configure(cfg);
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::catalogue,
        handlers::list_register,
        handlers::record_page,
        handlers::create_record,
        handlers::edit_record,
        import::import_register,
        orders::order_state,
        orders::order_action
    ),
    components(schemas(
        handlers::OfficeEdit,
        orders::OrderAction,
        import::RowError,
        list::ListItem,
        history::Version,
        history::FieldChange,
        history::Who,
        history::OpenConflict
    ))
)]
pub struct ApiDoc;
