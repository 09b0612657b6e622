//! A case's thread as a person reads it, for both roles: printed message
//! by message (untrusted text made printable, refused messages named), or
//! as the JSON objects `report status --json` and `desk show --json` share.

use std::path::PathBuf;

use serde::Serialize;
use sotto_wire::content::Content;
use sotto_wire::Day;

use super::error::CliError;
use super::indent;
use crate::client::files::save_attachment;
use crate::client::thread::{ReadMessage, SharedReader};

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
pub fn shared_json(shared: &[SharedReader]) -> serde_json::Value {
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
pub fn message_json(m: &ReadMessage) -> impl Serialize + '_ {
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
pub fn print_thread(
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
                    Some(by) => outln!(
                        "#{} {} from {who}{kind}, signature verified; text as {} shared it with you",
                        m.seq,
                        m.on,
                        super::printable(by)
                    ),
                    None => outln!("#{} {} from {who}{kind}, signature verified", m.seq, m.on),
                }
                if let Content::Report(r) = content {
                    if r.urgent {
                        outln!("    [urgent]");
                    }
                    if r.record_only {
                        outln!("    [for the record only]");
                    }
                    if !r.category.is_empty() {
                        outln!("    category: {}", super::printable(&r.category));
                    }
                    if !r.lang.is_empty() {
                        outln!("    language: {}", super::printable(&r.lang));
                    }
                    if !r.when.is_empty() {
                        outln!("    when: {}", super::printable(&r.when));
                    }
                    if !r.involved.is_empty() {
                        outln!("    who was involved: {}", super::printable(&r.involved));
                    }
                    for l in &r.links {
                        outln!("    link: {}", super::printable(l));
                    }
                }
                outln!("{}", indent(content.text()));
                for att in content.attachments() {
                    match save {
                        Some(dir) => {
                            let path = save_attachment(dir, &att.name, &att.data)?;
                            outln!("    attachment saved: {}", path.display());
                        }
                        None => outln!(
                            "    attachment: {} ({} bytes; use --save-attachments DIR to save)",
                            crate::client::files::safe_name(&att.name),
                            att.data.len()
                        ),
                    }
                }
            }
            Err(why) => {
                refused += 1;
                outln!("#{} {} from {who}{kind}: NOT SHOWN, {why}", m.seq, m.on);
            }
        }
        outln!();
    }
    Ok(refused)
}
