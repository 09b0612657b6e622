//! `sotto admin …`: for the operator, on the server host. These open the
//! database directly (safely beside a running server: WAL and a busy
//! timeout) and never touch content: there is none they could read.
//! `backup` and `restore` are in [`crate::backup`].

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use sotto_envelope::keys::{DisplayName, RecipientCard};
use sotto_envelope::Recipient;
use sotto_store::Store;
use sotto_wire::Day;

use super::{print_json, CliError, CliResult};
use crate::datadir::DataDir;
use crate::startup::DEFAULT_DESK;

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Register an ombudsperson's recipient card on a desk.
    AddRecipient(AddRecipientArgs),
    /// Take a recipient off a desk: they receive no new reports.
    RemoveRecipient(RemoveRecipientArgs),
    /// List desks and their recipients.
    ListRecipients(ListArgs),
    /// Create another desk.
    AddDesk(AddDeskArgs),
    /// Set a desk's own deadlines (the server's defaults otherwise).
    SetDeadlines(SetDeadlinesArgs),
    /// A desk's referral directory of support organisations.
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// Copy the data directory, while the server runs, into one new file
    /// sealed with age to your offline key.
    Backup(BackupArgs),
    /// Bring a backup back into a new data directory, and check it.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    data: Data,
    /// The backup file to write (mode 0600); an existing file is never
    /// replaced.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// The age recipient (age1…) of the key that opens backups: keep that
    /// key off this machine.
    #[arg(long, value_name = "AGE_RECIPIENT")]
    recipient: String,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// The age identity file that opens it (AGE-SECRET-KEY-1…).
    #[arg(long, value_name = "KEY")]
    identity: PathBuf,
    /// The data directory to create: it must not exist, or be empty.
    #[arg(long = "data", value_name = "NEWDIR")]
    data_dir: PathBuf,
}

