use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{App, test as atest, web};

use super::assets::{self, page};
use super::{CSP, TrackingCodes, configure};

struct Known(&'static str);
impl TrackingCodes for Known {
    fn exists(&self, code: &str) -> bool {
        code.replace('-', "")
            .eq_ignore_ascii_case(&self.0.replace('-', ""))
    }
}

macro_rules! app {
    () => {
        atest::init_service(App::new().configure(configure)).await
    };
    ($codes:expr) => {
        atest::init_service(
            App::new()
                .app_data(web::Data::new($codes))
                .configure(configure),
        )
        .await
    };
}

fn header(res: &actix_web::dev::ServiceResponse, name: header::HeaderName) -> &str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[actix_web::test]
async fn every_route_has_its_content_type_and_the_security_headers() {
    let app = app!();
    let cases = [
        ("/", "text/html"),
        ("/t/", "text/html"),
        ("/t/K7Q4-9XM2-H3TA", "text/html"),
        ("/console", "text/html"),
        ("/board", "text/html"),
        ("/public", "text/html"),
        ("/sw.js", "text/javascript"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/assets/app.css", "text/css"),
        ("/assets/resident.js", "text/javascript"),
        ("/assets/icon.svg", "image/svg+xml"),
        ("/field", "text/html"),
        ("/field-sw.js", "text/javascript"),
        ("/field.webmanifest", "application/manifest+json"),
        ("/assets/field.js", "text/javascript"),
        ("/assets/field-icon-192.png", "image/png"),
    ];
    for (path, ctype) in cases {
        let res = atest::call_service(&app, atest::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(
            header(&res, header::CONTENT_TYPE).starts_with(ctype),
            "{path}: {}",
            header(&res, header::CONTENT_TYPE)
        );
        assert_eq!(header(&res, header::CONTENT_SECURITY_POLICY), CSP, "{path}");
        assert_eq!(
            header(&res, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header(&res, header::REFERRER_POLICY),
            "no-referrer",
            "{path}"
        );
        assert!(!header(&res, header::CACHE_CONTROL).is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn head_requests_are_answered() {
    let app = app!();
    let res = atest::call_service(
        &app,
        atest::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn unknown_tracking_code_is_a_404_page_that_says_so() {
    let app = app!(Arc::new(Known("K7Q4-9XM2-H3TA")) as Arc<dyn TrackingCodes>);
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/t/ZZZZ-ZZZZ-ZZZZ")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(header(&res, header::CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header(&res, header::CONTENT_SECURITY_POLICY), CSP);
    let body = atest::read_body(res).await;
    let text = std::str::from_utf8(&body).unwrap();
    assert!(text.contains("查询码不存在") && text.contains("Tracking code not found"));

    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/t/k7q4-9xm2-h3ta")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = atest::read_body(res).await;
    assert_eq!(&body[..], page::TRACK.body);
}

#[actix_web::test]
async fn without_a_code_registry_the_tracking_page_is_served() {
    let app = app!();
    let res = atest::call_service(
        &app,
        atest::TestRequest::get().uri("/t/ANYTHING").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn unknown_asset_is_404_and_path_tricks_do_not_escape() {
    let app = app!();
    for path in ["/assets/nope.js", "/assets/..%2Fsrc%2Flib.rs", "/assets/"] {
        let res = atest::call_service(&app, atest::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[actix_web::test]
async fn etag_revalidation_answers_304() {
    let app = app!();
    for path in ["/assets/app.css", "/", "/sw.js"] {
        let res = atest::call_service(&app, atest::TestRequest::get().uri(path).to_request()).await;
        let tag = header(&res, header::ETAG).to_owned();
        assert!(tag.starts_with('"'), "{path}");
        let res = atest::call_service(
            &app,
            atest::TestRequest::get()
                .uri(path)
                .insert_header((header::IF_NONE_MATCH, tag.as_str()))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&res, header::CONTENT_SECURITY_POLICY), CSP);
    }
}

#[actix_web::test]
async fn service_worker_is_not_cached_and_carries_the_build_id() {
    let app = app!();
    for path in ["/sw.js", "/field-sw.js"] {
        let res = atest::call_service(&app, atest::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(header(&res, header::CACHE_CONTROL), "no-cache", "{path}");
        let body = atest::read_body(res).await;
        let text = std::str::from_utf8(&body).unwrap();
        assert!(!text.contains("__BUILD__"), "{path}");
        assert!(text.contains(super::build_id()), "{path}");
    }
}

/// After one visit /field opens with no network: everything it loads is in its worker's shell.
#[test]
fn the_field_shell_precaches_everything_the_field_page_loads() {
    let sw = String::from_utf8_lossy(page::FIELD_SERVICE_WORKER.body);
    let mut wanted = vec!["/field".to_owned(), "/field.webmanifest".to_owned()];
    let html = String::from_utf8_lossy(page::FIELD.body);
    let mut texts = vec![html.to_string()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(text) = texts.pop() {
        let mut names: Vec<String> = Vec::new();
        for (i, _) in text.match_indices("/assets/") {
            names.push(
                text[i + 8..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                    .collect(),
            );
        }
        for (i, _) in text.match_indices("from './") {
            names.push(text[i + 8..].chars().take_while(|c| *c != '\'').collect());
        }
        for n in names {
            if seen.insert(n.clone()) {
                let a = assets::find(&n).unwrap_or_else(|| panic!("/assets/{n} not embedded"));
                wanted.push(format!("/assets/{n}"));
                if n.ends_with(".js") {
                    texts.push(String::from_utf8_lossy(a.body).to_string());
                }
            }
        }
    }
    for w in wanted {
        assert!(
            sw.contains(&format!("'{w}'")),
            "field-sw.js does not precache {w}"
        );
    }
}

#[actix_web::test]
async fn pages_are_gzipped_when_asked() {
    let app = app!();
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/assets/resident.js")
            .insert_header((header::ACCEPT_ENCODING, "gzip"))
            .to_request(),
    )
    .await;
    assert_eq!(header(&res, header::CONTENT_ENCODING), "gzip");
}

fn html_pages() -> impl Iterator<Item = (&'static str, String)> {
    page::ALL_HTML.iter().map(|a| {
        (
            a.path,
            String::from_utf8(a.body.to_vec()).expect("pages are UTF-8"),
        )
    })
}

/// Attributes ` onclick=`, ` onload=`… (what a strict CSP blocks).
fn inline_handlers(html: &str) -> Vec<String> {
    let b = html.as_bytes();
    let mut found = Vec::new();
    for i in 0..b.len().saturating_sub(3) {
        if b[i].is_ascii_whitespace()
            && b[i + 1].eq_ignore_ascii_case(&b'o')
            && b[i + 2].eq_ignore_ascii_case(&b'n')
        {
            let mut j = i + 3;
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
            if j > i + 3 && j < b.len() && b[j] == b'=' {
                found.push(String::from_utf8_lossy(&b[i + 1..=j]).into_owned());
            }
        }
    }
    found
}

/// Every `<tag ...>` opening tag with its attributes.
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(&open) {
        let start = from + at;
        let after = lower
            .as_bytes()
            .get(start + open.len())
            .copied()
            .unwrap_or(b'>');
        let end = lower[start..]
            .find('>')
            .map_or(html.len(), |e| start + e + 1);
        if after == b' ' || after == b'>' || after == b'\n' {
            out.push(&html[start..end]);
        }
        from = end;
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let at = tag.find(&pat)? + pat.len();
    let len = tag[at..].find('"')?;
    Some(&tag[at..at + len])
}

#[test]
fn the_scanner_finds_inline_handlers() {
    assert_eq!(
        inline_handlers("<a href=x onclick=\"alert(1)\">"),
        vec!["onclick="]
    );
    assert_eq!(inline_handlers("<body\nonload=x>"), vec!["onload="]);
    assert!(inline_handlers("<p>one=two, sonata=3</p>").is_empty());
    assert_eq!(
        tags(
            "<script>x</script><script src=\"/a.js\"></script>",
            "script"
        )
        .len(),
        2
    );
}

#[test]
fn no_inline_scripts_handlers_or_styles_in_any_page() {
    for (path, html) in html_pages() {
        assert!(
            inline_handlers(&html).is_empty(),
            "{path}: inline handlers {:?}",
            inline_handlers(&html)
        );
        for tag in tags(&html, "script") {
            assert!(attr(tag, "src").is_some(), "{path}: inline <script> {tag}");
        }
        assert!(tags(&html, "style").is_empty(), "{path}: <style> block");
        assert!(!html.contains(" style=\""), "{path}: style attribute");
        assert!(!html.contains("javascript:"), "{path}: javascript: URL");
    }
}

#[test]
fn no_external_resources() {
    for a in page::ALL_HTML.iter().copied().chain(assets::STATIC.iter()) {
        let text = String::from_utf8_lossy(a.body);
        for needle in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "href=\"//",
            "url(http",
            "@import",
            "fonts.googleapis",
        ] {
            assert!(!text.contains(needle), "{}: {needle}", a.path);
        }
    }
}

#[test]
fn every_control_has_a_label() {
    for (path, html) in html_pages() {
        for kind in ["input", "select", "textarea"] {
            for tag in tags(&html, kind) {
                if matches!(attr(tag, "type"), Some("hidden" | "submit" | "button"))
                    || tag.contains(" aria-label=\"")
                {
                    continue;
                }
                let id =
                    attr(tag, "id").unwrap_or_else(|| panic!("{path}: control without id: {tag}"));
                assert!(
                    html.contains(&format!("for=\"{id}\"")),
                    "{path}: no <label for=\"{id}\">"
                );
            }
        }
        assert!(html.contains("<html lang=\""), "{path}: no lang");
        assert!(html.contains("name=\"viewport\""), "{path}: no viewport");
    }
}

#[test]
fn every_referenced_asset_is_embedded() {
    let mut refs = Vec::new();
    for a in page::ALL_HTML
        .iter()
        .copied()
        .chain(assets::STATIC.iter())
        .chain([
            &page::SERVICE_WORKER,
            &page::MANIFEST,
            &page::FIELD_SERVICE_WORKER,
            &page::FIELD_MANIFEST,
        ])
    {
        let text = String::from_utf8_lossy(a.body);
        for (i, _) in text.match_indices("/assets/") {
            let name: String = text[i + 8..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect();
            if !name.is_empty() {
                refs.push((a.path, name));
            }
        }
        // module imports: import … from './x.js'
        for (i, _) in text.match_indices("from './") {
            let name: String = text[i + 8..].chars().take_while(|c| *c != '\'').collect();
            refs.push((a.path, name));
        }
    }
    assert!(refs.len() > 10);
    for (from, name) in refs {
        assert!(
            assets::find(&name).is_some(),
            "{from} refers to /assets/{name}, which is not embedded"
        );
    }
}
