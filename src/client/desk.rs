//! The ombudsperson's operations: inbox, read a case, reply, change state.

use sotto_envelope::keys::{DeskIdentity, RecipientCard};
use sotto_envelope::sign::{CaseId, Direction, VerifyingKey};
use sotto_envelope::{encrypt, Recipient};
use sotto_wire::api::{DeskCase, Inbox, MessagePosted, PostMessage, SetState, StateChanged};
use sotto_wire::content::{Attachment, Content};
use sotto_wire::CaseState;

use super::thread::{self, ReadMessage};
use super::{padded_note, retry_on_stale_seq, Api, ClientError};

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
    /// The reporter's X25519 key as sealed in the report; None when the
    /// report cannot be verified, and then nobody can reply.
    pub reporter: Option<Recipient>,
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
    let server_cards: Vec<RecipientCard> = dc
        .recipients
        .iter()
        .filter_map(|r| RecipientCard::parse(&r.card).ok())
        .collect();
    let mut warnings = Vec::new();
    let sealed = dc.messages.first().and_then(|m| sealed_report(me, &id, m));
    let (recipients, reporter_key, reporter) = match sealed {
        Some(sealed) => {
            for c in &server_cards {
                if !sealed.recipients.contains(c) {
                    warnings.push(format!(
                        "the server lists {} ({}) as a recipient, but the reporter did not choose them",
                        c.name,
                        c.fingerprint()
                    ));
                }
            }
            if dc.reporter_ed25519 != sealed.signing_key.to_string()
                || dc.reporter_x25519 != sealed.recipient.to_string()
            {
                warnings.push(
                    "the server's copy of the reporter's keys differs from the keys sealed in the report; \
                     the sealed keys are used"
                        .into(),
                );
            }
            (
                sealed.recipients,
                sealed.signing_key,
                Some(sealed.recipient),
            )
        }
        None => {
            // An erased case has no report left to read; anything else
            // without a verifiable report is suspect.
            if dc.erased.is_none() || !dc.messages.is_empty() {
                warnings.push(
                    "the report itself could not be read or verified: replies to this case are disabled".into(),
                );
            }
            let key = VerifyingKey::parse(&dc.reporter_ed25519)
                .map_err(|_| ClientError::Protocol("malformed reporter key".into()))?;
            (server_cards, key, None)
        }
    };
    let messages = thread::read(&id, &dc.messages, me.identity(), &reporter_key, &recipients);
    Ok(DeskView {
        case: dc,
        messages,
        warnings,
        recipients,
        reporter,
    })
}

/// What the reporter sealed inside their report.
struct Sealed {
    recipients: Vec<RecipientCard>,
    signing_key: VerifyingKey,
    recipient: Recipient,
}

/// Opens message 0 and checks it under the reporter key it names itself.
/// The server cannot forge this: only the reporter could encrypt a report to
/// these recipients and sign it with the key inside it.
fn sealed_report(me: &DeskIdentity, case: &CaseId, m: &sotto_wire::api::Message) -> Option<Sealed> {
    let padded = zeroize::Zeroizing::new(
        sotto_envelope::decrypt(std::slice::from_ref(me.identity()), &m.envelope).ok()?,
    );
    let Content::Report(r) = Content::from_padded(&padded).ok()? else {
        return None;
    };
    let signing_key = VerifyingKey::parse(&r.reporter_ed25519).ok()?;
    let recipient = Recipient::parse(&r.reporter_x25519).ok()?;
    let sig = sotto_envelope::sign::Signature::parse(&m.signature)?;
    if m.seq != 0 || m.direction != Direction::FromReporter.as_str() {
        return None;
    }
    signing_key
        .verify_envelope(case, 0, Direction::FromReporter, &m.envelope, &sig)
        .ok()?;
    Some(Sealed {
        recipients: r
            .recipients
            .iter()
            .filter_map(|c| RecipientCard::parse(c).ok())
            .collect(),
        signing_key,
        recipient,
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
    let padded = padded_note(text, attachments)?;
    let mut recipients: Vec<Recipient> = view.recipients.iter().map(|c| c.recipient).collect();
    if let Some(e) = view.case.erased {
        return Err(ClientError::Usage(format!(
            "cannot reply: this case was erased on {} under the retention policy",
            e.on
        )));
    }
    recipients.push(view.reporter.ok_or_else(|| {
        ClientError::Crypto(
            "cannot reply: the report could not be verified, so the reporter's key is unknown"
                .into(),
        )
    })?);
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
    retry_on_stale_seq(|| {
        let view = show(api, me, case)?;
        let msg = seal(&view, me, text, attachments.clone())?;
        api.desk_post(me, case, &msg)
    })
}

/// Changes a case's state, with an optional note to the reporter.
pub fn set_state(
    api: &Api,
    me: &DeskIdentity,
    case: &str,
    state: CaseState,
    note: Option<&str>,
) -> Result<StateChanged, ClientError> {
    retry_on_stale_seq(|| {
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
        api.set_state(me, case, &SetState { state, note })
    })
}