/// The referral directory.
#[derive(Debug, clap::Subcommand)]
pub enum ResourcesCommand {
    /// Check a directory file and publish it for a desk, replacing the
    /// one before (an empty `entries` list removes it).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    data: Data,
    /// The desk.
    #[arg(long, default_value = DEFAULT_DESK)]
    desk: String,
    /// The directory, JSON (see deploy/resources.example.json).
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct Data {
    /// The server's data directory.
    #[arg(long = "data", env = "SOTTO_DATA", default_value = "./sotto-data")]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct AddRecipientArgs {
    #[command(flatten)]
    data: Data,
    /// The desk.
    #[arg(long, default_value = DEFAULT_DESK)]
    desk: String,
    /// The card line printed by `sotto desk keygen`.
    #[arg(long)]
    card: String,
}

#[derive(Debug, Args)]
pub struct RemoveRecipientArgs {
    #[command(flatten)]
    data: Data,
    /// The desk.
    #[arg(long, default_value = DEFAULT_DESK)]
    desk: String,
    /// The recipient's name, fingerprint or id.
    #[arg(long)]
    recipient: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    data: Data,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct AddDeskArgs {
    #[command(flatten)]
    data: Data,
    /// The desk's name (used in URLs and `--desk`).
    #[arg(long)]
    name: String,
    /// One sentence for reporters choosing a desk.
    #[arg(long, default_value = "")]
    description: String,
}

#[derive(Debug, Args)]
pub struct SetDeadlinesArgs {
    #[command(flatten)]
    data: Data,
    /// The desk.
    #[arg(long, default_value = DEFAULT_DESK)]
    desk: String,
    /// Days to acknowledge a new report (1 to 90).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=90))]
    acknowledge_days: Option<i64>,
    /// Days between updates owed to the reporter (1 to 90).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=90))]
    update_days: Option<i64>,
    /// Months from the acknowledgement to feedback on what was done (1 to 12).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=12))]
    feedback_months: Option<i64>,
    /// Go back to the server's defaults.
    #[arg(long, conflicts_with_all = ["acknowledge_days", "update_days", "feedback_months"])]
    reset: bool,
}

impl AdminCommand {
    /// Whether `--json` was asked for.
    pub fn json(&self) -> bool {
        matches!(self, AdminCommand::ListRecipients(a) if a.json)
    }
}

/// Runs an operator command.
pub fn run(cmd: AdminCommand) -> CliResult {
    match cmd {
        AdminCommand::AddRecipient(a) => add_recipient(a),
        AdminCommand::RemoveRecipient(a) => remove_recipient(a),
        AdminCommand::ListRecipients(a) => list(a),
        AdminCommand::AddDesk(a) => add_desk(a),
        AdminCommand::SetDeadlines(a) => set_deadlines(a),
        AdminCommand::Resources(ResourcesCommand::Import(a)) => import_resources(a),
        AdminCommand::Backup(a) => backup(a),
        AdminCommand::Restore(a) => restore(a),
    }
}

/// The recipient a backup is sealed to.
fn backup_recipient(s: &str) -> Result<Recipient, CliError> {
    let s = s.trim();
    // Never echo it: a secret key in argv is exposed already.
    if s.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
        return Err(CliError::usage(
            "--recipient: that is a secret key; give its recipient (age1…, which age-keygen -y prints) and keep the secret key off this machine".into(),
        ));
    }
    Recipient::parse(s).map_err(|_| {
        CliError::usage(
            "--recipient: not an age X25519 recipient (age1…, as age-keygen prints it; plugin and post-quantum recipients are not supported)".into(),
        )
    })
}

fn backup(a: BackupArgs) -> CliResult {
    let recipient = backup_recipient(&a.recipient)?;
    let taken = crate::backup::take(&a.data.data_dir, &a.to, &recipient, super::today())?;
    outln!(
        "Backed up {}, a log of {} and {} on {} to {}, sealed to {recipient}: copy it off this machine.",
        count(taken.cases, "case"),
        count(taken.log_size, "entry"),
        count(taken.resources as u64, "referral directory"),
        taken.day,
        a.to.display()
    );
    Ok(())
}

fn restore(a: RestoreArgs) -> CliResult {
    let r = crate::backup::restore(&a.file, &a.identity, &a.data_dir)?;
    let published = r
        .published
        .map_or("none published".to_owned(), |p| format!("{p} published"));
    let older = if r.schema_version < sotto_store::SCHEMA_VERSION {
        format!(
            " (schema version {}: sotto serve migrates it when it starts)",
            r.schema_version
        )
    } else {
        String::new()
    };
    outln!(
        "Restored the backup of {} into {}: {}, a log of {} ({published}), {}; the database passed its checks{older}. Start the server with --data {}.",
        r.day,
        a.data_dir.display(),
        count(r.cases, "case"),
        count(r.log_size, "entry"),
        count(r.resources as u64, "referral directory"),
        a.data_dir.display()
    );
    Ok(())
}

/// `1 case`, `2 cases`, `1 entry`, `2 entries`.
fn count(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else if let Some(stem) = one.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {one}s")
    }
}

fn import_resources(a: ImportArgs) -> CliResult {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| CliError::io(format!("{}: {e}", a.file.display())))?;
    let directory = sotto_wire::resources::Directory::parse(&text)
        .map_err(|e| CliError::io(format!("{}: {e}", a.file.display())))?;
    let store = open(&a.data)?;
    let desk = store.desk_by_name(&a.desk).map_err(|e| match e {
        sotto_store::StoreError::NotFound => {
            CliError::usage(format!("there is no desk named {:?}", a.desk))
        }
        other => other.into(),
    })?;
    let path = crate::datadir::resources_path(&a.data.data_dir, desk.id);
    crate::datadir::write_public(&path, &serde_json::to_vec_pretty(&directory)?)
        .map_err(|e| CliError::io(format!("{}: {e}", path.display())))?;
    outln!(
        "Published {} entries for desk {}. Reporters download the whole directory and filter it on their own device.",
        directory.entries.len(),
        desk.name
    );
    Ok(())
}

