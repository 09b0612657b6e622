//! The reporter's side: status and follow-ups, authenticated by the handle.

use actix_web::{web, HttpRequest, HttpResponse};
use sotto_envelope::sha256;
use sotto_envelope::sign::{CaseId, Direction, VerifyingKey};
use sotto_store::{NewMessage, StoreError};
use sotto_wire::api::{MessagePosted, PostMessage, ReporterStatus, StateEntry};

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
