//! Diesel tables of the clocks: the marks that make each ticket reminder and escalation happen
//! once, and the rectification orders' due index and events.
//! Portable types only: ids `Text`, instants `BigInt` milliseconds.

diesel::table! {
    clock_marks (ticket_id, kind, due, day) {
        ticket_id -> Text,
        kind -> Text,
        due -> BigInt,
        day -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    hazard_clocks (hazard_id) {
        hazard_id -> Text,
        next_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    hazard_clock_events (hazard_id, kind, deadline, day) {
        hazard_id -> Text,
        kind -> Text,
        deadline -> Text,
        day -> Text,
        round -> BigInt,
        unit_id -> Nullable<Text>,
        to_units -> Text,
        created_at -> BigInt,
    }
}

use crate::sync::schema::sync_records;

// The overdue orders read the due index with the hazards' queryable columns.
diesel::allow_tables_to_appear_in_same_query!(hazard_clocks, sync_records);
