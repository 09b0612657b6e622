//! `sotto desk …`: for ombudspersons.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use sotto_envelope::keys::{DeskIdentity, DisplayName};
use sotto_wire::CaseState;

use super::report::{message_json, print_thread};
use super::{connect, print_json, read_attachments, read_stdin_text, CliError, CliResult};
use crate::client::desk::{self, LogCheck};
use crate::client::stats::CaseFacts as StatsCase;
use crate::client::templates::{self, Templates};
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
    /// Hand a case on to another recipient or desk: its thread, re-encrypted
    /// here to them.
    Share(ShareArgs),
    /// List the response templates, or print one.
    Templates(TemplatesArgs),
    /// De-identified statistics of your cases (cells under 5 left out).
    Stats(StatsArgs),
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    conn: Conn,
    /// Count cases opened on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", value_parser = day_arg)]
    from: Option<sotto_wire::Day>,
    /// Count cases opened on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", value_parser = day_arg)]
    to: Option<sotto_wire::Day>,
    /// csv or json.
    #[arg(long, value_name = "FORMAT", default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
    /// With csv: the counts (cells) or the time to acknowledge by month.
    #[arg(long, value_name = "TABLE", default_value = "cells", value_parser = ["cells", "acknowledge"])]
    table: String,
}

fn day_arg(s: &str) -> Result<sotto_wire::Day, String> {
    sotto_wire::Day::parse(s).ok_or_else(|| "not a day: use YYYY-MM-DD".into())
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
    #[command(flatten)]
    reach: super::Reach,
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
    /// Group near-duplicate reports (a brigade of reworded copies) into one
    /// line with a count; compared after decryption, on this machine.
    #[arg(long)]
    group: bool,
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
    /// The case id (or its first characters, as the inbox shows them).
    case: String,
    #[command(flatten)]
    conn: Conn,
    /// A file to attach. Repeatable.
    #[arg(long, value_name = "PATH")]
    attach: Vec<PathBuf>,
    #[command(flatten)]
    template: TemplateArgs,
}

/// Writing from a template instead of standard input.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Start from this response template (see `sotto desk templates`),
    /// opened in $VISUAL or $EDITOR to edit before sending.
    #[arg(long, value_name = "NAME")]
    template: Option<String>,
    /// The template's language [default: the language the reporter wrote
    /// in, else English].
    #[arg(long, value_name = "TAG", requires = "template")]
    lang: Option<String>,
    /// Send the template as it is, without opening an editor (for scripts).
    #[arg(long, requires = "template")]
    yes: bool,
    /// Your desk's own templates, `LANG/NAME.md`, overriding or adding to
    /// the shipped ones.
    #[arg(long, env = "SOTTO_TEMPLATES", value_name = "DIR")]
    templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// Your desk's own templates, `LANG/NAME.md`.
    #[arg(long, env = "SOTTO_TEMPLATES", value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Print this template (in `--lang`, default English) instead of the list.
    #[arg(long, value_name = "NAME")]
    show: Option<String>,
    /// The language of `--show`.
    #[arg(long, value_name = "TAG", default_value = "en")]
    lang: String,
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
    #[arg(long, conflicts_with = "template")]
    note: bool,
    #[command(flatten)]
    template: TemplateArgs,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The case id.
    case: String,
    #[command(flatten)]
    conn: Conn,
    /// The recipient card of whom to share with (a line `sotto desk card`
    /// printed; they must be a recipient of a desk of this server).
    #[arg(long)]
    card: String,
    /// The desk they read for, when they are on several.
    #[arg(long)]
    desk: Option<String>,
    /// A word to them: why you share it.
    #[arg(long, default_value = "")]
    note: String,
    /// Leave the files out (their names stay), when the thread is too large.
    #[arg(long)]
    without_attachments: bool,
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
        DeskCommand::Share(a) => share(a),
        DeskCommand::Templates(a) => templates(a),
        DeskCommand::Stats(a) => stats(a),
    }
}

