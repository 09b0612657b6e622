//! The clap arguments of `sotto report …`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
    pub server: Server,
    /// The other desk.
    #[arg(long)]
    pub desk: String,
    /// Someone of that desk who must not read your case: a name or a
    /// fingerprint. Repeatable.
    #[arg(long, value_name = "NAME_OR_FINGERPRINT")]
    pub exclude: Vec<String>,
    /// Leave your files out of the copy (their names stay), if the thread
    /// is too large.
    #[arg(long)]
    pub without_attachments: bool,
    /// Escalate even if the log check names readers you have not seen
    /// before (for scripts; in a terminal you are asked instead).
    #[arg(long)]
    pub accept_readers: bool,
    #[command(flatten)]
    pub memory: Memory,
}

#[derive(Debug, Args)]
pub struct ReceiptArgs {
    #[command(flatten)]
    pub server: Server,
    /// Where to save it (a new file, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub receipt: PathBuf,
}

#[derive(Debug, Args)]
pub struct Server {
    #[command(flatten)]
    pub reach: crate::cli::Reach,
    /// The transparency log's key as your community published it
    /// (origin+id+base64). Without it, the first report from this device
    /// trusts the key the server announces, and later ones the key it saw.
    #[arg(long, env = "SOTTO_LOG_KEY", value_name = "VKEY")]
    pub log_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub server: Server,
    /// The desk to report to.
    #[arg(long, default_value = "default")]
    pub desk: String,
    /// Someone who must not read this report: a name or a fingerprint. Repeatable.
    #[arg(long, value_name = "NAME_OR_FINGERPRINT")]
    pub exclude: Vec<String>,
    /// A file to attach as evidence. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub attach: Vec<PathBuf>,
    /// A link to evidence. Repeatable.
    #[arg(long, value_name = "URL")]
    pub link: Vec<String>,
    /// When it happened, in your words (sealed in the report).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub when: String,
    /// Who was involved, in your words (sealed in the report).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub involved: String,
    /// What kind of report: harassment, discrimination, threats, privacy,
    /// staff-misconduct, spam-or-fraud or other (sealed in the report).
    #[arg(long, value_name = "KIND", default_value = "", value_parser = category)]
    pub category: String,
    /// The language you write in, e.g. en, es, de (sealed in the report;
    /// the handlers answer in it).
    #[arg(long, value_name = "TAG", default_value = "", value_parser = language)]
    pub lang: String,
    /// Mark the report urgent (someone may be at risk); the handlers see the mark when they open it.
    #[arg(long)]
    pub urgent: bool,
    /// For the record only; no action is asked for.
    #[arg(long)]
    pub record_only: bool,
    /// Save the signed receipt here (a new file, mode 0600). Keep it with
    /// your token: `sotto report status --receipt FILE` checks with it that
    /// your case was not deleted or rewritten.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    #[command(flatten)]
    pub memory: Memory,
    /// Send even if the log check names readers you have not seen before
    /// (for scripts; in a terminal you are asked instead).
    #[arg(long)]
    pub accept_readers: bool,
    /// Print JSON (with the token and the receipt) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct Memory {
    /// Where this device remembers the log it verified and each desk's
    /// readers, to warn when someone is added [default:
    /// $XDG_STATE_HOME/sotto/known-servers.json].
    #[arg(long, env = "SOTTO_KNOWN", value_name = "FILE")]
    pub known: Option<PathBuf>,
    /// Remember nothing on this device (every report then checks the whole
    /// log, and cannot warn about readers added since last time).
    #[arg(long, conflicts_with = "known")]
    pub no_remember: bool,
}

impl Memory {
    pub fn path(&self) -> Option<PathBuf> {
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
    pub server: Server,
    /// Save attachments in the thread into this folder.
    #[arg(long, value_name = "DIR")]
    pub save_attachments: Option<PathBuf>,
    /// The receipt saved when you reported: checks that the log still holds
    /// your case and that the report the server shows is the one you sent.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Your region (two capital letters, e.g. DE), to list the support
    /// organisations that help there. Used on this machine only: the whole
    /// directory is downloaded and filtered here.
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// After showing the case, look again every SECONDS and show what
    /// changed, until interrupted. Each look asks only for what is new (a
    /// case that did not change costs the server almost nothing), and what
    /// was read stays in memory only. Regular looks show the server when
    /// this machine is online.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub watch: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    #[command(flatten)]
    pub server: Server,
    /// A file to attach. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub attach: Vec<PathBuf>,
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

impl ReportCommand {
    /// Whether `--json` was asked for.
    pub fn json(&self) -> bool {
        match self {
            ReportCommand::Submit(a) => a.json,
            ReportCommand::Status(a) => a.json,
            _ => false,
        }
    }
}
