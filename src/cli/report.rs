//! `sotto report …`: for reporters.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use sotto_envelope::token::Token;
use sotto_wire::api::RecipientInfo;
use sotto_wire::content::Content;
use sotto_wire::{CaseState, Day};
use zeroize::Zeroizing;

use super::{connect, indent, print_json, read_attachments, read_stdin_text, CliError, CliResult};
use crate::client::files::save_attachment;
use crate::client::log::{ReceiptFile, ReceiptStanding};
use crate::client::readers::ReaderCheck;
use crate::client::reporter::{self, Submission};
use crate::client::thread::ReadMessage;

/// Reporter commands.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Submit a report (text on stdin). Prints your token once: keep it.
    Submit(SubmitArgs),
    /// Show your case: state, dates, and the messages, decrypted and verified.
    /// The token comes from SOTTO_TOKEN or a prompt.
    Status(StatusArgs),
    /// Send a follow-up (text on stdin). The token comes from SOTTO_TOKEN or a prompt.
    Reply(ReplyArgs),
    /// Get a new signed receipt for your case, if you kept none. The token
    /// comes from SOTTO_TOKEN or a prompt.
    Receipt(ReceiptArgs),
    /// Hand your case to another desk when nobody acknowledged it in time.
    /// The token comes from SOTTO_TOKEN or a prompt.
    Escalate(EscalateArgs),
}

#[derive(Debug, Args)]
pub struct EscalateArgs {
    #[command(flatten)]
    server: Server,
    /// The other desk.
    #[arg(long)]
    desk: String,
    /// Someone of that desk who must not read your case: a name or a
    /// fingerprint. Repeatable.
    #[arg(long, value_name = "NAME_OR_FINGERPRINT")]
    exclude: Vec<String>,
    /// Leave your files out of the copy (their names stay), if the thread
    /// is too large.
    #[arg(long)]
    without_attachments: bool,
    /// Escalate even if the log check names readers you have not seen
    /// before (for scripts; in a terminal you are asked instead).
    #[arg(long)]
    accept_readers: bool,
    #[command(flatten)]
    memory: Memory,
}

#[derive(Debug, Args)]
pub struct ReceiptArgs {
    #[command(flatten)]
    server: Server,
    /// Where to save it (a new file, mode 0600).
    #[arg(long, value_name = "FILE")]
    receipt: PathBuf,
}

#[derive(Debug, Args)]
pub struct Server {
    #[command(flatten)]
    reach: super::Reach,
    /// The transparency log's key as your community published it
    /// (origin+id+base64). Without it, the first report from this device
    /// trusts the key the server announces, and later ones the key it saw.
    #[arg(long, env = "SOTTO_LOG_KEY", value_name = "VKEY")]
    log_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    server: Server,
    /// The desk to report to.
    #[arg(long, default_value = "default")]
    desk: String,
    /// Someone who must not read this report: a name or a fingerprint. Repeatable.
    #[arg(long, value_name = "NAME_OR_FINGERPRINT")]
    exclude: Vec<String>,
    /// A file to attach as evidence. Repeatable.
    #[arg(long, value_name = "PATH")]
    attach: Vec<PathBuf>,
    /// A link to evidence. Repeatable.
    #[arg(long, value_name = "URL")]
    link: Vec<String>,
    /// When it happened, in your words (sealed in the report).
    #[arg(long, value_name = "TEXT", default_value = "")]
    when: String,
    /// Who was involved, in your words (sealed in the report).
    #[arg(long, value_name = "TEXT", default_value = "")]
    involved: String,
    /// What kind of report: harassment, discrimination, threats, privacy,
    /// staff-misconduct, spam-or-fraud or other (sealed in the report).
    #[arg(long, value_name = "KIND", default_value = "", value_parser = category)]
    category: String,
    /// The language you write in, e.g. en, es, de (sealed in the report;
    /// the handlers answer in it).
    #[arg(long, value_name = "TAG", default_value = "", value_parser = language)]
    lang: String,
    /// Mark the report urgent (someone may be at risk); the handlers see the mark when they open it.
    #[arg(long)]
    urgent: bool,
    /// For the record only; no action is asked for.
    #[arg(long)]
    record_only: bool,
    /// Save the signed receipt here (a new file, mode 0600). Keep it with
    /// your token: `sotto report status --receipt FILE` checks with it that
    /// your case was not deleted or rewritten.
    #[arg(long, value_name = "FILE")]
    receipt: Option<PathBuf>,
    #[command(flatten)]
    memory: Memory,
    /// Send even if the log check names readers you have not seen before
    /// (for scripts; in a terminal you are asked instead).
    #[arg(long)]
    accept_readers: bool,
    /// Print JSON (with the token and the receipt) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct Memory {
    /// Where this device remembers the log it verified and each desk's
    /// readers, to warn when someone is added [default:
    /// $XDG_STATE_HOME/sotto/known-servers.json].
    #[arg(long, env = "SOTTO_KNOWN", value_name = "FILE")]
    known: Option<PathBuf>,
    /// Remember nothing on this device (every report then checks the whole
    /// log, and cannot warn about readers added since last time).
    #[arg(long, conflicts_with = "known")]
    no_remember: bool,
}

