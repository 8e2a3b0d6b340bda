//! Diesel tables of the complaints capability (ticket-number counters, idempotency keys).
//! Portable types only: ids `Text`, instants `BigInt` milliseconds.

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        response -> Text,
        created_at -> BigInt,
    }
}
