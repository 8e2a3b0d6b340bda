//! The documented shape of the tracking view ([`super::track::view`]): a schema-only mirror,
//! kept honest by the test suite's conformance check on every `/api/v1/track` answer.

use serde::Serialize;
use utoipa::ToSchema;

use crate::tickets::proof::ProofSummary;
use crate::tickets::state::TicketStatus;
use crate::tickets::store::UnitRef;
use crate::tickets::view::AreaRef;

/// What a tracking code shows: everything for the reporter, a redacted view for a supporter.
#[derive(Serialize, ToSchema)]
pub struct TrackView {
    /// Public ticket number.
    pub ticket_no: String,
    /// Status.
    pub status: TicketStatus,
    /// The verdict on the resolution's proof photos (null before a resolution or without them).
    #[schema(required = true)]
    pub proof: Option<ProofSummary>,
    /// Category.
    pub category: TrackCategory,
    /// The description (redacted for a supporter).
    pub description: String,
    /// Address (reporter only; null for a supporter).
    #[schema(required = true)]
    pub address: Option<String>,
    /// Area, when known.
    #[schema(required = true)]
    pub area: Option<AreaRef>,
    /// The unit it is with (names only), null while unassigned.
    #[schema(required = true)]
    pub unit: Option<UnitRef>,
    /// When it was filed.
    pub created_at: String,
    /// Response deadline.
    pub response_due: String,
    /// Resolution deadline.
    pub resolution_due: String,
    /// Residents who said "me too".
    pub supporters: i32,
    /// Photo URLs (reporter only; empty for a supporter).
    pub photos: Vec<String>,
    /// The public events, oldest first.
    pub timeline: Vec<TimelineItem>,
    /// Whether this viewer may confirm or dispute now.
    pub can_rate: bool,
    /// The reporter's rating, when given (null for a supporter).
    #[schema(required = true)]
    pub rating: Option<TrackRating>,
    /// Who is looking.
    pub viewer: Viewer,
}

/// The category's code and names (null names for a code the catalog no longer knows).
#[derive(Serialize, ToSchema)]
pub struct TrackCategory {
    /// Code.
    pub code: String,
    /// Chinese name.
    #[schema(required = true)]
    pub name_zh: Option<String>,
    /// English name.
    #[schema(required = true)]
    pub name_en: Option<String>,
}

/// One public event of the timeline.
#[derive(Serialize, ToSchema)]
pub struct TimelineItem {
    /// When.
    pub at: String,
    /// Kind.
    pub kind: String,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// The reply, result or comment (redacted for a supporter), or the unit's name.
    pub text: Option<String>,
    /// An extension's reason (`extension_granted` only).
    pub reason: Option<String>,
    /// The resolution deadline the event set.
    pub new_due: Option<String>,
}

/// A rating.
#[derive(Serialize, ToSchema)]
pub struct TrackRating {
    /// 1-5 stars.
    pub stars: i32,
    /// Comment.
    #[schema(required = true)]
    pub comment: Option<String>,
    /// When.
    pub at: String,
}

/// Who opened the tracking view.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Viewer {
    /// The resident who filed it.
    Reporter,
    /// A resident who said "me too".
    Supporter,
}
