//! The web pages (resident page, tracking page, unit console, supervisor board, public
//! disclosure 信息公开), embedded in the binary so that an intranet with no internet still gets
//! every page: no CDN, no external font, no map tiles.
//!
//! Every response carries a strict Content Security Policy ([`CSP`]) and the pages are written
//! for it: no inline scripts, no inline event handlers, no inline styles (tests below check).
//! Assets are revalidated by ETag; the service worker (`/sw.js`, never cached by HTTP) carries
//! a build id so that a new binary replaces the phone's offline copy.

mod assets;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{HttpRequest, HttpResponse, guard, web};
use sha2::{Digest, Sha256};

use assets::{Asset, page};

/// Answers whether a resident tracking code (查询码) belongs to a complaint, so that
/// `/t/{code}` can answer 404 for an unknown code. `code` is the path segment as typed
/// (any case, with or without dashes); normalising it is the implementation's job.
///
/// The app registers it as `web::Data<Arc<dyn TrackingCodes>>`; without it, `/t/{code}` serves
/// the page and the page shows "not found" after the API's 404.
pub trait TrackingCodes: Send + Sync {
    /// True when a complaint (or a "me too" supporter) has this tracking code.
    fn exists(&self, code: &str) -> bool;
}

/// The Content-Security-Policy sent with every page and asset.
pub const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const NO_CACHE: &str = "no-cache";

/// Mounts the pages: `/`, `/t/`, `/t/{code}`, `/console`, `/board`, `/public`, `/registers`,
/// `/progress`, `/funds`, `/upkeep`, `/bulletins` (and `/bulletins/{id}`), `/field` (with `/field.webmanifest` and `/field-sw.js`), `/sw.js`,
/// `/manifest.webmanifest` and `/assets/{file}`. GET and HEAD; gzip when the client asks.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let get_or_head = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.service(
        web::resource("/")
            .wrap(Compress::default())
            .route(get_or_head().to(resident)),
    )
    .service(
        web::resource("/t/")
            .wrap(Compress::default())
            .route(get_or_head().to(track_shell)),
    )
    .service(
        web::resource("/t/{code}")
            .wrap(Compress::default())
            // The page answers 404 for an unknown code: limited per client like the API.
            .wrap(actix_web::middleware::from_fn(
                crate::http::ratelimit::tracking_lookups,
            ))
            .route(get_or_head().to(track)),
    )
    .service(
        web::resource("/console")
            .wrap(Compress::default())
            .route(get_or_head().to(console)),
    )
    .service(
        web::resource("/board")
            .wrap(Compress::default())
            .route(get_or_head().to(board)),
    )
    .service(
        web::resource("/public")
            .wrap(Compress::default())
            .route(get_or_head().to(public)),
    )
    .service(
        web::resource("/registers")
            .wrap(Compress::default())
            .route(get_or_head().to(registers)),
    )
    .service(
        web::resource("/progress")
            .wrap(Compress::default())
            .route(get_or_head().to(progress)),
    )
    .service(
        web::resource("/funds")
            .wrap(Compress::default())
            .route(get_or_head().to(funds)),
    )
    .service(
        web::resource("/upkeep")
            .wrap(Compress::default())
            .route(get_or_head().to(upkeep)),
    )
    .service(
        web::resource("/bulletins")
            .wrap(Compress::default())
            .route(get_or_head().to(bulletins)),
    )
    .service(
        web::resource("/bulletins/{id}")
            .wrap(Compress::default())
            .route(get_or_head().to(bulletins)),
    )
    .service(
        web::resource("/field")
            .wrap(Compress::default())
            .route(get_or_head().to(field)),
    )
    .service(
        web::resource("/field.webmanifest")
            .wrap(Compress::default())
            .route(get_or_head().to(field_manifest)),
    )
    .service(
        web::resource("/field-sw.js")
            .wrap(Compress::default())
            .route(get_or_head().to(field_service_worker)),
    )
    .service(
        web::resource("/sw.js")
            .wrap(Compress::default())
            .route(get_or_head().to(service_worker)),
    )
    .service(
        web::resource("/manifest.webmanifest")
            .wrap(Compress::default())
            .route(get_or_head().to(manifest)),
    )
    .service(
        web::resource("/assets/{file}")
            .wrap(Compress::default())
            .route(get_or_head().to(asset)),
    );
}

