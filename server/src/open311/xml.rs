//! A minimal XML writer for Open311 GeoReport v2 answers: elements, escaped text, nothing else.
//! The JSON and XML answers are built from the same [`serde_json::Value`], so they never drift.

use serde_json::Value;

/// Escape text for an XML element body.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids are dropped rather than breaking the document.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// Render `value` as an XML document with root element `root`.
///
/// Arrays become repeated `item` elements (the caller names them through `item_name`, which maps
/// a parent element name to its children's name: `service_requests` → `request`); objects
/// become child elements in key order; `null` becomes an empty element; booleans `true`/`false`.
pub fn to_xml(root: &str, value: &Value, item_name: &dyn Fn(&str) -> &'static str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    element(root, value, item_name, &mut out);
    out
}

fn element(name: &str, value: &Value, item_name: &dyn Fn(&str) -> &'static str, out: &mut String) {
    out.push('<');
    out.push_str(name);
    if value.is_null() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => escape(s, out),
        Value::Array(items) => {
            let child = item_name(name);
            for item in items {
                element(child, item, item_name, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                element(k, v, item_name, out);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// The child element name the GeoReport v2 spec uses for each list element.
pub fn georeport_item(parent: &str) -> &'static str {
    match parent {
        "services" => "service",
        "service_requests" => "request",
        "errors" => "error",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "media_urls" => "media_url",
        _ => "item",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_spec_shapes() {
        let v = json!([{"code": 404, "description": "no such <request> & co"}]);
        assert_eq!(
            to_xml("errors", &v, &georeport_item),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>404</code>\
             <description>no such &lt;request&gt; &amp; co</description></error></errors>"
        );
        let v = json!({"service_code": "dust", "attributes": [], "x": null, "b": true});
        let s = to_xml("service_definition", &v, &georeport_item);
        assert!(s.contains("<attributes></attributes>"));
        assert!(s.contains("<x/>"));
        assert!(s.contains("<b>true</b>"));
    }

    #[test]
    fn drops_forbidden_control_characters() {
        let mut s = String::new();
        escape("a\u{1}b\nc", &mut s);
        assert_eq!(s, "ab\nc");
    }
}
