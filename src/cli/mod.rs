//! The command line: `sotto serve`, and one subcommand group per role.
//!
//! Errors are one line on stderr and a non-zero exit ([`error`]); results
//! go to stdout through [`out`], which ends quietly when the reader stops.
//! Secrets never come from argv (other users of a machine can read it):
//! the reporter's token comes from `SOTTO_TOKEN` or a prompt, report and
//! reply texts from stdin.
//!
//! - [`report`], [`desk`], [`admin`], [`audit`]: one module per role, each
//!   with its clap arguments beside it (`report::args`, `desk::args`).
//! - [`thread`]: a case's messages, printed or as JSON, for both roles.
//! - [`prompt`]: what is asked of the person: stdin texts, the token, a
//!   yes on the terminal, an edit in their editor.
//! - [`receipt`]: the reporter's receipt files.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[macro_use]
pub mod out;
pub mod admin;
pub mod audit;
pub mod desk;
pub mod error;
pub mod prompt;
pub mod receipt;
pub mod report;
pub mod thread;

pub use error::CliError;

/// Sotto: a confidential reporting channel for online communities.
#[derive(Debug, Parser)]
#[command(name = "sotto", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (creates the database and keys on first start).
    Serve(crate::config::Settings),
    /// For reporters: submit a report, follow it, reply.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// For ombudspersons: keys, inbox, reading and answering cases.
    #[command(subcommand)]
    Desk(desk::DeskCommand),
    /// For the operator, on the server host: desks and recipients.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// For auditors: check the public log, or prove what a database holds.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Result of a command.
pub type CliResult = Result<(), CliError>;

/// Entry point: parses argv and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && std::env::args_os().any(|a| a == "--json") => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            CliError::usage(first.trim_start_matches("error: ").to_owned()).print(true);
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let json = cli.command.json();
    let result = match cli.command {
        Command::Serve(settings) => serve(settings),
        Command::Report(c) => report::run(c),
        Command::Desk(c) => desk::run(c),
        Command::Admin(c) => admin::run(c),
        Command::Audit(c) => audit::run(c),
    };
    out::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            e.print(json);
            ExitCode::FAILURE
        }
    }
}

impl Command {
    /// Whether `--json` was asked for: errors are then JSON too.
    fn json(&self) -> bool {
        match self {
            Command::Serve(_) => false,
            Command::Report(c) => c.json(),
            Command::Desk(c) => c.json(),
            Command::Admin(c) => c.json(),
            Command::Audit(c) => c.json(),
        }
    }
}

fn serve(settings: crate::config::Settings) -> CliResult {
    crate::telemetry::init();
    tracing::info!(
        data = %settings.data_dir.display(),
        listen = %settings.listen,
        pow_difficulty = settings.pow_difficulty,
        acknowledge_days = settings.acknowledge_days,
        update_days = settings.update_days,
        "starting"
    );
    let data = settings.data_dir.clone();
    let public = settings.public_url.clone();
    let host = settings
        .listen
        .rsplit_once(':')
        .map(|(h, _)| h.to_owned())
        .unwrap_or_else(|| "127.0.0.1".into());
    actix_web::rt::System::new().block_on(async move {
        let app = crate::startup::Application::build(settings)?;
        // The server's job is serving: a closed stdout must not stop it.
        use std::io::Write;
        let mut stdout = std::io::stdout();
        let _ = writeln!(
            stdout,
            "Sotto is listening on http://{host}:{}/ (data in {})",
            app.port(),
            data.display()
        );
        if let Some(public) = &public {
            let _ = writeln!(
                stdout,
                "Reporters reach it at {public} (through your proxy)."
            );
        }
        let _ = stdout.flush();
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// Reads files to attach, keeping only their file names.
pub fn read_attachments(
    paths: &[PathBuf],
) -> Result<Vec<sotto_wire::content::Attachment>, CliError> {
    paths
        .iter()
        .map(|p| {
            let data =
                std::fs::read(p).map_err(|e| CliError::io(format!("{}: {e}", p.display())))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "attachment".into());
            Ok(sotto_wire::content::Attachment { name, data })
        })
        .collect()
}

/// Where the server is, and how to reach it: every client command has these.
#[derive(Debug, Clone, clap::Args)]
pub struct Reach {
    /// The Sotto server, e.g. `https://reports.example.org/report` or
    /// `http://127.0.0.1:8080` (plain http only on this machine or to a .onion).
    #[arg(long, env = "SOTTO_SERVER")]
    pub server: String,
    /// A private certificate authority to trust (a PEM file), besides the
    /// system's.
    #[arg(long, env = "SOTTO_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Go through this SOCKS5 proxy, which also resolves the server's name:
    /// socks5h://127.0.0.1:9050 for tor, :9150 for Tor Browser. HTTP_PROXY,
    /// HTTPS_PROXY and ALL_PROXY are ignored: only a proxy named here is used.
    #[arg(long, env = "SOTTO_PROXY", value_name = "socks5h://HOST:PORT")]
    pub proxy: Option<String>,
    /// Allow plain http:// to a server that is neither this machine nor a
    /// .onion. Your handle would cross the network in clear.
    #[arg(long)]
    pub insecure_http: bool,
}

impl Reach {
    /// The transport these options describe.
    pub fn transport(&self) -> crate::client::Transport {
        crate::client::Transport {
            ca: self.ca.clone(),
            proxy: self.proxy.clone().filter(|p| !p.is_empty()),
            insecure_http: self.insecure_http,
        }
    }

    /// These options as flags, to repeat in a hint (`--server … --proxy …`).
    pub fn flags(&self) -> String {
        let t = self.transport();
        let mut out = format!("--server {}", self.server);
        if let Some(ca) = &t.ca {
            out.push_str(&format!(" --ca {}", ca.display()));
        }
        if let Some(p) = &t.proxy {
            out.push_str(&format!(" --proxy {p}"));
        }
        if t.insecure_http {
            out.push_str(" --insecure-http");
        }
        out
    }

    /// A client for the server.
    pub fn api(&self) -> Result<crate::client::Api, CliError> {
        Ok(crate::client::Api::with_transport(
            &self.server,
            &self.transport(),
        )?)
    }
}

/// A client for the server, with the log key pinned when one is given.
pub fn connect(reach: &Reach, log_key: Option<&str>) -> Result<crate::client::Api, CliError> {
    let api = reach.api()?;
    Ok(match log_key {
        Some(k) => api.with_log_key(sotto_tlog::NoteVerifier::parse(k).map_err(|e| {
            CliError::usage(format!(
                "--log-key: {e} (expected origin+id+base64, as GET /v1/log shows it)"
            ))
        })?),
        None => api,
    })
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> CliResult {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Indents every line of a message body for display.
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {}", printable(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Untrusted text made safe to print in a terminal: control characters
/// (escape sequences could rewrite what the screen shows, e.g. hide a
/// warning or fake "signature verified") and the invisible characters that
/// reorder text (bidirectional overrides) are shown as `\u{…}` instead.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let reorders = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\t') || reorders {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Today, on the same calendar as the server: tests shift both with
/// `SOTTO_CLOCK_OFFSET_DAYS`.
pub(crate) fn today() -> sotto_wire::Day {
    let offset = std::env::var("SOTTO_CLOCK_OFFSET_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    sotto_wire::Day::today(offset)
}

/// A log entry as the CLI names it: its index once a published checkpoint
/// covers it (the server names none before).
pub fn log_entry(entry: Option<u64>) -> String {
    match entry {
        Some(i) => format!("log entry {i}"),
        None => "in the public log from its next batch".to_owned(),
    }
}
