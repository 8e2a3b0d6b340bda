//! Diesel tables of the upkeep capability (migration `upkeep` in both backends).

diesel::table! {
    /// A community handed over to a property manager.
    upkeep_handovers (id) {
        id -> Text,
        project_id -> Text,
        area_id -> Text,
        unit_id -> Text,
        took_over_on -> Text,
        note -> Text,
        created_by -> Text,
        created_by_name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// The routing rules a hand-over created.
    upkeep_rules (rule_id) {
        rule_id -> Text,
        handover_id -> Text,
        category_code -> Text,
    }
}

diesel::joinable!(upkeep_rules -> upkeep_handovers (handover_id));
diesel::allow_tables_to_appear_in_same_query!(upkeep_rules, upkeep_handovers);
