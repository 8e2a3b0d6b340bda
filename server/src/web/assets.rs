//! The files under `server/web/`, embedded in the binary at compile time.

/// One embedded file: the URL path it answers, its media type and its bytes.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($path:literal, $ctype:expr, $file:literal) => {
        Asset {
            path: $path,
            content_type: $ctype,
            body: include_bytes!(concat!("../../web/", $file)),
        }
    };
}

/// The pages (by route name, not URL: `/t/{code}` shares one page).
pub mod page {
    use super::Asset;
    pub static RESIDENT: Asset = asset!("/", super::HTML, "index.html");
    pub static TRACK: Asset = asset!("/t/", super::HTML, "track.html");
    pub static TRACK_NOT_FOUND: Asset = asset!("/t/404", super::HTML, "notfound.html");
    pub static CONSOLE: Asset = asset!("/console", super::HTML, "console.html");
    pub static BOARD: Asset = asset!("/board", super::HTML, "board.html");
    pub static PUBLIC: Asset = asset!("/public", super::HTML, "public.html");
    pub static REGISTERS: Asset = asset!("/registers", super::HTML, "registers.html");
    pub static PROGRESS: Asset = asset!("/progress", super::HTML, "progress.html");
    pub static FUNDS: Asset = asset!("/funds", super::HTML, "funds.html");
    pub static UPKEEP: Asset = asset!("/upkeep", super::HTML, "upkeep.html");
    /// The bulletins (通报) page: the list and each bulletin's print view (`/bulletins/{id}`).
    pub static BULLETINS: Asset = asset!("/bulletins", super::HTML, "bulletins.html");
    /// The field app (外业), an installable PWA with its own manifest and service worker.
    pub static FIELD: Asset = asset!("/field", super::HTML, "field.html");
    pub static FIELD_MANIFEST: Asset = asset!(
        "/field.webmanifest",
        "application/manifest+json",
        "field.webmanifest"
    );
    /// The field app's service worker (scope `/field`); `__BUILD__` as in [`SERVICE_WORKER`].
    pub static FIELD_SERVICE_WORKER: Asset = asset!("/field-sw.js", super::JS, "field-sw.js");
    pub static MANIFEST: Asset = asset!(
        "/manifest.webmanifest",
        "application/manifest+json",
        "manifest.webmanifest"
    );
    /// The service worker; `__BUILD__` inside it is replaced by [`super::super::build_id`].
    pub static SERVICE_WORKER: Asset = asset!("/sw.js", super::JS, "sw.js");

    /// Every HTML page, for the tests that scan them.
    pub static ALL_HTML: [&Asset; 12] = [
        &RESIDENT,
        &TRACK,
        &TRACK_NOT_FOUND,
        &CONSOLE,
        &BOARD,
        &PUBLIC,
        &REGISTERS,
        &PROGRESS,
        &FUNDS,
        &UPKEEP,
        &BULLETINS,
        &FIELD,
    ];
}

/// Everything under `/assets/`.
pub static STATIC: &[Asset] = &[
    asset!(
        "/assets/app.css",
        "text/css; charset=utf-8",
        "assets/app.css"
    ),
    asset!("/assets/icon.svg", "image/svg+xml", "assets/icon.svg"),
    asset!("/assets/api.js", JS, "assets/api.js"),
    asset!("/assets/auth.js", JS, "assets/auth.js"),
    asset!("/assets/board.js", JS, "assets/board.js"),
    asset!(
        "/assets/bulletins.css",
        "text/css; charset=utf-8",
        "assets/bulletins.css"
    ),
    asset!("/assets/bulletins.js", JS, "assets/bulletins.js"),
    asset!("/assets/chart.js", JS, "assets/chart.js"),
    asset!("/assets/console.js", JS, "assets/console.js"),
    asset!("/assets/dom.js", JS, "assets/dom.js"),
    asset!("/assets/funds.js", JS, "assets/funds.js"),
    asset!(
        "/assets/field.css",
        "text/css; charset=utf-8",
        "assets/field.css"
    ),
    asset!("/assets/field.js", JS, "assets/field.js"),
    asset!("/assets/field-db.js", JS, "assets/field-db.js"),
    asset!("/assets/field-form.js", JS, "assets/field-form.js"),
    asset!("/assets/field-sync.js", JS, "assets/field-sync.js"),
    asset!("/assets/field-text.js", JS, "assets/field-text.js"),
    asset!("/assets/field-tickets.js", JS, "assets/field-tickets.js"),
    asset!("/assets/field-orders.js", JS, "assets/field-orders.js"),
    asset!(
        "/assets/field-icon.svg",
        "image/svg+xml",
        "assets/field-icon.svg"
    ),
    asset!(
        "/assets/field-icon-192.png",
        "image/png",
        "assets/field-icon-192.png"
    ),
    asset!(
        "/assets/field-icon-512.png",
        "image/png",
        "assets/field-icon-512.png"
    ),
    asset!("/assets/i18n.js", JS, "assets/i18n.js"),
    asset!("/assets/icons.js", JS, "assets/icons.js"),
    asset!("/assets/image.js", JS, "assets/image.js"),
    asset!("/assets/map.js", JS, "assets/map.js"),
    asset!("/assets/outbox.js", JS, "assets/outbox.js"),
    asset!("/assets/progress.js", JS, "assets/progress.js"),
    asset!("/assets/public.js", JS, "assets/public.js"),
    asset!("/assets/registers.js", JS, "assets/registers.js"),
    asset!("/assets/upkeep.js", JS, "assets/upkeep.js"),
    asset!(
        "/assets/registers_import.js",
        JS,
        "assets/registers_import.js"
    ),
    asset!("/assets/registers-map.js", JS, "assets/registers-map.js"),
    asset!(
        "/assets/registers-photos.js",
        JS,
        "assets/registers-photos.js"
    ),
    asset!(
        "/assets/registers-orders.js",
        JS,
        "assets/registers-orders.js"
    ),
    asset!(
        "/assets/registers-checklists.js",
        JS,
        "assets/registers-checklists.js"
    ),
    asset!("/assets/resident.js", JS, "assets/resident.js"),
    asset!("/assets/track.js", JS, "assets/track.js"),
];

/// The asset under `/assets/{name}`, if there is one.
pub fn find(name: &str) -> Option<&'static Asset> {
    STATIC
        .iter()
        .find(|a| a.path.strip_prefix("/assets/") == Some(name))
}
