//! `sotto desk …`: for ombudspersons. The commands; their arguments are in
//! [`args`].

use std::path::Path;

use serde::Serialize;
use sotto_envelope::keys::{DeskIdentity, DisplayName};
use sotto_wire::CaseState;

use super::prompt::{edit, read_stdin_text};
use super::thread::{message_json, print_thread, shared_json};
use super::{connect, log_entry, print_json, read_attachments, CliError, CliResult};
use crate::client::desk::{self, LogCheck};
use crate::client::stats::CaseFacts as StatsCase;
use crate::client::templates::{self, Templates};
use crate::datadir::write_new_secret;

pub mod args;

pub use args::DeskCommand;
use args::{
    InboxArgs, KeygenArgs, ReplyArgs, SetStateArgs, ShareArgs, ShowArgs, StatsArgs, TemplateArgs,
    TemplatesArgs,
};

/// Runs an ombudsperson command.
pub fn run(cmd: DeskCommand) -> CliResult {
    match cmd {
        DeskCommand::Keygen(a) => keygen(a),
        DeskCommand::Card(a) => {
            outln!("{}", load_identity(&a.identity)?.card());
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
        .map_err(|e| CliError::usage(format!("--card: {e}")))?;
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
    outln!(
        "Shared case {} with {} ({}): they can read the thread so far and answer from now on. The public log shows it from its next batch; the reporter sees it.",
        done.case,
        super::printable(card.name.as_str()),
        card.fingerprint(),
    );
    Ok(())
}

/// Reads an identity file.
pub fn load_identity(path: &Path) -> Result<DeskIdentity, CliError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("{}: {e}", path.display())))?,
    );
    DeskIdentity::from_file(&text, None)
        .map_err(|e| CliError::io(format!("{}: {e}", path.display())))
}

fn keygen(a: KeygenArgs) -> CliResult {
    let name = DisplayName::parse(&a.name).map_err(|e| CliError::usage(format!("--name: {e}")))?;
    let id = DeskIdentity::generate(name);
    write_new_secret(&a.identity, id.to_file().as_bytes()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::usage(format!(
                "{} exists already; not overwriting an identity",
                a.identity.display()
            ))
        } else {
            CliError::io(format!("{}: {e}", a.identity.display()))
        }
    })?;
    let card = id.card();
    outln!("{card}");
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
        outln!("No cases addressed to you.");
        return Ok(());
    }
    outln!(
        "{:<8}  {:<12}  {:>4}  {:<6}  {:<16}  {:<5}  {:<16}  REPORT",
        "CASE",
        "STATE",
        "AGE",
        "URGENT",
        "CATEGORY",
        "LANG",
        "NEXT DEADLINE"
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
        outln!(
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
            outln!(
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
            shared: shared_json(&view.shared),
            warnings: &view.warnings,
            messages: view.messages.iter().map(message_json).collect(),
            erased: c.erased,
            log: match &view.log {
                LogCheck::Verified { entry, size } => {
                    serde_json::json!({"standing": "verified", "entry": entry, "checked_size": size})
                }
                LogCheck::NotYetPublished { published } => {
                    serde_json::json!({"standing": "not-yet-published", "entry": null, "checked_size": published})
                }
                LogCheck::Failed => serde_json::json!({"standing": "failed"}),
                LogCheck::NotChecked => serde_json::json!({"standing": "not-checked"}),
            },
        });
    }
    outln!("Case {} at desk {}", c.case, c.desk);
    outln!(
        "State: {} · opened {} · last activity {}",
        c.state,
        c.opened,
        c.updated
    );
    let today = super::today();
    let late = |d: sotto_wire::Day| if d < today { " (LATE)" } else { "" };
    if let Some(due) = c.next_update_due {
        outln!("Next update to the reporter due by {due}{}", late(due));
    }
    if let Some(due) = c.feedback_due {
        outln!(
            "Feedback on what was done due by {due}{} (close the case, or tell the reporter)",
            late(due)
        );
    }
    outln!(
        "Readers chosen by the reporter: {}",
        view.recipients
            .iter()
            .map(|r| r.name.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for s in &view.shared {
        outln!(
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
        LogCheck::Verified { entry, size } => outln!(
            "Log: the opening is entry {entry} of the public log, as shown here (checked against its checkpoint of {size} entries)"
        ),
        LogCheck::NotYetPublished { published } => outln!(
            "Log: the public log's latest checkpoint ({published} entries) does not cover the opening yet; it is published with the next batch"
        ),
        LogCheck::Failed | LogCheck::NotChecked => {}
    }
    for w in &view.warnings {
        eprintln!("WARNING: {w}");
    }
    if let Some(e) = c.erased {
        outln!(
            "Erased on {} under the retention policy ({}): the messages are gone.",
            e.on,
            log_entry(e.entry)
        );
    }
    outln!();
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
    outln!("Sent, as message #{} of case {}.", posted.seq, posted.case);
    Ok(())
}

fn set_state(a: SetStateArgs) -> CliResult {
    let state = CaseState::parse(&a.state).ok_or_else(|| {
        CliError::usage(format!(
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
        Some(due) => outln!(
            "Case {} is now {}; next update due by {due}.",
            changed.case,
            changed.state
        ),
        None => outln!("Case {} is now {}.", changed.case, changed.state),
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
        [] => Err(CliError::usage(format!(
            "none of your cases starts with {typed}"
        ))),
        _ => Err(CliError::usage(format!(
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
        out!("{text}");
        return Ok(());
    }
    for (name, langs) in all.list() {
        outln!("{name:<20} {}", langs.join(" "));
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
    // The reply itself checks the report, its readers and the log before
    // sending.
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
        return Err(CliError::usage(
            "the message is empty: nothing was sent".into(),
        ));
    }
    Ok(edited)
}

fn stats(a: StatsArgs) -> CliResult {
    if let (Some(f), Some(t)) = (a.from, a.to) {
        if f > t {
            return Err(CliError::usage("--from is after --to".into()));
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
        (_, "acknowledge") => out!("{}", s.acknowledge_csv()),
        _ => out!("{}", s.cells_csv()),
    }
    Ok(())
}
