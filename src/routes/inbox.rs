//! The ombudsperson's side: inbox, a case's thread, replies and state
//! changes. Every request is signed (see [`crate::auth`]), and a recipient
//! reaches only cases that were encrypted to them: to anyone else, including
//! a recipient the reporter excluded, such a case does not exist (404).

use actix_web::{web, HttpRequest, HttpResponse};
use sotto_envelope::keys::RecipientCard;
use sotto_envelope::sign::{CaseId, Direction};
use sotto_store::{CaseRow, NewMessage, RecipientRow, Store, StoreError};
use sotto_wire::api::{
    CaseShared, DeskCase, Inbox, InboxEntry, MessagePosted, PostMessage, SetState, ShareCase,
    StateChanged,
};

use super::cases::{check_envelope, shares, signature_field, thread};
use super::desks::recipient_info;
use super::reporter::{post, stale_seq, timeline};
use super::{day, erasure, state_of, with_store, AppState};
use crate::auth::SignedRequest;
use crate::error::{parse_json, ApiError};

fn unknown_case() -> ApiError {
    ApiError::not_found("unknown_case", "no case with that id is addressed to you")
}

fn case_id(s: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(s)
        .ok_or_else(|| ApiError::bad_request("bad_case_id", "a case id is 32 lowercase hex digits"))
}

/// Verifies the request against every active recipient of any desk.
fn signer(
    store: &Store,
    st: &AppState,
    signed: &SignedRequest,
    body: &[u8],
) -> Result<RecipientRow, ApiError> {
    let active: Vec<RecipientRow> = store
        .recipients()?
        .into_iter()
        .filter(|r| r.removed_on.is_none())
        .collect();
    signed.verify(
        body,
        &active,
        st.settings.request_window_seconds,
        &st.replay,
    )
}

/// The case, if it was addressed to `who` and `who` is still active on its
/// desk, or it was shared with `who` and they are still active on the desk
/// it was shared to.
fn addressed_case(store: &Store, who: &RecipientRow, case: &CaseId) -> Result<CaseRow, ApiError> {
    let row = store.case_by_id(&case.0).map_err(|e| match e {
        StoreError::NotFound => unknown_case(),
        other => other.into(),
    })?;
    let addressed = store.case_recipients(&case.0)?.contains(&who.id)
        && store
            .active_recipients(row.desk_id)?
            .iter()
            .any(|r| r.id == who.id);
    let shared = || -> Result<bool, ApiError> {
        Ok(store
            .case_shares(&case.0)?
            .iter()
            .any(|s| s.reader.id == who.id && s.reader.removed_on.is_none()))
    };
    if !addressed && !shared()? {
        return Err(unknown_case());
    }
    Ok(row)
}

fn entry(store: &Store, st: &AppState, row: &CaseRow) -> Result<InboxEntry, ApiError> {
    let due = st.case_due(store, row)?;
    Ok(InboxEntry {
        case: CaseId(row.id).to_string(),
        desk: row.desk.clone(),
        state: state_of(&row.state)?,
        opened: day(&row.opened_on)?,
        updated: day(&row.updated_on)?,
        next_update_due: due.next_update,
        feedback_due: due.feedback,
        messages: row.message_count,
        erased: erasure(row)?,
    })
}

