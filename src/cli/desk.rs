//! `sotto desk …`: for ombudspersons.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use sotto_envelope::keys::{DeskIdentity, DisplayName};
use sotto_wire::CaseState;

use super::report::{message_json, print_thread};
use super::{connect, print_json, read_attachments, read_stdin_text, CliError, CliResult};
use crate::client::desk::{self, LogCheck};
use crate::datadir::write_new_secret;

/// Ombudsperson commands.
#[derive(Debug, Subcommand)]
pub enum DeskCommand {
    /// Make a new identity file (mode 0600) and print your recipient card.
    Keygen(KeygenArgs),
    /// Print the recipient card of an identity file.
    Card(IdentityArg),
    /// List the cases addressed to you.
    Inbox(InboxArgs),
    /// Read a case: the thread, decrypted and verified.
    Show(ShowArgs),
    /// Reply on a case (text on stdin).
    Reply(ReplyArgs),
    /// Change a case's state, optionally with a note (text on stdin with --note).
    SetState(SetStateArgs),
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Your name as reporters will see it.
    #[arg(long)]
    name: String,
    /// Where to write the identity file (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    identity: PathBuf,
}

#[derive(Debug, Args)]
pub struct IdentityArg {
    /// Your identity file.
    #[arg(long, env = "SOTTO_IDENTITY", value_name = "FILE")]
    identity: PathBuf,
}

#[derive(Debug, Args)]
pub struct Conn {
    /// The Sotto server, e.g. http://127.0.0.1:8080
    #[arg(long, env = "SOTTO_SERVER")]
    server: String,
    /// The transparency log's key as your community published it
    /// (origin+id+base64). Without it, the key the server announces is used.
    #[arg(long, env = "SOTTO_LOG_KEY", value_name = "VKEY")]
    log_key: Option<String>,
    /// Your identity file.
    #[arg(long, env = "SOTTO_IDENTITY", value_name = "FILE")]
    identity: PathBuf,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    #[command(flatten)]
    conn: Conn,
    /// Print JSON: a list of objects, each with a `case` field.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The case id.
    case: String,
    #[command(flatten)]
    conn: Conn,
    /// Save the thread's attachments into this folder (safe names, never overwriting).
    #[arg(long, value_name = "DIR")]
    save_attachments: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The case id.
    case: String,
    #[command(flatten)]
    conn: Conn,
    /// A file to attach. Repeatable.
    #[arg(long, value_name = "PATH")]
    attach: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SetStateArgs {
    /// The case id.
    case: String,
    /// received, acknowledged, in-review, needs-info, resolved, closed, record-only or bad-faith.
    state: String,
    #[command(flatten)]
    conn: Conn,
    /// Read a note to the reporter from stdin and send it with the change.
    #[arg(long)]
    note: bool,
}

/// Runs an ombudsperson command.
pub fn run(cmd: DeskCommand) -> CliResult {
    match cmd {
        DeskCommand::Keygen(a) => keygen(a),
        DeskCommand::Card(a) => {
            println!("{}", load_identity(&a.identity)?.card());
            Ok(())
        }
        DeskCommand::Inbox(a) => inbox(a),
        DeskCommand::Show(a) => show(a),
        DeskCommand::Reply(a) => reply(a),
        DeskCommand::SetState(a) => set_state(a),
    }
}

/// Reads an identity file.
pub fn load_identity(path: &Path) -> Result<DeskIdentity, CliError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?,
    );
    DeskIdentity::from_file(&text, None).map_err(|e| CliError(format!("{}: {e}", path.display())))
}

fn keygen(a: KeygenArgs) -> CliResult {
    let name = DisplayName::parse(&a.name).map_err(|e| CliError(format!("--name: {e}")))?;
    let id = DeskIdentity::generate(name);
    write_new_secret(&a.identity, id.to_file().as_bytes()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError(format!(
                "{} exists already; not overwriting an identity",
                a.identity.display()
            ))
        } else {
            CliError(format!("{}: {e}", a.identity.display()))
        }
    })?;
    let card = id.card();
    println!("{card}");
    eprintln!(
        "Wrote {} (keep it secret, back it up). Fingerprint: {}",
        a.identity.display(),
        card.fingerprint()
    );
    eprintln!("Give the card line above to the operator: sotto admin add-recipient --card '…'");
    Ok(())
}