impl Memory {
    fn path(&self) -> Option<PathBuf> {
        if self.no_remember {
            None
        } else {
            self.known
                .clone()
                .or_else(crate::client::readers::default_known_path)
        }
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    server: Server,
    /// Save attachments in the thread into this folder.
    #[arg(long, value_name = "DIR")]
    save_attachments: Option<PathBuf>,
    /// The receipt saved when you reported: checks that the log still holds
    /// your case and that the report the server shows is the one you sent.
    #[arg(long, value_name = "FILE")]
    receipt: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Your region (two capital letters, e.g. DE), to list the support
    /// organisations that help there. Used on this machine only: the whole
    /// directory is downloaded and filtered here.
    #[arg(long, value_name = "CODE")]
    region: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    #[command(flatten)]
    server: Server,
    /// A file to attach. Repeatable.
    #[arg(long, value_name = "PATH")]
    attach: Vec<PathBuf>,
}

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
    println!(
        "Escalated your case to desk {}: {} can now read it and answer you. Logged as entries {}.",
        super::printable(&done.done.desk),
        names(&done.readers),
        done.done
            .entries
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !done.excluded.is_empty() {
        println!(
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
        return Err(CliError(format!(
            "{} exists already; not overwriting a receipt",
            a.receipt.display()
        )));
    }
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    let token = token()?;
    let file = reporter::fetch_receipt(&api, &token)?;
    save_receipt(&a.receipt, &file)?;
    println!(
        "Saved a receipt for your case (entry {} of the public log) in {}.",
        file.receipt.leaf_index,
        a.receipt.display()
    );
    println!(
        "It proves your case is in the log from today on; keep it with the token, and check with: sotto report status --receipt {}",
        a.receipt.display()
    );
    Ok(())
}

/// The token from `SOTTO_TOKEN`, or typed at a prompt (never from argv).
fn token() -> Result<Token, CliError> {
    let typed = match std::env::var("SOTTO_TOKEN") {
        Ok(t) => Zeroizing::new(t),
        Err(_) => Zeroizing::new(rpassword::prompt_password("Your token: ").map_err(|_| {
            CliError(
                "no token: set SOTTO_TOKEN or run this in a terminal to be asked for it".into(),
            )
        })?),
    };
    Token::parse(&typed).map_err(|e| CliError(format!("token: {e}")))
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
    log_entry: u64,
    receipt: &'a ReceiptFile,
    warnings: &'a [String],
}

/// Shows the log check of the readers; true to send.
fn confirm_readers(check: &ReaderCheck, accept: bool) -> bool {
    let who = |r: &RecipientInfo| format!("{} ({})", super::printable(&r.name), r.fingerprint);
    for (r, day) in &check.added {
        match day {
            Some(d) => eprintln!(
                "WARNING: {} was added to desk {} on {d}, since you last reported there.",
                who(r),
                check.desk
            ),
            None => eprintln!(
                "WARNING: {} is new on desk {} since you last reported there.",
                who(r),
                check.desk
            ),
        }
    }
    for r in &check.unlogged {
        eprintln!(
            "WARNING: the server lists {} as a reader, but the public log does not show them on desk {} (added in the last few minutes, or never logged).",
            who(r),
            check.desk
        );
    }
    if accept {
        eprintln!("Sending anyway (--accept-readers).");
        return true;
    }
    ask_yes("Send the report to these readers? Type yes to send: ")
}

/// Asks on the terminal, not on stdin (which held the report). False when
/// nobody is watching (stderr is not a terminal) or there is no terminal.
fn ask_yes(question: &str) -> bool {
    use std::io::{BufRead, BufReader, IsTerminal};
    let tty = std::io::stderr()
        .is_terminal()
        .then(|| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .ok()
        })
        .flatten();
    let Some(mut tty) = tty else {
        eprintln!("Not sent: no terminal to ask on. Re-run with --accept-readers to send anyway, or --exclude someone.");
        return false;
    };
    if tty.write_all(question.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    if BufReader::new(&tty).read_line(&mut answer).is_err() {
        return false;
    }
    answer.trim().eq_ignore_ascii_case("yes")
}

fn submit(a: SubmitArgs) -> CliResult {
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    if let Some(path) = &a.receipt {
        if path.exists() {
            return Err(CliError(format!(
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
        when: a.when,
        involved: a.involved,
        category: a.category,
        lang: a.lang,
        links: a.link,
        attachments: read_attachments(&a.attach)?,
        urgent: a.urgent,
        record_only: a.record_only,
        known: a.memory.path(),
    };
    let accept = a.accept_readers;
    let done = reporter::submit_with(&api, &submission, &mut |check| {
        confirm_readers(check, accept)
    })?;
    let token = done.token.to_display();
    let mut warnings = done.warnings.clone();
    if let Some(path) = &a.receipt {
        if let Err(e) = save_receipt(path, &done.receipt) {
            warnings.push(format!("the receipt could not be saved: {}", e.0));
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
            log_entry: done.receipt.receipt.leaf_index,
            receipt: &done.receipt,
            warnings: &warnings,
        })?;
        return warnings_fail(&warnings);
    }
    println!(
        "Your report was received on {} (state: {}).",
        done.opened.opened, done.opened.state
    );
    println!("It can be read only by:");
    for r in &done.recipients {
        println!("  {}  ({})", r.name, r.fingerprint);
    }
    for r in &done.excluded {
        println!("Excluded, cannot read it: {}  ({})", r.name, r.fingerprint);
    }
    if let Some(due) = done.opened.next_update_due {
        println!("The handlers owe you an answer by {due}.");
    }
    println!();
    println!("Your token, shown only this once:");
    println!();
    println!("    {}", token.as_str());
    println!();
    println!(
        "Keep it: write it down or store it in a password manager, not on a shared or work device."
    );
    println!(
        "It is the only way back to this report; nobody, not even the server, can recover it."
    );
    match &a.receipt {
        Some(path) => println!(
            "Your case is entry {} of the public log; its signed receipt is in {}. Keep it with the token.",
            done.receipt.receipt.leaf_index,
            path.display()
        ),
        None => println!(
            "Your case is entry {} of the public log. (No --receipt FILE was given, so the signed receipt was not saved.)",
            done.receipt.receipt.leaf_index
        ),
    }
    println!(
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
        Err(CliError(format!(
            "{} warning(s) above: read them before trusting this result",
            warnings.len()
        )))
    }
}

/// Writes a receipt to a new file, readable by its owner only.
fn save_receipt(path: &std::path::Path, receipt: &ReceiptFile) -> Result<(), CliError> {
    let json = serde_json::to_vec_pretty(receipt)?;
    crate::datadir::write_new_secret(path, &json)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))
}

/// Reads a receipt: the JSON file `submit --receipt` writes, or the file the
/// web page saves (the token, then the same JSON between two marker lines;
/// docs/web.md). The token in such a file is not read from it: it is asked
/// for, or taken from `SOTTO_TOKEN`, as always.
fn load_receipt(path: &std::path::Path) -> Result<ReceiptFile, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    let json = text
        .split_once("-----BEGIN SOTTO RECEIPT-----")
        .and_then(|(_, rest)| rest.split_once("-----END SOTTO RECEIPT-----"))
        .map_or(text.as_ref(), |(inner, _)| inner.trim());
    serde_json::from_str(json)
        .map_err(|e| CliError(format!("{}: not a Sotto receipt ({e})", path.display())))
}

#[derive(Serialize)]
struct MessageJson<'a> {
    seq: u64,
    from: &'a str,
    author: Option<&'a str>,
    on: Day,
    verified: bool,
    text: Option<&'a str>,
    attachments: Vec<&'a str>,
    problem: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vouched_by: Option<&'a str>,
}

/// The readers a case was shared with, as JSON (also in `sotto desk show`).
pub(crate) fn shared_json(shared: &[crate::client::thread::SharedReader]) -> serde_json::Value {
    shared
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.card.name.to_string(),
                "fingerprint": s.card.fingerprint().to_string(),
                "desk": s.desk,
                "by": s.by,
                "on": s.on,
            })
        })
        .collect()
}

