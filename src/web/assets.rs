//! The files the pages load, compiled into the binary: the script bundle
//! (see [`crate::bundle`]) and the style sheet. Nothing is loaded from
//! another origin.

use actix_web::{web, HttpResponse};

use crate::bundle::BUNDLE;

/// The style sheet.
pub const STYLE: &[u8] = include_bytes!("../../web/static/style.css");

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
