//! Diesel table of the funds capability (migration `funds` in both backends).

diesel::table! {
    /// 资金台账: one budget allocation, receipt (到位) or payment (支付) of a project; append-only.
    fund_entries (id) {
        id -> Text,
        project_id -> Text,
        kind -> Text,
        source -> Nullable<Text>,
        amount -> BigInt,
        entry_date -> Text,
        note -> Text,
        corrects -> Nullable<Text>,
        recorded_by -> Text,
        recorded_by_name -> Text,
        origin -> Text,
        recorded_at -> BigInt,
    }
}

diesel::table! {
    /// When a project's fund summary is next due for a catch-up (`funds::record::catch_up`):
    /// an ISO date, compared as text; no row when nothing about it depends on the date.
    fund_summary_due (project_id) {
        project_id -> Text,
        due_on -> Text,
    }
}