/// A message as JSON, shared with `sotto desk show`.
pub(crate) fn message_json(m: &ReadMessage) -> impl Serialize + '_ {
    MessageJson {
        seq: m.seq,
        from: m.direction.as_str(),
        author: m.author.as_deref(),
        on: m.on,
        verified: m.content.is_ok(),
        text: m.content.as_ref().ok().map(Content::text),
        attachments: m
            .content
            .as_ref()
            .map(|c| c.attachments().iter().map(|a| a.name.as_str()).collect())
            .unwrap_or_default(),
        problem: m.content.as_ref().err().map(String::as_str),
        vouched_by: m.vouched_by.as_deref(),
    }
}

/// Prints a thread for a person; returns how many messages were refused.
pub(crate) fn print_thread(
    messages: &[ReadMessage],
    me_is_reporter: bool,
    save: Option<&PathBuf>,
) -> Result<usize, CliError> {
    let mut refused = 0;
    for m in messages {
        let who = match (&m.author, m.direction, me_is_reporter) {
            (_, sotto_envelope::sign::Direction::FromReporter, true) => "you".to_owned(),
            (_, sotto_envelope::sign::Direction::FromReporter, false) => "the reporter".to_owned(),
            (Some(name), _, _) => super::printable(name),
            (None, _, _) => "unknown sender".to_owned(),
        };
        let kind = if m.seq == 0 { " (the report)" } else { "" };
        match &m.content {
            Ok(content) => {
                match &m.vouched_by {
                    Some(by) => println!(
                        "#{} {} from {who}{kind}, signature verified; text as {} shared it with you",
                        m.seq,
                        m.on,
                        super::printable(by)
                    ),
                    None => println!("#{} {} from {who}{kind}, signature verified", m.seq, m.on),
                }
                if let Content::Report(r) = content {
                    if r.urgent {
                        println!("    [urgent]");
                    }
                    if r.record_only {
                        println!("    [for the record only]");
                    }
                    if !r.category.is_empty() {
                        println!("    category: {}", super::printable(&r.category));
                    }
                    if !r.lang.is_empty() {
                        println!("    language: {}", super::printable(&r.lang));
                    }
                    if !r.when.is_empty() {
                        println!("    when: {}", super::printable(&r.when));
                    }
                    if !r.involved.is_empty() {
                        println!("    who was involved: {}", super::printable(&r.involved));
                    }
                    for l in &r.links {
                        println!("    link: {}", super::printable(l));
                    }
                }
                println!("{}", indent(content.text()));
                for att in content.attachments() {
                    match save {
                        Some(dir) => {
                            let path = save_attachment(dir, &att.name, &att.data)?;
                            println!("    attachment saved: {}", path.display());
                        }
                        None => println!(
                            "    attachment: {} ({} bytes; use --save-attachments DIR to save)",
                            crate::client::files::safe_name(&att.name),
                            att.data.len()
                        ),
                    }
                }
            }
            Err(why) => {
                refused += 1;
                println!("#{} {} from {who}{kind}: NOT SHOWN, {why}", m.seq, m.on);
            }
        }
        println!();
    }
    Ok(refused)
}

