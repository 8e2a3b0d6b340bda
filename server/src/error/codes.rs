//! The one table of error codes: every error answer's `code` is an [`ErrorCode`], sent with the
//! HTTP status the table gives it, and every field error's `code` is a [`FieldCode`]. A client matches on the code string, so a code's string and status
//! never change once released; `docs/errors.md` lists them all, and the tests below keep the
//! table, the code that uses it and that document in step.
//!
//! Codes decided by the sync rules (a rejected mutation answered over HTTP, see
//! [`crate::error::ApiError::relay`]) are rows of the sync rejection table,
//! [`anju_shared::rejection::RejectionCode`] (listed in `docs/api-sync.md`), not of this one; the
//! tests below keep that table in step with its call sites and document too.

use actix_web::http::StatusCode;

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $code:literal, $status:ident; )*) => {
        /// A stable problem code and the status it is answered with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $name, )*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            /// The snake_case code clients see and match on.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $code,)*
                }
            }

            /// The HTTP status an answer with this code has.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$name => StatusCode::$status,)*
                }
            }

            /// The variant's Rust name (for the tests that find it in the source).
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => stringify!($name),)*
                }
            }
        }
    };
}

error_codes! {
    /// This account is disabled.
    AccountDisabled = "account_disabled", FORBIDDEN;
    /// A record with this key already exists.
    AlreadyExists = "already_exists", CONFLICT;
    /// This community already has a hand-over on that day.
    AlreadyHandedOver = "already_handed_over", UNPROCESSABLE_ENTITY;
    /// No such area.
    AreaNotFound = "area_not_found", NOT_FOUND;
    /// No attachment with this hash.
    AttachmentNotFound = "attachment_not_found", NOT_FOUND;
    /// An edit needs base_version (the version it was loaded at).
    BaseVersionRequired = "base_version_required", BAD_REQUEST;
    /// At most … mutations per batch.
    BatchTooLarge = "batch_too_large", PAYLOAD_TOO_LARGE;
    /// The bulletin has been issued; it can no longer change.
    BulletinIssued = "bulletin_issued", CONFLICT;
    /// No such bulletin.
    BulletinNotFound = "bulletin_not_found", NOT_FOUND;
    /// This community was not handed over to a property manager, or is not in your scope.
    CommunityNotFound = "community_not_found", NOT_FOUND;
    /// This conflict has already been resolved.
    ConflictAlreadyResolved = "conflict_already_resolved", CONFLICT;
    /// No such conflict record.
    ConflictNotFound = "conflict_not_found", NOT_FOUND;
    /// The corrected amount would be below 0.
    CorrectionBelowZero = "correction_below_zero", UNPROCESSABLE_ENTITY;
    /// The image file is damaged.
    DamagedImage = "damaged_image", UNPROCESSABLE_ENTITY;
    /// The resolution deadline has passed; an extension can no longer be asked for.
    DeadlinePassed = "deadline_passed", CONFLICT;
    /// No such device.
    DeviceNotFound = "device_not_found", NOT_FOUND;
    /// This device is not registered.
    DeviceNotRegistered = "device_not_registered", FORBIDDEN;
    /// The device is registered to another account, or the session is bound to another device.
    DeviceNotYours = "device_not_yours", FORBIDDEN;
    /// This device has been revoked; contact your administrator.
    DeviceRevoked = "device_revoked", FORBIDDEN;
    /// The upload is empty.
    EmptyUpload = "empty_upload", BAD_REQUEST;
    /// This extension request was already decided.
    ExtensionAlreadyDecided = "extension_already_decided", CONFLICT;
    /// No such extension request.
    ExtensionNotFound = "extension_not_found", NOT_FOUND;
    /// An extension request is already waiting for a decision.
    ExtensionPending = "extension_pending", CONFLICT;
    /// Progress against plan exists per district only: ask with level=district.
    FigureNeedsDistrict = "figure_needs_district", BAD_REQUEST;
    /// The public map does not show this figure.
    FigureNotPublic = "figure_not_public", BAD_REQUEST;
    /// This project has no entry … to correct.
    FundEntryNotFound = "fund_entry_not_found", UNPROCESSABLE_ENTITY;
    /// The bytes do not hash to the SHA-256 in the path.
    HashMismatch = "hash_mismatch", UNPROCESSABLE_ENTITY;
    /// This Idempotency-Key was already used for a different complaint.
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY;
    /// The file has errors (listed per row); nothing was imported.
    ImportHasErrors = "import_has_errors", UNPROCESSABLE_ENTITY;
    /// The data is not valid; nothing was changed.
    ImportInvalid = "import_invalid", UNPROCESSABLE_ENTITY;
    /// Only projects and buildings can be imported; inspections and hazards are recorded on site.
    ImportNotSupported = "import_not_supported", BAD_REQUEST;
    /// Internal server error; it has been logged.
    InternalError = "internal_error", INTERNAL_SERVER_ERROR;
    /// The checklist has errors; nothing was changed.
    InvalidChecklist = "invalid_checklist", UNPROCESSABLE_ENTITY;
    /// Wrong username or password.
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED;
    /// The cursor is not one this server signed for this device; pull without a cursor.
    InvalidCursor = "invalid_cursor", BAD_REQUEST;
    /// A date query parameter is not YYYY-MM-DD.
    InvalidDateQuery = "invalid_date", BAD_REQUEST;
    /// A date in the body is not YYYY-MM-DD.
    InvalidDate = "invalid_date", UNPROCESSABLE_ENTITY;
    /// Device name must be 1 to 100 characters.
    InvalidDeviceName = "invalid_device_name", BAD_REQUEST;
    /// Unknown figure: ….
    InvalidFigure = "invalid_figure", BAD_REQUEST;
    /// The amount is out of range: ….
    InvalidFundAmount = "invalid_fund_amount", UNPROCESSABLE_ENTITY;
    /// Not a date (YYYY-MM-DD): ….
    InvalidFundDate = "invalid_fund_date", UNPROCESSABLE_ENTITY;
    /// The kind is budget, received or paid: ….
    InvalidFundKind = "invalid_fund_kind", UNPROCESSABLE_ENTITY;
    /// A fund entry note is at most 500 characters.
    InvalidFundNote = "invalid_fund_note", UNPROCESSABLE_ENTITY;
    /// Unknown fund source: ….
    InvalidFundSource = "invalid_fund_source", UNPROCESSABLE_ENTITY;
    /// A safety grade is A, B, C or D: ….
    InvalidGrade = "invalid_grade", BAD_REQUEST;
    /// Idempotency-Key must be 1-128 visible characters.
    InvalidIdempotencyKey = "invalid_idempotency_key", BAD_REQUEST;
    /// Kind must be weekly or monthly, not ….
    InvalidKind = "invalid_kind", UNPROCESSABLE_ENTITY;
    /// Level must be community or district.
    InvalidLevel = "invalid_level", BAD_REQUEST;
    /// limit is out of range.
    InvalidLimit = "invalid_limit", BAD_REQUEST;
    /// Order is asc or desc: ….
    InvalidOrder = "invalid_order", BAD_REQUEST;
    /// per_page is between 1 and 200.
    InvalidPerPage = "invalid_per_page", BAD_REQUEST;
    /// The plan has errors; nothing was changed.
    InvalidPlan = "invalid_plan", UNPROCESSABLE_ENTITY;
    /// Platform must be at most 50 characters.
    InvalidPlatform = "invalid_platform", BAD_REQUEST;
    /// Programme must be shantytown, dangerous_housing or old_community.
    InvalidProgramme = "invalid_programme", BAD_REQUEST;
    /// A query parameter is not valid (the message names it).
    InvalidQuery = "invalid_query", BAD_REQUEST;
    /// The session has ended; log in again.
    InvalidRefreshToken = "invalid_refresh_token", UNAUTHORIZED;
    /// The body must be … or … (or a value that is one of the two contested ones).
    InvalidResolution = "invalid_resolution", BAD_REQUEST;
    /// The path must be a lowercase hex SHA-256 (64 characters).
    InvalidSha256 = "invalid_sha256", BAD_REQUEST;
    /// Cannot sort by ….
    InvalidSort = "invalid_sort", BAD_REQUEST;
    /// The status query parameter is not one of the listed values.
    InvalidStatusQuery = "invalid_status", BAD_REQUEST;
    /// A bulletin status is draft or issued.
    InvalidStatus = "invalid_status", UNPROCESSABLE_ENTITY;
    /// The year is between 2000 and 2100: ….
    InvalidYear = "invalid_year", BAD_REQUEST;
    /// The public map shows districts only.
    LevelNotPublic = "level_not_public", BAD_REQUEST;
    /// Give an area or lat/lon.
    LocationRequired = "location_required", BAD_REQUEST;
    /// A severity filter is not one of the register's severities.
    InvalidSeverity = "invalid_severity", BAD_REQUEST;
    /// The sync batch is not valid JSON or not a batch.
    MalformedBatch = "malformed_batch", BAD_REQUEST;
    /// The request body could not be read: ….
    MalformedBody = "malformed_body", BAD_REQUEST;
    /// The request body is not valid JSON for this operation.
    MalformedJson = "malformed_json", BAD_REQUEST;
    /// There is no pending extension request.
    NoPendingExtension = "no_pending_extension", CONFLICT;
    /// Only one of the two contested values (the server's or the device's) can be chosen.
    NotAContestedValue = "not_a_contested_value", UNPROCESSABLE_ENTITY;
    /// The unit is not a property manager (kind: …); it cannot take over.
    NotAPropertyManager = "not_a_property_manager", UNPROCESSABLE_ENTITY;
    /// The file is neither an XLSX workbook nor UTF-8 CSV.
    NotASpreadsheet = "not_a_spreadsheet", BAD_REQUEST;
    /// The stored photo does not decode; no thumbnail can be made.
    NotAnImage = "not_an_image", UNPROCESSABLE_ENTITY;
    /// No such address or record.
    NotFound = "not_found", NOT_FOUND;
    /// This belongs to another unit.
    NotYourUnit = "not_your_unit", FORBIDDEN;
    /// No such undelivered message.
    OutboxMessageNotFound = "outbox_message_not_found", NOT_FOUND;
    /// This location is outside the city's jurisdiction.
    OutsideJurisdiction = "outside_jurisdiction", BAD_REQUEST;
    /// The request body is too large.
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE;
    /// Payments would total … yuan, more than the … yuan received; nothing was recorded.
    PaymentExceedsReceived = "payment_exceeds_received", UNPROCESSABLE_ENTITY;
    /// A bulletin of this kind for this period has already been issued.
    PeriodAlreadyIssued = "period_already_issued", CONFLICT;
    /// The period starting … has not begun; no bulletin can be made.
    PeriodInFuture = "period_in_future", UNPROCESSABLE_ENTITY;
    /// A monthly bulletin's period starts on the 1st; … is not.
    PeriodNotFirstOfMonth = "period_not_first_of_month", UNPROCESSABLE_ENTITY;
    /// A weekly bulletin's period starts on a Monday; … is not one.
    PeriodNotMonday = "period_not_monday", UNPROCESSABLE_ENTITY;
    /// The project is not completed (or has no area); it cannot be handed over.
    ProjectNotCompleted = "project_not_completed", UNPROCESSABLE_ENTITY;
    /// No such project, or not in your scope.
    ProjectNotFound = "project_not_found", NOT_FOUND;
    /// The sync protocol version of the device is not one this server speaks; `supported` lists them.
    ProtocolVersionUnsupported = "protocol_version_unsupported", BAD_REQUEST;
    /// No such record, or not in your scope.
    RecordNotFound = "record_not_found", NOT_FOUND;
    /// A referenced record does not exist, or the record is still in use.
    ReferenceNotFound = "reference_not_found", UNPROCESSABLE_ENTITY;
    /// This refresh token was already used; the session was ended for safety. Log in again.
    RefreshTokenReused = "refresh_token_reused", UNAUTHORIZED;
    /// The device's sync cursor is too old; it must reset and pull again from the start.
    ResetRequired = "reset_required", GONE;
    /// This choice would move the record out of your scope; nothing was changed.
    ResolutionLeavesScope = "resolution_leaves_scope", FORBIDDEN;
    /// Conflicts of server-authoritative fields and statuses are resolved by a supervisor or an administrator.
    ResolutionNeedsSupervisor = "resolution_needs_supervisor", FORBIDDEN;
    /// Your role may not do this.
    RoleNotAllowed = "role_not_allowed", FORBIDDEN;
    /// No such rule.
    RuleNotFound = "rule_not_found", NOT_FOUND;
    /// Mutation … is missing; the batch was not applied.
    SequenceGap = "sequence_gap", CONFLICT;
    /// The server is busy (the database write turn, or too many sign-ins at once); retry shortly.
    ServerBusy = "server_busy", SERVICE_UNAVAILABLE;
    /// The service is temporarily unavailable; please try again.
    ServiceUnavailable = "service_unavailable", SERVICE_UNAVAILABLE;
    /// Only the resident who filed the complaint can rate it.
    SupporterCannotRate = "supporter_cannot_rate", FORBIDDEN;
    /// A text field is longer than allowed.
    TextTooLong = "text_too_long", UNPROCESSABLE_ENTITY;
    /// No such ticket.
    TicketNotFound = "ticket_not_found", NOT_FOUND;
    /// The ticket's current status does not allow this action.
    TicketNotInState = "ticket_not_in_state", CONFLICT;
    /// At most … hashes per query.
    TooManyHashes = "too_many_hashes", BAD_REQUEST;
    /// Too many requests; please try again later.
    TooManyRequests = "too_many_requests", TOO_MANY_REQUESTS;
    /// The sheet has … rows; at most ….
    TooManyRows = "too_many_rows", PAYLOAD_TOO_LARGE;
    /// No complaint has this tracking code; please check it.
    TrackingCodeNotFound = "tracking_code_not_found", NOT_FOUND;
    /// The file has data after the end of the image (a motion photo, say); save it as a plain photo and upload again.
    TrailingData = "trailing_data", UNPROCESSABLE_ENTITY;
    /// Log in first, or your login has expired.
    Unauthorized = "unauthorized", UNAUTHORIZED;
    /// No such unit, or not in your scope.
    UnitNotFound = "unit_not_found", NOT_FOUND;
    /// An area id or code names no area.
    UnknownArea = "unknown_area", BAD_REQUEST;
    /// There is no such category.
    UnknownCategory = "unknown_category", BAD_REQUEST;
    /// After names no service request.
    UnknownCursor = "unknown_cursor", BAD_REQUEST;
    /// No such programme (shantytown, dangerous_housing, old_community).
    UnknownProgramme = "unknown_programme", NOT_FOUND;
    /// No register named … (project, building, inspection, hazard).
    UnknownRegister = "unknown_register", NOT_FOUND;
    /// A unit id or code names no unit.
    UnknownUnit = "unknown_unit", BAD_REQUEST;
    /// Only JPEG, PNG or WebP images are accepted.
    UnsupportedImage = "unsupported_image", UNSUPPORTED_MEDIA_TYPE;
    /// The body's media type is not accepted (JSON bodies; JPEG, PNG or WebP photos).
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    /// Today's photo upload allowance for this network is used up; try tomorrow or submit without photos.
    UploadBudgetExhausted = "upload_budget_exhausted", TOO_MANY_REQUESTS;
    /// No such upload.
    UploadNotFound = "upload_not_found", NOT_FOUND;
    /// No such user.
    UserNotFound = "user_not_found", NOT_FOUND;
    /// Some fields are not valid; see the listed errors.
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY;
    /// The period may be at most two years long.
    WindowTooLong = "window_too_long", BAD_REQUEST;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! field_codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $code:literal; )*) => {
        /// A stable code of one field's refusal inside a 422 `validation_failed` answer
        /// (`errors.<field>.code`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FieldCode {
            $( $(#[doc = $doc])* $name, )*
        }

        impl FieldCode {
            /// Every code, in table order.
            pub const ALL: &'static [FieldCode] = &[$(FieldCode::$name),*];

            /// The snake_case code clients see and match on.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(FieldCode::$name => $code,)*
                }
            }

            /// The variant's Rust name (for the tests that find it in the source).
            pub const fn name(self) -> &'static str {
                match self {
                    $(FieldCode::$name => stringify!($name),)*
                }
            }
        }
    };
}

