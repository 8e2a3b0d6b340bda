//! Fund use (资金): per project, the budget by source (central subsidy, provincial, city,
//! district, PPP / social capital, bank loans, residents' contribution), the funds received
//! (到位) and paid out (支付), as append-only entries each dated and signed by who recorded
//! them (a correction is one more entry). Recorded in the office (form, API, sheet import),
//! exported as XLSX, watched by supervision flags (idle money, payments ahead of progress) and
//! disclosed per district and programme on `/public`. A server-side table of its own: project
//! records are read from the sync store, never written; each project's fund summary is
//! written there as a record devices pull (`record`). See `docs/funds.md`.

pub mod answers;
pub mod flags;
pub mod handlers;
pub mod import;
pub mod ledger;
pub mod record;
pub mod report;
pub mod sample;
pub mod schema;

pub use handlers::configure;

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::list_funds,
        handlers::project_ledger,
        handlers::record_entry,
        handlers::funds_xlsx,
        handlers::public_funds,
        import::import_funds
    ),
    components(schemas(
        ledger::NewEntry,
        ledger::Entry,
        ledger::Totals,
        ledger::Source,
        ledger::Kind,
        report::ProjectFunds,
        flags::Flags,
        flags::Idle,
        flags::Ahead
    ))
)]
pub struct ApiDoc;
