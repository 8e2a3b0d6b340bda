//! Diesel table definitions for the foundation tables (organisation model, calendar, accounts).
//! Capabilities declare their own tables in their own `schema.rs`. Portable types only: ids and
//! codes are `Text`, instants `BigInt` milliseconds.

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    areas (id) {
        id -> Text,
        code -> Text,
        parent_id -> Nullable<Text>,
        kind -> Text,
        name_zh -> Text,
        name_en -> Text,
        polygon -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    units (id) {
        id -> Text,
        code -> Text,
        parent_id -> Nullable<Text>,
        kind -> Text,
        name_zh -> Text,
        name_en -> Text,
        supervising_unit_id -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    unit_areas (unit_id, area_id) {
        unit_id -> Text,
        area_id -> Text,
    }
}

diesel::table! {
    unit_notify_targets (id) {
        id -> Text,
        unit_id -> Text,
        kind -> Text,
        url -> Text,
        secret_env -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    deadline_tiers (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
        response_kind -> Text,
        response_value -> Integer,
        resolution_kind -> Text,
        resolution_value -> Integer,
        clock -> Text,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
        tier_code -> Text,
        needs_photo_proof -> Bool,
        icon -> Text,
        active -> Bool,
        sort_order -> Integer,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> Text,
        rule_key -> Text,
        category_code -> Nullable<Text>,
        area_id -> Text,
        unit_id -> Text,
        priority -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Text,
        kind -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        unit_id -> Nullable<Text>,
        disabled -> Bool,
        token_version -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        platform -> Nullable<Text>,
        registered_at -> BigInt,
        last_seen_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        device_id -> Nullable<Text>,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        throttle_key -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    areas,
    units,
    unit_areas,
    unit_notify_targets,
    deadline_tiers,
    categories,
    routing_rules,
    users,
    devices,
    refresh_tokens,
);