field_codes! {
    /// The field is required.
    Required = "required";
    /// The text is shorter than allowed.
    TooShort = "too_short";
    /// The text is longer than allowed (the message says how long it may be).
    TooLong = "too_long";
    /// More items than allowed (photos).
    TooMany = "too_many";
    /// A number is outside its range (a rating is 1 to 5).
    OutOfRange = "out_of_range";
    /// Not a valid mainland mobile number.
    InvalidPhone = "invalid_phone";
    /// lat and lon are not both valid degrees.
    InvalidPoint = "invalid_point";
    /// Neither an area nor a point was given.
    LocationRequired = "location_required";
    /// Not a YYYY-MM-DD date.
    InvalidDate = "invalid_date";
    /// Not an RFC 3339 time with its offset.
    InvalidDatetime = "invalid_datetime";
    /// A kind not among the listed ones.
    InvalidKind = "invalid_kind";
    /// The category names no active category.
    UnknownCategory = "unknown_category";
    /// The id names no area.
    UnknownArea = "unknown_area";
    /// The id or code names no unit.
    UnknownUnit = "unknown_unit";
    /// A photo id names no upload (never uploaded, or expired).
    UnknownUpload = "unknown_upload";
    /// Resolving this category needs photos of the finished work.
    PhotosRequired = "photos_required";
    /// The new deadline is not later than the current one.
    NotLater = "not_later";
    /// The ticket is already with this unit.
    SameUnit = "same_unit";
    /// A username is 3-32 letters, digits, `_`, `-` or `.`.
    InvalidUsername = "invalid_username";
    /// A display name is 1-64 characters.
    InvalidDisplayName = "invalid_display_name";
    /// The password is too weak (the message says why).
    WeakPassword = "weak_password";
    /// The role is not one of the roles.
    UnknownRole = "unknown_role";
    /// A unit role needs its unit.
    UnitRequired = "unit_required";
}

