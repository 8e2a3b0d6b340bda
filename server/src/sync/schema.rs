//! Diesel tables of the sync capability (migration `sync` in both backends).

diesel::table! {
    /// The single change counter; writers hold its row lock until they commit.
    sync_counter (id) {
        id -> Integer,
        seq -> BigInt,
        horizon -> BigInt,
    }
}

diesel::table! {
    /// Latest state of every synced record.
    sync_records (id) {
        id -> Text,
        record_type -> Text,
        version -> BigInt,
        deleted -> Bool,
        change_seq -> BigInt,
        unit_id -> Nullable<Text>,
        area_id -> Nullable<Text>,
        status -> Nullable<Text>,
        programme -> Nullable<Text>,
        state -> Text,
        updated_at -> BigInt,
        grade -> Nullable<Text>,
        severity -> Nullable<Text>,
        date_on -> Nullable<Text>,
        due_on -> Nullable<Text>,
        finished_on -> Nullable<Text>,
        planned_units -> Nullable<BigInt>,
        completed_units -> Nullable<BigInt>,
        search -> Nullable<Text>,
    }
}

diesel::table! {
    /// A record's scope changed at `seq`; devices of the old scope get a revoke.
    sync_scope_exits (seq) {
        seq -> BigInt,
        record_id -> Text,
        record_type -> Text,
        unit_id -> Nullable<Text>,
        area_id -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Scopes by fingerprint, so a cursor can name the scope it was issued under.
    sync_scopes (fingerprint) {
        fingerprint -> Text,
        scope -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Last applied mutation sequence number per device.
    sync_device_seqs (device_id) {
        device_id -> Text,
        last_seq -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Field conflicts kept for review.
    sync_conflicts (id) {
        id -> Text,
        record_type -> Text,
        record_id -> Text,
        field -> Text,
        base_version -> Nullable<BigInt>,
        server_value -> Text,
        device_value -> Text,
        winner -> Text,
        server_author -> Nullable<Text>,
        device_author -> Text,
        server_hlc -> Nullable<Text>,
        device_hlc -> Text,
        unit_id -> Nullable<Text>,
        area_id -> Nullable<Text>,
        created_at -> BigInt,
        status -> Text,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Rejected mutations, kept for review.
    sync_rejections (id) {
        id -> Text,
        device_id -> Text,
        seq -> BigInt,
        record_type -> Text,
        record_id -> Text,
        mutation -> Text,
        code -> Text,
        message_zh -> Text,
        message_en -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Which live records reference which photo (every element of a SHA-256 set field), so an
    /// attachment is served only to those who see such a record (migration `photo_access`).
    sync_photo_refs (sha256, record_id) {
        sha256 -> Text,
        record_id -> Text,
    }
}
