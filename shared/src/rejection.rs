//! The one table of sync rejection codes: every rejected mutation's `code` (and every field
//! value's refusal inside one) is a [`RejectionCode`]. A device matches on the code string, so a
//! code's string never changes once released; `docs/api-sync.md` lists them all ("Rejection
//! codes"), and the server's tests keep this table, the code that uses it and that document in
//! step.
//!
//! A ticket action refused by the ticket rules on the server carries the console's code for
//! the same refusal (`ticket_not_in_state`, …; the server's error table, `docs/errors.md`)
//! instead: see `Rejection::relayed`.

macro_rules! rejection_codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $code:literal; )*) => {
        /// A stable code of a rejected mutation (`MutationResult::Rejected.code`) or of one
        /// field value's refusal.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RejectionCode {
            $( $(#[doc = $doc])* $name, )*
        }

        impl RejectionCode {
            /// Every code, in table order.
            pub const ALL: &'static [RejectionCode] = &[$(RejectionCode::$name),*];

            /// The snake_case code devices see and match on.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RejectionCode::$name => $code,)*
                }
            }

            /// The variant's Rust name (for the tests that find it in the source).
            pub const fn name(self) -> &'static str {
                match self {
                    $(RejectionCode::$name => stringify!($name),)*
                }
            }
        }
    };
}

rejection_codes! {
    /// Only an inspector or a supervisor may verify or return a rectification.
    CheckerRoleRequired = "checker_role_required";
    /// The device's clock runs too far ahead of the server's.
    ClockDrift = "clock_drift";
    /// The record type is created once and never edited, deleted or created again.
    CreateOnly = "create_only";
    /// A hazard order's deadline is before its issue date.
    DeadlineBeforeIssue = "deadline_before_issue";
    /// An extension decision needs approve or refuse.
    DecisionRequired = "decision_required";
    /// A delete must not carry fields.
    DeleteWithFields = "delete_with_fields";
    /// The requested deadline is not after the current one.
    ExtensionNotLater = "extension_not_later";
    /// An extension request is already waiting for a decision.
    ExtensionPending = "extension_pending";
    /// An extension request needs its reason.
    ExtensionReasonRequired = "extension_reason_required";
    /// A required field is missing, or set to null.
    FieldRequired = "field_required";
    /// The action does not name the hazard's responsible unit and area.
    HazardActionMismatch = "hazard_action_mismatch";
    /// No such hazard (it may have been deleted).
    HazardNotFound = "hazard_not_found";
    /// The hazard's state does not allow this action.
    HazardNotInState = "hazard_not_in_state";
    /// A hazard's status changes through hazard actions only.
    HazardStatusByAction = "hazard_status_by_action";
    /// The base version is not a version of this record.
    InvalidBaseVersion = "invalid_base_version";
    /// Not a valid YYYY-MM-DD date.
    InvalidDate = "invalid_date";
    /// A malformed hybrid clock stamp.
    InvalidHlc = "invalid_hlc";
    /// A set field's change is not `{add, remove}` of valid items.
    InvalidSetDelta = "invalid_set_delta";
    /// A photo reference is not a lowercase hex SHA-256 (64 characters).
    InvalidSha256 = "invalid_sha256";
    /// Not an RFC 3339 time with its offset.
    InvalidTimestamp = "invalid_timestamp";
    /// Not a hyphenated UUID.
    InvalidUuid = "invalid_uuid";
    /// A reply or resolution needs its text.
    MessageRequired = "message_required";
    /// A ticket action's text is longer than 2000 characters.
    MessageTooLong = "message_too_long";
    /// The hazard has no deadline to extend.
    NoDeadline = "no_deadline";
    /// The hazard has no extension request waiting.
    NoExtensionPending = "no_extension_pending";
    /// The value is not one of the field's allowed values.
    NotAllowedValue = "not_allowed_value";
    /// Only the responsible unit may do this.
    NotResponsibleUnit = "not_responsible_unit";
    /// The ticket belongs to another unit.
    NotYourUnit = "not_your_unit";
    /// A number is outside the field's range.
    OutOfRange = "out_of_range";
    /// The record is outside this device user's scope.
    OutOfScope = "out_of_scope";
    /// The record names a photo this user may not see.
    PhotoNotAccessible = "photo_not_accessible";
    /// A photo of the action was not uploaded to the server first.
    PhotoNotUploaded = "photo_not_uploaded";
    /// A resolution photo could not be read.
    PhotoUnreadable = "photo_unreadable";
    /// The ticket's category needs after-photos to resolve.
    PhotosRequired = "photos_required";
    /// The record type is written by the server only (`ticket`, `fund_summary`).
    ReadOnlyRecordType = "read_only_record_type";
    /// The record has been deleted; the edit was not applied.
    RecordDeleted = "record_deleted";
    /// A record with this id already exists.
    RecordExists = "record_exists";
    /// The record does not exist on the server.
    RecordNotFound = "record_not_found";
    /// The record id belongs to a record of another type.
    RecordTypeMismatch = "record_type_mismatch";
    /// Marking a hazard rectified needs rectification photos.
    RectificationPhotosRequired = "rectification_photos_required";
    /// The rectification photos' check is the server's verdict.
    RectificationProofByServer = "rectification_proof_by_server";
    /// An extension request needs the requested deadline.
    RequestedDeadlineRequired = "requested_deadline_required";
    /// A created record must name the user's unit (or one below it) as responsible.
    ResponsibleUnitNotYours = "responsible_unit_not_yours";
    /// Returning a rectification needs the reason.
    ReturnReasonRequired = "return_reason_required";
    /// The user's role may not do this.
    RoleNotAllowed = "role_not_allowed";
    /// A server-authoritative field may be changed by supervisors and administrators only.
    ServerAuthoritativeField = "server_authoritative_field";
    /// Only a supervisor may decide an extension request.
    SupervisorRequired = "supervisor_required";
    /// A text is longer than the field allows.
    TextTooLong = "text_too_long";
    /// The server failed to apply the ticket action; it was not applied.
    TicketActionFailed = "ticket_action_failed";
    /// No such ticket.
    TicketNotFound = "ticket_not_found";
    /// The server does not handle ticket actions.
    TicketsUnavailable = "tickets_unavailable";
    /// A set has more items than the field allows.
    TooManyItems = "too_many_items";
    /// An object has more keys than the field allows.
    TooManyKeys = "too_many_keys";
    /// More than 6 resolution photos.
    TooManyPhotos = "too_many_photos";
    /// The record type has no such field.
    UnknownField = "unknown_field";
    /// Not one of the hazard actions.
    UnknownHazardAction = "unknown_hazard_action";
    /// Not one of the record types.
    UnknownRecordType = "unknown_record_type";
    /// Not one of the ticket actions (accept, reply, resolve).
    UnknownTicketAction = "unknown_ticket_action";
    /// The acting user does not exist.
    UserNotFound = "user_not_found";
    /// Verifying a rectification needs photos of the check.
    VerificationPhotosRequired = "verification_photos_required";
    /// The value has the wrong JSON type for the field.
    WrongType = "wrong_type";
}

impl std::fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RejectionCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::RejectionCode;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in RejectionCode::ALL {
            assert!(seen.insert(c.as_str()), "{} twice", c.as_str());
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{}",
                c.as_str()
            );
        }
    }
}
