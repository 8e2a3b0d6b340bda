//! Diesel tables of notifications (the outbox, written in the same transaction as its event).
//! Portable types only: ids `Text`, instants `BigInt` milliseconds.

diesel::table! {
    outbox (id) {
        id -> Text,
        created_at -> BigInt,
        ticket_id -> Nullable<Text>,
        unit_id -> Nullable<Text>,
        event_kind -> Text,
        target_kind -> Text,
        url -> Text,
        secret_env -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        locked_until -> BigInt,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<BigInt>,
    }
}