/// Opens the store, creating the data directory and default desk if this
/// runs before the first `sotto serve`.
fn open(data: &Data) -> Result<Store, CliError> {
    let dir = DataDir::create(&data.data_dir)?;
    let mut store = Store::open(&dir.db_path())?;
    store.ensure_desk(
        DEFAULT_DESK,
        "The community's reporting desk.",
        super::today(),
    )?;
    Ok(store)
}

fn desk(store: &Store, name: &str) -> Result<sotto_store::Desk, CliError> {
    store.desk_by_name(name).map_err(|e| match e {
        sotto_store::StoreError::NotFound => CliError::usage(format!(
            "no desk named {name:?}; create it with sotto admin add-desk"
        )),
        other => other.into(),
    })
}

fn add_recipient(a: AddRecipientArgs) -> CliResult {
    let card =
        RecipientCard::parse(&a.card).map_err(|e| CliError::usage(format!("--card: {e}")))?;
    let mut store = open(&a.data)?;
    let d = desk(&store, &a.desk)?;
    if store.active_recipients(d.id)?.len() >= sotto_wire::MAX_READERS {
        return Err(CliError::usage(format!(
            "desk {} has {} readers, the most a desk may have; remove one first",
            d.name,
            sotto_wire::MAX_READERS
        )));
    }
    let fp = card.fingerprint();
    store
        .insert_recipient(d.id, &fp.id(), &card.to_string(), super::today())
        .map_err(|e| match e {
            sotto_store::StoreError::Conflict(_) => CliError::usage(format!(
                "{} is already a recipient of desk {}",
                card.name, d.name
            )),
            other => other.into(),
        })?;
    outln!("Added {} ({fp}) to desk {}.", card.name, d.name);
    outln!("Reporters will see this name and fingerprint before they submit; read the fingerprint to them if asked.");
    Ok(())
}

fn remove_recipient(a: RemoveRecipientArgs) -> CliResult {
    let mut store = open(&a.data)?;
    let d = desk(&store, &a.desk)?;
    let active = store.active_recipients(d.id)?;
    let found: Vec<_> = active
        .iter()
        .filter(|r| {
            RecipientCard::parse(&r.card).is_ok_and(|c| {
                c.name.as_str().eq_ignore_ascii_case(a.recipient.trim())
                    || c.fingerprint().matches(&a.recipient)
            })
        })
        .collect();
    let r = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(CliError::usage(format!(
                "no active recipient of desk {} matches {:?}",
                d.name, a.recipient
            )))
        }
        _ => {
            return Err(CliError::usage(
                "several recipients match; use the fingerprint".into(),
            ))
        }
    };
    store.remove_recipient(d.id, &r.id, super::today())?;
    outln!(
        "Removed {} from desk {}: they receive no new reports.",
        r.id,
        d.name
    );
    Ok(())
}

#[derive(Serialize)]
struct RecipientJson {
    desk: String,
    id: String,
    name: String,
    fingerprint: String,
    card: String,
    added_on: Day,
    removed_on: Option<Day>,
}

