//! Diagnostics: what the process writes to stderr, never who or when.
//!
//! There are no per-request lines at all: an access log, even without
//! addresses, would date each report to the second. Lines carry no
//! timestamp (a line about a failed submission would otherwise date it).
//! What is logged: start-up, configuration, and errors, none with a
//! request's headers, body, handle or token. Third-party crates are held to
//! `warn` whatever `SOTTO_LOG` asks, since their debug output may describe
//! connections.

use tracing_subscriber::EnvFilter;

/// Crates whose verbose output could describe peers or requests.
const CLAMPED: &[&str] = &[
    "actix_http=warn",
    "actix_web=warn",
    "actix_server=info",
    "mio=warn",
    "h2=warn",
    "ureq=warn",
    "ureq_proto=warn",
    "rustls=warn",
];

/// The filter: `SOTTO_LOG` (default `info`), with third-party crates clamped.
pub fn filter(directives: &str) -> EnvFilter {
    let mut f = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    for d in CLAMPED {
        if let Ok(d) = d.parse() {
            f = f.add_directive(d);
        }
    }
    f
}

/// Installs the global subscriber, writing to stderr.
pub fn init() {
    let directives = std::env::var("SOTTO_LOG").unwrap_or_else(|_| "info".to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(&directives))
        .without_time()
        .with_target(true)
        .with_writer(std::io::stderr)
        .try_init();
}
