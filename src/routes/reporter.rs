//! The reporter's side: status and follow-ups, authenticated by the handle.

use actix_web::{web, HttpRequest, HttpResponse};
use sotto_envelope::sha256;
use sotto_envelope::sign::{CaseId, Direction, VerifyingKey};
use sotto_store::{NewMessage, StoreError};
use sotto_wire::api::{
    Escalate, Escalated, MessagePosted, PostMessage, ReporterStatus, StateEntry,
};

use super::cases::{check_envelope, signature_field, thread};
use super::{day, erasure, state_of, with_store, AppState};
use crate::auth::{handle_from, handle_hash};
use crate::error::{parse_json, ApiError};

fn unknown_case() -> ApiError {
    ApiError::not_found("unknown_case", "no case has this handle; check the token")
}

fn by_handle(
    store: &sotto_store::Store,
    hash: &[u8; 32],
) -> Result<sotto_store::CaseRow, ApiError> {
    store.case_by_handle(hash).map_err(|e| match e {
        StoreError::NotFound => unknown_case(),
        other => other.into(),
    })
}

/// The state timeline of a case.
pub fn timeline(store: &sotto_store::Store, id: &[u8; 16]) -> Result<Vec<StateEntry>, ApiError> {
    store
        .timeline(id)?
        .into_iter()
        .map(|s| {
            Ok(StateEntry {
                state: state_of(&s.state)?,
                on: day(&s.on_day)?,
            })
        })
        .collect()
}

