//! Diesel tables of the complaints capability (uploads, ticket-number counters, idempotency keys).
//! Portable types only: ids `Text`, instants `BigInt` milliseconds.

diesel::table! {
    uploads (id) {
        id -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        data -> Binary,
        created_at -> BigInt,
    }
}

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
