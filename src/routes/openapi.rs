//! `GET /v1/openapi.yaml`: the API's OpenAPI 3.1 description,
//! `docs/openapi.yaml`, compiled into the binary so that it always
//! describes the server that serves it.

use actix_web::HttpResponse;

/// `docs/openapi.yaml`.
pub const SPEC: &str = include_str!("../../docs/openapi.yaml");

/// `GET /v1/openapi.yaml`.
pub async fn spec() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(SPEC)
}