fn list(a: ListArgs) -> CliResult {
    let store = open(&a.data)?;
    let rows: Vec<RecipientJson> = store
        .recipients()?
        .into_iter()
        .map(|r| {
            let card = RecipientCard::parse(&r.card).ok();
            RecipientJson {
                name: card
                    .as_ref()
                    .map(|c| c.name.to_string())
                    .unwrap_or_default(),
                fingerprint: card
                    .as_ref()
                    .map(|c| c.fingerprint().to_string())
                    .unwrap_or_default(),
                desk: r.desk,
                id: r.id,
                card: r.card,
                added_on: r.added_on,
                removed_on: r.removed_on,
            }
        })
        .collect();
    if a.json {
        return print_json(&rows);
    }
    for d in store.desks()? {
        outln!(
            "Desk {}{}",
            d.name,
            if d.description.is_empty() {
                String::new()
            } else {
                format!(": {}", d.description)
            }
        );
        if let Some(x) = store.desk_deadlines(d.id)? {
            outln!(
                "  deadlines: acknowledge {} days, update every {} days, feedback {} months",
                x.acknowledge_days,
                x.update_days,
                x.feedback_months
            );
        }
        let mine: Vec<_> = rows.iter().filter(|r| r.desk == d.name).collect();
        if mine.is_empty() {
            outln!("  (no recipients: reports cannot be sent here yet)");
        }
        for r in mine {
            let status = match &r.removed_on {
                Some(day) => format!("removed {day}"),
                None => format!("since {}", r.added_on),
            };
            outln!("  {:<24}  {}  {}", r.name, r.fingerprint, status);
        }
    }
    Ok(())
}

/// A server default, as `sotto serve` would read it from the environment.
fn server_default(var: &str, eu: i64) -> i64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(eu)
}

fn set_deadlines(a: SetDeadlinesArgs) -> CliResult {
    let mut store = open(&a.data)?;
    let d = desk(&store, &a.desk)?;
    if a.reset {
        store.clear_desk_deadlines(d.id)?;
        outln!(
            "Desk {} works to the server's default deadlines again.",
            d.name
        );
        return Ok(());
    }
    if a.acknowledge_days.is_none() && a.update_days.is_none() && a.feedback_months.is_none() {
        return Err(CliError::usage(
            "give --acknowledge-days, --update-days or --feedback-months (or --reset)".into(),
        ));
    }
    // Unset values keep the desk's own, else the server's default.
    let before = store.desk_deadlines(d.id)?;
    let new = sotto_store::DeskDeadlines {
        acknowledge_days: a.acknowledge_days.unwrap_or(before.map_or_else(
            || server_default("SOTTO_ACKNOWLEDGE_DAYS", 7),
            |b| b.acknowledge_days,
        )),
        update_days: a.update_days.unwrap_or(
            before.map_or_else(|| server_default("SOTTO_UPDATE_DAYS", 7), |b| b.update_days),
        ),
        feedback_months: a.feedback_months.unwrap_or(before.map_or_else(
            || server_default("SOTTO_FEEDBACK_MONTHS", 3),
            |b| b.feedback_months,
        )),
    };
    store.set_desk_deadlines(d.id, &new).map_err(|e| match e {
        sotto_store::StoreError::Sqlite(_) => CliError::usage(
            "deadlines out of range: days 1 to 90, months 1 to 12 (check SOTTO_* defaults)".into(),
        ),
        other => other.into(),
    })?;
    outln!(
        "Desk {}: acknowledge within {} days, update the reporter every {} days, feedback within {} months. Open cases follow the new deadlines from now on.",
        d.name, new.acknowledge_days, new.update_days, new.feedback_months
    );
    if new.acknowledge_days > 7 || new.feedback_months > 3 {
        outln!("Note: longer than the EU Whistleblower Directive's 7 days and 3 months.");
    }
    Ok(())
}

fn add_desk(a: AddDeskArgs) -> CliResult {
    DisplayName::parse(&a.name).map_err(|_| {
        CliError::usage("--name: a desk name is 1 to 64 printable characters".into())
    })?;
    if a.description.chars().count() > 280 {
        return Err(CliError::usage(
            "--description: at most 280 characters".into(),
        ));
    }
    let mut store = open(&a.data)?;
    let d = store
        .insert_desk(&a.name, &a.description, super::today())
        .map_err(|e| match e {
            sotto_store::StoreError::Conflict(_) => {
                CliError::usage(format!("a desk named {:?} exists already", a.name))
            }
            other => other.into(),
        })?;
    outln!("Created desk {}.", d.name);
    Ok(())
}
