//! Diesel tables of the bulletins capability (migration `bulletins` in both backends).

diesel::table! {
    /// 通报: a draft with its computed figures, or an issued (numbered, frozen) bulletin.
    bulletins (id) {
        id -> Text,
        kind -> Text,
        period_start -> Text,
        period_end -> Text,
        title -> Text,
        remarks -> Text,
        status -> Text,
        number_year -> Nullable<Integer>,
        number_seq -> Nullable<Integer>,
        number -> Nullable<Text>,
        data -> Text,
        data_sha256 -> Text,
        summary -> Text,
        computed_at -> BigInt,
        created_by -> Text,
        created_by_name -> Text,
        created_at -> BigInt,
        issued_by -> Nullable<Text>,
        issued_by_name -> Nullable<Text>,
        issued_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// The last bulletin number handed out per year of issue.
    bulletin_counters (year) {
        year -> Integer,
        last_seq -> Integer,
    }
}
