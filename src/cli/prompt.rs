//! What the CLI asks of the person at the keyboard, for both roles: texts
//! on standard input, the reporter's token, a yes typed on the terminal,
//! and a message edited in their own editor. Secrets are never read from
//! argv, and answers are asked on the terminal, never on stdin (which may
//! hold the report).

use std::io::{IsTerminal, Read, Write};

use sotto_envelope::token::Token;
use sotto_wire::api::RecipientInfo;
use zeroize::Zeroizing;

use super::error::CliError;
use crate::client::readers::ReaderCheck;

/// Reads all of stdin as UTF-8 text, with a hint when it is a terminal.
pub fn read_stdin_text(what: &str) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Write the {what}, then press Ctrl-D on a line of its own.");
    }
    let mut buf = Vec::new();
    stdin.lock().read_to_end(&mut buf)?;
    let text = String::from_utf8(buf)
        .map_err(|_| CliError::usage(format!("the {what} is not valid UTF-8 text")))?;
    if text.trim().is_empty() {
        return Err(CliError::usage(format!(
            "the {what} is empty: write it on standard input"
        )));
    }
    Ok(text)
}

/// The token from `SOTTO_TOKEN`, or typed at a prompt (never from argv).
pub fn token() -> Result<Token, CliError> {
    let typed = match std::env::var("SOTTO_TOKEN") {
        Ok(t) => Zeroizing::new(t),
        Err(_) => Zeroizing::new(rpassword::prompt_password("Your token: ").map_err(|_| {
            CliError::usage(
                "no token: set SOTTO_TOKEN or run this in a terminal to be asked for it".into(),
            )
        })?),
    };
    Token::parse(&typed).map_err(|e| CliError::usage(format!("token: {e}")))
}

/// Shows the log check of the readers; true to send.
pub fn confirm_readers(check: &ReaderCheck, accept: bool) -> bool {
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
pub fn ask_yes(question: &str) -> bool {
    use std::io::{BufRead, BufReader};
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

/// Opens `text` in $VISUAL or $EDITOR, in a private folder that is wiped
/// afterwards, and returns what was saved.
pub fn edit(text: &str) -> Result<String, CliError> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .ok_or_else(|| {
            CliError::usage(
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
        .map_err(|e| CliError::io(format!("{}: {e}", dir.display())))?;
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
    result.map_err(|e| CliError::io(format!("editing the message: {e}; nothing was sent")))
}
