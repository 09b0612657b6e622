//! The `/v1` API and the log's tiles: the router. One module per resource
//! holds its handlers; the pieces they share live below them, so no
//! handler module imports another:
//!
//! - [`extract`]: who is asking (the reporter's handle, a desk's signature).
//! - [`checks`]: shared checks, and the store's refusals as the API words them.
//! - [`views`]: stored rows as clients see them.
//! - [`fresh`]: a case read in pages, and `304` when nothing changed.
//! - [`thread`]: adding messages and shares to a case, for either author.
//! - [`opening`]: what makes a new report acceptable, as one pure function.
//!
//! [`table`] lists every route; `docs/openapi.yaml` describes the same
//! ones, served by [`openapi`].
//!
//! Handlers never log: no line per request, none with request data. State
//! and the database pool are in [`crate::state`].

use actix_web::http::Method;
use actix_web::{web, Route};

pub mod cases;
pub mod checks;
pub mod desk_cases;
pub mod desks;
pub mod extract;
pub mod fresh;
pub mod health;
pub mod inbox;
pub mod log;
pub mod openapi;
pub mod opening;
pub mod query;
pub mod reporter;
pub mod thread;
pub mod transparency;
pub mod views;

/// Every route of the API: its method, its path as the router writes it,
/// and its handler. The router is built from this table alone, and
/// `docs/openapi.yaml` must describe exactly these routes: the test below
/// fails when one is added to either without the other.
#[rustfmt::skip] // one route a line: a table reads best as one
pub fn table() -> Vec<(Method, &'static str, Route)> {
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    use web::to;
    vec![
        // The reporter's routes first: the router tries each route in this
        // order, a pattern (`{desk}`, `{tile:.*}`) costs a regex match to
        // pass, and a status poll is the request a brigade repeats.
        (GET, "/v1/reporter/case", to(reporter::status)),
        (GET, "/v1/reporter/case/receipt", to(reporter::receipt)),
        (POST, "/v1/reporter/case/messages", to(reporter::post_message)),
        (POST, "/v1/reporter/case/escalate", to(reporter::escalate)),
        // The log's tiles, C2SP tlog-tiles, under `/log`.
        (GET, "/log/checkpoint", to(log::checkpoint)),
        (GET, "/log/tile/{tile:.*}", to(log::tile)),
        // The API, under `/v1`.
        (GET, "/v1/health", to(health::health)),
        (GET, "/v1/openapi.yaml", to(openapi::spec)),
        (GET, "/v1/log", to(log::info)),
        (GET, "/v1/transparency", to(transparency::json)),
        (GET, "/v1/log/inclusion", to(log::inclusion)),
        (GET, "/v1/log/consistency", to(log::consistency)),
        (GET, "/v1/log/frontier", to(log::frontier)),
        (GET, "/v1/log/rosters", to(log::rosters)),
        (GET, "/v1/desks", to(desks::list)),
        (GET, "/v1/desks/{desk}", to(desks::info)),
        (POST, "/v1/desks/{desk}/challenge", to(desks::challenge)),
        (GET, "/v1/desks/{desk}/resources", to(desks::resources)),
        (POST, "/v1/cases", to(cases::open)),
        (GET, "/v1/inbox", to(inbox::inbox)),
        (GET, "/v1/cases/{case}", to(desk_cases::case)),
        (POST, "/v1/cases/{case}/messages", to(desk_cases::post_message)),
        (POST, "/v1/cases/{case}/state", to(desk_cases::set_state)),
        (POST, "/v1/cases/{case}/shares", to(desk_cases::share)),
    ]
}

