//! Diesel tables of the registers capability (migration `registers_plans` in both backends).

diesel::table! {
    /// The device id under which an office user (or the system) pushes its edits.
    register_office_devices (device_id) {
        device_id -> Text,
        user_id -> Nullable<Text>,
        label -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Every version of every synced record (kept by triggers on `sync_records`).
    register_record_versions (record_id, version) {
        record_id -> Text,
        version -> BigInt,
        record_type -> Text,
        deleted -> Bool,
        state -> Text,
        changed_at -> BigInt,
    }
}
