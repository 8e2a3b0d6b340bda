//! Diesel tables of the clocks (the marks that make each reminder and escalation happen once).
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
