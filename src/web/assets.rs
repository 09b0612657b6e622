//! The files the pages load, compiled into the binary: the script bundle
//! (built from `web/` by esbuild and committed, so neither Node nor npm is
//! needed to build or run Sotto) and the style sheet. Nothing is loaded
//! from another origin.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};

/// The reporter's script: all browser cryptography and the page logic.
pub const BUNDLE: &[u8] = include_bytes!("../../web/dist/sotto.js");
/// The style sheet.
pub const STYLE: &[u8] = include_bytes!("../../web/static/style.css");

/// SHA-256 of [`BUNDLE`], lower-case hex: what `npm run build` in `web/`
/// reproduces, shown on every page and in every desk's information.
pub fn bundle_sha256() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        sotto_envelope::sha256(BUNDLE)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// `GET /static/{file}`.
pub async fn serve(path: web::Path<String>) -> HttpResponse {
    let (body, kind) = match path.as_str() {
        "sotto.js" => (BUNDLE, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(kind)
        // The same bytes for as long as this binary runs; a new release
        // is a new binary and a new hash.
        .insert_header(("cache-control", "no-cache"))
        .body(body)
}
