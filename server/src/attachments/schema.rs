//! Diesel tables of attachments (photos by SHA-256). Portable types only: ids `Text`, instants
//! `BigInt` milliseconds.

diesel::table! {
    /// Photos by SHA-256.
    attachments (sha256) {
        sha256 -> Text,
        size -> BigInt,
        content_type -> Text,
        bytes -> Binary,
        uploaded_by -> Text,
        created_at -> BigInt,
    }
}