fn share(a: ShareArgs) -> CliResult {
    let card = sotto_envelope::keys::RecipientCard::parse(a.card.trim())
        .map_err(|e| CliError(format!("--card: {e}")))?;
    let api = connect(&a.conn.reach, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let case = resolve_case(&api, &me, &a.case)?;
    let done = desk::share(
        &api,
        &me,
        &case,
        &card,
        a.desk.as_deref(),
        &a.note,
        !a.without_attachments,
    )?;
    println!(
        "Shared case {} with {} ({}): they can read the thread so far and answer from now on. Logged as entry {}; the reporter sees it.",
        done.case,
        super::printable(card.name.as_str()),
        card.fingerprint(),
        done.entry
    );
    Ok(())
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
    let api = connect(&a.conn.reach, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let today = super::today();
    let cases = desk::triage(&api, &me, today)?;
    if a.json {
        #[derive(Serialize)]
        struct Row<'a> {
            case: &'a str,
            priority: desk::Priority,
            state: &'a str,
            opened: sotto_wire::Day,
            age_days: i64,
            urgent: bool,
            category: &'a str,
            lang: &'a str,
            first_line: String,
            next_update_due: Option<sotto_wire::Day>,
            feedback_due: Option<sotto_wire::Day>,
            late: bool,
            messages: u64,
            erased: bool,
        }
        fn row(t: &desk::Triaged, today: sotto_wire::Day) -> Row<'_> {
            let r = t.report.as_ref();
            Row {
                case: &t.entry.case,
                priority: t.priority,
                state: t.entry.state.as_str(),
                opened: t.entry.opened,
                age_days: t.entry.opened.days_until(today),
                urgent: r.is_some_and(|r| r.urgent),
                category: r.map_or("", |r| r.category.as_str()),
                lang: r.map_or("", |r| r.lang.as_str()),
                first_line: t.first_line(200),
                next_update_due: t.entry.next_update_due,
                feedback_due: t.entry.feedback_due,
                late: t.entry.next_deadline().is_some_and(|d| d < today),
                messages: t.entry.messages,
                erased: t.entry.erased.is_some(),
            }
        }
        if a.group {
            #[derive(Serialize)]
            struct Group<'a> {
                count: usize,
                cases: Vec<Row<'a>>,
            }
            let groups: Vec<Group> = similar_groups(&cases)
                .into_iter()
                .map(|g| Group {
                    count: g.len(),
                    cases: g.into_iter().map(|i| row(&cases[i], today)).collect(),
                })
                .collect();
            return print_json(&groups);
        }
        let rows: Vec<Row> = cases.iter().map(|t| row(t, today)).collect();
        return print_json(&rows);
    }
    if cases.is_empty() {
        println!("No cases addressed to you.");
        return Ok(());
    }
    println!(
        "{:<8}  {:<12}  {:>4}  {:<6}  {:<16}  {:<5}  {:<16}  REPORT",
        "CASE", "STATE", "AGE", "URGENT", "CATEGORY", "LANG", "NEXT DEADLINE"
    );
    let groups = if a.group {
        similar_groups(&cases)
    } else {
        (0..cases.len()).map(|i| vec![i]).collect()
    };
    for group in &groups {
        let t = &cases[group[0]];
        let r = t.report.as_ref();
        let due = match t.entry.next_deadline() {
            Some(d) if d < today => format!("{d} LATE"),
            Some(d) => d.to_string(),
            None => "-".into(),
        };
        let dash = |s: &str| {
            if s.is_empty() {
                "-".to_owned()
            } else {
                s.to_owned()
            }
        };
        let first = match (&t.entry.erased, r) {
            (Some(_), _) => "(erased)".to_owned(),
            (None, None) => "(cannot be read: see sotto desk show)".to_owned(),
            (None, Some(_)) => super::printable(&t.first_line(60)),
        };
        println!(
            "{:<8}  {:<12}  {:>3}d  {:<6}  {:<16}  {:<5}  {:<16}  {}",
            t.entry.case.get(..8).unwrap_or(&t.entry.case),
            t.entry.state.as_str(),
            t.entry.opened.days_until(today),
            if r.is_some_and(|r| r.urgent) {
                "URGENT"
            } else {
                ""
            },
            super::printable(&dash(r.map_or("", |r| r.category.as_str()))),
            super::printable(&dash(r.map_or("", |r| r.lang.as_str()))),
            due,
            first
        );
        if group.len() > 1 {
            let others: Vec<&str> = group[1..]
                .iter()
                .map(|&i| cases[i].entry.case.get(..8).unwrap_or(""))
                .collect();
            println!(
                "          ↳ {} similar reports in all; also: {}",
                group.len(),
                others.join(" ")
            );
        }
    }
    Ok(())
}

