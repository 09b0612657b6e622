//! `POST /v1/cases`: open a case.
//!
//! Every check runs before anything is written, and the write is one
//! transaction: a refused request stores nothing.

use std::collections::HashSet;

use actix_web::{web, HttpRequest, HttpResponse};
use sotto_envelope::pow;
use sotto_envelope::sign::{Direction, Signature, VerifyingKey};
use sotto_envelope::{sha256, Recipient};
use sotto_store::{MessageRow, NewCase, NewMessage, StoreError};
use sotto_wire::api::{CaseOpened, Message, OpenCase, Share};
use sotto_wire::CaseState;

use super::desks::desk_by_name;
use super::{day, with_store, AppState};
use crate::auth::{handle_from, handle_hash, now_unix};
use crate::error::{parse_json, ApiError};

/// Checks that `envelope` is an age v1 file for exactly `recipients`
/// X25519 recipients and within the size limit.
pub fn check_envelope(envelope: &[u8], recipients: usize, max: usize) -> Result<(), ApiError> {
    if envelope.len() > max {
        return Err(ApiError::too_large(format!(
            "an envelope may be at most {max} bytes"
        )));
    }
    let header = sotto_envelope::inspect(envelope).map_err(|_| {
        ApiError::bad_request(
            "bad_envelope",
            "the envelope is not a well-formed, complete age v1 file",
        )
    })?;
    if header.x25519_stanzas != recipients || header.other_stanzas != 0 {
        return Err(ApiError::bad_request(
            "bad_envelope",
            format!("the envelope must be encrypted to exactly {recipients} X25519 recipients"),
        ));
    }
    Ok(())
}

/// Parses a signature field.
pub fn signature_field(s: &str) -> Result<Signature, ApiError> {
    Signature::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            "bad_signature",
            "the signature is not 64 bytes of base64url",
        )
    })
}

/// A stored message as sent to clients.
pub fn message_json(m: MessageRow) -> Result<Message, ApiError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    Ok(Message {
        seq: m.seq,
        direction: m.direction,
        author: m.author,
        on: day(&m.posted_on)?,
        signature: URL_SAFE_NO_PAD.encode(&m.signature),
        envelope: m.envelope,
    })
}

/// A case's whole thread as sent to clients.
pub fn thread(store: &sotto_store::Store, id: &[u8; 16]) -> Result<Vec<Message>, ApiError> {
    store.messages(id)?.into_iter().map(message_json).collect()
}

/// The readers a case was shared with, as sent to clients.
pub fn shares(store: &sotto_store::Store, id: &[u8; 16]) -> Result<Vec<Share>, ApiError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    store
        .case_shares(id)?
        .into_iter()
        .map(|s| {
            Ok(Share {
                reader: super::desks::recipient_info(&s.reader)?,
                desk: s.reader.desk.clone(),
                shared_by: s.shared_by,
                upto: s.upto,
                on: day(&s.shared_on)?,
                envelope: s.envelope,
                signature: URL_SAFE_NO_PAD.encode(&s.signature),
            })
        })
        .collect()
}

/// `POST /v1/cases`.
pub async fn open(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let handle = handle_from(&req)?;
    let open: OpenCase = parse_json(&body)?;
    let hash = handle_hash(&state.pepper, &handle);
    drop(handle);

    let challenge = state.challenges.open(&open.challenge).map_err(|_| {
        ApiError::bad_request(
            "bad_challenge",
            "the challenge is not one this server issued",
        )
    })?;
    if challenge.expires < now_unix() {
        return Err(ApiError::bad_request(
            "challenge_expired",
            "the challenge has expired; ask for a new one",
        ));
    }
    if challenge.desk != open.desk {
        return Err(ApiError::bad_request(
            "bad_challenge",
            "the challenge was issued for another desk",
        ));
    }
    if !pow::verify(
        &open.challenge,
        &sha256(&open.envelope),
        challenge.difficulty,
        open.pow_nonce,
    ) {
        return Err(ApiError::bad_request(
            "bad_proof_of_work",
            "the proof of work does not solve this challenge for this envelope",
        ));
    }
    let reporter_x25519 = Recipient::parse(&open.reporter_x25519).map_err(|_| {
        ApiError::bad_request("bad_key", "reporter_x25519 is not an age1… recipient")
    })?;
    let reporter_ed25519 = VerifyingKey::parse(&open.reporter_ed25519).map_err(|_| {
        ApiError::bad_request("bad_key", "reporter_ed25519 is not a base64url Ed25519 key")
    })?;
    let signature = signature_field(&open.signature)?;
    reporter_ed25519
        .verify_envelope(
            &challenge.case,
            0,
            Direction::FromReporter,
            &open.envelope,
            &signature,
        )
        .map_err(|_| {
            ApiError::bad_request("bad_signature", "the report's signature does not verify")
        })?;
    if open.recipients.is_empty() {
        return Err(ApiError::bad_request(
            "no_recipients",
            "choose at least one recipient",
        ));
    }
    let unique: HashSet<&String> = open.recipients.iter().collect();
    if unique.len() != open.recipients.len() {
        return Err(ApiError::bad_request(
            "bad_recipients",
            "a recipient is listed twice",
        ));
    }
    // One stanza per chosen recipient, plus the reporter's own.
    check_envelope(
        &open.envelope,
        open.recipients.len() + 1,
        state.settings.max_envelope_bytes,
    )?;

    let case = challenge.case;
    let initial = if open.record_only {
        CaseState::RecordOnly
    } else {
        CaseState::Received
    };
    let opened = with_store(&state, move |store, st| {
        let desk = desk_by_name(store, &open.desk)?;
        let active: HashSet<String> = store
            .active_recipients(desk.id)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        if let Some(unknown) = open.recipients.iter().find(|r| !active.contains(*r)) {
            return Err(ApiError::bad_request(
                "unknown_recipient",
                format!(
                    "{unknown} is not a recipient of this desk; GET /v1/desks/{{desk}} lists them"
                ),
            ));
        }
        let today = st.today();
        let envelope_hash = sha256(&open.envelope);
        let new = NewCase {
            id: case.0,
            desk_id: desk.id,
            handle_hash: hash,
            reporter_x25519: &reporter_x25519.to_string(),
            reporter_ed25519: &reporter_ed25519.0,
            recipients: &open.recipients,
            state: initial.as_str(),
            report: NewMessage {
                seq: 0,
                direction: Direction::FromReporter.as_str(),
                author: None,
                envelope: &open.envelope,
                envelope_hash,
                signature: &signature.0,
            },
        };
        let index =
            store.insert_case(&new, &today.to_string()).map_err(|e| {
                match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "already_used",
                "this challenge or token was already used for a case; start again with a new one",
            ),
            other => other.into(),
        }
            })?;
        let row = store.case_by_id(&case.0)?;
        Ok(CaseOpened {
            case: case.to_string(),
            state: initial,
            opened: day(&row.opened_on)?,
            next_update_due: st.case_due(store, &row)?.next_update,
            receipt: st.log.receipt(store, index)?,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(opened))
}