impl std::fmt::Display for FieldCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::{ErrorCode, FieldCode};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
    }

    /// Whether `src` names `path` (e.g. `ErrorCode::NotFound`) as a whole word: not as the start
    /// of a longer name (`ErrorCode::NotFoundHere`).
    fn names(src: &str, path: &str) -> bool {
        src.match_indices(path).any(|(i, _)| {
            !src[i + path.len()..].starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_')
        })
    }

    /// The source of the server outside this table.
    fn server_source() -> String {
        crate::source_tree::rust_files()
            .into_iter()
            .filter(|(p, _)| !p.ends_with("error/codes.rs"))
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `(code, status)` rows of a section of docs/errors.md: lines "| `code` | 404 | … |" below
    /// the heading `section` up to the next `## ` heading.
    pub(crate) fn documented(section: &str) -> BTreeMap<String, BTreeSet<String>> {
        let doc =
            std::fs::read_to_string(root().join("../docs/errors.md")).expect("docs/errors.md");
        let mut rows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut inside = false;
        for line in doc.lines() {
            if line.starts_with("## ") {
                inside = line.trim() == section;
                continue;
            }
            if !inside {
                continue;
            }
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() < 4 || !cells[1].starts_with('`') {
                continue;
            }
            let code = cells[1].trim_matches('`').to_string();
            rows.entry(code).or_default().insert(cells[2].to_string());
        }
        rows
    }

    #[test]
    fn codes_are_snake_case_and_each_code_has_one_status_per_row() {
        let mut seen = BTreeSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{s} is not snake_case"
            );
            assert!(
                seen.insert((s, c.status())),
                "{s} {} is in the table twice",
                c.status()
            );
        }
    }

    #[test]
    fn every_code_is_used_by_the_server() {
        let src = server_source();
        let unused: Vec<&str> = ErrorCode::ALL
            .iter()
            .filter(|c| !names(&src, &format!("ErrorCode::{}", c.name())))
            .map(|c| c.as_str())
            .collect();
        assert!(
            unused.is_empty(),
            "codes in the table that no call site uses: {unused:?}"
        );
    }

    #[test]
    fn every_code_is_documented_with_its_status_and_nothing_else_is() {
        let doc = documented("## Problem codes");
        let mut table: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for c in ErrorCode::ALL {
            table
                .entry(c.as_str().to_string())
                .or_default()
                .insert(c.status().as_u16().to_string());
        }
        let missing: Vec<_> = table
            .iter()
            .filter(|(k, v)| doc.get(*k) != Some(v))
            .collect();
        let extra: Vec<_> = doc.keys().filter(|k| !table.contains_key(*k)).collect();
        assert!(
            missing.is_empty(),
            "codes missing from docs/errors.md or with another status there: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "docs/errors.md documents codes the server does not have: {extra:?}"
        );
    }

    /// The source of anju-shared outside its rejection table.
    fn shared_source() -> String {
        let mut out = String::new();
        let mut dirs = vec![root().join("../shared/src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read shared/src") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("rejection.rs")
                {
                    out.push_str(&std::fs::read_to_string(&path).expect("read source"));
                    out.push('\n');
                }
            }
        }
        out
    }

    #[test]
    fn every_rejection_code_is_used_and_documented_and_nothing_else_is() {
        use anju_shared::rejection::RejectionCode;
        let src = server_source() + &shared_source();
        let unused: Vec<&str> = RejectionCode::ALL
            .iter()
            .filter(|c| !names(&src, &format!("RejectionCode::{}", c.name())))
            .map(|c| c.as_str())
            .collect();
        assert!(
            unused.is_empty(),
            "rejection codes that no call site uses: {unused:?}"
        );
        let doc =
            std::fs::read_to_string(root().join("../docs/api-sync.md")).expect("docs/api-sync.md");
        let mut documented = BTreeSet::new();
        let mut inside = false;
        for line in doc.lines() {
            if line.starts_with("## ") {
                inside = line.trim() == "## Rejection codes";
                continue;
            }
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if inside && cells.len() >= 3 && cells[1].starts_with('`') {
                documented.insert(cells[1].trim_matches('`').to_string());
            }
        }
        let table: BTreeSet<String> = RejectionCode::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        assert_eq!(
            table.len(),
            RejectionCode::ALL.len(),
            "a rejection code is in the table twice"
        );
        let missing: Vec<_> = table.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&table).collect();
        assert!(
            missing.is_empty(),
            "rejection codes missing from docs/api-sync.md: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "docs/api-sync.md lists rejection codes the table does not have: {extra:?}"
        );
    }

    #[test]
    fn every_field_code_is_used_and_documented_and_nothing_else_is() {
        let src = server_source();
        let unused: Vec<&str> = FieldCode::ALL
            .iter()
            .filter(|c| !names(&src, &format!("FieldCode::{}", c.name())))
            .map(|c| c.as_str())
            .collect();
        assert!(
            unused.is_empty(),
            "field codes that no call site uses: {unused:?}"
        );
        let doc: BTreeSet<String> = documented("## Field codes").into_keys().collect();
        let table: BTreeSet<String> = FieldCode::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        assert_eq!(
            table.len(),
            FieldCode::ALL.len(),
            "a field code is in the table twice"
        );
        let missing: Vec<_> = table.difference(&doc).collect();
        let extra: Vec<_> = doc.difference(&table).collect();
        assert!(
            missing.is_empty(),
            "field codes missing from docs/errors.md: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "docs/errors.md documents field codes the server does not have: {extra:?}"
        );
    }
}