/// `GET /v1/reporter/case`: one keyed hash, one indexed lookup, then the
/// case's rows.
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let hash = handle_hash(&state.pepper, &handle_from(&req)?);
    let status = with_store(&state, move |store, st| {
        let row = by_handle(store, &hash)?;
        let due = st.case_due(store, &row)?;
        Ok(ReporterStatus {
            case: CaseId(row.id).to_string(),
            desk: row.desk.clone(),
            state: state_of(&row.state)?,
            opened: day(&row.opened_on)?,
            updated: day(&row.updated_on)?,
            next_update_due: due.next_update,
            feedback_due: due.feedback,
            timeline: timeline(store, &row.id)?,
            shares: super::cases::shares(store, &row.id)?,
            messages: thread(store, &row.id)?,
            erased: erasure(&row)?,
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(status))
}

/// `GET /v1/reporter/case/receipt`: a fresh receipt for the case's opening,
/// signed now over the whole log. For a reporter who kept none, or whose
/// client lost the answer to the upload.
pub async fn receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let hash = handle_hash(&state.pepper, &handle_from(&req)?);
    let receipt = with_store(&state, move |store, st| {
        let row = by_handle(store, &hash)?;
        let opened = store
            .case_leaf_indexes(&row.id)?
            .first()
            .copied()
            .ok_or_else(|| ApiError::internal(&"a case without log entries"))?;
        Ok(st.log.receipt(store, opened)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(receipt))
}

/// `POST /v1/reporter/case/messages`: a follow-up from the reporter, signed
/// with the key registered when the case was opened.
pub async fn post_message(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let hash = handle_hash(&state.pepper, &handle_from(&req)?);
    let msg: PostMessage = parse_json(&body)?;
    let signature = signature_field(&msg.signature)?;
    let posted = with_store(&state, move |store, st| {
        let row = by_handle(store, &hash)?;
        if row.erased.is_some() {
            return Err(sotto_store::StoreError::Erased.into());
        }
        let case = CaseId(row.id);
        let key = VerifyingKey::from_slice(&row.reporter_ed25519)
            .map_err(|_| ApiError::internal(&"stored reporter key does not parse"))?;
        key.verify_envelope(
            &case,
            msg.seq,
            Direction::FromReporter,
            &msg.envelope,
            &signature,
        )
        .map_err(|_| {
            ApiError::bad_request("bad_signature", "the message's signature does not verify")
        })?;
        let recipients = store.case_readers(&row.id)?.len();
        check_envelope(
            &msg.envelope,
            recipients + 1,
            st.settings.max_envelope_bytes,
        )?;
        post(
            store,
            &case,
            &msg,
            Direction::FromReporter,
            None,
            &signature.0,
            st,
        )?;
        Ok(MessagePosted {
            case: case.to_string(),
            seq: msg.seq,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(posted))
}

/// `POST /v1/reporter/case/escalate`: once the desk has let the
/// acknowledgement deadline pass with nobody acting on the case, the
/// reporter hands it on to readers of another desk, each share signed with
/// the reporter's key. The other desk's readers they leave out can never be
/// added later.
pub async fn escalate(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let hash = handle_hash(&state.pepper, &handle_from(&req)?);
    let e: Escalate = parse_json(&body)?;
    let done = with_store(&state, move |store, st| {
        let row = by_handle(store, &hash)?;
        if row.erased.is_some() {
            return Err(StoreError::Erased.into());
        }
        if e.desk == row.desk {
            return Err(ApiError::bad_request(
                "same_desk",
                "escalate to another desk than the one the case is at",
            ));
        }
        let target = super::desks::desk_by_name(store, &e.desk)?;
        let case_state = state_of(&row.state)?;
        if case_state != sotto_wire::CaseState::Received || row.desk_first_on.is_some() {
            return Err(ApiError::conflict(
                "not_escalable",
                format!(
                    "escalation is for a report nobody has acknowledged; yours is {case_state}"
                ),
            ));
        }
        let due = day(&row.opened_on)?.plus(st.deadlines(store, row.desk_id)?.acknowledge_days);
        if st.today() <= due {
            return Err(ApiError::conflict(
                "not_late",
                format!(
                    "the desk has until {due} to acknowledge your report; you can escalate from {}",
                    due.plus(1)
                ),
            ));
        }
        if e.shares.is_empty() {
            return Err(ApiError::bad_request(
                "no_readers",
                "choose at least one reader of the other desk",
            ));
        }
        let case = CaseId(row.id);
        let key = VerifyingKey::from_slice(&row.reporter_ed25519)
            .map_err(|_| ApiError::internal(&"stored reporter key does not parse"))?;
        let mut signatures = Vec::new();
        for (i, s) in e.shares.iter().enumerate() {
            if s.desk != e.desk || e.shares[..i].iter().any(|o| o.reader == s.reader) {
                return Err(ApiError::bad_request(
                    "bad_share",
                    "each share is for a different reader of the desk escalated to",
                ));
            }
            let sig = signature_field(&s.signature)?;
            key.verify_share(&case, &s.reader, s.upto, &s.envelope, &sig)
                .map_err(|_| {
                    ApiError::bad_request(
                        "bad_signature",
                        "a share's signature does not verify with your case's key",
                    )
                })?;
            super::inbox::check_share(store, st, &row, s)?;
            signatures.push(sig.0);
        }
        let chosen: Vec<&str> = e.shares.iter().map(|s| s.reader.as_str()).collect();
        let left_out: Vec<String> = store
            .active_recipients(target.id)?
            .into_iter()
            .map(|r| r.id)
            .filter(|id| !chosen.contains(&id.as_str()))
            .collect();
        let shares: Vec<sotto_store::NewShare<'_>> = e
            .shares
            .iter()
            .zip(&signatures)
            .map(|(s, sig)| sotto_store::NewShare {
                reader: &s.reader,
                desk_id: target.id,
                shared_by: None,
                upto: s.upto,
                envelope: &s.envelope,
                signature: sig,
            })
            .collect();
        let entries = store
            .escalate(&row.id, &shares, &left_out, &st.today().to_string())
            .map_err(super::inbox::share_error)?;
        Ok(Escalated {
            case: case.to_string(),
            desk: target.name,
            entries,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(done))
}

/// Stores a verified message; a stale `seq` is a 409 the client can retry.
pub fn post(
    store: &mut sotto_store::Store,
    case: &CaseId,
    msg: &sotto_wire::api::PostMessage,
    direction: Direction,
    author: Option<&str>,
    signature: &[u8; 64],
    st: &AppState,
) -> Result<(), ApiError> {
    let m = NewMessage {
        seq: msg.seq,
        direction: direction.as_str(),
        author,
        envelope: &msg.envelope,
        envelope_hash: sha256(&msg.envelope),
        signature,
    };
    store
        .insert_message(&case.0, &m, &st.today().to_string())
        .map_err(stale_seq)
}

/// Maps a store conflict on a message to the API's `stale_seq`.
pub fn stale_seq(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict(
            "stale_seq",
            "seq is not the next message of this thread; fetch the thread, then sign again",
        ),
        other => other.into(),
    }
}
