//! `sotto audit …`: for auditors. Nothing here needs a key, a token or
//! any of the server's files beyond what is named.
//!
//! - `audit log` follows the public log from any machine: each run checks
//!   the newest checkpoint's signature, that it extends the one saved in the
//!   state file, and every entry in between, then compares the desks'
//!   readers and the published figures with what the log says.
//! - `audit db` proves, read-only, what a database holds (see
//!   `sotto_store::audit`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use sotto_tlog::NoteVerifier;

use super::{print_json, CliError, CliResult};
use crate::client::log::{self, LogState};
use crate::client::readers::Roster;

/// Auditor commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the public log from any machine, against the state saved by
    /// the last run; print a summary. Exits non-zero on any inconsistency.
    Log(LogArgs),
    /// Prove, read-only, that a database (a sotto.db or a data directory)
    /// holds only what the schema allows and the history the log signed.
    /// Exits non-zero on any finding.
    Db(DbArgs),
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    reach: super::Reach,
    /// Where this audit's state is kept between runs (created on the first).
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// The log's key as published by the community (name+id+base64). On a
    /// first run without it, the key the server announces is trusted.
    #[arg(long, value_name = "VKEY")]
    key: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// A sotto.db file, or the data directory that holds it.
    path: PathBuf,
    /// The log's key (name+id+base64), to check the stored checkpoints'
    /// signatures. Without it, they are checked against the leaves only.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl AuditCommand {
    /// Whether `--json` was asked for.
    pub fn json(&self) -> bool {
        match self {
            AuditCommand::Log(a) => a.json,
            AuditCommand::Db(a) => a.json,
        }
    }
}

/// Runs an auditor command.
pub fn run(cmd: AuditCommand) -> CliResult {
    match cmd {
        AuditCommand::Log(a) => audit_log(a),
        AuditCommand::Db(a) => audit_db(a),
    }
}

/// What `audit log` keeps between runs.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditState {
    version: u32,
    server: String,
    log: LogState,
}

fn load_state(path: &Path) -> Result<Option<AuditState>, CliError> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            CliError::usage(format!(
                "{}: not a sotto audit state file ({e})",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::io(format!("{}: {e}", path.display()))),
    }
}

fn save_state(path: &Path, state: &AuditState) -> Result<(), CliError> {
    let json = serde_json::to_vec_pretty(state)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, json).map_err(|e| CliError::io(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| CliError::io(format!("{}: {e}", path.display())))
}

fn parse_key(k: &str) -> Result<NoteVerifier, CliError> {
    NoteVerifier::parse(k)
        .map_err(|e| CliError::usage(format!("--key: {e} (expected name+id+base64)")))
}

#[derive(Serialize)]
struct LogReport<'a> {
    server: &'a str,
    origin: &'a str,
    key: String,
    /// How the key was chosen: `given`, `saved` or `trusted-on-first-use`.
    key_source: &'static str,
    previous_size: Option<u64>,
    size: u64,
    new_entries: u64,
    kinds: &'a std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    months: &'a std::collections::BTreeMap<String, sotto_tlog::replay::Month>,
    /// Whether the log's signed roster summary (what first-time reporters
    /// start from) was compared with the replay: not when the log published
    /// a batch between the two reads, nor when the server offers none (an
    /// older version; its reporters then read the whole log).
    rosters_compared: bool,
    findings: &'a [String],
}

