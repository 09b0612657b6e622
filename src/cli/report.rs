//! `sotto report …`: for reporters. The commands; their arguments are in
//! [`args`].

use std::path::PathBuf;

use serde::Serialize;
use sotto_wire::api::RecipientInfo;
use sotto_wire::content::Content;
use sotto_wire::{CaseState, Day};

use super::prompt::{confirm_readers, read_stdin_text, token};
use super::receipt::{load_receipt, save_receipt, update_receipt};
use super::thread::{message_json, print_thread, shared_json};
use super::{connect, print_json, read_attachments, CliError, CliResult};
use crate::client::log::{ReceiptFile, ReceiptStanding};
use crate::client::reporter::{self, Submission};

pub mod args;

pub use args::ReportCommand;
use args::{EscalateArgs, ReceiptArgs, ReplyArgs, StatusArgs, SubmitArgs};

/// Runs a reporter command.
pub fn run(cmd: ReportCommand) -> CliResult {
    match cmd {
        ReportCommand::Submit(a) => submit(a),
        ReportCommand::Status(a) => status(a),
        ReportCommand::Reply(a) => reply(a),
        ReportCommand::Receipt(a) => receipt(a),
        ReportCommand::Escalate(a) => escalate(a),
    }
}

fn escalate(a: EscalateArgs) -> CliResult {
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    let token = token()?;
    let accept = a.accept_readers;
    let done = reporter::escalate_with(
        &api,
        &token,
        &reporter::Escalation {
            desk: a.desk,
            exclude: a.exclude,
            without_attachments: a.without_attachments,
            known: a.memory.path(),
        },
        super::today(),
        &mut |check| confirm_readers(check, accept),
    )?;
    let names = |list: &[RecipientInfo]| {
        list.iter()
            .map(|r| format!("{} ({})", super::printable(&r.name), r.fingerprint))
            .collect::<Vec<_>>()
            .join(", ")
    };
    outln!(
        "Escalated your case to desk {}: {} can now read it and answer you. The public log shows it from its next batch.",
        super::printable(&done.done.desk),
        names(&done.readers),
    );
    if !done.excluded.is_empty() {
        outln!(
            "Left out, and never to be added: {}.",
            names(&done.excluded)
        );
    }
    for w in &done.warnings {
        eprintln!("WARNING: {w}");
    }
    Ok(())
}

fn receipt(a: ReceiptArgs) -> CliResult {
    if a.receipt.exists() {
        return Err(CliError::usage(format!(
            "{} exists already; not overwriting a receipt",
            a.receipt.display()
        )));
    }
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    let token = token()?;
    let fetched = reporter::fetch_receipt(&api, &token)?;
    save_receipt(&a.receipt, &fetched.file)?;
    match &fetched.file.receipt {
        Some(r) => outln!(
            "Saved a receipt for your case (entry {} of the public log) in {}.",
            r.leaf_index,
            a.receipt.display()
        ),
        None => outln!(
            "Saved the log's signed promise for your case in {}. The public log publishes your case with its next batch, {}; the status check then completes the receipt.",
            a.receipt.display(),
            in_about(fetched.receipt_after_seconds)
        ),
    }
    outln!(
        "Keep it with the token, and check with: sotto report status --receipt {}",
        a.receipt.display()
    );
    Ok(())
}

#[derive(Serialize)]
struct PersonJson<'a> {
    name: &'a str,
    fingerprint: &'a str,
    id: &'a str,
}

fn person(r: &RecipientInfo) -> PersonJson<'_> {
    PersonJson {
        name: &r.name,
        fingerprint: &r.fingerprint,
        id: &r.id,
    }
}

#[derive(Serialize)]
struct SubmitJson<'a> {
    token: &'a str,
    case: &'a str,
    desk: &'a str,
    state: CaseState,
    opened: Day,
    next_update_due: Option<Day>,
    recipients: Vec<PersonJson<'a>>,
    excluded: Vec<PersonJson<'a>>,
    receipt_after_seconds: u64,
    receipt: &'a ReceiptFile,
    warnings: &'a [String],
}

