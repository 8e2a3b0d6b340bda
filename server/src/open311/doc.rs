//! The Open311 GeoReport v2 endpoints in the OpenAPI document. They are served by two catch-all
//! routes (`/open311/v2/{path}` for GET and POST), so no handler carries a `#[utoipa::path]`;
//! this fragment describes each resource as the dispatcher in [`super`] answers it. Every
//! resource takes the extension `.json` or `.xml` (`{format}`); the schemas describe the JSON.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

/// The JSON schema of one service request as [`super::requests`] renders it. `description` and
/// `status_notes` are present only for a reader with a valid `api_key`.
fn service_request() -> Value {
    let text = json!({"type": ["string", "null"]});
    let number = json!({"type": ["number", "null"]});
    json!({
        "type": "object",
        "required": ["service_request_id", "status", "service_code", "requested_datetime"],
        "properties": {
            "service_request_id": {"type": "string", "description": "the public ticket number"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "service_name": text,
            "service_code": {"type": "string", "description": "the complaint category code"},
            "agency_responsible": text,
            "service_notice": text,
            "requested_datetime": {"type": "string"},
            "updated_datetime": text,
            "expected_datetime": text,
            "address": {"type": ["string", "null"], "description": "the community's name"},
            "address_id": text,
            "zipcode": text,
            "lat": number,
            "long": number,
            "description": {"type": "string", "description": "with an api_key only; redacted"},
            "status_notes": {"type": ["string", "null"], "description": "with an api_key only"}
        }
    })
}

fn param(name: &str, place: &str, required: bool, description: &str) -> Value {
    json!({
        "name": name,
        "in": place,
        "required": required,
        "description": description,
        "schema": {"type": "string"}
    })
}

fn format_param() -> Value {
    json!({
        "name": "format",
        "in": "path",
        "required": true,
        "description": "the answer's format",
        "schema": {"type": "string", "enum": ["json", "xml"]}
    })
}

fn answer(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "content": {
            "application/json": {"schema": schema},
            "text/xml": {"schema": {"type": "string"}}
        }
    })
}

/// The spec's error answer: `[{code, description}]` with the HTTP status as `code`.
fn errors(statuses: &[&str]) -> Value {
    let schema = json!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}
        }
    });
    let mut out = serde_json::Map::new();
    for s in statuses {
        out.insert(
            (*s).to_string(),
            answer("an Open311 error list", schema.clone()),
        );
    }
    Value::Object(out)
}

fn responses(ok: Value, error_statuses: &[&str]) -> Value {
    let mut all = errors(error_statuses);
    if let Value::Object(map) = &mut all {
        map.insert("200".into(), ok);
    }
    all
}

fn operation(id: &str, summary: &str, parameters: Vec<Value>, responses: Value) -> Value {
    json!({
        "tags": ["open311"],
        "operationId": id,
        "summary": summary,
        "parameters": parameters,
        "responses": responses
    })
}

