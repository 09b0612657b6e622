//! `sotto report …`: for reporters.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use sotto_envelope::token::Token;
use sotto_wire::api::RecipientInfo;
use sotto_wire::content::Content;
use sotto_wire::{CaseState, Day};
use zeroize::Zeroizing;

use super::{indent, print_json, read_attachments, read_stdin_text, CliError, CliResult};
use crate::client::files::save_attachment;
use crate::client::reporter::{self, Submission};
use crate::client::thread::ReadMessage;
use crate::client::Api;

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
}

#[derive(Debug, Args)]
pub struct Server {
    /// The Sotto server, e.g. http://127.0.0.1:8080
    #[arg(long, env = "SOTTO_SERVER")]
    server: String,
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
    /// Mark the report urgent (someone may be at risk); the handlers see the mark when they open it.
    #[arg(long)]
    urgent: bool,
    /// For the record only; no action is asked for.
    #[arg(long)]
    record_only: bool,
    /// Print JSON (with the token) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    server: Server,
    /// Save attachments in the thread into this folder.
    #[arg(long, value_name = "DIR")]
    save_attachments: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
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
    }
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
}

fn submit(a: SubmitArgs) -> CliResult {
    let api = Api::new(&a.server.server)?;
    let text = read_stdin_text("report")?;
    let submission = Submission {
        desk: a.desk.clone(),
        text,
        exclude: a.exclude,
        links: a.link,
        attachments: read_attachments(&a.attach)?,
        urgent: a.urgent,
        record_only: a.record_only,
    };
    let done = reporter::submit(&api, &submission)?;
    let token = done.token.to_display();
    if a.json {
        return print_json(&SubmitJson {
            token: &token,
            case: &done.opened.case,
            desk: &a.desk,
            state: done.opened.state,
            opened: done.opened.opened,
            next_update_due: done.opened.next_update_due,
            recipients: done.recipients.iter().map(person).collect(),
            excluded: done.excluded.iter().map(person).collect(),
        });
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
    println!(
        "Check for replies with: sotto report status --server {} (it asks for the token)",
        a.server.server
    );
    Ok(())
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
            (Some(name), _, _) => name.clone(),
            (None, _, _) => "unknown sender".to_owned(),
        };
        let kind = if m.seq == 0 { " (the report)" } else { "" };
        match &m.content {
            Ok(content) => {
                println!("#{} {} from {who}{kind}, signature verified", m.seq, m.on);
                if let Content::Report(r) = content {
                    if r.urgent {
                        println!("    [urgent]");
                    }
                    if r.record_only {
                        println!("    [for the record only]");
                    }
                    for l in &r.links {
                        println!("    link: {l}");
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

fn status(a: StatusArgs) -> CliResult {
    let api = Api::new(&a.server.server)?;
    let token = token()?;
    let view = reporter::status(&api, &token)?;
    let s = &view.status;
    if a.json {
        #[derive(Serialize)]
        struct StatusJson<'a, M: Serialize> {
            case: &'a str,
            desk: &'a str,
            state: CaseState,
            opened: Day,
            updated: Day,
            next_update_due: Option<Day>,
            timeline: &'a [sotto_wire::api::StateEntry],
            messages: Vec<M>,
        }
        return print_json(&StatusJson {
            case: &s.case,
            desk: &s.desk,
            state: s.state,
            opened: s.opened,
            updated: s.updated,
            next_update_due: s.next_update_due,
            timeline: &s.timeline,
            messages: view.messages.iter().map(message_json).collect(),
        });
    }
    println!("Case {} at desk {}", s.case, s.desk);
    println!("State: {}", s.state.describe());
    println!("Opened {}, last activity {}", s.opened, s.updated);
    match s.next_update_due {
        Some(due) => println!("The handlers owe you news by {due}."),
        None => println!("No further update is due."),
    }
    println!(
        "Readers: {}",
        view.recipients
            .iter()
            .map(|c| format!("{} ({})", c.name, c.fingerprint()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();
    println!("Timeline:");
    for t in &s.timeline {
        println!("  {}  {}", t.on, t.state);
    }
    println!();
    let refused = print_thread(&view.messages, true, a.save_attachments.as_ref())?;
    if refused > 0 {
        eprintln!(
            "WARNING: {refused} message(s) failed their checks and are not shown. Someone may have tampered with this case."
        );
    }
    Ok(())
}

fn reply(a: ReplyArgs) -> CliResult {
    let api = Api::new(&a.server.server)?;
    let token = token()?;
    let text = read_stdin_text("reply")?;
    let posted = reporter::reply(&api, &token, &text, read_attachments(&a.attach)?)?;
    println!("Sent, as message #{} of your case.", posted.seq);
    Ok(())
}
