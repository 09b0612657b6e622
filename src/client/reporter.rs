//! The reporter's operations: submit a report, read the thread, reply.
//!
//! Everything is derived from the token on this machine; the server gets
//! the handle, public keys, envelopes and signatures.

use sotto_envelope::keys::RecipientCard;
use sotto_envelope::pow;
use sotto_envelope::sign::{CaseId, Direction};
use sotto_envelope::token::Token;
use sotto_envelope::{encrypt, sha256, Recipient};
use sotto_wire::api::{
    CaseOpened, MessagePosted, OpenCase, PostMessage, RecipientInfo, ReporterStatus,
};
use sotto_wire::content::{Attachment, Content, Report, CONTENT_VERSION};

use super::thread::{self, ReadMessage};
use super::{padded_note, retry_on_stale_seq, Api, ClientError};

/// What to report.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The desk (default: `default`).
    pub desk: String,
    /// What happened.
    pub text: String,
    /// Names or fingerprints of recipients who must not read it.
    pub exclude: Vec<String>,
    /// Links to evidence.
    pub links: Vec<String>,
    /// Files as evidence.
    pub attachments: Vec<Attachment>,
    /// Someone may be at risk.
    pub urgent: bool,
    /// For the record only.
    pub record_only: bool,
}

/// A submitted report.
#[derive(Debug)]
pub struct Submitted {
    /// The token: the only way back to the case. Shown once.
    pub token: Token,
    /// The server's acknowledgement.
    pub opened: CaseOpened,
    /// Who can read it.
    pub recipients: Vec<RecipientInfo>,
    /// Who was excluded.
    pub excluded: Vec<RecipientInfo>,
}

/// Whether `info` is what `wanted` names: its exact name (ignoring case), its
/// fingerprint (ignoring spaces) or its id.
fn names(info: &RecipientInfo, card: &RecipientCard, wanted: &str) -> bool {
    let wanted = wanted.trim();
    info.name.to_lowercase() == wanted.to_lowercase() || card.fingerprint().matches(wanted)
}

/// The recipients a report goes to, with their checked cards, and those excluded.
pub type Chosen = (Vec<(RecipientInfo, RecipientCard)>, Vec<RecipientInfo>);

/// Checks the desk's recipients (each card must hash to its id) and splits
/// them into chosen and excluded.
pub fn choose_recipients(
    desk: &[RecipientInfo],
    exclude: &[String],
) -> Result<Chosen, ClientError> {
    let mut all = Vec::new();
    for info in desk {
        let card = RecipientCard::parse(&info.card).map_err(|_| {
            ClientError::Protocol(format!("the server sent an invalid card for {}", info.name))
        })?;
        if card.fingerprint().id() != info.id || card.fingerprint().to_string() != info.fingerprint
        {
            return Err(ClientError::Crypto(format!(
                "the server's fingerprint for {} does not match the card: refusing to encrypt",
                info.name
            )));
        }
        all.push((info.clone(), card));
    }
    for wanted in exclude {
        if !all.iter().any(|(i, c)| names(i, c, wanted)) {
            return Err(ClientError::Usage(format!(
                "no recipient of this desk is named or fingerprinted {wanted:?}"
            )));
        }
    }
    let (excluded, chosen): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(i, c)| exclude.iter().any(|w| names(i, c, w)));
    if chosen.is_empty() {
        return Err(ClientError::Usage(
            "nobody would receive this report: this desk has no recipients left after exclusions"
                .into(),
        ));
    }
    Ok((chosen, excluded.into_iter().map(|(i, _)| i).collect()))
}

