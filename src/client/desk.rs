//! The ombudsperson's operations: inbox, read a case, reply, change state.

use sotto_envelope::keys::{DeskIdentity, RecipientCard};
use sotto_envelope::sign::{CaseId, Direction, VerifyingKey};
use sotto_envelope::{encrypt, Recipient};
use sotto_wire::api::{DeskCase, Inbox, MessagePosted, PostMessage, SetState, StateChanged};
use sotto_wire::content::{Attachment, Content, Note, CONTENT_VERSION};
use sotto_wire::CaseState;

use super::thread::{self, ReadMessage};
use super::{Api, ClientError};

/// A case as the ombudsperson sees it.
#[derive(Debug)]
pub struct DeskView {
    /// The server's view.
    pub case: DeskCase,
    /// The thread, checked and decrypted.
    pub messages: Vec<ReadMessage>,
    /// Problems worth the reader's attention (e.g. recipients the reporter
    /// did not choose).
    pub warnings: Vec<String>,
    /// The recipients the reporter chose, from the sealed report (falling
    /// back to the server's list if the report cannot be read).
    pub recipients: Vec<RecipientCard>,
}

/// The inbox.
pub fn inbox(api: &Api, me: &DeskIdentity) -> Result<Inbox, ClientError> {
    api.inbox(me)
}

fn case_id(case: &str) -> Result<CaseId, ClientError> {
    CaseId::parse(case)
        .ok_or_else(|| ClientError::Usage(format!("not a case id (32 hex digits): {case}")))
}

/// Fetches, checks and decrypts a case.
pub fn show(api: &Api, me: &DeskIdentity, case: &str) -> Result<DeskView, ClientError> {
    let id = case_id(case)?;
    let dc = api.desk_case(me, case)?;
    if dc.case != case {
        return Err(ClientError::Protocol(
            "the server returned another case".into(),
        ));
    }
    let reporter_key = VerifyingKey::parse(&dc.reporter_ed25519)
        .map_err(|_| ClientError::Protocol("malformed reporter key".into()))?;
    let server_cards: Vec<RecipientCard> = dc
        .recipients
        .iter()
        .filter_map(|r| RecipientCard::parse(&r.card).ok())
        .collect();
    let mut warnings = Vec::new();
    let first = thread::read(
        &id,
        dc.messages.get(..1).unwrap_or(&[]),
        me.identity(),
        &reporter_key,
        &[],
    );
    let recipients = match first.first().map(|m| &m.content) {
        Some(Ok(Content::Report(r))) => {
            let sealed: Vec<RecipientCard> = r
                .recipients
                .iter()
                .filter_map(|c| RecipientCard::parse(c).ok())
                .collect();
            for c in &server_cards {
                if !sealed.contains(c) {
                    warnings.push(format!(
                        "the server lists {} ({}) as a recipient, but the reporter did not choose them",
                        c.name,
                        c.fingerprint()
                    ));
                }
            }
            sealed
        }
        _ => {
            warnings.push("the report itself could not be read or verified".into());
            server_cards
        }
    };
    let messages = thread::read(&id, &dc.messages, me.identity(), &reporter_key, &recipients);
    Ok(DeskView {
        case: dc,
        messages,
        warnings,
        recipients,
    })
}

/// Seals a note to the reporter and the recipients the reporter chose, as
/// the next message of the thread.
fn seal(
    view: &DeskView,
    me: &DeskIdentity,
    text: &str,
    attachments: Vec<Attachment>,
) -> Result<PostMessage, ClientError> {
    let id = case_id(&view.case.case)?;
    let content = Content::Message(Note {
        v: CONTENT_VERSION,
        text: text.to_owned(),
        attachments,
    });
    let padded = content
        .to_padded()
        .map_err(|e| ClientError::Usage(e.to_string()))?;
    let mut recipients: Vec<Recipient> = view.recipients.iter().map(|c| c.recipient).collect();
    recipients.push(
        Recipient::parse(&view.case.reporter_x25519)
            .map_err(|_| ClientError::Protocol("malformed reporter key".into()))?,
    );
    let envelope = encrypt(&recipients, &padded).map_err(|e| ClientError::Crypto(e.to_string()))?;
    let seq = view.case.messages.len() as u64;
    let signature = me
        .signing_key()
        .sign_envelope(&id, seq, Direction::FromDesk, &envelope);
    Ok(PostMessage {
        seq,
        envelope,
        signature: signature.to_string(),
    })
}

/// Replies on a case. Retries if another message landed meanwhile.
pub fn reply(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
    text: &str,
    attachments: Vec<Attachment>,
) -> Result<MessagePosted, ClientError> {
    let mut last = None;
    for _ in 0..3 {
        let view = show(api, me, case)?;
        let msg = seal(&view, me, text, attachments.clone())?;
        match api.desk_post(me, case, &msg) {
            Err(e) if e.code() == Some("stale_seq") => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| ClientError::Protocol("could not post".into())))
}

/// Changes a case's state, with an optional note to the reporter.
pub fn set_state(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
    state: CaseState,
    note: Option<&str>,
) -> Result<StateChanged, ClientError> {
    let mut last = None;
    for _ in 0..3 {
        let note = match note {
            Some(text) => {
                let view = show(api, me, case)?;
                Some(seal(&view, me, text, Vec::new())?)
            }
            None => {
                case_id(case)?;
                None
            }
        };
        match api.set_state(me, case, &SetState { state, note }) {
            Err(e) if e.code() == Some("stale_seq") => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| ClientError::Protocol("could not post".into())))
}
