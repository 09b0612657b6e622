//! A desk's work on one case, `/v1/cases/{case}…`: its thread, replies,
//! state changes and shares. Every request is signed, and a recipient
//! reaches only cases that were encrypted or shared to them: to anyone
//! else, including a recipient the reporter excluded, such a case does
//! not exist (404). See [`SignedCase::authorize`].

use actix_web::{web, HttpResponse};
use sotto_envelope::sign::Signature;
use sotto_store::CaseRow;
use sotto_wire::api::{CaseShared, PostMessage, SetState, ShareCase, StateChanged};

use super::checks::{not_erased, signature_field, stale_seq};
use super::extract::SignedCase;
use super::thread::{self, Author};
use super::views::{desk_case, due};
use crate::error::ApiError;
use crate::state::{with_store, AppState};

/// A desk message's signature, once the case is known to take messages.
fn message_signature(row: &CaseRow, msg: &PostMessage) -> Result<Signature, ApiError> {
    not_erased(row)?;
    signature_field(&msg.signature)
}

/// `GET /v1/cases/{case}`.
pub async fn case(req: SignedCase, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let out = with_store(&state, move |store, st| {
        let (_, row) = req.authorize(store, st)?;
        desk_case(store, st, &row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /v1/cases/{case}/messages`: a reply.
pub async fn post_message(
    req: SignedCase,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let out = with_store(&state, move |store, st| {
        let (who, row) = req.authorize(store, st)?;
        let msg: PostMessage = req.json()?;
        let signature = message_signature(&row, &msg)?;
        thread::post_message(store, st, &row, Author::Desk(&who), &msg, &signature)
    })
    .await?;
    Ok(HttpResponse::Created().json(out))
}

/// `POST /v1/cases/{case}/state`: a state change, optionally with a note.
pub async fn set_state(
    req: SignedCase,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let out = with_store(&state, move |store, st| {
        let (who, row) = req.authorize(store, st)?;
        let change: SetState = req.json()?;
        let author = Author::Desk(&who);
        let note = match &change.note {
            Some(m) => {
                let signature = message_signature(&row, m)?;
                thread::check_message(store, st, &row, author, m, &signature)?;
                Some((m, signature))
            }
            None => None,
        };
        store
            .set_state(
                &row.id,
                change.state.as_str(),
                &who.id,
                note.as_ref()
                    .map(|(m, sig)| thread::new_message(author, m, sig))
                    .as_ref(),
                &st.today().to_string(),
            )
            .map_err(stale_seq)?;
        Ok(StateChanged {
            case: req.case().to_string(),
            state: change.state,
            next_update_due: due(store, st, &store.case_by_id(&row.id)?)?.next_update,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /v1/cases/{case}/shares`: a reader of the case hands its thread on
/// to one more recipient of this server (an escalation). Never to one the
/// reporter left out.
pub async fn share(req: SignedCase, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let out = with_store(&state, move |store, st| {
        let (who, row) = req.authorize(store, st)?;
        let s: ShareCase = req.json()?;
        let entry = thread::record_share(store, st, &row, Author::Desk(&who), &s)?;
        Ok(CaseShared {
            case: req.case().to_string(),
            reader: s.reader,
            entry,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(out))
}
