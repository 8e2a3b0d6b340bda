//! Diesel tables of the plans capability (migration `registers_plans` in both backends).

diesel::table! {
    /// 年度计划: one target per year × district × measure.
    annual_plans (year, area_id, measure) {
        year -> Integer,
        area_id -> Text,
        measure -> Text,
        target -> BigInt,
        updated_by -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Every change of a plan target: who, when, old → new, and from where (form, API, import).
    annual_plan_changes (id) {
        id -> Text,
        year -> Integer,
        area_id -> Text,
        measure -> Text,
        old_target -> Nullable<BigInt>,
        new_target -> BigInt,
        changed_by -> Text,
        changed_by_name -> Text,
        source -> Text,
        changed_at -> BigInt,
    }
}
