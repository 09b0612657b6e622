//! The API's OpenAPI description: the server serves docs/openapi.yaml as
//! it is, and answers every route of its table (which a unit test in
//! `src/routes/mod.rs` holds against the description). Schemathesis,
//! run by scripts/schemathesis.sh, checks the answers themselves.

use crate::helpers::{raw_response, spawn_app};

#[test]
fn the_server_serves_docs_openapi_yaml_as_yaml() {
    let app = spawn_app();
    let (status, headers, body) = raw_response(&app, "GET", "/v1/openapi.yaml", &[], b"");
    assert_eq!(status, 200);
    let kind = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    assert!(
        kind.is_some_and(|k| k.starts_with("application/yaml")),
        "{kind:?}"
    );
    let file = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml")).unwrap();
    assert_eq!(body, file);
}

#[test]
fn every_route_of_the_table_is_one_the_server_answers() {
    let app = spawn_app();
    for (method, path, _) in sotto::routes::table() {
        // Path parameters filled with values of the right shape; the
        // answer may be a refusal, but not the router's own "no such
        // route" or "wrong method".
        let path = path
            .replace("{desk}", "default")
            .replace("{case}", "00000000000000000000000000000000")
            .replace("{tile:.*}", "0/000");
        let (status, _, body) = raw_response(&app, method.as_str(), &path, &[], b"{}");
        let body = String::from_utf8_lossy(&body);
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            !body.contains("\"error\":\"not_found\""),
            "{method} {path}: {status} {body}"
        );
    }
}
