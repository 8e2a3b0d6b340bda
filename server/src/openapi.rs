//! The OpenAPI 3 document, assembled from each capability's paths, and the offline docs page.

use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The document's frame.
#[derive(OpenApi)]
#[openapi(info(
    title = "anju",
    description = "安居: resident complaints (接诉即办) and conflict-aware sync for field devices. \
                   Errors are application/problem+json with a stable `code`."
))]
struct Root;

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Root::openapi();
    doc.merge(crate::auth::ApiDoc::openapi());
    doc.merge(crate::users::handlers::ApiDoc::openapi());
    doc.merge(crate::org::handlers::ApiDoc::openapi());
    doc.merge(crate::sync::ApiDoc::openapi());
    doc.merge(crate::registers::ApiDoc::openapi());
    doc.merge(crate::plans::ApiDoc::openapi());
    doc.merge(crate::checklists::ApiDoc::openapi());
    doc.merge(crate::devices::ApiDoc::openapi());
    doc.merge(crate::attachments::ApiDoc::openapi());
    doc.merge(crate::complaints::intake::ApiDoc::openapi());
    doc.merge(crate::complaints::uploads::ApiDoc::openapi());
    doc.merge(crate::complaints::similar::ApiDoc::openapi());
    doc.merge(crate::complaints::track::ApiDoc::openapi());
    doc.merge(crate::tickets::ApiDoc::openapi());
    doc.merge(crate::stats::ApiDoc::openapi());
    doc.merge(crate::routing::admin::ApiDoc::openapi());
    doc.merge(crate::notify::admin::ApiDoc::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc
}