fn submit(a: SubmitArgs) -> CliResult {
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    if let Some(path) = &a.receipt {
        if path.exists() {
            return Err(CliError::usage(format!(
                "{} exists already; not overwriting a receipt",
                path.display()
            )));
        }
    }
    let text = read_stdin_text("report")?;
    let submission = Submission {
        desk: a.desk.clone(),
        text,
        exclude: a.exclude,
        only: None,
        when: a.when,
        involved: a.involved,
        category: a.category,
        lang: a.lang,
        links: a.link,
        attachments: read_attachments(&a.attach)?,
        urgent: a.urgent,
        record_only: a.record_only,
        known: a.memory.path(),
        shared_log: None,
    };
    let accept = a.accept_readers;
    let done = reporter::submit_with(&api, &submission, &mut |check| {
        confirm_readers(check, accept)
    })?;
    let token = done.token.to_display();
    let mut warnings = done.warnings.clone();
    if let Some(path) = &a.receipt {
        if let Err(e) = save_receipt(path, &done.receipt) {
            warnings.push(format!("the receipt could not be saved: {}", e.message()));
        }
    }
    for w in &warnings {
        eprintln!("WARNING: {w}");
    }
    if a.json {
        print_json(&SubmitJson {
            token: &token,
            case: &done.opened.case,
            desk: &done.receipt.desk,
            state: done.opened.state,
            opened: done.opened.opened,
            next_update_due: done.opened.next_update_due,
            recipients: done.recipients.iter().map(person).collect(),
            excluded: done.excluded.iter().map(person).collect(),
            receipt_after_seconds: done.opened.receipt_after_seconds,
            receipt: &done.receipt,
            warnings: &warnings,
        })?;
        return warnings_fail(&warnings);
    }
    outln!(
        "Your report was received on {} (state: {}).",
        done.opened.opened,
        done.opened.state
    );
    outln!("It can be read only by:");
    for r in &done.recipients {
        outln!("  {}  ({})", r.name, r.fingerprint);
    }
    for r in &done.excluded {
        outln!("Excluded, cannot read it: {}  ({})", r.name, r.fingerprint);
    }
    if let Some(due) = done.opened.next_update_due {
        outln!("The handlers owe you an answer by {due}.");
    }
    outln!();
    outln!("Your token, shown only this once:");
    outln!();
    outln!("    {}", token.as_str());
    outln!();
    outln!(
        "Keep it: write it down or store it in a password manager, not on a shared or work device."
    );
    outln!("It is the only way back to this report; nobody, not even the server, can recover it.");
    let when = in_about(Some(done.opened.receipt_after_seconds));
    match &a.receipt {
        Some(path) => outln!(
            "Your signed receipt is in {}: for now the log's promise to publish your case with its next batch, {when}, which sotto report status --receipt completes once published. Keep it with the token.",
            path.display()
        ),
        None => outln!(
            "The server's log signed a promise to publish your case with its next batch, {when}. (No --receipt FILE was given, so it was not saved.)"
        ),
    }
    outln!(
        "Check for replies with: sotto report status {} (it asks for the token)",
        a.server.reach.flags()
    );
    warnings_fail(&warnings)
}

/// A command whose work is done but that found problems exits non-zero.
fn warnings_fail(warnings: &[String]) -> CliResult {
    if warnings.is_empty() {
        Ok(())
    } else {
        Err(CliError::new(
            "warnings",
            format!(
                "{} warning(s) above: read them before trusting this result",
                warnings.len()
            ),
        ))
    }
}

/// "in about N minutes": when the next batch is due, as the server said.
fn in_about(seconds: Option<u64>) -> String {
    match seconds {
        None => "within a few minutes".to_owned(),
        Some(s) if s < 60 => "in less than a minute".to_owned(),
        Some(s) if s <= 90 => "in about a minute".to_owned(),
        Some(s) => format!("in about {} minutes", s.div_ceil(60)),
    }
}

/// What `status --receipt` found in the log.
#[derive(Serialize)]
struct LogJson<'a> {
    /// The case's entry; null while only the promise is known.
    entry: Option<u64>,
    /// `included`, `not-yet-published`, `promise-broken`, or `failed`.
    standing: &'static str,
    checked_size: Option<u64>,
    /// While not yet published: seconds until the next batch is due.
    receipt_after_seconds: Option<u64>,
    /// Whether this run completed the receipt file with its receipt.
    completed: bool,
    warnings: &'a [String],
}