/// Submits a report: a new token, encryption to the chosen recipients and
/// the reporter's own key, signature, proof of work, then the upload.
pub fn submit(api: &Api, s: &Submission) -> Result<Submitted, ClientError> {
    let desk_name = if s.desk.is_empty() {
        "default"
    } else {
        &s.desk
    };
    let desk = api.desk(desk_name)?;
    let (chosen, excluded) = choose_recipients(&desk.recipients, &s.exclude)?;

    let token = Token::generate();
    let identity = token.identity();
    let signing = token.signing_key();

    let content = Content::Report(Report {
        v: CONTENT_VERSION,
        desk: desk.name.clone(),
        text: s.text.clone(),
        urgent: s.urgent,
        record_only: s.record_only,
        links: s.links.clone(),
        attachments: s.attachments.clone(),
        recipients: chosen.iter().map(|(i, _)| i.card.clone()).collect(),
        reporter_x25519: identity.recipient().to_string(),
        reporter_ed25519: signing.verifying_key().to_string(),
    });
    let padded = content
        .to_padded()
        .map_err(|e| ClientError::Usage(e.to_string()))?;
    let mut recipients: Vec<Recipient> = chosen.iter().map(|(_, c)| c.recipient).collect();
    recipients.push(identity.recipient());
    let envelope = encrypt(&recipients, &padded).map_err(|e| ClientError::Crypto(e.to_string()))?;
    if envelope.len() > desk.limits.max_envelope_bytes {
        return Err(ClientError::Usage(format!(
            "the report with its attachments is {} bytes once encrypted; this desk accepts at most {}",
            envelope.len(),
            desk.limits.max_envelope_bytes
        )));
    }

    let challenge = api.challenge(&desk.name)?;
    let case = CaseId::parse(&challenge.case)
        .ok_or_else(|| ClientError::Protocol("the challenge's case id is malformed".into()))?;
    let signature = signing.sign_envelope(&case, 0, Direction::FromReporter, &envelope);
    let nonce = pow::solve(
        &challenge.challenge,
        &sha256(&envelope),
        challenge.difficulty,
    )
    .ok_or_else(|| {
        ClientError::Protocol("the server asks for an impossible proof of work".into())
    })?;
    let opened = api.open_case(
        &token.handle(),
        &OpenCase {
            desk: desk.name.clone(),
            challenge: challenge.challenge,
            pow_nonce: nonce,
            reporter_x25519: identity.recipient().to_string(),
            reporter_ed25519: signing.verifying_key().to_string(),
            recipients: chosen.iter().map(|(i, _)| i.id.clone()).collect(),
            envelope,
            signature: signature.to_string(),
            record_only: s.record_only,
        },
    )?;
    if opened.case != challenge.case {
        return Err(ClientError::Protocol(
            "the server opened a different case than it issued".into(),
        ));
    }
    Ok(Submitted {
        token,
        opened,
        recipients: chosen.into_iter().map(|(i, _)| i).collect(),
        excluded,
    })
}

/// What the reporter sees.
#[derive(Debug)]
pub struct ReporterView {
    /// The server's view of the case.
    pub status: ReporterStatus,
    /// The thread, checked and decrypted.
    pub messages: Vec<ReadMessage>,
    /// The cards the reporter chose, from their own sealed report.
    pub recipients: Vec<RecipientCard>,
}

impl ReporterView {
    /// Messages that failed a check.
    pub fn refused(&self) -> impl Iterator<Item = &ReadMessage> {
        self.messages.iter().filter(|m| m.content.is_err())
    }
}

/// Fetches and reads the thread. Desk messages are checked against the
/// recipients sealed in the reporter's own report, not against anything
/// the server says now.
pub fn status(api: &Api, token: &Token) -> Result<ReporterView, ClientError> {
    let status = api.reporter_status(&token.handle())?;
    let case = CaseId::parse(&status.case)
        .ok_or_else(|| ClientError::Protocol("malformed case id".into()))?;
    let identity = token.identity();
    let own_key = token.signing_key().verifying_key();
    // First the report alone: it names the recipients the reporter chose.
    let first = thread::read(
        &case,
        status.messages.get(..1).unwrap_or(&[]),
        &identity,
        &own_key,
        &[],
    );
    let recipients: Vec<RecipientCard> = match first.first().map(|m| &m.content) {
        Some(Ok(Content::Report(r))) => r
            .recipients
            .iter()
            .filter_map(|c| RecipientCard::parse(c).ok())
            .collect(),
        Some(Err(why)) => {
            return Err(ClientError::Crypto(format!(
                "your own report does not check out ({why}): the server may have altered this case"
            )))
        }
        _ => return Err(ClientError::Protocol("the case has no report".into())),
    };
    let messages = thread::read(&case, &status.messages, &identity, &own_key, &recipients);
    Ok(ReporterView {
        status,
        messages,
        recipients,
    })
}

/// Sends a follow-up, encrypted to the recipients the reporter chose and to
/// the reporter's own key. Seals again if a reply arrived meanwhile.
pub fn reply(
    api: &Api,
    token: &Token,
    text: &str,
    attachments: Vec<Attachment>,
) -> Result<MessagePosted, ClientError> {
    let padded = padded_note(text, attachments)?;
    retry_on_stale_seq(|| {
        let view = status(api, token)?;
        let case = CaseId::parse(&view.status.case)
            .ok_or_else(|| ClientError::Protocol("malformed case id".into()))?;
        let mut recipients: Vec<Recipient> = view.recipients.iter().map(|c| c.recipient).collect();
        recipients.push(token.identity().recipient());
        let envelope =
            encrypt(&recipients, &padded).map_err(|e| ClientError::Crypto(e.to_string()))?;
        let seq = view.status.messages.len() as u64;
        let signature =
            token
                .signing_key()
                .sign_envelope(&case, seq, Direction::FromReporter, &envelope);
        api.reporter_post(
            &token.handle(),
            &PostMessage {
                seq,
                envelope,
                signature: signature.to_string(),
            },
        )
    })
}
