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