/// Groups of near-duplicate reports, as indexes into `cases` (which keep
/// their order: each group sorts where its most pressing case does).
fn similar_groups(cases: &[desk::Triaged]) -> Vec<Vec<usize>> {
    let texts: Vec<&str> = cases
        .iter()
        .map(|t| t.report.as_ref().map_or("", |r| r.text.as_str()))
        .collect();
    crate::client::similar::groups(&texts)
}

fn show(a: ShowArgs) -> CliResult {
    let api = connect(&a.conn.reach, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let case = resolve_case(&api, &me, &a.case)?;
    let view = desk::show(&api, &me, &case)?;
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
            feedback_due: Option<sotto_wire::Day>,
            recipients: Vec<String>,
            shared: serde_json::Value,
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
            feedback_due: c.feedback_due,
            recipients: view.recipients.iter().map(|r| r.name.to_string()).collect(),
            shared: super::report::shared_json(&view.shared),
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
    let today = super::today();
    let late = |d: sotto_wire::Day| if d < today { " (LATE)" } else { "" };
    if let Some(due) = c.next_update_due {
        println!("Next update to the reporter due by {due}{}", late(due));
    }
    if let Some(due) = c.feedback_due {
        println!(
            "Feedback on what was done due by {due}{} (close the case, or tell the reporter)",
            late(due)
        );
    }
    println!(
        "Readers chosen by the reporter: {}",
        view.recipients
            .iter()
            .map(|r| r.name.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for s in &view.shared {
        println!(
            "Shared on {} by {} with {} ({}, desk {})",
            s.on,
            s.by.as_deref()
                .map_or("the reporter".to_owned(), super::printable),
            super::printable(s.card.name.as_str()),
            s.card.fingerprint(),
            super::printable(&s.desk)
        );
    }
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
    let api = connect(&a.conn.reach, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let case = resolve_case(&api, &me, &a.case)?;
    let text = match a.template.template {
        Some(_) => from_template(&api, &me, &case, &a.template)?,
        None => read_stdin_text("reply")?,
    };
    let posted = desk::reply(&api, &me, &case, &text, read_attachments(&a.attach)?)?;
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
    let api = connect(&a.conn.reach, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let case = resolve_case(&api, &me, &a.case)?;
    let note = if a.note {
        Some(read_stdin_text("note")?)
    } else if a.template.template.is_some() {
        Some(from_template(&api, &me, &case, &a.template)?)
    } else {
        None
    };
    let changed = desk::set_state(&api, &me, &case, state, note.as_deref())?;
    match changed.next_update_due {
        Some(due) => println!(
            "Case {} is now {}; next update due by {due}.",
            changed.case, changed.state
        ),
        None => println!("Case {} is now {}.", changed.case, changed.state),
    }
    Ok(())
}

/// A case id from what was typed: the whole id, or the start of one of
/// your cases (at least 4 characters, as the inbox shows 8).
fn resolve_case(
    api: &crate::client::Api,
    me: &DeskIdentity,
    typed: &str,
) -> Result<String, CliError> {
    let typed = typed.trim().to_ascii_lowercase();
    if typed.len() == 32 || typed.len() < 4 || !typed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(typed);
    }
    let matching: Vec<String> = desk::inbox(api, me)?
        .cases
        .into_iter()
        .map(|c| c.case)
        .filter(|c| c.starts_with(&typed))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(CliError(format!("none of your cases starts with {typed}"))),
        _ => Err(CliError(format!(
            "{} of your cases start with {typed}: type more of the id",
            matching.len()
        ))),
    }
}

fn templates(a: TemplatesArgs) -> CliResult {
    let all = Templates::load(a.templates.as_deref())?;
    if let Some(name) = a.show {
        let (lang, text) = all.get(&name, &a.lang)?;
        if lang != a.lang {
            eprintln!("No {name:?} in {}; showing {lang}.", a.lang);
        }
        print!("{text}");
        return Ok(());
    }
    for (name, langs) in all.list() {
        println!("{name:<20} {}", langs.join(" "));
    }
    Ok(())
}

/// The text of a message written from a template: filled in, then edited
/// in the user's editor unless `--yes`.
fn from_template(
    api: &crate::client::Api,
    me: &DeskIdentity,
    case: &str,
    a: &TemplateArgs,
) -> Result<String, CliError> {
    let name = a.template.as_deref().unwrap_or("");
    let all = Templates::load(a.templates.as_deref())?;
    // The reply itself reads and checks the whole case before sending.
    let (dc, report) = desk::opened_report(api, me, case)?;
    let reporter_lang = report.map(|r| r.lang).filter(|l| !l.is_empty());
    let wanted = a
        .lang
        .clone()
        .or(reporter_lang)
        .unwrap_or_else(|| "en".into());
    let (lang, text) = all.get(name, &wanted)?;
    if lang != wanted {
        eprintln!("No {name:?} template in {wanted}; using {lang}.");
    }
    let update_days = api.desk(&dc.desk)?.deadlines.update_days;
    let filled = templates::render(
        text,
        &[
            ("handler", me.name().to_string()),
            ("desk", dc.desk.clone()),
            ("case", dc.case.get(..8).unwrap_or("").to_owned()),
            ("update_days", update_days.to_string()),
            ("next_update", super::today().plus(update_days).to_string()),
        ],
    )?;
    if a.yes {
        return Ok(filled);
    }
    let edited = edit(&filled)?;
    if edited.trim().is_empty() {
        return Err(CliError("the message is empty: nothing was sent".into()));
    }
    Ok(edited)
}

/// Opens `text` in $VISUAL or $EDITOR, in a private folder that is wiped
/// afterwards, and returns what was saved.
fn edit(text: &str) -> Result<String, CliError> {
    use std::io::Write as _;
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .ok_or_else(|| {
            CliError(
                "set $EDITOR (or $VISUAL) to edit the template, or send it as it is with --yes"
                    .into(),
            )
        })?;
    let mut random = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("sotto-{suffix}"));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(&dir)
        .map_err(|e| CliError(format!("{}: {e}", dir.display())))?;
    let path = dir.join("message.md");
    let result = (|| {
        let mut f = std::fs::File::create(&path)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path)
            .status()?;
        if !status.success() {
            return Err(std::io::Error::other(format!(
                "the editor exited with {status}"
            )));
        }
        std::fs::read_to_string(&path)
    })();
    // Overwrite, then remove: the draft was a message to a reporter.
    if let Ok(meta) = std::fs::metadata(&path) {
        let _ = std::fs::write(&path, vec![0u8; meta.len() as usize]);
    }
    let _ = std::fs::remove_dir_all(&dir);
    result.map_err(|e| CliError(format!("editing the message: {e}; nothing was sent")))
}

fn stats(a: StatsArgs) -> CliResult {
    if let (Some(f), Some(t)) = (a.from, a.to) {
        if f > t {
            return Err(CliError("--from is after --to".into()));
        }
    }
    let api = connect(&a.conn.reach, a.conn.log_key.as_deref())?;
    let me = load_identity(&a.conn.identity)?;
    let facts: Vec<StatsCase> = desk::triage(&api, &me, super::today())?
        .into_iter()
        .map(|t| {
            let acknowledged_after = if t.entry.state == CaseState::RecordOnly {
                None
            } else {
                t.timeline
                    .iter()
                    .find(|e| e.state != CaseState::Received)
                    .map(|e| t.entry.opened.days_until(e.on))
            };
            let (category, lang) = t
                .report
                .map(|r| (r.category.clone(), r.lang.clone()))
                .unwrap_or_default();
            StatsCase {
                opened: t.entry.opened,
                category,
                lang,
                state: t.entry.state,
                acknowledged_after,
            }
        })
        .collect();
    let s = crate::client::stats::compute(&facts, a.from, a.to);
    match (a.format.as_str(), a.table.as_str()) {
        ("json", _) => print_json(&s)?,
        (_, "acknowledge") => print!("{}", s.acknowledge_csv()),
        _ => print!("{}", s.cells_csv()),
    }
    Ok(())
}