fn inbox(a: InboxArgs) -> CliResult {
    let api = connect(&a.conn.server, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let inbox = desk::inbox(&api, &me)?;
    if a.json {
        return print_json(&inbox.cases);
    }
    if inbox.cases.is_empty() {
        println!("No cases addressed to you.");
        return Ok(());
    }
    let today = sotto_wire::Day::today(0);
    println!(
        "{:<32}  {:<12}  {:<10}  {:<10}  {:<10}  MSGS",
        "CASE", "STATE", "OPENED", "UPDATED", "DUE"
    );
    for c in &inbox.cases {
        let due = match c.next_update_due {
            Some(d) if d < today => format!("{d} OVERDUE"),
            Some(d) => d.to_string(),
            None => "-".into(),
        };
        println!(
            "{:<32}  {:<12}  {:<10}  {:<10}  {:<10}  {}",
            c.case,
            c.state.as_str(),
            c.opened,
            c.updated,
            due,
            c.messages
        );
    }
    Ok(())
}

fn show(a: ShowArgs) -> CliResult {
    let api = connect(&a.conn.server, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let view = desk::show(&api, &me, &a.case)?;
    let c = &view.case;
    if a.json {
        #[derive(Serialize)]
        struct ShowJson<'a, M: Serialize> {
            case: &'a str,
            desk: &'a str,
            state: CaseState,
            opened: sotto_wire::Day,
            updated: sotto_wire::Day,
            next_update_due: Option<sotto_wire::Day>,
            recipients: Vec<String>,
            warnings: &'a [String],
            messages: Vec<M>,
            erased: Option<sotto_wire::api::Erasure>,
            log: serde_json::Value,
        }
        return print_json(&ShowJson {
            case: &c.case,
            desk: &c.desk,
            state: c.state,
            opened: c.opened,
            updated: c.updated,
            next_update_due: c.next_update_due,
            recipients: view.recipients.iter().map(|r| r.name.to_string()).collect(),
            warnings: &view.warnings,
            messages: view.messages.iter().map(message_json).collect(),
            erased: c.erased,
            log: match &view.log {
                LogCheck::Verified { entry, size } => {
                    serde_json::json!({"standing": "verified", "entry": entry, "checked_size": size})
                }
                LogCheck::NotYetPublished { entry, published } => {
                    serde_json::json!({"standing": "not-yet-published", "entry": entry, "checked_size": published})
                }
                LogCheck::Failed => serde_json::json!({"standing": "failed"}),
                LogCheck::NotChecked => serde_json::json!({"standing": "not-checked"}),
            },
        });
    }
    println!("Case {} at desk {}", c.case, c.desk);
    println!(
        "State: {} · opened {} · last activity {}",
        c.state, c.opened, c.updated
    );
    if let Some(due) = c.next_update_due {
        println!("Next update to the reporter due by {due}");
    }
    println!(
        "Readers chosen by the reporter: {}",
        view.recipients
            .iter()
            .map(|r| r.name.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    match &view.log {
        LogCheck::Verified { entry, size } => println!(
            "Log: the opening is entry {entry} of the public log, as shown here (checked against its checkpoint of {size} entries)"
        ),
        LogCheck::NotYetPublished { entry, published } => println!(
            "Log: the opening is entry {entry}; the public log's latest checkpoint ({published} entries) does not cover it yet"
        ),
        LogCheck::Failed | LogCheck::NotChecked => {}
    }
    for w in &view.warnings {
        eprintln!("WARNING: {w}");
    }
    if let Some(e) = c.erased {
        println!(
            "Erased on {} under the retention policy (log entry {}): the messages are gone.",
            e.on, e.entry
        );
    }
    println!();
    let refused = print_thread(&view.messages, false, a.save_attachments.as_ref())?;
    if refused > 0 {
        eprintln!("WARNING: {refused} message(s) failed their checks and are not shown.");
    }
    Ok(())
}

fn reply(a: ReplyArgs) -> CliResult {
    let api = connect(&a.conn.server, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let text = read_stdin_text("reply")?;
    let posted = desk::reply(&api, &me, &a.case, &text, read_attachments(&a.attach)?)?;
    println!("Sent, as message #{} of case {}.", posted.seq, posted.case);
    Ok(())
}

fn set_state(a: SetStateArgs) -> CliResult {
    let state = CaseState::parse(&a.state).ok_or_else(|| {
        CliError(format!(
            "unknown state {:?}; use one of: {}",
            a.state,
            CaseState::ALL.map(|s| s.as_str()).join(", ")
        ))
    })?;
    let api = connect(&a.conn.server, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let note = if a.note {
        Some(read_stdin_text("note")?)
    } else {
        None
    };
    let changed = desk::set_state(&api, &me, &a.case, state, note.as_deref())?;
    match changed.next_update_due {
        Some(due) => println!(
            "Case {} is now {}; next update due by {due}.",
            changed.case, changed.state
        ),
        None => println!("Case {} is now {}.", changed.case, changed.state),
    }
    Ok(())
}