/// Routes under `/v1`, and the log's tiles under `/log`, from [`table`].
/// Each path is one resource with its methods, so a wrong method gets 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut resources: Vec<(&'static str, Vec<Route>)> = Vec::new();
    for (method, path, route) in table() {
        let route = route.method(method);
        match resources.iter_mut().find(|(p, _)| *p == path) {
            Some((_, routes)) => routes.push(route),
            None => resources.push((path, vec![route])),
        }
    }
    for (path, routes) in resources {
        cfg.service(
            routes
                .into_iter()
                .fold(web::resource(path), |r, route| r.route(route)),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// The operations an OpenAPI file in block style describes, as
    /// (METHOD, path): the keys two spaces in under `paths:`, and the
    /// method keys four spaces in below each. Anything else at those
    /// places (a flow-style path, a path that is not a path) fails the
    /// test rather than being skipped.
    fn described(spec: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        let mut in_paths = false;
        let mut path: Option<String> = None;
        for line in spec.lines() {
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if indent == 0 {
                in_paths = text == "paths:";
                continue;
            }
            if !in_paths {
                continue;
            }
            match indent {
                2 => {
                    let key = text
                        .strip_suffix(':')
                        .map(|k| k.trim_matches(|c| c == '\'' || c == '"'))
                        .filter(|k| k.starts_with('/'))
                        .unwrap_or_else(|| panic!("not a path key in block style: {line:?}"));
                    path = Some(key.to_owned());
                }
                4 => {
                    let key = text.split(':').next().unwrap_or("");
                    if METHODS.contains(&key) {
                        let path = path.clone().unwrap_or_else(|| panic!("no path: {line:?}"));
                        out.insert((key.to_uppercase(), path));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// A router path as OpenAPI writes it: `{tile:.*}` is `{tile}`.
    fn without_regexes(path: &str) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').expect("a closing brace");
            let segment = &rest[open + 1..close];
            out.push_str(&rest[..=open]);
            out.push_str(segment.split(':').next().unwrap_or(segment));
            out.push('}');
            rest = &rest[close + 1..];
        }
        out + rest
    }

    /// The router's operations, as (METHOD, path).
    fn routed() -> BTreeSet<(String, String)> {
        table()
            .into_iter()
            .map(|(method, path, _)| (method.to_string(), without_regexes(path)))
            .collect()
    }

    #[test]
    fn openapi_yaml_describes_exactly_the_routes_of_the_router() {
        let described = described(openapi::SPEC);
        let routed = routed();
        let undescribed: Vec<_> = routed.difference(&described).collect();
        let unrouted: Vec<_> = described.difference(&routed).collect();
        assert!(
            undescribed.is_empty() && unrouted.is_empty(),
            "docs/openapi.yaml and routes::table() differ:\n  routed, not described: {undescribed:?}\n  described, not routed: {unrouted:?}"
        );
        assert!(routed.len() >= 20, "{routed:?}");
    }

    #[test]
    fn every_route_is_under_v1_or_the_log_prefix() {
        for (_, path, _) in table() {
            assert!(
                path.starts_with("/v1/") || path.starts_with(&format!("{}/", log::PREFIX)),
                "{path}"
            );
        }
    }

    #[test]
    fn the_description_names_the_server_s_version() {
        let version = openapi::SPEC
            .lines()
            .skip_while(|l| *l != "info:")
            .find_map(|l| l.strip_prefix("  version: "));
        assert_eq!(version, Some(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn the_route_reader_finds_methods_and_refuses_a_path_it_cannot_read() {
        let spec = "openapi: 3.1.0\npaths:\n  /v1/a/{x}:\n    parameters: []\n    get:\n      summary: a\n    post:\n      responses: {}\n  '/v1/b':\n    # a comment\n    delete:\n      x: 1\ncomponents:\n  get:\n    a: 1\n";
        let found = described(spec);
        let want: BTreeSet<(String, String)> = [
            ("GET", "/v1/a/{x}"),
            ("POST", "/v1/a/{x}"),
            ("DELETE", "/v1/b"),
        ]
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
        assert_eq!(found, want);
        let flow = std::panic::catch_unwind(|| described("paths:\n  /v1/a: {get: {}}\n"));
        assert!(flow.is_err());
        assert_eq!(without_regexes("/log/tile/{tile:.*}"), "/log/tile/{tile}");
        assert_eq!(
            without_regexes("/v1/cases/{case}/state"),
            "/v1/cases/{case}/state"
        );
    }
}
