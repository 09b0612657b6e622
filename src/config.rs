//! Server settings. Every one has a default that works out of the box; each
//! can be set by a flag of `sotto serve` or an environment variable.

use std::path::PathBuf;

use clap::Args;

/// The log origin of a server nobody named: a local or test instance.
pub const DEFAULT_LOG_ORIGIN: &str = "localhost/sotto";

/// How the server runs.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Where the database and key files live (created on first start).
    #[arg(long = "data", env = "SOTTO_DATA", default_value = "./sotto-data")]
    pub data_dir: PathBuf,

    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "SOTTO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Proof-of-work difficulty for a new report, in leading zero bits
    /// (18 is a fraction of a second on a laptop).
    #[arg(long, env = "SOTTO_POW_DIFFICULTY", default_value_t = 18,
          value_parser = clap::value_parser!(u8).range(0..=sotto_envelope::pow::MAX_DIFFICULTY as i64))]
    pub pow_difficulty: u8,

    /// The most the proof-of-work difficulty rises to under a flood of new
    /// cases, in leading zero bits (each bit doubles the work).
    #[arg(long, env = "SOTTO_POW_MAX_DIFFICULTY", default_value_t = 24,
          value_parser = clap::value_parser!(u8).range(0..=sotto_envelope::pow::MAX_DIFFICULTY as i64))]
    pub pow_max_difficulty: u8,

    /// New cases a minute the server takes at the base difficulty; after a
    /// minute with more, each new challenge asks for one more bit.
    #[arg(long, env = "SOTTO_POW_TARGET_PER_MINUTE", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub pow_target_per_minute: u64,

    /// The window the target counts over, in seconds. For tests only.
    #[arg(long, env = "SOTTO_POW_WINDOW_SECONDS", default_value_t = 60, hide = true,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub pow_window_seconds: u64,

    /// Seconds a proof-of-work challenge stays valid.
    #[arg(long, env = "SOTTO_CHALLENGE_TTL", default_value_t = 900)]
    pub challenge_ttl_seconds: u64,

    /// Largest envelope accepted, in bytes (attachments travel inside).
    #[arg(long, env = "SOTTO_MAX_ENVELOPE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_envelope_bytes: usize,

    /// Envelope bytes one answer carries at most: threads are read in
    /// pages of this size (an envelope larger than it goes alone).
    #[arg(long, env = "SOTTO_PAGE_BYTES", default_value_t = 4 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub page_bytes: u64,

    /// Days the handlers have to acknowledge a new report (the EU
    /// Whistleblower Directive's 7 by default).
    #[arg(long, env = "SOTTO_ACKNOWLEDGE_DAYS", default_value_t = 7)]
    pub acknowledge_days: i64,

    /// Days between updates owed to the reporter while a case is open.
    #[arg(long, env = "SOTTO_UPDATE_DAYS", default_value_t = 7)]
    pub update_days: i64,

    /// Months, from the acknowledgement, by which the reporter is told what
    /// was done (the EU Whistleblower Directive's 3 by default).
    #[arg(long, env = "SOTTO_FEEDBACK_MONTHS", default_value_t = 3,
          value_parser = clap::value_parser!(i64).range(1..=12))]
    pub feedback_months: i64,

    /// Seconds a signed ombudsperson request stays valid (clock skew allowed).
    #[arg(long, env = "SOTTO_REQUEST_WINDOW", default_value_t = 120)]
    pub request_window_seconds: u64,

    /// Shift the server's calendar by this many days. For tests of deadlines only.
    #[arg(
        long,
        env = "SOTTO_CLOCK_OFFSET_DAYS",
        default_value_t = 0,
        hide = true
    )]
    pub clock_offset_days: i64,

    /// The transparency log's origin: the first line of every checkpoint and
    /// the name of its key. Use your public host and a path, e.g.
    /// `reports.example.org/sotto`. It is fixed by the first checkpoint:
    /// changing it later changes the log's identity, so the server refuses.
    #[arg(long, env = "SOTTO_LOG_ORIGIN", default_value = DEFAULT_LOG_ORIGIN)]
    pub log_origin: String,

    /// Seconds between published checkpoints. A checkpoint is published only
    /// when the log grew, so none dates one event more finely than this.
    #[arg(long, env = "SOTTO_CHECKPOINT_INTERVAL", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub checkpoint_interval_seconds: u64,

    /// Erase the envelopes of resolved and closed cases this many days after
    /// their last event (0: keep them). The erasure is logged; record-only
    /// and bad-faith cases are records and are never erased.
    #[arg(long, env = "SOTTO_RETENTION_DAYS", default_value_t = 0)]
    pub retention_days: u32,

    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "SOTTO_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Follow-ups a reporter may post to one case in a day (the opening
    /// report counts as one); more get `429` until the next day.
    #[arg(long, env = "SOTTO_FOLLOW_UPS_PER_DAY", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub follow_ups_per_day: u64,

    /// Bytes of envelopes a reporter may post to one case in a day (the
    /// opening report counts); more get `429` until the next day.
    #[arg(long, env = "SOTTO_FOLLOW_UP_BYTES_PER_DAY", default_value_t = 64 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub follow_up_bytes_per_day: u64,

    /// Seconds a client may stay silent while it sends a request, its head
    /// or its body; then it is answered `408` and its connection closed.
    #[arg(long = "read-timeout", env = "SOTTO_READ_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout_seconds: u64,

    /// Connections open at once, at most, over all workers; more wait in
    /// the kernel's queue. Keep it well below the open-file limit
    /// (`LimitNOFILE` in the shipped unit is 65536).
    #[arg(long, env = "SOTTO_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(16..=1_000_000))]
    pub max_connections: u64,

    /// No-JavaScript forms sealed or opened at once, each on a thread of
    /// its own (0: two per core: a form waits for its commit and for the
    /// routes it calls about a third of its time).
    #[arg(long, env = "SOTTO_NOJS_CONCURRENCY", default_value_t = 0)]
    pub nojs_concurrency: usize,

    /// No-JavaScript forms that may wait for their turn; beyond, a busy
    /// page (503 with Retry-After).
    #[arg(long, env = "SOTTO_NOJS_QUEUE", default_value_t = 16)]
    pub nojs_queue: usize,

    /// Proof-of-work and signature checks run at once, for new cases and
    /// for signed requests each (0: two per core).
    #[arg(long, env = "SOTTO_CHECK_CONCURRENCY", default_value_t = 0)]
    pub check_concurrency: usize,

    /// Checks that may wait for their turn, of each kind; beyond, 503
    /// `busy` with Retry-After.
    #[arg(long, env = "SOTTO_CHECK_QUEUE", default_value_t = 64)]
    pub check_queue: usize,

    /// The address reporters use, e.g. `https://example.org/report/` when
    /// a proxy publishes the server under a path (the proxy strips the
    /// path; the pages' links, forms and script follow it). Without it, the
    /// server's own loopback address.
    #[arg(long, env = "SOTTO_PUBLIC_URL", value_name = "URL",
          value_parser = PublicUrl::parse)]
    pub public_url: Option<PublicUrl>,
}