#[derive(Serialize)]
struct LogJson<'a> {
    entry: u64,
    /// `included`, `not-yet-published`, or `failed`.
    standing: &'static str,
    checked_size: Option<u64>,
    warnings: &'a [String],
}

fn status(a: StatusArgs) -> CliResult {
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    let receipt = a.receipt.as_deref().map(load_receipt).transpose()?;
    let token = token()?;
    let raw = match api.reporter_status(&token.handle()) {
        Ok(s) => Some(s),
        // With a receipt, a vanished case is a finding, not the end.
        Err(e) if e.code() == Some("unknown_case") && receipt.is_some() => None,
        Err(e) => return Err(e.into()),
    };
    let mut warnings = Vec::new();
    let mut log_json = None;
    if let Some(file) = &receipt {
        let entry = file.receipt.leaf_index;
        let (standing, checked_size) =
            match reporter::check_receipt(&api, &token, file, raw.as_ref()) {
                Ok(report) => {
                    warnings.extend(report.warnings);
                    match report.standing {
                        ReceiptStanding::Included { size, .. } => ("included", Some(size)),
                        ReceiptStanding::NotYetPublished { published, .. } => {
                            ("not-yet-published", Some(published))
                        }
                    }
                }
                Err(e @ crate::client::ClientError::Usage(_)) => return Err(e.into()),
                Err(e) => {
                    warnings.push(e.to_string());
                    ("failed", None)
                }
            };
        log_json = Some((entry, standing, checked_size));
    }
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
            log: log_json.map(|(entry, standing, checked_size)| LogJson {
                entry,
                standing,
                checked_size,
                warnings: &warnings,
            }),
            warnings: &warnings,
        })?;
        return warnings_fail(&warnings);
    }
    if let Some((entry, standing, size)) = log_json {
        match (standing, size) {
            ("included", Some(size)) => println!(
                "Log: your case is entry {entry}, still in the public log (checked against its checkpoint of {size} entries, consistent with your receipt)."
            ),
            ("not-yet-published", Some(size)) => println!(
                "Log: your case is entry {entry}; the public log's latest checkpoint ({size} entries) does not cover it yet. Checkpoints come every few minutes: check again later."
            ),
            _ => println!("Log: your receipt could not be confirmed (see the warnings)."),
        }
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
    warnings_fail(&warnings)
}

