//! Diesel tables of the ticket lifecycle (tickets, their events, supporters and extension
//! requests). Portable types only: ids `Text`, instants `BigInt` milliseconds.

diesel::table! {
    tickets (id) {
        id -> Text,
        ticket_no -> Text,
        tracking_code -> Text,
        source -> Text,
        category_code -> Text,
        description -> Text,
        address -> Nullable<Text>,
        area_id -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        reporter_name -> Nullable<Text>,
        reporter_phone -> Nullable<Text>,
        photos -> Text,
        status -> Text,
        unit_id -> Nullable<Text>,
        route_rule_id -> Nullable<Text>,
        route_note -> Text,
        clock_start -> BigInt,
        response_due -> BigInt,
        resolution_due -> BigInt,
        accepted_at -> Nullable<BigInt>,
        resolved_at -> Nullable<BigInt>,
        closed_at -> Nullable<BigInt>,
        disputes -> Integer,
        extension_pending -> Bool,
        supporters -> Integer,
        rating -> Nullable<Integer>,
        rating_comment -> Nullable<Text>,
        rated_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        next_clock_at -> BigInt,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> BigInt,
        ticket_id -> Text,
        at -> BigInt,
        kind -> Text,
        actor_kind -> Text,
        actor_user_id -> Nullable<Text>,
        actor_name -> Nullable<Text>,
        unit_id -> Nullable<Text>,
        body -> Nullable<Text>,
        public -> Bool,
        photos -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        reason -> Nullable<Text>,
        rating -> Nullable<Integer>,
        response_due -> Nullable<BigInt>,
        resolution_due -> Nullable<BigInt>,
        data -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_supporters (id) {
        id -> Text,
        ticket_id -> Text,
        tracking_code -> Text,
        name -> Nullable<Text>,
        phone -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    extension_requests (id) {
        id -> Text,
        ticket_id -> Text,
        unit_id -> Text,
        requested_by -> Text,
        reason -> Text,
        requested_due -> BigInt,
        previous_due -> BigInt,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
        decision_reason -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tickets,
    ticket_events,
    ticket_supporters,
    extension_requests
);

diesel::table! {
    /// The verdict on each proof photo of a ticket's resolution or a hazard's rectification
    /// (migrations `proof_checks`, `hazard_proof_checks`: a row names a ticket or a hazard);
    /// `lat`, `lon` and `taken_at` are staff-only evidence.
    proof_checks (id) {
        id -> Text,
        ticket_id -> Nullable<Text>,
        hazard_id -> Nullable<Text>,
        unit_id -> Nullable<Text>,
        resolved_at -> BigInt,
        photo -> Text,
        verified -> Bool,
        reason -> Text,
        distance_m -> Nullable<Double>,
        taken_at -> Nullable<BigInt>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        checked_at -> BigInt,
    }
}
