//! Ids parsed once, at the edge. A handler takes `web::Path<TicketId>` (or a tuple with one)
//! instead of a `String` it parses later: actix deserializes the segment into the newtype, and a
//! segment that is not a UUID never reaches the handler. It is answered by
//! [`super::path_config`] exactly as the handler answers an id that names nothing (the kind's
//! own 404 code, e.g. `ticket_not_found`, with its zh-CN and en messages), so a malformed id and
//! an unknown one cannot be told apart.
//!
//! Path segments that are not UUIDs (tracking codes, ticket numbers, register names, hashes,
//! unit codes) stay `String`.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

macro_rules! path_ids {
    ($( $(#[doc = $doc:literal])* $name:ident => $code:ident, $zh:literal, $en:literal; )*) => {
        $(
            $(#[doc = $doc])*
            ///
            /// Always a well-formed UUID; shown (and stored) in its lowercase hyphenated form.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name(Uuid);

            impl $name {
                /// The answer when the id is malformed or names nothing (404).
                pub fn not_found() -> ApiError {
                    ApiError::new(ErrorCode::$code, $zh, $en)
                }

                /// Parses the id's text; `None` when it is not a UUID.
                pub fn parse(s: &str) -> Option<$name> {
                    Uuid::try_parse(s).ok().map($name)
                }

                /// The UUID.
                pub const fn uuid(self) -> Uuid {
                    self.0
                }

                /// The message a malformed path segment is rejected with, which
                /// [`rejection`] turns back into [`Self::not_found`].
                const REJECTED: &'static str = concat!(stringify!($name), " is not a UUID");
            }

            impl From<Uuid> for $name {
                fn from(u: Uuid) -> $name {
                    $name(u)
                }
            }

            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    fmt::Display::fmt(&self.0.hyphenated(), f)
                }
            }

            impl<'de> Deserialize<'de> for $name {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                    let s = String::deserialize(d)?;
                    $name::parse(&s).ok_or_else(|| D::Error::custom($name::REJECTED))
                }
            }
        )*

        /// The answer for a path segment one of the id newtypes refused (its message is the
        /// newtype's), or `None` for any other path error.
        pub fn rejection(message: &str) -> Option<ApiError> {
            $( if message == $name::REJECTED { return Some($name::not_found()); } )*
            None
        }

        #[cfg(test)]
        const ALL_REJECTED: &[(&str, fn() -> ApiError)] = &[$(($name::REJECTED, $name::not_found)),*];
    };
}

path_ids! {
    /// A ticket's id (`/tickets/{id}`).
    TicketId => TicketNotFound, "没有这个工单", "No such ticket";
    /// An extension request's id (`/extensions/{id}`).
    ExtensionId => ExtensionNotFound, "没有这个延期申请", "No such extension request";
    /// An account's id (`/admin/users/{id}`, and the signed-in [`crate::auth::Principal`]).
    UserId => UserNotFound, "找不到该用户", "No such user";
    /// A routing rule's id.
    RuleId => RuleNotFound, "没有这条规则", "No such rule";
    /// An outbox message's id.
    OutboxMessageId => OutboxMessageNotFound, "没有这条待重发的消息", "No such undelivered message";
    /// A register record's id (`/registers/{register}/{id}`, `/registers/hazard/{id}/…`).
    RecordId => RecordNotFound, "没有这条记录，或不在您的管辖范围内", "no such record, or not in your scope";
    /// A bulletin's id.
    BulletinId => BulletinNotFound, "没有这期通报", "no such bulletin";
    /// A resident's upload's id (`/uploads/{id}`).
    UploadId => UploadNotFound, "找不到该图片", "No such upload";
    /// A project's id in the fund ledger (`/funds/projects/{id}`).
    ProjectId => ProjectNotFound, "没有这个项目，或不在您的管辖范围内", "no such project, or not in your scope";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_id_is_refused_with_its_kinds_not_found_answer() {
        use serde::de::value::{Error, StrDeserializer};
        let e = TicketId::deserialize(StrDeserializer::<Error>::new("not-a-uuid")).unwrap_err();
        let answer = rejection(&e.to_string()).expect("a TicketId rejection");
        assert_eq!(answer.status().as_u16(), 404);
        assert_eq!(answer.code(), "ticket_not_found");
        assert!(rejection("some other path error").is_none());
        for (message, not_found) in ALL_REJECTED {
            let answer = rejection(message).expect("every kind is answered");
            assert_eq!(answer.code(), not_found().code());
            assert_eq!(answer.status().as_u16(), 404);
        }
    }

    #[test]
    fn a_well_formed_id_reads_back_in_its_stored_form() {
        let s = "0192f3a4-5b6c-7d8e-9f00-112233445566";
        let id: TicketId = serde_json::from_str(&format!("\"{s}\"")).unwrap();
        assert_eq!(id.to_string(), s);
        assert_eq!(TicketId::parse(s), Some(id));
    }
}