fn audit_log(a: LogArgs) -> CliResult {
    let api = a.reach.api()?;
    let saved = load_state(&a.state)?;
    if let Some(s) = &saved {
        if s.server.trim_end_matches('/') != a.reach.server.trim_end_matches('/') {
            return Err(CliError::usage(format!(
                "{} is the state of an audit of {}, not of {}",
                a.state.display(),
                s.server,
                a.reach.server
            )));
        }
    }
    let from = saved.as_ref().map(|s| &s.log);
    let (v, key_source) = match (&a.key, from) {
        (Some(k), _) => (parse_key(k)?, "given"),
        (None, Some(s)) => (parse_key(&s.key)?, "saved"),
        (None, None) => (log::verifier(&api, None)?, "trusted-on-first-use"),
    };
    let info = api.log_info()?;
    let fresh =
        sotto_tlog::Replay::with_desks(info.acknowledge_days, info.desk_acknowledge_days.clone());
    let followed = log::follow(&api, &v, from, fresh)
        .map_err(|e| CliError::new("findings", format!("INCONSISTENT: {e}")))?;
    let mut findings = followed.problems.clone();
    let replay = &followed.state.replay;

    // The readers every desk shows must be the ones the log shows.
    for d in api.desks()?.desks {
        let shown = api.desk(&d.name)?;
        let roster = Roster::compare(replay, &d.name, &shown.recipients);
        for r in &shown.recipients {
            if roster.added_on(r).is_none() {
                findings.push(format!(
                    "desk {}: the server lists {} ({}) as a reader, but the log never added them",
                    d.name, r.name, r.fingerprint
                ));
            }
        }
        let hidden = roster.not_listed;
        if hidden > 0 {
            findings.push(format!(
                "desk {}: the log shows {hidden} reader(s) the server does not list",
                d.name
            ));
        }
    }
    // The signed rosters first-time reporters start from must be the log's.
    let rosters_compared = match log::first_contact(&api, &v) {
        Ok(Some(summary)) if summary.replay.size == followed.checkpoint.size => {
            if summary.replay.desks() != replay.desks() {
                findings.push(format!(
                    "the log's signed roster summary at {} entries differs from the rosters the log \
                     gives: first-time reporters are shown other readers (the summary is signed \
                     evidence; keep it: GET /v1/log/rosters)",
                    followed.checkpoint.size
                ));
            }
            true
        }
        Ok(_) => false,
        Err(e) => {
            findings.push(format!("the log's roster summary does not check: {e}"));
            true
        }
    };
    // The published figures must be the log's.
    let published = api.transparency()?;
    // (Compared only when both count the same entries with the same deadline.)
    if published.size == followed.checkpoint.size
        && published.acknowledge_days == replay.acknowledge_days
        && published.desk_acknowledge_days == replay.desk_acknowledge_days
        && replay.figures() != published.months
    {
        findings.push(
            "the server's published figures (/transparency) differ from those the log gives".into(),
        );
    }
    let previous = saved
        .as_ref()
        .and_then(|s| s.log.checkpoint.lines().nth(1).and_then(|l| l.parse().ok()));
    let size = followed.checkpoint.size;
    let report = LogReport {
        server: &a.reach.server,
        origin: &followed.checkpoint.origin,
        key: v.to_string(),
        key_source,
        previous_size: previous,
        size,
        new_entries: size - previous.unwrap_or(0),
        kinds: &replay.kinds,
        months: &replay.months,
        rosters_compared,
        findings: &findings,
    };
    save_state(
        &a.state,
        &AuditState {
            version: 1,
            server: a.reach.server.clone(),
            log: followed.state.clone(),
        },
    )?;
    if a.json {
        print_json(&report)?;
    } else {
        print_log_report(&report);
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(CliError::new(
            "findings",
            format!("{} finding(s)", findings.len()),
        ))
    }
}

fn print_log_report(r: &LogReport<'_>) {
    outln!("Log {} at {}", r.origin, r.server);
    match r.key_source {
        "trusted-on-first-use" => outln!(
            "Key {} (announced by the server and trusted on this first run: compare it with the one your community published)",
            r.key
        ),
        _ => outln!("Key {}", r.key),
    }
    match r.previous_size {
        Some(p) => outln!(
            "Checkpoint of {} entries verified: it extends the saved checkpoint of {p} entries; {} new entries checked.",
            r.size, r.new_entries
        ),
        None => outln!(
            "Checkpoint of {} entries verified; all {} entries checked.",
            r.size, r.size
        ),
    }
    outln!();
    outln!("Events by kind and month:");
    let months: BTreeSet<&String> = r.kinds.values().flat_map(|m| m.keys()).collect();
    out!("  {:<18}", "");
    for m in &months {
        out!(" {m:>8}");
    }
    outln!();
    for (kind, per) in r.kinds {
        out!("  {kind:<18}");
        for m in &months {
            out!(" {:>8}", per.get(*m).copied().unwrap_or(0));
        }
        outln!();
    }
    outln!();
    outln!("Figures by month (reports received; acknowledged in time / late; resolved; record only; bad faith):");
    for (m, f) in r.months {
        outln!(
            "  {m}  received {:>4}  in time {:>4}  late {:>4}  resolved {:>4}  record only {:>4}  bad faith {:>4}",
            f.received, f.acknowledged_in_time, f.acknowledged_late, f.resolved, f.record_only, f.bad_faith
        );
    }
    outln!();
    match r.rosters_compared {
        true => outln!("The log's signed roster summary (where first-time reporters start) was compared with the replay."),
        false => outln!("The log's signed roster summary was not compared: the log published a batch meanwhile (run again), or the server offers none."),
    }
    if r.findings.is_empty() {
        outln!("No findings.");
    } else {
        outln!("Findings:");
        for f in r.findings {
            outln!("  - {f}");
        }
    }
}

fn audit_db(a: DbArgs) -> CliResult {
    let key = a.log_key.as_deref().map(parse_key).transpose()?;
    let report = sotto_store::audit::audit(&a.path, key.as_ref())
        .map_err(|e| CliError::io(format!("{}: {e}", a.path.display())))?;
    if a.json {
        print_json(&report)?;
    } else {
        outln!("Database {}", a.path.display());
        for (table, n) in &report.rows {
            outln!("  {table:<16} {n:>8} rows");
        }
        outln!(
            "Log: {} entries; latest checkpoint {}.",
            report.log_size,
            report
                .checkpoint_size
                .map_or("none".to_owned(), |s| format!("covers {s}"))
        );
        if !report.signatures_checked {
            outln!("Checkpoint signatures were not checked: give --log-key to check them.");
        }
        outln!();
        if report.findings.is_empty() {
            outln!("No findings: the schema is the documented one, every value has its documented shape, nothing looks identifying, and the history is the one the log signed.");
        } else {
            outln!("{} finding(s):", report.findings.len());
            for f in &report.findings {
                outln!();
                outln!("[{}] {}: {}", f.check, f.place, f.found);
                outln!("    Why it matters: {}", f.why);
            }
        }
    }
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(CliError::new(
            "findings",
            format!("{} finding(s)", report.findings.len()),
        ))
    }
}
