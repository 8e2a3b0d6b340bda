//! Diesel table definitions for the device store (see `migrations/`).

diesel::table! {
    device_state (id) {
        id -> Integer,
        node -> Text,
        device_id -> Nullable<Text>,
        server_url -> Nullable<Text>,
        username -> Nullable<Text>,
        access_token -> Nullable<Text>,
        refresh_token -> Nullable<Text>,
        pull_cursor -> Nullable<Text>,
        last_hlc -> Nullable<Text>,
        next_seq -> BigInt,
        last_sync_at -> Nullable<Text>,
    }
}

diesel::table! {
    records (id) {
        id -> Text,
        record_type -> Text,
        version -> BigInt,
        deleted -> Bool,
        fields -> Text,
    }
}

diesel::table! {
    outbox (seq) {
        seq -> BigInt,
        record_type -> Text,
        record_id -> Text,
        op -> Text,
        base_version -> Nullable<BigInt>,
        fields -> Text,
        hlc -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    acked (seq) {
        seq -> BigInt,
        version -> Nullable<BigInt>,
        record_type -> Text,
        record_id -> Text,
        op -> Text,
        base_version -> Nullable<BigInt>,
        fields -> Text,
        hlc -> Text,
    }
}

diesel::table! {
    conflicts (id) {
        id -> Integer,
        seq -> BigInt,
        record_type -> Text,
        record_id -> Text,
        field -> Text,
        base_version -> Nullable<BigInt>,
        server_value -> Text,
        server_hlc -> Nullable<Text>,
        server_author -> Nullable<Text>,
        device_value -> Text,
        device_hlc -> Text,
        device_author -> Text,
        winner -> Text,
        reported_at -> Text,
    }
}

diesel::table! {
    rejected (seq) {
        seq -> BigInt,
        record_type -> Text,
        record_id -> Text,
        op -> Text,
        fields -> Text,
        code -> Text,
        message_zh -> Text,
        message_en -> Text,
        rejected_at -> Text,
    }
}

diesel::table! {
    photos (sha256) {
        sha256 -> Text,
        path -> Text,
        size -> BigInt,
        uploaded -> Bool,
        added_at -> Text,
    }
}
