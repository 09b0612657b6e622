//! The clap arguments of `sotto desk …`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
    pub conn: Conn,
    /// Count cases opened on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", value_parser = day_arg)]
    pub from: Option<sotto_wire::Day>,
    /// Count cases opened on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", value_parser = day_arg)]
    pub to: Option<sotto_wire::Day>,
    /// csv or json.
    #[arg(long, value_name = "FORMAT", default_value = "csv", value_parser = ["csv", "json"])]
    pub format: String,
    /// With csv: the counts (cells) or the time to acknowledge by month.
    #[arg(long, value_name = "TABLE", default_value = "cells", value_parser = ["cells", "acknowledge"])]
    pub table: String,
}

fn day_arg(s: &str) -> Result<sotto_wire::Day, String> {
    sotto_wire::Day::parse(s).ok_or_else(|| "not a day: use YYYY-MM-DD".into())
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Your name as reporters will see it.
    #[arg(long)]
    pub name: String,
    /// Where to write the identity file (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub identity: PathBuf,
}

#[derive(Debug, Args)]
pub struct IdentityArg {
    /// Your identity file.
    #[arg(long, env = "SOTTO_IDENTITY", value_name = "FILE")]
    pub identity: PathBuf,
}

#[derive(Debug, Args)]
pub struct Conn {
    #[command(flatten)]
    pub reach: crate::cli::Reach,
    /// The transparency log's key as your community published it
    /// (origin+id+base64). Without it, the key the server announces is used.
    #[arg(long, env = "SOTTO_LOG_KEY", value_name = "VKEY")]
    pub log_key: Option<String>,
    /// Your identity file.
    #[arg(long, env = "SOTTO_IDENTITY", value_name = "FILE")]
    pub identity: PathBuf,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Print JSON: a list of objects, each with a `case` field.
    #[arg(long)]
    pub json: bool,
    /// Group near-duplicate reports (a brigade of reworded copies) into one
    /// line with a count; compared after decryption, on this machine.
    #[arg(long)]
    pub group: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The case id.
    pub case: String,
    #[command(flatten)]
    pub conn: Conn,
    /// Save the thread's attachments into this folder (safe names, never overwriting).
    #[arg(long, value_name = "DIR")]
    pub save_attachments: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The case id (or its first characters, as the inbox shows them).
    pub case: String,
    #[command(flatten)]
    pub conn: Conn,
    /// A file to attach. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub attach: Vec<PathBuf>,
    #[command(flatten)]
    pub template: TemplateArgs,
}

/// Writing from a template instead of standard input.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Start from this response template (see `sotto desk templates`),
    /// opened in $VISUAL or $EDITOR to edit before sending.
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// The template's language [default: the language the reporter wrote
    /// in, else English].
    #[arg(long, value_name = "TAG", requires = "template")]
    pub lang: Option<String>,
    /// Send the template as it is, without opening an editor (for scripts).
    #[arg(long, requires = "template")]
    pub yes: bool,
    /// Your desk's own templates, `LANG/NAME.md`, overriding or adding to
    /// the shipped ones.
    #[arg(long, env = "SOTTO_TEMPLATES", value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// Your desk's own templates, `LANG/NAME.md`.
    #[arg(long, env = "SOTTO_TEMPLATES", value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Print this template (in `--lang`, default English) instead of the list.
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
    /// The language of `--show`.
    #[arg(long, value_name = "TAG", default_value = "en")]
    pub lang: String,
}

#[derive(Debug, Args)]
pub struct SetStateArgs {
    /// The case id.
    pub case: String,
    /// received, acknowledged, in-review, needs-info, resolved, closed, record-only or bad-faith.
    pub state: String,
    #[command(flatten)]
    pub conn: Conn,
    /// Read a note to the reporter from stdin and send it with the change.
    #[arg(long, conflicts_with = "template")]
    pub note: bool,
    #[command(flatten)]
    pub template: TemplateArgs,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The case id.
    pub case: String,
    #[command(flatten)]
    pub conn: Conn,
    /// The recipient card of whom to share with (a line `sotto desk card`
    /// printed; they must be a recipient of a desk of this server).
    #[arg(long)]
    pub card: String,
    /// The desk they read for, when they are on several.
    #[arg(long)]
    pub desk: Option<String>,
    /// A word to them: why you share it.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Leave the files out (their names stay), when the thread is too large.
    #[arg(long)]
    pub without_attachments: bool,
}

impl DeskCommand {
    /// Whether `--json` was asked for.
    pub fn json(&self) -> bool {
        match self {
            DeskCommand::Inbox(a) => a.json,
            DeskCommand::Show(a) => a.json,
            _ => false,
        }
    }
}