/// [`LogJson`] without the warnings, while they are gathered.
struct LogLine {
    entry: Option<u64>,
    standing: &'static str,
    checked_size: Option<u64>,
    receipt_after_seconds: Option<u64>,
    completed: bool,
}

/// Checks a kept receipt, and saves it completed once the batch holding
/// the case was published.
fn check_kept_receipt(
    api: &crate::client::Api,
    token: &sotto_envelope::token::Token,
    (path, file): (&std::path::Path, &ReceiptFile),
    status: Option<&sotto_wire::api::ReporterStatus>,
    warnings: &mut Vec<String>,
) -> Result<LogLine, CliError> {
    let mut line = LogLine {
        entry: file.receipt.as_ref().map(|r| r.leaf_index),
        standing: "failed",
        checked_size: None,
        receipt_after_seconds: None,
        completed: false,
    };
    let report = match reporter::check_receipt(api, token, file, status) {
        Ok(report) => report,
        Err(e @ crate::client::ClientError::Usage(_)) => return Err(e.into()),
        Err(e) => {
            warnings.push(e.to_string());
            return Ok(line);
        }
    };
    warnings.extend(report.warnings);
    (line.standing, line.checked_size) = match report.standing {
        ReceiptStanding::Included { entry, size } => {
            line.entry = Some(entry);
            ("included", Some(size))
        }
        ReceiptStanding::NotYetPublished {
            entry,
            published,
            receipt_after_seconds,
        } => {
            line.entry = entry;
            line.receipt_after_seconds = receipt_after_seconds;
            ("not-yet-published", Some(published))
        }
        ReceiptStanding::PromiseBroken { published } => ("promise-broken", Some(published)),
    };
    if let Some(full) = report.upgraded {
        match update_receipt(path, &full) {
            Ok(()) => line.completed = true,
            Err(e) => warnings.push(format!(
                "your receipt is complete, but could not be saved: {}",
                e.message()
            )),
        }
    }
    Ok(line)
}