/// `GET /v1/inbox`.
pub async fn inbox(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let signed = SignedRequest::from_request(&req, state.settings.request_window_seconds)?;
    let inbox = with_store(&state, move |store, st| {
        let who = signer(store, st, &signed, &[])?;
        // Only cases of desks the signer is still active on: one query for
        // all of them, not one per case.
        let my_desks: std::collections::HashSet<String> = store
            .recipients()?
            .into_iter()
            .filter(|r| r.id == who.id && r.removed_on.is_none())
            .map(|r| r.desk)
            .collect();
        let cases = store
            .inbox(&who.id)?
            .iter()
            .filter(|(_, through)| my_desks.contains(through))
            .map(|(row, _)| entry(store, st, row))
            .collect::<Result<_, _>>()?;
        Ok(Inbox { cases })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(inbox))
}

/// `GET /v1/cases/{case}`.
pub async fn case(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let signed = SignedRequest::from_request(&req, state.settings.request_window_seconds)?;
    let case = case_id(&path)?;
    let out = with_store(&state, move |store, st| {
        let who = signer(store, st, &signed, &[])?;
        let row = addressed_case(store, &who, &case)?;
        let e = entry(store, st, &row)?;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        Ok(DeskCase {
            case: e.case,
            desk: e.desk,
            state: e.state,
            opened: e.opened,
            updated: e.updated,
            next_update_due: e.next_update_due,
            feedback_due: e.feedback_due,
            reporter_x25519: row.reporter_x25519.clone(),
            reporter_ed25519: URL_SAFE_NO_PAD.encode(&row.reporter_ed25519),
            opened_entry: store
                .case_leaf_indexes(&row.id)?
                .first()
                .copied()
                .ok_or_else(|| ApiError::internal(&"a case without log entries"))?,
            recipients: store
                .case_recipient_rows(&row.id)?
                .iter()
                .map(recipient_info)
                .collect::<Result<_, _>>()?,
            timeline: timeline(store, &row.id)?,
            shares: shares(store, &row.id)?,
            messages: thread(store, &row.id)?,
            erased: e.erased,
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(out))
}

/// Checks a desk message: signed by the author's card key as the next
/// message of the thread, sealed to the reporter and every case recipient.
fn verify_desk_message(
    store: &Store,
    st: &AppState,
    who: &RecipientRow,
    row: &CaseRow,
    msg: &PostMessage,
) -> Result<[u8; 64], ApiError> {
    if row.erased.is_some() {
        return Err(sotto_store::StoreError::Erased.into());
    }
    let case = &CaseId(row.id);
    let card = RecipientCard::parse(&who.card)
        .map_err(|_| ApiError::internal(&"stored card does not parse"))?;
    let signature = signature_field(&msg.signature)?;
    card.verifying_key
        .verify_envelope(
            case,
            msg.seq,
            Direction::FromDesk,
            &msg.envelope,
            &signature,
        )
        .map_err(|_| {
            ApiError::bad_request(
                "bad_signature",
                "the message's signature does not verify with your card's key",
            )
        })?;
    let recipients = store.case_readers(&case.0)?.len();
    check_envelope(
        &msg.envelope,
        recipients + 1,
        st.settings.max_envelope_bytes,
    )?;
    Ok(signature.0)
}

/// `POST /v1/cases/{case}/messages`: a reply.
pub async fn post_message(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let signed = SignedRequest::from_request(&req, state.settings.request_window_seconds)?;
    let case = case_id(&path)?;
    let out = with_store(&state, move |store, st| {
        let who = signer(store, st, &signed, &body)?;
        let row = addressed_case(store, &who, &case)?;
        let msg: PostMessage = parse_json(&body)?;
        let signature = verify_desk_message(store, st, &who, &row, &msg)?;
        post(
            store,
            &case,
            &msg,
            Direction::FromDesk,
            Some(&who.id),
            &signature,
            st,
        )?;
        Ok(MessagePosted {
            case: case.to_string(),
            seq: msg.seq,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(out))
}

/// `POST /v1/cases/{case}/state`: a state change, optionally with a note.
pub async fn set_state(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let signed = SignedRequest::from_request(&req, state.settings.request_window_seconds)?;
    let case = case_id(&path)?;
    let out = with_store(&state, move |store, st| {
        let who = signer(store, st, &signed, &body)?;
        let row = addressed_case(store, &who, &case)?;
        let change: SetState = parse_json(&body)?;
        let note_sig = match &change.note {
            Some(m) => Some(verify_desk_message(store, st, &who, &row, m)?),
            None => None,
        };
        let note = match (&change.note, &note_sig) {
            (Some(m), Some(sig)) => Some(NewMessage {
                seq: m.seq,
                direction: Direction::FromDesk.as_str(),
                author: Some(&who.id),
                envelope: &m.envelope,
                envelope_hash: sotto_envelope::sha256(&m.envelope),
                signature: sig,
            }),
            _ => None,
        };
        let today = st.today();
        store
            .set_state(
                &case.0,
                change.state.as_str(),
                &who.id,
                note.as_ref(),
                &today.to_string(),
            )
            .map_err(stale_seq)?;
        Ok(StateChanged {
            case: case.to_string(),
            state: change.state,
            next_update_due: st.case_due(store, &store.case_by_id(&case.0)?)?.next_update,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /v1/cases/{case}/shares`: a reader of the case hands its thread on
/// to one more recipient of this server (an escalation). Never to one the
/// reporter left out.
pub async fn share(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let signed = SignedRequest::from_request(&req, state.settings.request_window_seconds)?;
    let case = case_id(&path)?;
    let out = with_store(&state, move |store, st| {
        let who = signer(store, st, &signed, &body)?;
        let row = addressed_case(store, &who, &case)?;
        let s: ShareCase = parse_json(&body)?;
        let signature = signature_field(&s.signature)?;
        let card = RecipientCard::parse(&who.card)
            .map_err(|_| ApiError::internal(&"stored card does not parse"))?;
        card.verifying_key
            .verify_share(&case, &s.reader, s.upto, &s.envelope, &signature)
            .map_err(|_| {
                ApiError::bad_request(
                    "bad_signature",
                    "the share's signature does not verify with your card's key",
                )
            })?;
        let entry = record_share(store, st, &row, &s, Some(&who.id), &signature.0)?;
        Ok(CaseShared {
            case: case.to_string(),
            reader: s.reader,
            entry,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Checks a share whose signature was verified, before it is stored: the
/// case not erased, the reader active on the named desk, not left out by
/// the reporter, not already a reader, and the envelope sealed to exactly
/// the reader and the reporter. Returns the desk's id.
pub fn check_share(
    store: &Store,
    st: &AppState,
    row: &CaseRow,
    s: &ShareCase,
) -> Result<i64, ApiError> {
    if row.erased.is_some() {
        return Err(StoreError::Erased.into());
    }
    let desk = super::desks::desk_by_name(store, &s.desk)?;
    if store.case_excluded(&row.id)?.contains(&s.reader) {
        return Err(ApiError::forbidden(
            "excluded_by_reporter",
            "the reporter left this recipient out of the case: it is never shared with them, whoever asks",
        ));
    }
    if !store
        .active_recipients(desk.id)?
        .iter()
        .any(|r| r.id == s.reader)
    {
        return Err(ApiError::not_found(
            "unknown_recipient",
            "no active recipient of that desk has that id",
        ));
    }
    if store.case_readers(&row.id)?.contains(&s.reader) {
        return Err(ApiError::conflict(
            "already_reader",
            "that recipient already reads this case",
        ));
    }
    check_envelope(&s.envelope, 2, st.settings.max_envelope_bytes)?;
    Ok(desk.id)
}

/// A store refusal of a share, for the client.
pub fn share_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict(
            "stale_seq",
            "upto is not the thread's length: fetch the thread, then share again",
        ),
        StoreError::Invalid(_) => ApiError::forbidden(
            "excluded_by_reporter",
            "the reporter left this recipient out of the case",
        ),
        other => other.into(),
    }
}

/// Checks and stores a share whose signature was verified.
fn record_share(
    store: &mut Store,
    st: &AppState,
    row: &CaseRow,
    s: &ShareCase,
    shared_by: Option<&str>,
    signature: &[u8; 64],
) -> Result<u64, ApiError> {
    let desk_id = check_share(store, st, row, s)?;
    store
        .insert_share(
            &row.id,
            &sotto_store::NewShare {
                reader: &s.reader,
                desk_id,
                shared_by,
                upto: s.upto,
                envelope: &s.envelope,
                signature,
            },
            &st.today().to_string(),
        )
        .map_err(share_error)
}
