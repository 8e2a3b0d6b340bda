//! Diesel tables of attachments (photos by SHA-256; residents' photo uploads and their per-address
//! byte budgets). Portable types only: ids `Text`, instants
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

diesel::table! {
    /// Who uploaded a photo: everyone who sent its bytes, not only the first (migration
    /// `photo_access`).
    attachment_uploaders (sha256, user_id) {
        sha256 -> Text,
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// A stored photo's thumbnail, made on first request (migration `attachment_thumbnails`).
    attachment_thumbnails (sha256) {
        sha256 -> Text,
        content_type -> Text,
        bytes -> Binary,
        created_at -> BigInt,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        data -> Binary,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    upload_budgets (ip, day) {
        ip -> Text,
        day -> BigInt,
        bytes -> BigInt,
    }
}