fn status(a: StatusArgs) -> CliResult {
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    let receipt = a.receipt.as_deref().map(load_receipt).transpose()?;
    let token = token()?;
    let handle = token.handle();
    let mut watch = a.watch.map(|_| reporter::Watch::default());
    let first = match &mut watch {
        Some(w) => w.look(&api, &handle).map(|l| l.map(|l| l.status)),
        None => api.reporter_status(&handle).map(Some),
    };
    let raw = match first {
        Ok(s) => s,
        // With a receipt, a vanished case is a finding, not the end.
        Err(e) if e.code() == Some("unknown_case") && receipt.is_some() => None,
        Err(e) => return Err(e.into()),
    };
    let mut warnings = Vec::new();
    let log_line = match (&a.receipt, &receipt) {
        (Some(path), Some(file)) => Some(check_kept_receipt(
            &api,
            &token,
            (path, file),
            raw.as_ref(),
            &mut warnings,
        )?),
        _ => None,
    };
    let view = raw.map(|s| reporter::read_status(&token, s)).transpose();
    let view = match view {
        Ok(v) => v,
        Err(e) => {
            warnings.push(e.to_string());
            None
        }
    };
    if a.json {
        #[derive(Serialize)]
        struct StatusJson<'a, M: Serialize> {
            case: Option<&'a str>,
            desk: Option<&'a str>,
            state: Option<CaseState>,
            opened: Option<Day>,
            updated: Option<Day>,
            next_update_due: Option<Day>,
            feedback_due: Option<Day>,
            shared: serde_json::Value,
            timeline: &'a [sotto_wire::api::StateEntry],
            messages: Vec<M>,
            erased: Option<sotto_wire::api::Erasure>,
            log: Option<LogJson<'a>>,
            warnings: &'a [String],
        }
        let s = view.as_ref().map(|v| &v.status);
        print_json(&StatusJson {
            case: s.map(|s| s.case.as_str()),
            desk: s.map(|s| s.desk.as_str()),
            state: s.map(|s| s.state),
            opened: s.map(|s| s.opened),
            updated: s.map(|s| s.updated),
            next_update_due: s.and_then(|s| s.next_update_due),
            feedback_due: s.and_then(|s| s.feedback_due),
            shared: shared_json(
                view.as_ref()
                    .map(|v| v.shared.as_slice())
                    .unwrap_or_default(),
            ),
            timeline: s.map(|s| s.timeline.as_slice()).unwrap_or_default(),
            messages: view
                .as_ref()
                .map(|v| v.messages.iter().map(message_json).collect())
                .unwrap_or_default(),
            erased: s.and_then(|s| s.erased),
            log: log_line.as_ref().map(|l| LogJson {
                entry: l.entry,
                standing: l.standing,
                checked_size: l.checked_size,
                receipt_after_seconds: l.receipt_after_seconds,
                completed: l.completed,
                warnings: &warnings,
            }),
            warnings: &warnings,
        })?;
        // A case that is gone (with a receipt, a finding above) is not watched.
        if let (Some(w), Some(seconds), true) = (watch, a.watch, view.is_some()) {
            return keep_watching(&api, &token, w, seconds, true, a.save_attachments.as_ref());
        }
        return warnings_fail(&warnings);
    }
    if let Some(l) = &log_line {
        print_log_line(l);
    }
    if let Some(view) = &view {
        print_status(view, a.save_attachments.as_ref())?;
        if view.status.erased.is_none() {
            print_resources(&api, view, a.region.as_deref());
        }
    }
    for w in &warnings {
        eprintln!("WARNING: {w}");
    }
    if let (Some(w), Some(seconds), true) = (watch, a.watch, view.is_some()) {
        return keep_watching(&api, &token, w, seconds, false, a.save_attachments.as_ref());
    }
    warnings_fail(&warnings)
}

/// `--watch`: looks at the case every `seconds`, and prints what changed
/// (the state, and the new messages only), until interrupted. A look that
/// fails (the network, the server) is a warning; the next one tries again.
fn keep_watching(
    api: &crate::client::Api,
    token: &sotto_envelope::token::Token,
    mut watch: reporter::Watch,
    seconds: u64,
    json: bool,
    save: Option<&PathBuf>,
) -> CliResult {
    let handle = token.handle();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(seconds));
        let looked = match watch.look(api, &handle) {
            Ok(Some(looked)) => looked,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("WARNING: {e}");
                continue;
            }
        };
        let view = match watch.read(token, looked) {
            Ok(view) => view,
            Err(e) => {
                eprintln!("WARNING: {e}");
                continue;
            }
        };
        let s = &view.status;
        if json {
            #[derive(Serialize)]
            struct ChangeJson<M: Serialize> {
                state: CaseState,
                updated: Day,
                next_update_due: Option<Day>,
                erased: Option<sotto_wire::api::Erasure>,
                messages: Vec<M>,
            }
            print_json(&ChangeJson {
                state: s.state,
                updated: s.updated,
                next_update_due: s.next_update_due,
                erased: s.erased,
                messages: view.messages.iter().map(message_json).collect(),
            })?;
            continue;
        }
        outln!();
        outln!(
            "Changed: {}, last activity {}",
            s.state.describe(),
            s.updated
        );
        if let Some(e) = s.erased {
            outln!(
                "This case was erased on {} under the server's retention policy.",
                e.on
            );
            continue;
        }
        let refused = print_thread(&view.messages, true, save)?;
        if refused > 0 {
            eprintln!(
                "WARNING: {refused} message(s) failed their checks and are not shown. Someone may have tampered with this case."
            );
        }
    }
}

