//! The answers agree with the API document. Every request a test sends through
//! [`crate::TestApp::call`] is checked against the OpenAPI document the server serves: a JSON
//! answer must validate against the schema documented for its path, method and status, and a
//! JSON body the server accepted (2xx) must validate against the documented request schema (a
//! document that refuses what the server takes misleads a client as much as the reverse).
//!
//! A mismatch fails the test that made the request, naming the operation and the first errors.
//! `ANJU_TEST_CONFORMANCE=off` turns the check off (e.g. to see a test's own failure first);
//! `ANJU_TEST_CONFORMANCE=report:FILE` appends each mismatch to FILE instead of failing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

/// The document and the validators compiled from it so far (per test app, not process-wide).
pub struct Conformance {
    doc: Value,
    validators: Mutex<HashMap<String, Option<Arc<Validator>>>>,
    mode: Mode,
}

/// What a mismatch does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Enforce,
    Off,
    Report(String),
}

/// One operation of the document, found for a concrete request path.
struct Operation<'a> {
    template: &'a str,
    op: &'a Value,
}

impl Default for Conformance {
    fn default() -> Self {
        Conformance::new()
    }
}

impl Conformance {
    /// The check against `anju_server::openapi::document()`.
    pub fn new() -> Conformance {
        Conformance {
            doc: serde_json::to_value(anju_server::openapi::document()).expect("document"),
            validators: Mutex::new(HashMap::new()),
            mode: match std::env::var("ANJU_TEST_CONFORMANCE").as_deref() {
                Ok("off") => Mode::Off,
                Ok(v) if v.starts_with("report:") => Mode::Report(v["report:".len()..].into()),
                _ => Mode::Enforce,
            },
        }
    }

    /// Checks one exchange and fails the calling test on a mismatch (see the module's modes).
    pub fn assert(
        &self,
        method: &str,
        path: &str,
        request: Option<&Value>,
        status: u16,
        content_type: &str,
        answer: &Value,
    ) {
        let Err(e) = self.check(method, path, request, status, content_type, answer) else {
            return;
        };
        match &self.mode {
            Mode::Enforce => panic!("the answer disagrees with the API document: {e}"),
            Mode::Off => {}
            Mode::Report(file) => {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(file)
                    .expect("report file");
                writeln!(f, "{e}").expect("report");
            }
        }
    }

    /// Checks one exchange. `path` may carry a query; `content_type` is the answer's.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        request: Option<&Value>,
        status: u16,
        content_type: &str,
        answer: &Value,
    ) -> Result<(), String> {
        if self.mode == Mode::Off {
            return Ok(());
        }
        let path = path.split('?').next().unwrap_or(path);
        let method = method.to_ascii_lowercase();
        let Some(found) = self.operation(&method, path) else {
            return Ok(());
        };
        let name = format!("{} {}", method.to_uppercase(), found.template);
        if (200..300).contains(&status)
            && let Some(body) = request
        {
            let pointer = format!(
                "/paths/{}/{method}/requestBody/content/application~1json/schema",
                escape(found.template)
            );
            self.validate(&pointer, body)
                .map_err(|e| format!("{name}: the accepted request body {e}"))?;
        }
        if !content_type.contains("json") || answer.is_null() {
            return Ok(());
        }
        let responses = &found.op["responses"];
        let key = if responses.get(status.to_string()).is_some() {
            status.to_string()
        } else if responses.get("default").is_some() {
            "default".to_string()
        } else {
            return Ok(());
        };
        let Some(content) = responses[&key]["content"].as_object() else {
            return Ok(());
        };
        let Some(media) = content.keys().find(|k| k.contains("json")) else {
            return Ok(());
        };
        let pointer = format!(
            "/paths/{}/{method}/responses/{key}/content/{}/schema",
            escape(found.template),
            escape(media)
        );
        self.validate(&pointer, answer)
            .map_err(|e| format!("{name} answered {status} with a body that {e}"))
    }

    /// The operation whose template matches `path`, preferring the most literal segments.
    fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let paths = self.doc["paths"].as_object()?;
        let want: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut best: Option<(usize, Operation<'_>)> = None;
        for (template, item) in paths {
            let Some(op) = item.get(method) else { continue };
            let have: Vec<&str> = template.split('/').collect();
            if have.len() != want.len() {
                continue;
            }
            let mut literal = 0;
            let matches = have.iter().zip(&want).all(|(t, w)| match t.find('{') {
                None => {
                    literal += 1;
                    t == w
                }
                Some(open) => {
                    let close = t.rfind('}').unwrap_or(t.len() - 1);
                    let (prefix, suffix) = (&t[..open], &t[close + 1..]);
                    w.len() > prefix.len() + suffix.len()
                        && w.starts_with(prefix)
                        && w.ends_with(suffix)
                }
            });
            if matches && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, Operation { template, op }));
            }
        }
        best.map(|(_, op)| op)
    }

    /// Validates `value` against the schema at `pointer` in the document (absent: passes).
    fn validate(&self, pointer: &str, value: &Value) -> Result<(), String> {
        let validator = {
            let mut cache = self.validators.lock().expect("validators");
            cache
                .entry(pointer.to_string())
                .or_insert_with(|| self.compile(pointer))
                .clone()
        };
        let Some(validator) = validator else {
            return Ok(());
        };
        let errors: Vec<String> = validator
            .iter_errors(value)
            .take(3)
            .map(|e| format!("at {}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "does not match the documented schema ({pointer}): {}; body: {}",
                errors.join("; "),
                shorten(value)
            ))
        }
    }

    fn compile(&self, pointer: &str) -> Option<Arc<Validator>> {
        let schema = self.doc.pointer(pointer)?;
        let mut root = Map::new();
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        root.insert("allOf".into(), json!([schema]));
        root.insert("components".into(), self.doc["components"].clone());
        let validator = jsonschema::draft202012::new(&Value::Object(root))
            .unwrap_or_else(|e| panic!("the documented schema at {pointer} does not compile: {e}"));
        Some(Arc::new(validator))
    }
}

/// A JSON pointer token for `s` (`~` and `/` escaped).
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn shorten(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 400 {
        format!("{}…", &s[..s.floor_char_boundary(400)])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::Conformance;
    use serde_json::json;

    #[test]
    fn a_body_the_document_refuses_is_named() {
        let c = Conformance::new();
        let sent = json!({"name": 5});
        let e = c
            .check(
                "POST",
                "/api/v1/devices",
                Some(&sent),
                201,
                "",
                &json!(null),
            )
            .unwrap_err();
        assert!(e.contains("POST /api/v1/devices"), "{e}");
        let fine = json!({"name": "巡查一号", "platform": "android"});
        assert!(
            c.check(
                "POST",
                "/api/v1/devices",
                Some(&fine),
                201,
                "",
                &json!(null)
            )
            .is_ok()
        );
    }

    #[test]
    fn an_answer_off_its_schema_is_named_and_literal_paths_win() {
        let c = Conformance::new();
        let ct = "application/json";
        let bad = json!([{"id": 1}]);
        let e = c
            .check("GET", "/api/v1/categories", None, 200, ct, &bad)
            .unwrap_err();
        assert!(e.contains("GET /api/v1/categories answered 200"), "{e}");
        let e = c
            .check(
                "GET",
                "/open311/v2/services.json?x=1",
                None,
                200,
                ct,
                &json!({}),
            )
            .unwrap_err();
        assert!(e.contains("services.{format}"), "{e}");
        assert!(
            c.check(
                "GET",
                "/open311/v2/services.json",
                None,
                200,
                ct,
                &json!([])
            )
            .is_ok()
        );
    }
}