/// The fragment, merged into the whole document by [`crate::openapi::document`].
pub fn document() -> OpenApi {
    let jurisdiction = || {
        param(
            "jurisdiction_id",
            "query",
            false,
            "the city area's code; refused when it is another",
        )
    };
    let api_key = |required: bool, place: &str| {
        param(
            "api_key",
            place,
            required,
            "a key made with `anju apikey create`",
        )
    };
    let requests = json!({"type": "array", "items": service_request()});
    let mut list_params = vec![format_param(), jurisdiction(), api_key(false, "query")];
    for (name, description) in [
        (
            "service_request_id",
            "ticket numbers, comma-separated (the other filters are then ignored)",
        ),
        ("service_code", "category codes, comma-separated"),
        ("start_date", "RFC 3339 instant; default 90 days before now"),
        ("end_date", "RFC 3339 instant; default now"),
        ("status", "open, closed or both, comma-separated"),
        ("page", "from 1 (OFFSET paging; for deep pages use after)"),
        (
            "after",
            "the service_request_id of the last request of the previous page: the page starts \
             right after it (keyset paging, as fast on any page; not with page)",
        ),
        ("page_size", "1 to 1000, default 1000"),
    ] {
        list_params.push(param(name, "query", false, description));
    }
    let form_fields = [
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "attribute[community]",
        "description",
        "first_name",
        "last_name",
        "phone",
        "jurisdiction_id",
    ];
    let mut form = serde_json::Map::new();
    form.insert("api_key".into(), json!({"type": "string"}));
    for f in form_fields {
        form.insert(f.into(), json!({"type": "string"}));
    }
    let post_body = json!({
        "required": true,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code"],
                    "properties": form,
                    "description": "a location is required: lat and long, address_string, \
                                    address_id or attribute[community]"
                }
            }
        }
    });
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "anju Open311", "version": "v2"},
        "paths": {
            "/open311/v2/discovery.{format}": {"get": operation(
                "open311_discovery",
                "GeoReport v2 discovery",
                vec![format_param()],
                responses(answer("the endpoints", json!({"type": "object"})), &["404"]),
            )},
            "/open311/v2/services.{format}": {"get": operation(
                "open311_services",
                "the services (complaint categories)",
                vec![format_param(), jurisdiction()],
                responses(answer("the services", json!({
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["service_code", "service_name"],
                        "properties": {
                            "service_code": {"type": "string"},
                            "service_name": {"type": "string"},
                            "description": {"type": "string"},
                            "metadata": {"type": "boolean"},
                            "type": {"type": "string"},
                            "keywords": {"type": "string"},
                            "group": {"type": "string"}
                        }
                    }
                })), &["400", "404"]),
            )},
            "/open311/v2/services/{service_code}.{format}": {"get": operation(
                "open311_service_definition",
                "a service's definition (the community attribute)",
                vec![param("service_code", "path", true, "a category code"), format_param(), jurisdiction()],
                responses(answer("the definition", json!({
                    "type": "object",
                    "required": ["service_code", "attributes"],
                    "properties": {
                        "service_code": {"type": "string"},
                        "attributes": {"type": "array", "items": {"type": "object"}}
                    }
                })), &["400", "404"]),
            )},
            "/open311/v2/requests.{format}": {
                "get": operation(
                    "open311_requests",
                    "service requests (tickets), newest first, one page",
                    list_params,
                    responses(answer("the requests", requests.clone()), &["400", "403", "404"]),
                ),
                "post": {
                    "tags": ["open311"],
                    "operationId": "open311_post_request",
                    "summary": "file a complaint as a service request",
                    "parameters": [format_param()],
                    "requestBody": post_body,
                    "responses": responses(answer("the new request's number and token", json!({
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["service_request_id", "token"],
                            "properties": {
                                "service_request_id": {"type": "string"},
                                "token": {"type": "string"},
                                "service_notice": {"type": "string"},
                                "account_id": {"type": "null"}
                            }
                        }
                    })), &["400", "403", "404", "422", "429"])
                }
            },
            "/open311/v2/requests/{service_request_id}.{format}": {"get": operation(
                "open311_request",
                "one service request",
                vec![
                    param("service_request_id", "path", true, "a ticket number"),
                    format_param(),
                    jurisdiction(),
                    api_key(false, "query"),
                ],
                responses(answer("a list of one request", requests), &["400", "403", "404"]),
            )},
            "/open311/v2/tokens/{token}.{format}": {"get": operation(
                "open311_token",
                "the request number a token stands for",
                vec![param("token", "path", true, "the token a POST answered"), format_param(), jurisdiction()],
                responses(answer("a list of one {service_request_id, token}", json!({
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["service_request_id", "token"],
                        "properties": {
                            "service_request_id": {"type": "string"},
                            "token": {"type": "string"}
                        }
                    }
                })), &["400", "404"]),
            )}
        }
    });
    serde_json::from_value(doc).expect("the Open311 fragment is a valid OpenAPI document")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_open311_resource_is_documented() {
        let doc = super::document();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        assert_eq!(paths.len(), 6, "{paths:?}");
        let requests = &doc.paths.paths["/open311/v2/requests.{format}"];
        assert!(requests.get.is_some() && requests.post.is_some());
    }
}
