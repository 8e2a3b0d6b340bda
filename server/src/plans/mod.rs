//! Annual plans (年度计划) per year × district × programme measure, set by supervisors and
//! administrators (form, API or sheet import; every change logged with who, when, old → new),
//! and progress against them computed from the project records (`progress`). See
//! `docs/registers.md` for the formulas.

pub mod answers;
pub mod handlers;
pub mod progress;
pub mod schema;
pub mod store;

pub use handlers::configure;

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::get_plans,
        handlers::set_plans,
        handlers::plan_changes,
        handlers::plans_xlsx,
        handlers::import_plans,
        handlers::office_progress,
        handlers::public_progress,
        handlers::progress_xlsx
    ),
    components(schemas(
        handlers::SetPlans,
        handlers::PlanEntry,
        store::PlanChange,
        store::Measure
    ))
)]
pub struct ApiDoc;
