//! `GET /v1/health`.

use actix_web::HttpResponse;
use sotto_wire::api::Health;

/// Liveness, and the version the server runs.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