async fn resident(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::RESIDENT)
}
async fn track_shell(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::TRACK)
}
async fn console(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::CONSOLE)
}
async fn board(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::BOARD)
}
async fn public(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::PUBLIC)
}
async fn registers(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::REGISTERS)
}
async fn funds(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::FUNDS)
}
async fn upkeep(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::UPKEEP)
}
async fn bulletins(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::BULLETINS)
}

async fn progress(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::PROGRESS)
}
async fn manifest(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::MANIFEST)
}
async fn field(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::FIELD)
}
async fn field_manifest(req: HttpRequest) -> HttpResponse {
    serve(&req, &page::FIELD_MANIFEST)
}

async fn track(
    req: HttpRequest,
    code: web::Path<String>,
    codes: Option<web::Data<Arc<dyn TrackingCodes>>>,
) -> HttpResponse {
    let code = code.trim().to_string();
    // The lookup may touch the database: keep it off the async worker.
    let known = match codes {
        Some(codes) => web::block(move || codes.exists(&code))
            .await
            .unwrap_or(true),
        None => true,
    };
    if !known {
        let mut res = respond(
            &page::TRACK_NOT_FOUND,
            page::TRACK_NOT_FOUND.body.to_vec(),
            NO_CACHE,
            None,
        );
        *res.status_mut() = actix_web::http::StatusCode::NOT_FOUND;
        return res;
    }
    serve(&req, &page::TRACK)
}

async fn asset(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    match assets::find(&file) {
        Some(a) => serve(&req, a),
        None => not_found(),
    }
}

async fn service_worker(req: HttpRequest) -> HttpResponse {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    worker(&req, &page::SERVICE_WORKER, &BODY)
}

async fn field_service_worker(req: HttpRequest) -> HttpResponse {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    worker(&req, &page::FIELD_SERVICE_WORKER, &BODY)
}

/// A service worker with the build id filled in (computed once per process: the embedded
/// files cannot change while it runs), never cached by HTTP.
fn worker(req: &HttpRequest, a: &'static Asset, cell: &'static OnceLock<Vec<u8>>) -> HttpResponse {
    let body = cell.get_or_init(|| {
        String::from_utf8_lossy(a.body)
            .replace("__BUILD__", build_id())
            .into_bytes()
    });
    let tag = etag(body);
    if fresh(req, &tag) {
        return not_modified(&tag);
    }
    respond(a, body.clone(), NO_CACHE, Some(&tag))
}

/// A hash of every embedded file: changes whenever any page or asset changes.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut h = Sha256::new();
        for a in page::ALL_HTML
            .iter()
            .copied()
            .chain(assets::STATIC.iter())
            .chain([
                &page::MANIFEST,
                &page::SERVICE_WORKER,
                &page::FIELD_MANIFEST,
                &page::FIELD_SERVICE_WORKER,
            ])
        {
            h.update(a.path.as_bytes());
            h.update(a.body);
        }
        hex::encode(&h.finalize()[..8])
    })
}

fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..10]))
}

fn fresh(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

fn serve(req: &HttpRequest, a: &'static Asset) -> HttpResponse {
    static TAGS: OnceLock<std::sync::Mutex<std::collections::HashMap<&'static str, String>>> =
        OnceLock::new();
    let tag = {
        let map = TAGS.get_or_init(Default::default);
        // a poisoned lock only means another thread panicked while hashing; the map is still valid
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(a.path).or_insert_with(|| etag(a.body)).clone()
    };
    if fresh(req, &tag) {
        return not_modified(&tag);
    }
    respond(a, a.body.to_vec(), NO_CACHE, Some(&tag))
}

fn security_headers(res: &mut HttpResponse) {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn respond(a: &Asset, body: Vec<u8>, cache: &'static str, tag: Option<&str>) -> HttpResponse {
    let mut b = HttpResponse::Ok();
    b.insert_header((header::CONTENT_TYPE, a.content_type))
        .insert_header((header::CACHE_CONTROL, cache));
    if let Some(tag) = tag {
        b.insert_header((header::ETAG, tag.to_owned()));
    }
    let mut res = b.body(body);
    security_headers(&mut res);
    res
}

fn not_modified(tag: &str) -> HttpResponse {
    let mut res = HttpResponse::NotModified()
        .insert_header((header::ETAG, tag.to_owned()))
        .insert_header((header::CACHE_CONTROL, NO_CACHE))
        .finish();
    security_headers(&mut res);
    res
}

fn not_found() -> HttpResponse {
    let mut res = HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("404 not found");
    security_headers(&mut res);
    res
}
