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
    doc.merge(crate::funds::ApiDoc::openapi());
    doc.merge(crate::upkeep::ApiDoc::openapi());
    doc.merge(crate::bulletins::ApiDoc::openapi());
    doc.merge(crate::map::ApiDoc::openapi());
    doc.merge(crate::checklists::ApiDoc::openapi());
    doc.merge(crate::devices::ApiDoc::openapi());
    doc.merge(crate::attachments::ApiDoc::openapi());
    doc.merge(crate::complaints::intake::ApiDoc::openapi());
    doc.merge(crate::attachments::uploads::ApiDoc::openapi());
    doc.merge(crate::complaints::similar::ApiDoc::openapi());
    doc.merge(crate::complaints::track::ApiDoc::openapi());
    doc.merge(crate::tickets::ApiDoc::openapi());
    doc.merge(crate::stats::ApiDoc::openapi());
    doc.merge(crate::org::routing_rules::ApiDoc::openapi());
    doc.merge(crate::notify::admin::ApiDoc::openapi());
    doc.merge(crate::clocks::ApiDoc::openapi());
    doc.merge(crate::open311::doc::document());
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every `(METHOD, path)` the server mounts under `/api/` (and `/open311/`), read from the
    /// `configure` functions' source: `.route("P", web::get()…)`, `web::resource("P")…
    /// .route(web::post()…)` and `web::scope("S")` around relative routes. The catch-alls
    /// (Open311's dispatcher, the docs UI) are described elsewhere and skipped.
    fn mounted_routes() -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (_, text) in crate::source_tree::rust_files() {
            scan(&text, &mut out);
        }
        out
    }

    /// The schema name of each type deriving `ToSchema` (its `#[schema(as = …)]` if it has one),
    /// with where it is declared.
    fn schema_names() -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, text) in crate::source_tree::rust_files() {
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.contains("derive(") && line.contains("ToSchema")) {
                    continue;
                }
                let mut alias = None;
                for (j, l) in lines.iter().enumerate().skip(i).take(20) {
                    if let Some(rest) = l.split("schema(as = ").nth(1) {
                        let name = rest.split([')', ',']).next().unwrap_or(rest);
                        alias = Some(name.rsplit("::").next().unwrap_or(name).trim().to_owned());
                    }
                    let t = l.trim_start();
                    let t = t
                        .strip_prefix("pub(crate) ")
                        .or_else(|| t.strip_prefix("pub "))
                        .unwrap_or(t);
                    if let Some(decl) = t
                        .strip_prefix("struct ")
                        .or_else(|| t.strip_prefix("enum "))
                    {
                        let name: String = decl
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let at = format!("{}:{}", path.display(), j + 1);
                        out.push((alias.take().unwrap_or(name), at));
                        break;
                    }
                }
            }
        }
        out
    }

    /// Two types with one schema name replace each other in the document without a word (the
    /// last registered wins), and the conformance check then validates answers against the
    /// wrong type: `GET /api/v1/stats/summary` was checked against a register record's summary.
    #[test]
    fn every_schema_name_belongs_to_one_type() {
        let mut seen: std::collections::HashMap<String, String> = Default::default();
        let mut twice = Vec::new();
        let names = schema_names();
        assert!(names.len() > 100, "the scan found {} schemas", names.len());
        for (name, at) in names {
            if let Some(first) = seen.insert(name.clone(), at.clone()) {
                twice.push(format!("{name}: {first} and {at}"));
            }
        }
        assert!(
            twice.is_empty(),
            "schema names used twice (add #[schema(as = …)]): {twice:#?}"
        );
    }

    fn scan(text: &str, out: &mut BTreeSet<(String, String)>) {
        const OPENERS: [&str; 3] = [".route(", "web::resource(", "web::scope("];
        let mut scope = String::new();
        let mut current: Option<String> = None;
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if let Some(opener) = OPENERS.iter().find(|o| rest.starts_with(**o)) {
                let after = &rest[opener.len()..];
                let skipped = after.len() - after.trim_start().len();
                if let Some(lit_rest) = after.trim_start().strip_prefix('"') {
                    let lit = &lit_rest[..lit_rest.find('"').unwrap()];
                    if *opener == "web::scope(" {
                        scope = lit.to_string();
                        current = None;
                    } else if lit.starts_with("/api/") || lit.starts_with("/open311/") {
                        current = Some(lit.to_string());
                    } else if lit.starts_with('/') && !scope.is_empty() {
                        current = Some(format!("{scope}{lit}"));
                    } else {
                        current = None;
                    }
                    i += opener.len() + skipped + 1 + lit.len() + 1;
                    continue;
                }
                i += opener.len();
                continue;
            }
            for method in ["get", "post", "put", "patch", "delete"] {
                if rest.starts_with(&format!("web::{method}()"))
                    && let Some(path) = &current
                    && !path.contains(":.*")
                    && path != "/api/openapi.json"
                {
                    out.insert((method.to_string(), path.clone()));
                }
            }
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }

    /// The whole document as served. A change to any route, parameter or schema shows here in
    /// review; accept an intended one with `INSTA_UPDATE=always cargo test -p anju-server --lib
    /// openapi` (or `cargo insta review`).
    #[test]
    fn the_document_is_the_reviewed_one() {
        insta::assert_json_snapshot!("openapi", super::document());
    }

    #[test]
    fn every_mounted_api_route_is_in_the_document() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let mounted = mounted_routes();
        assert!(mounted.len() > 50, "the scan found only {mounted:?}");
        let missing: Vec<String> = mounted
            .iter()
            .filter(|(method, path)| doc["paths"][path.as_str()][method.as_str()].is_null())
            .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
            .collect();
        assert!(
            missing.is_empty(),
            "routes missing from the OpenAPI document: {missing:#?}"
        );
    }
}