fn print_status(view: &reporter::ReporterView, save: Option<&PathBuf>) -> CliResult {
    let s = &view.status;
    println!("Case {} at desk {}", s.case, s.desk);
    println!("State: {}", s.state.describe());
    println!("Opened {}, last activity {}", s.opened, s.updated);
    let today = super::today();
    match s.next_update_due {
        Some(due) if due < today => println!(
            "The handlers owed you news by {due}: they are late ({} days).",
            due.days_until(today)
        ),
        Some(due) => println!("The handlers owe you news by {due}."),
        None => println!("No further update is due."),
    }
    match s.feedback_due {
        Some(due) if due < today => println!(
            "They owed you feedback on what was done by {due}: they are late ({} days).",
            due.days_until(today)
        ),
        Some(due) => println!("They owe you feedback on what was done by {due}."),
        None => {}
    }
    println!(
        "Readers: {}",
        view.recipients
            .iter()
            .map(|c| format!("{} ({})", c.name, c.fingerprint()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for sh in &view.shared {
        println!(
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
    println!();
    println!("Timeline:");
    for t in &s.timeline {
        println!("  {}  {}", t.on, t.state);
    }
    println!();
    if let Some(e) = s.erased {
        println!(
            "This case was erased on {} under the server's retention policy (log entry {}): its messages are gone.",
            e.on, e.entry
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
    println!();
    println!("Support outside this community (filtered on this machine):");
    for e in found {
        println!("  {}: {}", e.name, e.url);
        println!(
            "    {} · languages {} · regions {}",
            e.contact,
            e.languages.join(", "),
            e.regions.join(", ")
        );
        if !e.description.is_empty() {
            println!("    {}", e.description);
        }
    }
}

fn reply(a: ReplyArgs) -> CliResult {
    let api = connect(&a.server.reach, a.server.log_key.as_deref())?;
    let token = token()?;
    let text = read_stdin_text("reply")?;
    let posted = reporter::reply(&api, &token, &text, read_attachments(&a.attach)?)?;
    println!("Sent, as message #{} of your case.", posted.seq);
    Ok(())
}

/// Parses `--category`: empty, or one of the known kinds.
fn category(s: &str) -> Result<String, String> {
    if s.is_empty() || sotto_wire::content::CATEGORIES.contains(&s) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "not a category; use one of {}",
            sotto_wire::content::CATEGORIES.join(", ")
        ))
    }
}

/// Parses `--lang`: empty, or a language tag such as `es` or `pt-BR`.
fn language(s: &str) -> Result<String, String> {
    if s.is_empty() || sotto_wire::content::is_language_tag(s) {
        Ok(s.to_owned())
    } else {
        Err("not a language tag; use e.g. en, es, de or pt-BR".into())
    }
}
