//! Diagnostics: what the process writes to stderr, never who or when.
//!
//! There are no per-request lines at all: an access log, even without
//! addresses, would date each report to the second. Lines carry no
//! timestamp (a line about a failed submission would otherwise date it).
//! What is logged: start-up, configuration, and errors, none with a
//! request's headers, body, handle or token. Third-party crates are held to
//! `warn` whatever `SOTTO_LOG` asks, since their debug output may describe
//! connections.
//!
//! A request the HTTP parser refuses (a control byte in a header, a head
//! too large, a body both chunked and sized) made actix write one `ERROR`
//! line each: a flood of them became one journald line per connection,
//! each dated by the journal. They are counted instead, and the count is
//! written once an hour when it is not zero ([`refused_by_parser`]).

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::{Event, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

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

/// Where actix's HTTP/1 and HTTP/2 connections report what they refused.
const PARSER_TARGETS: [&str; 2] = ["actix_http::h1::dispatcher", "actix_http::h2::dispatcher"];

/// Lines from the HTTP parser, counted and not written.
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Counts the events it is given.
struct Count;

impl<S: Subscriber> Layer<S> for Count {
    fn on_event(&self, _event: &Event<'_>, _ctx: Context<'_, S>) {
        REFUSED.fetch_add(1, Ordering::Relaxed);
    }
}

fn from_parser(target: &str) -> bool {
    PARSER_TARGETS.iter().any(|t| target.starts_with(t))
}

/// The requests the HTTP parser refused since the last call (or start).
pub fn refused_by_parser() -> u64 {
    REFUSED.swap(0, Ordering::Relaxed)
}

/// Installs the global subscriber, writing to stderr.
pub fn init() {
    let directives = std::env::var("SOTTO_LOG").unwrap_or_else(|_| "info".to_owned());
    let lines = tracing_subscriber::fmt::layer()
        .without_time()
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_filter(filter(&directives))
        .with_filter(filter_fn(|m| !from_parser(m.target())));
    let counted = Count.with_filter(filter_fn(|m| {
        from_parser(m.target()) && *m.level() <= tracing::Level::WARN
    }));
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(counted)
        .try_init();
}