/// Where reporters find the server: scheme and host, and the path under
/// which a proxy publishes it (empty at the root of a host name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
    prefix: String,
}

impl PublicUrl {
    /// Parses `https://host[:port][/path/]`: no query, no fragment, no
    /// user name, no dot segments.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("{why} (expected e.g. https://example.org/report/)");
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| bad("not an http(s) URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(bad("not an http(s) URL"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let host_ok = !authority.is_empty()
            && authority
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
        if !host_ok {
            return Err(bad("the host name is not valid"));
        }
        let prefix = path.trim_end_matches('/');
        let segments_ok = prefix.split('/').skip(1).all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        });
        if !segments_ok {
            return Err(bad(
                "the path may only hold letters, digits and - . _ ~ between slashes",
            ));
        }
        Ok(Self {
            origin: format!("{scheme}://{}", authority.to_ascii_lowercase()),
            prefix: prefix.to_owned(),
        })
    }

    /// The server on loopback, for a server given no public address.
    pub fn local(base: &str) -> Self {
        Self {
            origin: base.trim_end_matches('/').to_owned(),
            prefix: String::new(),
        }
    }

    /// Scheme and host, e.g. `https://example.org`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The path the proxy publishes the server under, e.g. `/report`, or
    /// empty. Never ends with a slash.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The whole base address, e.g. `https://example.org/report`.
    pub fn base(&self) -> String {
        format!("{}{}", self.origin, self.prefix)
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/", self.base())
    }
}

impl Settings {
    /// The deadlines of a desk that has none of its own.
    pub fn deadlines(&self) -> sotto_wire::api::Deadlines {
        sotto_wire::api::Deadlines {
            acknowledge_days: self.acknowledge_days,
            update_days: self.update_days,
            feedback_months: self.feedback_months,
        }
    }

    /// Today, by the server's (possibly shifted) calendar.
    pub fn today(&self) -> sotto_wire::Day {
        sotto_wire::Day::today(self.clock_offset_days)
    }

    /// Defaults with another data directory and listen address (tests).
    pub fn for_data_dir(data_dir: PathBuf, listen: &str) -> Self {
        Self {
            data_dir,
            listen: listen.to_owned(),
            pow_difficulty: 18,
            pow_max_difficulty: 24,
            pow_target_per_minute: 60,
            pow_window_seconds: 60,
            challenge_ttl_seconds: 900,
            max_envelope_bytes: 16 * 1024 * 1024,
            page_bytes: 4 * 1024 * 1024,
            acknowledge_days: 7,
            update_days: 7,
            feedback_months: 3,
            request_window_seconds: 120,
            log_origin: DEFAULT_LOG_ORIGIN.into(),
            checkpoint_interval_seconds: 300,
            retention_days: 0,
            clock_offset_days: 0,
            workers: 0,
            follow_ups_per_day: 24,
            follow_up_bytes_per_day: 64 * 1024 * 1024,
            read_timeout_seconds: 30,
            max_connections: 10_000,
            nojs_concurrency: 0,
            nojs_queue: 16,
            check_concurrency: 0,
            check_queue: 64,
            public_url: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PublicUrl;

    #[test]
    fn a_public_url_at_the_root_has_no_prefix() {
        let u = PublicUrl::parse("https://Reports.Example.org/").unwrap();
        assert_eq!(u.origin(), "https://reports.example.org");
        assert_eq!(u.prefix(), "");
        assert_eq!(PublicUrl::parse("https://reports.example.org").unwrap(), u);
    }

    #[test]
    fn a_public_url_under_a_path_keeps_it_without_the_slash() {
        let u = PublicUrl::parse("https://example.org:8443/community/report/").unwrap();
        assert_eq!(u.origin(), "https://example.org:8443");
        assert_eq!(u.prefix(), "/community/report");
        assert_eq!(u.base(), "https://example.org:8443/community/report");
        assert_eq!(u.to_string(), "https://example.org:8443/community/report/");
    }

    #[test]
    fn a_public_url_with_a_query_dot_segment_or_markup_is_refused() {
        for bad in [
            "example.org/report",
            "ftp://example.org/",
            "https:///report",
            "https://example.org/report?x=1",
            "https://example.org/report#top",
            "https://example.org/../report",
            "https://example.org//report",
            "https://user@example.org/",
            "https://example.org/\"><script>",
            "https://exa mple.org/",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