fn print_log_line(l: &LogLine) {
    match (l.standing, l.entry, l.checked_size) {
        ("included", Some(entry), Some(size)) => outln!(
            "Log: your case is entry {entry}, still in the public log (checked against its checkpoint of {size} entries, consistent with your receipt)."
        ),
        ("not-yet-published", Some(entry), Some(size)) => outln!(
            "Log: your case is entry {entry}; the public log's latest checkpoint ({size} entries) does not cover it yet. Checkpoints come every few minutes: check again later."
        ),
        ("not-yet-published", None, Some(size)) => outln!(
            "Log: the server's log promised to publish your case with its next batch, {}; the public log's latest checkpoint ({size} entries) does not cover it yet. Check again after then: your receipt is completed once it does.",
            in_about(l.receipt_after_seconds)
        ),
        ("promise-broken", _, _) => {
            outln!("Log: the log did not keep its promise to publish your case (see the warnings).")
        }
        _ => outln!("Log: your receipt could not be confirmed (see the warnings)."),
    }
    if l.completed {
        outln!("Your receipt file now holds the full receipt: keep it with the token.");
    }
}

fn print_status(view: &reporter::ReporterView, save: Option<&PathBuf>) -> CliResult {
    let s = &view.status;
    outln!("Case {} at desk {}", s.case, s.desk);
    outln!("State: {}", s.state.describe());
    outln!("Opened {}, last activity {}", s.opened, s.updated);
    let today = super::today();
    match s.next_update_due {
        Some(due) if due < today => outln!(
            "The handlers owed you news by {due}: they are late ({} days).",
            due.days_until(today)
        ),
        Some(due) => outln!("The handlers owe you news by {due}."),
        None => outln!("No further update is due."),
    }
    match s.feedback_due {
        Some(due) if due < today => outln!(
            "They owed you feedback on what was done by {due}: they are late ({} days).",
            due.days_until(today)
        ),
        Some(due) => outln!("They owe you feedback on what was done by {due}."),
        None => {}
    }
    outln!(
        "Readers: {}",
        view.recipients
            .iter()
            .map(|c| format!("{} ({})", c.name, c.fingerprint()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for sh in &view.shared {
        outln!(
            "Shared on {} by {} with {} ({}, desk {}): they read your case from then on.",
            sh.on,
            sh.by.as_deref().map_or("you".to_owned(), super::printable),
            super::printable(sh.card.name.as_str()),
            sh.card.fingerprint(),
            super::printable(&sh.desk)
        );
    }
    for w in &view.warnings {
        eprintln!("WARNING: {w}");
    }
    outln!();
    outln!("Timeline:");
    for t in &s.timeline {
        outln!("  {}  {}", t.on, t.state);
    }
    outln!();
    if let Some(e) = s.erased {
        outln!(
            "This case was erased on {} under the server's retention policy ({}): its messages are gone.",
            e.on,
            super::log_entry(e.entry)
        );
        return Ok(());
    }
    let refused = print_thread(&view.messages, true, save)?;
    if refused > 0 {
        eprintln!(
            "WARNING: {refused} message(s) failed their checks and are not shown. Someone may have tampered with this case."
        );
    }
    Ok(())
}

/// The support organisations that match the report's language and kind
/// and the region given, filtered here from the whole directory.
fn print_resources(api: &crate::client::Api, view: &reporter::ReporterView, region: Option<&str>) {
    let Ok(directory) = api.resources(&view.status.desk) else {
        return;
    };
    let (lang, topic) = match view.messages.first().map(|m| &m.content) {
        Some(Ok(Content::Report(r))) => (r.lang.clone(), r.category.clone()),
        _ => (String::new(), String::new()),
    };
    let region = region.unwrap_or("").to_ascii_uppercase();
    let found = directory.matching(&lang, &region, &topic);
    if found.is_empty() {
        return;
    }
    outln!();
    outln!("Support outside this community (filtered on this machine):");
    for e in found {
        outln!("  {}: {}", e.name, e.url);
        outln!(
            "    {} · languages {} · regions {}",
            e.contact,
            e.languages.join(", "),
            e.regions.join(", ")
        );
        if !e.description.is_empty() {
            outln!("    {}", e.description);
        }
    }
}

fn reply(a: ReplyArgs) -> CliResult {
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    let token = token()?;
    let text = read_stdin_text("reply")?;
    let posted = reporter::reply(&api, &token, &text, read_attachments(&a.attach)?)?;
    outln!("Sent, as message #{} of your case.", posted.seq);
    Ok(())
}
