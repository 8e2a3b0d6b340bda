//! Diesel tables of the checklists capability (migration `checklists` in both backends).

diesel::table! {
    /// The current checklist of each programme.
    checklists (programme) {
        programme -> Text,
        name_zh -> Text,
        name_en -> Text,
        /// JSON array of `{id, label_zh, label_en}`.
        items -> Text,
        version -> BigInt,
        updated_by -> Text,
        updated_by_name -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Every change of a checklist: the items before and after, who and when.
    checklist_changes (id) {
        id -> Text,
        programme -> Text,
        version -> BigInt,
        old_items -> Text,
        new_items -> Text,
        changed_by -> Text,
        changed_by_name -> Text,
        changed_at -> BigInt,
    }
}
