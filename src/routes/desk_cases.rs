//! A desk's work on one case, `/v1/cases/{case}…`: its thread, replies,
//! state changes and shares. Every request is signed, and a recipient
//! reaches only cases that were encrypted or shared to them: to anyone
//! else, including a recipient the reporter excluded, such a case does
//! not exist (404). See [`SignedCase::on_case`].

use actix_web::{HttpRequest, HttpResponse};
use sotto_envelope::sign::{CaseId, Signature};
use sotto_store::CaseRow;
use sotto_wire::api::{CaseShared, PostMessage, SetState, ShareCase, StateChanged};

use super::checks::{not_erased, signature_field, stale_seq};
use super::extract::SignedCase;
use super::fresh::{Asker, Conditional};
use super::thread::{self, Author};
use super::views::{desk_case, due};
use crate::error::ApiError;

/// A desk message's signature, once the case is known to take messages.
fn message_signature(row: &CaseRow, msg: &PostMessage) -> Result<Signature, ApiError> {
    not_erased(row)?;
    signature_field(&msg.signature)
}

/// `GET /v1/cases/{case}[?after=SEQ][&limit=N]`: `304` if the reader holds the case
/// already, or the case with one page of its thread.
pub async fn case(http: HttpRequest, req: SignedCase) -> Result<HttpResponse, ApiError> {
    let ask = Conditional::of(&http)?;
    let case = req.on_case(move |store, st, call| {
        let asker = Asker::Reader(&call.who.id);
        ask.read(store, st, &call.row, asker, || {
            desk_case(store, st, &call.row, &call.who.id, ask.page)
        })
    });
    Ok(case.await?.respond())
}

/// `POST /v1/cases/{case}/messages`: a reply.
pub async fn post_message(req: SignedCase) -> Result<HttpResponse, ApiError> {
    let posted = req.on_case(|store, st, call| {
        let msg: PostMessage = call.json()?;
        let signature = message_signature(&call.row, &msg)?;
        let author = Author::Desk(&call.who);
        thread::post_message(store, st, &call.row, author, &msg, &signature)
    });
    Ok(HttpResponse::Created().json(posted.await?))
}

/// `POST /v1/cases/{case}/state`: a state change, optionally with a note.
pub async fn set_state(req: SignedCase) -> Result<HttpResponse, ApiError> {
    let changed = req.on_case(|store, st, call| {
        let change: SetState = call.json()?;
        let (who, row) = (&call.who, &call.row);
        let author = Author::Desk(who);
        let note = match &change.note {
            Some(m) => {
                let signature = message_signature(row, m)?;
                thread::check_message(store, st, row, author, m, &signature)?;
                Some((m, signature))
            }
            None => None,
        };
        let note = note
            .as_ref()
            .map(|(m, sig)| thread::new_message(author, m, sig));
        store
            .set_state(&row.id, change.state, &who.id, note.as_ref(), st.today())
            .map_err(stale_seq)?;
        Ok(StateChanged {
            case: CaseId(row.id).to_string(),
            state: change.state,
            next_update_due: due(st, &store.case_by_id(&row.id)?).next_update,
        })
    });
    Ok(HttpResponse::Ok().json(changed.await?))
}

/// `POST /v1/cases/{case}/shares`: a reader of the case hands its thread on
/// to one more recipient of this server (an escalation). Never to one the
/// reporter left out.
pub async fn share(req: SignedCase) -> Result<HttpResponse, ApiError> {
    let shared = req.on_case(|store, st, call| {
        let s: ShareCase = call.json()?;
        thread::record_share(store, st, &call.row, Author::Desk(&call.who), &s)?;
        Ok(CaseShared {
            case: CaseId(call.row.id).to_string(),
            reader: s.reader,
        })
    });
    Ok(HttpResponse::Created().json(shared.await?))
}
