//! The tracking view's answer ([`super::track::view`] builds it, the OpenAPI document names
//! it): what `GET /api/v1/track/{code}` and the confirm and dispute answers carry.

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
    /// The reply, result or comment (redacted for a supporter), or the unit's name; absent
    /// when the event has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An extension's reason (`extension_granted` only: present there, null when none was
    /// given).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub reason: Option<Option<String>>,
    /// The resolution deadline the event set (an extension, a dispatch, a reassignment or a
    /// reopening); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// Who opened the tracking view: the reporter, or a supporter following with their own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Viewer {
    /// The resident who filed it.
    Reporter,
    /// A resident who said "me too".
    Supporter,
}
